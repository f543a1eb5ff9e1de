// Issue 3, integration (f): a node started with an invalid configuration (a rule broken by a
// flag or in the file, an unknown key in the file) exits with code 2 and one line on stderr that
// names the offending key, before it serves anything.
#define BOOST_TEST_MODULE integration_bad_config
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;

namespace {

constexpr auto exit_deadline = 10s;

std::vector<std::string> non_empty_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  return lines;
}

// Starts a one-node cluster member with `opts` and `args`; it must refuse, naming `key`.
void expect_config_error(cluster_options opts, const std::vector<std::string>& args,
                         const std::string& key) {
  opts.nodes = 1;
  cluster c(std::move(opts));
  c.start(1, {.bootstrap = true, .extra_args = args, .capture_stderr = true});
  const auto e = c.wait_exit(1, steady::now() + exit_deadline);
  BOOST_REQUIRE_MESSAGE(e, "bad " << key << ": the node still runs 10 s after the start");
  BOOST_CHECK_MESSAGE(!e->signaled && e->code == 2,
                      "bad " << key << ": expected exit code 2, got " << e->str());
  const auto lines = non_empty_lines(c.stderr_text(1));
  BOOST_CHECK_MESSAGE(lines.size() == 1, "bad " << key << ": expected one line on stderr, got "
                                                << lines.size() << ":\n"
                                                << c.stderr_text(1));
  BOOST_CHECK_MESSAGE(!lines.empty() && lines.back().find(key) != std::string::npos,
                      "bad " << key << ": the stderr line does not name the key: \""
                             << (lines.empty() ? "" : lines.back()) << "\"");
  if (!lines.empty()) BOOST_TEST_MESSAGE("bad " << key << ": " << lines.back());
}

cluster_options with_raft(std::map<std::string, std::string> raft) {
  return {.name = "badconf", .raft = std::move(raft)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_flag_breaking_the_election_timeout_rule_is_refused) {
  // election_timeout_ms_min must be >= 2 x heartbeat_interval_ms.
  expect_config_error(with_raft({{"heartbeat_interval_ms", "100ms"},
                                 {"election_timeout_ms_min", "500ms"},
                                 {"election_timeout_ms_max", "1000ms"}}),
                      {"--raft.election_timeout_ms_min=50ms"}, "election_timeout_ms_min");
}

BOOST_AUTO_TEST_CASE(a_file_breaking_the_timeout_order_is_refused) {
  // election_timeout_ms_max must be > election_timeout_ms_min.
  expect_config_error(with_raft({{"heartbeat_interval_ms", "50ms"},
                                 {"election_timeout_ms_min", "500ms"},
                                 {"election_timeout_ms_max", "400ms"}}),
                      {}, "election_timeout_ms_max");
}

BOOST_AUTO_TEST_CASE(an_unknown_raft_key_in_the_file_is_refused) {
  auto raft = fast_raft();
  raft["election_timeout_max_ms"] = "900ms";  // a typo of election_timeout_ms_max
  expect_config_error(with_raft(raft), {}, "election_timeout_max_ms");
}

BOOST_AUTO_TEST_CASE(an_unknown_node_key_in_the_file_is_refused) {
  cluster_options opts = with_raft(fast_raft());
  opts.node_extra["data_directory"] = "\"/tmp/nowhere\"";
  expect_config_error(opts, {}, "data_directory");
}
