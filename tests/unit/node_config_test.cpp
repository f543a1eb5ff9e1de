// Node configs: a good file and flags give the config; every bad one is refused with one line
// that names the key and the rule (and a malformed file with its line and column).
#define BOOST_TEST_MODULE node_config
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "config/node_options.hpp"

using namespace aegis::config;

namespace {

const std::string good_node =
    "[node]\n"
    "id=2\n"
    "peers=[\"1=127.0.0.1:7001\",\"2=127.0.0.1:7002\",\"3=127.0.0.1:7003\"]\n"
    "client_listen=\"127.0.0.1:7102\"\n"
    "data_dir=\"/tmp/aegis-test-node2\"\n";

// Writes `text` to a temp file and runs the option parser on it plus `flags`.
load_outcome read_config(const std::string& text, std::vector<std::string> flags = {}) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "aegis-cfg-XXXXXX").string();
  const int fd = mkstemp(tmpl.data());
  close(fd);
  std::ofstream(tmpl) << text;
  std::vector<std::string> args{"aegis-node", "--config-file=" + tmpl};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  node_options opts;
  auto out = opts.read(static_cast<int>(argv.size()), argv.data());
  std::filesystem::remove(tmpl);
  return out;
}

void expect_refusal(const load_outcome& o, const std::string& fragment) {
  BOOST_TEST(!o.cfg);
  BOOST_TEST(o.exit_code == 2);
  BOOST_TEST(o.message.find(fragment) != std::string::npos, o.message);
  BOOST_TEST(o.message.find('\n') == std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_CASE(peers_and_endpoints_parse_or_are_refused) {
  auto p = parse_peer("3=10.0.0.3:21003");
  BOOST_REQUIRE(p);
  BOOST_TEST(p->id == 3u);
  BOOST_TEST(p->peer.str() == "10.0.0.3:21003");
  for (const char* bad : {"3", "0=h:1", "x=h:1", "3=h", "3=h:99999", "3=:1", "3=h:0"})
    BOOST_TEST(!parse_peer(bad), bad);
}

BOOST_AUTO_TEST_CASE(a_good_file_with_units_and_flag_overrides) {
  auto o =
      read_config(good_node + "[raft]\nheartbeat_interval_ms=50ms\nelection_timeout_ms_min=1s\n",
                  {"--raft.election_timeout_ms_max=1500ms", "--node.bootstrap=true"});
  BOOST_REQUIRE_MESSAGE(o.cfg, o.message);
  BOOST_TEST(o.cfg->node_id == 2u);
  BOOST_TEST(o.cfg->peers.size() == 3u);
  BOOST_TEST(o.cfg->raft.heartbeat_interval_ms == 50u);
  BOOST_TEST(o.cfg->raft.election_timeout_ms_min == 1000u);
  BOOST_TEST(o.cfg->raft.election_timeout_ms_max == 1500u);
  BOOST_TEST(o.cfg->bootstrap);
  BOOST_TEST(o.cfg->self()->peer.port == 7002);
  // Every member derives the same cluster id from the same membership.
  auto other = read_config(good_node);
  BOOST_TEST(other.cfg->cluster_id() == o.cfg->cluster_id());
}

BOOST_AUTO_TEST_CASE(bad_configs_name_the_key_and_the_rule) {
  expect_refusal(read_config(good_node + "colour=1\n"), "node.colour: unknown key");
  expect_refusal(read_config(good_node + "[raft]\nheartbeat_interval_ms=100\n"),
                 "raft.heartbeat_interval_ms: expected timespan");
  expect_refusal(read_config(good_node + "[raft]\nmax_append_bytes=\"big\"\n"),
                 "raft.max_append_bytes: expected");
  expect_refusal(read_config(good_node + "[raft]\nelection_timeout_ms_min=150ms\n"),
                 "raft.election_timeout_ms_min: must be >= 2 x heartbeat_interval_ms");
  expect_refusal(read_config(good_node + "[raft]\nheartbeat_interval_ms=1500us\n"),
                 "raft.heartbeat_interval_ms: must be a whole number of ms");
  expect_refusal(read_config(good_node, {"--node.id=9"}), "node.id: must be one of the ids");
  expect_refusal(read_config("[node]\nid = = 3\n"), "line");
  expect_refusal(read_config(good_node + "[node]\npeers=[\"1=a:1\",\"1=b:2\"]\n"),
                 "node.peers: lists an id twice");
  expect_refusal(read_config(good_node, {"--node.request_timeout_ms=500ms"}),
                 "node.request_timeout_ms: must be >=");
}

BOOST_AUTO_TEST_CASE(help_lists_every_key_with_unit_and_default) {
  node_options opts;
  const std::string help = opts.help_text();
  BOOST_TEST(help.find("heartbeat_interval_ms") != std::string::npos);
  BOOST_TEST(help.find("[ms, default 100ms]") != std::string::npos);
  BOOST_TEST(help.find("data_dir") != std::string::npos);
  BOOST_TEST(help.find("snapshot_threshold_entries") != std::string::npos);
}
