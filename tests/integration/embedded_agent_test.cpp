// An agent embedded in a node process ([agent] enabled=true on node 1 of 3): it reads the node's
// telemetry through the node's read-only telemetry_reader (the only node handle it is given:
// tests/unit/capability_test.cpp proves that part at compile time), runs cycles, prints a status
// line per cycle into the node log, calls the healthy cluster healthy, proposes nothing, and
// stops cleanly with its node.
#define BOOST_TEST_MODULE embedded_agent_test
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/integration/cluster_harness.hpp"

namespace {

using namespace aegis::it;

// The agent's status lines in a node log ("agent: <UTC> cycle N window ...").
std::vector<std::string> agent_cycles(const std::string& log) {
  std::ifstream in(log);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (line.find("agent: ") != std::string::npos && line.find(" cycle ") != std::string::npos &&
        line.find(" window ") != std::string::npos)
      out.push_back(line);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_embedded_agent_classifies_a_healthy_cluster_as_healthy) {
  cluster c({.name = "agent", .nodes = 3});
  const std::string out = c.dir() + "/agent-out";
  c.start(1, {.bootstrap = true,
              .extra_args = {
                  "--agent.enabled=true", "--agent.out_dir=" + out, "--agent.window_ms=2s",
                  "--agent.period_ms=200ms",
                  std::string("--agent.scripts_dir=") + AEGIS_SOURCE_DIR + "/chaos/scripts"}});
  c.start(2, {.bootstrap = true});
  c.start(3, {.bootstrap = true});
  BOOST_REQUIRE_MESSAGE(c.wait_for_leader(steady::now() + 15s), "no leader:\n" << c.describe());
  for (int i = 0; i < 20; ++i)
    BOOST_TEST(c.put(1 + i % 3, "agent/" + std::to_string(i), "v", steady::now() + 5s).ok());

  // Cycles come every window (2 s); those that began before the leader was agreed may still see
  // the election, so the judgement is on two cycles that started after the puts.
  const size_t before = agent_cycles(c.log_path(1)).size();
  const size_t wanted = before + 3;
  const auto deadline = steady::now() + 20s;
  while (agent_cycles(c.log_path(1)).size() < wanted && steady::now() < deadline)
    std::this_thread::sleep_for(200ms);
  const auto cycles = agent_cycles(c.log_path(1));
  BOOST_REQUIRE_MESSAGE(cycles.size() >= wanted,
                        "agent cycles in node 1's log: " << cycles.size() << ", wanted " << wanted
                                                         << "\n"
                                                         << c.log_tails(30));
  for (size_t i = cycles.size() - 2; i < cycles.size(); ++i) {
    const auto& line = cycles[i];
    BOOST_TEST(line.find("(node, 1 node)") != std::string::npos, line);
    BOOST_TEST(line.find("verdicts healthy:") != std::string::npos, line);
    BOOST_TEST(line.find("proposals none") != std::string::npos, line);
    BOOST_TEST(line.find("errors") == std::string::npos, line);
  }
  // Only node 1 runs an agent.
  BOOST_TEST(agent_cycles(c.log_path(2)).empty());
  // Healthy: nothing proposed, no postmortem.
  BOOST_TEST(!std::filesystem::exists(out + "/proposals"));
  BOOST_TEST(!std::filesystem::exists(out + "/postmortems"));
  // The cluster kept serving while the agent ran beside consensus.
  BOOST_TEST(c.get(1, "agent/19").value_or("") == "v");
  BOOST_TEST(c.stop(1), "node 1 with its agent did not stop on SIGTERM");
}

BOOST_AUTO_TEST_CASE(an_agent_without_an_out_dir_is_refused_at_start) {
  cluster c({.name = "agentbad", .nodes = 1});
  c.start(1, {.bootstrap = true, .extra_args = {"--agent.enabled=true"}, .capture_stderr = true});
  const auto exit = c.wait_exit(1, steady::now() + 10s);
  BOOST_REQUIRE(exit.has_value());
  BOOST_TEST(exit->code == 2, exit->str());
  BOOST_TEST(c.stderr_text(1).find("agent.out_dir") != std::string::npos, c.stderr_text(1));
}

// The plain node binary has no agent in it (nothing in actors/ knows control/): asked to run one,
// it refuses and names the binary that has it.
BOOST_AUTO_TEST_CASE(the_plain_node_binary_refuses_to_embed_an_agent) {
  const char* plain = std::getenv("AEGIS_PLAIN_NODE_BIN");
  BOOST_REQUIRE_MESSAGE(plain && *plain, "AEGIS_PLAIN_NODE_BIN is not set (CTest sets it)");
  const std::string with_agent = std::getenv("AEGIS_NODE_BIN");
  setenv("AEGIS_NODE_BIN", plain, 1);
  {
    cluster c({.name = "agentplain", .nodes = 1});
    c.start(1, {.bootstrap = true,
                .extra_args = {"--agent.enabled=true", "--agent.out_dir=" + c.dir() + "/out"},
                .capture_stderr = true});
    const auto exit = c.wait_exit(1, steady::now() + 10s);
    BOOST_REQUIRE(exit.has_value());
    BOOST_TEST(exit->code == 2, exit->str());
    BOOST_TEST(c.stderr_text(1).find("aegis-node-agent") != std::string::npos, c.stderr_text(1));
  }
  setenv("AEGIS_NODE_BIN", with_agent.c_str(), 1);
}
