// Issue 5, chaos on a real cluster: `aegis-chaos run` against a 3-node cluster started by the
// launcher (config/cluster.sh up --fault-injection). A short script with every real fault kind and
// a light load must complete, record its faults, role changes, metrics and a linearizable
// history, and leave the cluster healed; scripts it cannot run are refused before anything
// fires; SIGINT mid-run still heals (a paused node resumed) and writes the trace.
//
// The binaries reach the test as AEGIS_NODE_BIN, AEGIS_CHAOS_BIN and AEGIS_CLUSTER_SH.
#define BOOST_TEST_MODULE integration_chaos_run
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "chaos/linearizability.hpp"
#include "chaos/trace.hpp"
#include "tests/integration/child_process.hpp"
#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/etcd_client.hpp"
#include "tests/integration/port_reservation.hpp"

using namespace aegis::it;
namespace chaos = aegis::chaos;
namespace fs = std::filesystem;

namespace {

constexpr int kNodes = 3;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  BOOST_REQUIRE_MESSAGE(v && *v, name << " is not set (run the test through ctest)");
  return v;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a command to completion (bounded), its output in `log`; its exit code (-1: timed out).
int run_command(const std::vector<std::string>& argv, const std::string& log,
                std::chrono::seconds limit) {
  auto p = child_process::spawn(argv, log, log);
  auto e = p.wait_until(steady::now() + limit);
  if (!e) {
    p.kill();
    return -1;
  }
  return e->signaled ? 128 + e->signal : e->code;
}

// A cluster of the launcher's, in a temp dir on reserved ports; `down` when the test ends.
struct launched_cluster {
  std::string dir;
  uint16_t base = 0;
  std::string launcher = env("AEGIS_CLUSTER_SH");

  launched_cluster() {
    dir = fs::temp_directory_path() / ("aegis-chaos-run-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::vector<uint16_t> offsets;
    for (uint16_t k = 1; k <= kNodes; ++k)
      offsets.insert(offsets.end(), {k, uint16_t(100 + k), uint16_t(200 + k)});
    base = reserve_port_block(offsets);
    const int rc = run_command(
        {"/bin/bash", launcher, "up", "--nodes", std::to_string(kNodes), "--dir", dir + "/cluster",
         "--base-port", std::to_string(base), "--fault-injection", "--bin", env("AEGIS_NODE_BIN")},
        dir + "/up.log", std::chrono::seconds(60));
    if (rc != 0) throw std::runtime_error("cluster up failed:\n" + read_file(dir + "/up.log"));
  }
  ~launched_cluster() {
    run_command({"/bin/bash", launcher, "down", "--dir", dir + "/cluster"}, dir + "/down.log",
                std::chrono::seconds(60));
    if (!std::getenv("AEGIS_IT_KEEP")) fs::remove_all(dir);
  }
  std::string cluster_dir() const { return dir + "/cluster"; }
  std::string client_addr(int k) const { return "127.0.0.1:" + std::to_string(base + 100 + k); }
  // Node k's PID from the launcher's pid file (0: none).
  pid_t pid(int k) const {
    std::ifstream in(cluster_dir() + "/node" + std::to_string(k) + ".pid");
    pid_t p = 0;
    in >> p;
    return p;
  }
  // The state letter of node k's process in /proc/PID/stat ('T': stopped), or '?'.
  char state(int k) const {
    const std::string stat = read_file("/proc/" + std::to_string(pid(k)) + "/stat");
    const auto paren = stat.rfind(") ");
    return paren == std::string::npos ? '?' : stat[paren + 2];
  }
};

launched_cluster* the_cluster = nullptr;

struct cluster_fixture {
  std::unique_ptr<launched_cluster> c = std::make_unique<launched_cluster>();
  cluster_fixture() { the_cluster = c.get(); }
  ~cluster_fixture() { the_cluster = nullptr; }
};
BOOST_TEST_GLOBAL_FIXTURE(cluster_fixture);

// One aegis-chaos run in the background, its output in files.
struct chaos_run {
  std::string out, err, trace;
  child_process p;

  chaos_run(const std::string& name, const std::string& script_text) {
    const std::string base = the_cluster->dir + "/" + name;
    std::ofstream(base + ".chaos") << script_text;
    out = base + ".out", err = base + ".err", trace = base + ".trace";
    p = child_process::spawn(
        {env("AEGIS_CHAOS_BIN"), "run", base + ".chaos", "--dir", the_cluster->cluster_dir(),
         "--trace", trace, "--launcher", the_cluster->launcher},
        out, err);
  }
  // The exit code, or -1 if it did not exit by the deadline.
  int wait(std::chrono::seconds limit) {
    auto e = p.wait_until(steady::now() + limit);
    if (!e) return -1;
    return e->signaled ? 128 + e->signal : e->code;
  }
  std::string output() const { return read_file(out) + read_file(err); }
  chaos::trace::trace load_trace() const {
    auto t = chaos::trace::load_trace(trace);
    if (auto* e = std::get_if<chaos::trace::read_error>(&t))
      BOOST_FAIL("trace unreadable: " << e->to_string());
    return std::get<chaos::trace::trace>(std::move(t));
  }
};

// Whether the run left every node running and reachable: none stopped, a put through each
// node succeeds quickly (links healed).
void check_healed() {
  for (int k = 1; k <= kNodes; ++k) {
    BOOST_CHECK_MESSAGE(the_cluster->state(k) != 'T', "node " << k << " is still stopped");
    etcd_client client(the_cluster->client_addr(k));
    BOOST_CHECK_MESSAGE(
        wait_until([&] { return client.put("healed", "yes", steady::now() + 1s).ok(); },
                   steady::now() + 8s),
        "no put through node " << k << " after the run");
  }
}

bool has_fault(const chaos::trace::trace& t, const std::string& prefix) {
  for (const auto& f : t.faults)
    if (f.text.starts_with(prefix)) return true;
  return false;
}

std::string summary_value(const chaos::trace::trace& t, const std::string& key) {
  for (const auto& [k, v] : t.summary)
    if (k == key) return v;
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_real_fault_kind_under_load) {
  chaos_run run("faults", R"(nodes 3
seed 7
duration 12s
load clients 3 rate 60/s keys 4 timeout 1s leases 2 lease-ttl 3s
at 1s for 2s kill leader
at 4s for 3s pause follower
at 4500ms for 2s slow-fsync leader 100ms
at 6s for 3s skew 2 +200ms
at 8s for 2s partition 1 | 2,3
at 8500ms for 2s drop 30% 2->3
)");
  BOOST_REQUIRE_EQUAL(run.wait(std::chrono::seconds(40)), 0);
  const auto t = run.load_trace();
  BOOST_TEST_MESSAGE(run.output());
  BOOST_CHECK_EQUAL(t.source, "real");
  BOOST_CHECK_EQUAL(t.nodes, 3u);
  for (const char* f :
       {"kill ", "end kill ", "pause ", "end pause ", "slow-fsync ", "end slow-fsync ", "skew 2 ",
        "end skew 2 ", "partition 1 | 2,3", "end partition", "drop 30% 2->3", "end drop"})
    BOOST_CHECK_MESSAGE(has_fault(t, f), "no fault event '" << f << "'");
  BOOST_CHECK_GE(std::stoi(summary_value(t, "leader_changes")), 1);
  // Samples every 250 ms per node: ~48 in 12 s, none lost to the paused or killed node.
  for (uint32_t k = 1; k <= 3; ++k) {
    int64_t count = 0, last = -1, worst_gap = 0;
    for (const auto& s : t.metrics) {
      if (s.node != k) continue;
      ++count;
      if (last >= 0) worst_gap = std::max(worst_gap, s.at_us - last);
      last = s.at_us;
    }
    BOOST_CHECK_MESSAGE(count >= 40 && count <= 56, "node " << k << ": " << count << " samples");
    BOOST_CHECK_MESSAGE(worst_gap <= 600'000, "node " << k << ": a gap of " << worst_gap << " us");
  }
  BOOST_CHECK(!t.ops.empty());
  BOOST_CHECK_EQUAL(summary_value(t, "linearizable"), "yes");
  BOOST_CHECK(chaos::check_linearizable(t.ops).verdict == chaos::lin_verdict::linearizable);
  BOOST_CHECK(!summary_value(t, "leases_lost").empty());
  check_healed();
}

BOOST_AUTO_TEST_CASE(scripts_it_cannot_run_are_refused_before_anything_fires) {
  std::vector<pid_t> pids;
  for (int k = 1; k <= kNodes; ++k)
    pids.push_back(the_cluster->pid(k));
  struct bad {
    std::string name, text, expect;
  };
  const std::vector<bad> cases = {
      {"node7", "nodes 9\nduration 5s\n\nat 1s kill 7\n", ":4:12: no node 7"},
      {"syntax", "nodes 3\nduration 5s\nat 1s explode 2\n", ":3:7:"},
      {"count", "duration 5s\nat 1s kill 2\n", ":1:1: the script is for 5 nodes"},
      {"duplicate", "nodes 3\nduration 5s\nat 1s duplicate 10%\n", ":3:1: 'duplicate'"},
      {"setting", "nodes 3\nduration 5s\nset heartbeat_interval_ms=50\n",
       "--raft.heartbeat_interval_ms=50"},
  };
  for (const auto& c : cases) {
    chaos_run run("refused-" + c.name, c.text);
    BOOST_CHECK_EQUAL(run.wait(std::chrono::seconds(20)), 2);
    const std::string out = run.output();
    BOOST_CHECK_MESSAGE(out.find(c.expect) != std::string::npos, c.name << ": expected '"
                                                                        << c.expect << "' in:\n"
                                                                        << out);
    BOOST_CHECK_MESSAGE(!fs::exists(run.trace), c.name << ": a trace was written");
  }
  for (int k = 1; k <= kNodes; ++k)
    BOOST_CHECK_MESSAGE(the_cluster->pid(k) == pids[k - 1], "node " << k << " was restarted");
}

BOOST_AUTO_TEST_CASE(sigint_mid_run_resumes_the_paused_node_and_writes_the_trace) {
  chaos_run run("sigint", R"(nodes 3
duration 60s
load clients 2 rate 20/s keys 2 timeout 1s
at 500ms for 50s pause 2
at 1s for 50s drop 20% 1->3
)");
  // Wait until node 2 is really stopped (the launcher has sent SIGSTOP).
  BOOST_REQUIRE_MESSAGE(
      wait_until([] { return the_cluster->state(2) == 'T'; }, steady::now() + 15s),
      "node 2 was never paused:\n"
          << run.output());
  BOOST_REQUIRE(wait_until([&] { return run.output().find("drop 20%") != std::string::npos; },
                           steady::now() + 10s));
  const auto sent = steady::now();
  run.p.signal(SIGINT);
  BOOST_REQUIRE_EQUAL(run.wait(std::chrono::seconds(15)), 130);
  BOOST_TEST_MESSAGE(
      "exited "
      << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - sent).count()
      << " ms after SIGINT");
  BOOST_CHECK(the_cluster->state(2) != 'T');
  const auto t = run.load_trace();
  BOOST_CHECK(has_fault(t, "pause 2"));
  BOOST_CHECK(has_fault(t, "end pause 2"));
  BOOST_CHECK_EQUAL(summary_value(t, "interrupted"), "yes");
  check_healed();
}
