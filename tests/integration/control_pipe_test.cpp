// The control plane's pipe, `aegis-classifier --once | aegis-proposer --dry-run`, as an operator
// runs it: on a fixture trace (the election storm: a verified proposal, its pull request and a
// ledger line) and on a live 3-node cluster whose follower's clock is skewed through the admin
// API (the classifier names the skewed node from /metrics alone; the advice is a recommendation,
// kept in the ledger, and no pull request).
#define BOOST_TEST_MODULE control_pipe
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/write_load.hpp"

using namespace aegis::it;
namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  BOOST_REQUIRE_MESSAGE(v && *v, name << " is not set (CTest sets it)");
  return v;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Single-quoted for /bin/sh: the paths are the test's own, but quoting keeps a space harmless.
std::string q(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell pipeline with a deadline; its exit code (-1: killed at the deadline).
int run_pipe(const std::string& cmd, const std::string& log, std::chrono::seconds limit) {
  auto p = child_process::spawn({"/bin/sh", "-c", cmd}, log, log + ".err");
  auto e = p.wait_until(steady::now() + limit);
  if (!e) {
    p.kill();
    return -1;
  }
  return e->signaled ? -1 : e->code;
}

std::vector<nlohmann::json> ledger_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/aegis-pipe-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_pipe_on_a_fixture_proposes_the_verified_storm_fix) {
  const std::string bin = env("AEGIS_CONTROL_BIN_DIR");
  const std::string trace = env("AEGIS_FIXTURES_DIR") + "/election_storm.trace";
  temp_dir tmp;
  const std::string out = tmp.path + "/out", ledger = tmp.path + "/ledger.jsonl";
  const std::string cmd = q(bin + "/aegis-classifier") + " --once --trace " + q(trace) + " | " +
                          q(bin + "/aegis-proposer") + " --dry-run --seeds 3 --out " + q(out) +
                          " --ledger " + q(ledger);
  BOOST_REQUIRE_EQUAL(run_pipe(cmd, tmp.path + "/pipe.log", std::chrono::seconds(60)), 0);
  const auto lines = ledger_lines(ledger);
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].at("class") == "election_storm");
  BOOST_TEST(lines[0].at("status") == "proposed");
  const std::string id = lines[0].at("id");
  const std::string pr = slurp(out + "/proposals/" + id + ".md");
  for (const char* section :
       {"## Incident", "## Patch", "## Safety envelope", "## Verification", "## Rollback"})
    BOOST_TEST(pr.find(section) != std::string::npos, "the PR body has " << section);
  BOOST_TEST(slurp(tmp.path + "/pipe.log").find(id) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_pipe_on_a_live_cluster_names_the_skewed_node) {
  const std::string bin = env("AEGIS_CONTROL_BIN_DIR");
  cluster c({.name = "pipe", .node_extra = {{"fault_injection", "true"}}});
  c.start_all();
  const auto leader = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(leader, c.describe());
  const int skewed = int(*leader) % c.size() + 1;  // a follower
  BOOST_REQUIRE(c.client(skewed)->set_clock_skew(2000, steady::now() + 2s).ok());
  write_load load(c, "pipe", 2, [&](int t) { return t % c.size() + 1; });  // stamps flow
  BOOST_REQUIRE(wait_until([&] { return load.acked() >= 20; }, steady::now() + 10s));

  temp_dir tmp;
  std::string endpoints;
  for (int n = 1; n <= c.size(); ++n)
    endpoints += (n > 1 ? "," : "") + std::string("127.0.0.1:") + std::to_string(c.metrics_port(n));
  const std::string verdicts = tmp.path + "/verdicts.json", ledger = tmp.path + "/ledger.jsonl";
  const std::string cmd = q(bin + "/aegis-classifier") + " --once --endpoints " + endpoints +
                          " --window-s 3 | tee " + q(verdicts) + " | " +
                          q(bin + "/aegis-proposer") + " --dry-run --seeds 2 --out " +
                          q(tmp.path + "/out") + " --ledger " + q(ledger);
  const int rc = run_pipe(cmd, tmp.path + "/pipe.log", std::chrono::seconds(60));
  load.stop();
  BOOST_REQUIRE_MESSAGE(rc == 0, "pipe exit " << rc << ": " << slurp(tmp.path + "/pipe.log.err"));
  const auto doc = nlohmann::json::parse(slurp(verdicts));
  BOOST_TEST(doc.at("source").at("kind") == "live");
  bool named = false;
  for (const auto& v : doc.at("verdicts"))
    if (v.at("class") == "clock_skew") named = v.at("nodes") == nlohmann::json::array({skewed});
  BOOST_TEST(named, "clock_skew naming node " << skewed << " in " << doc.at("verdicts").dump());
  bool recorded = false;
  for (const auto& l : ledger_lines(ledger))
    recorded =
        recorded || (l.at("class") == "clock_skew" && l.at("status") == "recommendation_only");
  BOOST_TEST(recorded, "the ledger keeps the recommendation");
  const bool no_pr = !fs::exists(tmp.path + "/out/proposals") ||
                     fs::is_empty(tmp.path + "/out/proposals") ||
                     slurp(ledger).find("\"proposed\"") != std::string::npos;
  BOOST_TEST(no_pr, "no pull request without a proposal");
  BOOST_REQUIRE(c.client(skewed)->clear_faults(steady::now() + 2s).ok());
}
