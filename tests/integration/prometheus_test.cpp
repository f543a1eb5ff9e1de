// Issue 5, telemetry: a real Prometheus server (Debian's /usr/bin/prometheus) scrapes a 3-node
// cluster with the config generated from config/prometheus/aegis.yml.in, and PromQL through its
// HTTP API sees exactly one leader, before and after the leader is killed. Before that, every
// metric family the node promises is on each node's /metrics page, and the gRPC counter has
// counted the test's own puts.
//
// The binary and the template reach the test as AEGIS_PROMETHEUS_BIN and
// AEGIS_PROMETHEUS_TEMPLATE (CTest sets them).
#define BOOST_TEST_MODULE integration_prometheus
#include <curl/curl.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/metrics_scrape.hpp"
#include "tests/integration/port_reservation.hpp"

using namespace aegis::it;

namespace {

constexpr int puts_made = 20;

// The families issue 5 added (the older ones are checked by the tests that made them).
const std::vector<std::string> new_families = {"aegis_raft_heartbeat_rtt_seconds",
                                               "aegis_proposals_applied_total",
                                               "aegis_apply_duration_seconds",
                                               "aegis_snapshots_sent_total",
                                               "aegis_lock_wait_seconds",
                                               "aegis_lock_waiters",
                                               "aegis_grpc_requests_total",
                                               "aegis_grpc_request_duration_seconds",
                                               "aegis_clock_stamp_offset_seconds",
                                               "process_resident_memory_bytes",
                                               "process_cpu_seconds_total",
                                               "process_start_time_seconds",
                                               "process_open_fds"};

std::string env_or_throw(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) throw std::runtime_error(std::string(name) + " is not set (CTest sets it)");
  return v;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The template with @TARGETS@ replaced by the nodes' metrics endpoints as a YAML flow list.
std::string prometheus_config(cluster& c) {
  std::string targets = "[";
  for (int id = 1; id <= c.size(); ++id)
    targets += (id > 1 ? ", '" : "'") + std::string("127.0.0.1:") +
               std::to_string(c.metrics_port(id)) + "'";
  targets += "]";
  std::string text = read_file(env_or_throw("AEGIS_PROMETHEUS_TEMPLATE"));
  const std::string placeholder = "@TARGETS@";
  const auto at = text.find(placeholder);
  if (at == std::string::npos) throw std::runtime_error("template has no " + placeholder);
  return text.replace(at, placeholder.size(), targets);
}

size_t append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// A Prometheus server of our own: its port is reserved, its storage and logs are in the cluster's
// temp dir (kept when the test fails), and it is stopped by PID.
class prometheus_server {
 public:
  explicit prometheus_server(cluster& c) : port_(reserve_port()), dir_(c.dir() + "/prometheus") {
    std::filesystem::create_directories(dir_ + "/data");
    const std::string config = dir_ + "/aegis.yml";
    std::ofstream(config) << prometheus_config(c);
    proc_ = child_process::spawn(
        {env_or_throw("AEGIS_PROMETHEUS_BIN"), "--config.file=" + config,
         "--storage.tsdb.path=" + dir_ + "/data",
         "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"},
        dir_ + "/stdout.log", dir_ + "/stderr.log");
    curl_ = curl_easy_init();
  }
  ~prometheus_server() {
    curl_easy_cleanup(curl_);
    if (proc_.running()) proc_.terminate(steady::now() + 10s);
  }

  // SIGTERM (by PID) and wait: true when it exited by itself, cleanly.
  bool stop() {
    const auto [info, clean] = proc_.terminate(steady::now() + 10s);
    return clean && !info.signaled && info.code == 0;
  }

  // An instant query's result vector, or nullopt when the server does not answer (yet).
  std::optional<nlohmann::json> query(const std::string& promql) {
    char* escaped = curl_easy_escape(curl_, promql.c_str(), static_cast<int>(promql.size()));
    const std::string url =
        "http://127.0.0.1:" + std::to_string(port_) + "/api/v1/query?query=" + std::string(escaped);
    curl_free(escaped);
    std::string body;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_NOPROXY, "*");  // loopback: never through a proxy
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(curl_) != CURLE_OK) return std::nullopt;
    auto doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded() || doc.value("status", "") != "success") return std::nullopt;
    return doc["data"]["result"];
  }

  // The value of a query that yields one sample (count, sum), or nullopt.
  std::optional<double> scalar(const std::string& promql) {
    const auto r = query(promql);
    if (!r || r->size() != 1) return std::nullopt;
    return std::stod((*r)[0]["value"][1].get<std::string>());
  }

  // The node label of the one series `aegis_raft_is_leader == 1`, when exactly one leads.
  std::optional<int> sole_leader() {
    const auto r = query("aegis_raft_is_leader == 1");
    if (!r || r->size() != 1) return std::nullopt;
    return std::stoi((*r)[0]["metric"]["node"].get<std::string>());
  }

  std::string log_tail() const { return file_tail(dir_ + "/stderr.log", 20); }

 private:
  uint16_t port_;
  std::string dir_;
  child_process proc_;
  CURL* curl_ = nullptr;
};

// Puts through the leader; every one must succeed (they are what the gRPC counter must show).
void make_puts(cluster& c, int leader) {
  for (int i = 0; i < puts_made; ++i) {
    const auto st = c.put(leader, "prom/" + std::to_string(i), "v", steady::now() + 5s);
    BOOST_REQUIRE_MESSAGE(st.ok(), "put " << i << " failed: " << st.error_message());
  }
}

// Heartbeats the leader timed to `peer`, from its page.
double heartbeats_timed(const std::string& page, int peer) {
  return metric_sum(page, "aegis_raft_heartbeat_rtt_seconds_count",
                    {"peer=\"" + std::to_string(peer) + "\""})
      .value_or(0);
}

// Whether node `id`'s page shows what the checks below need: every put applied, and on the
// leader a timed heartbeat to every peer. The puts take a few milliseconds, often less than one
// heartbeat interval, so a page scraped right after them may predate the first answer.
bool page_settled(const cluster& c, int id, int leader, const std::string& page) {
  if (metric_sum(page, "aegis_proposals_applied_total", {}).value_or(0) < puts_made) return false;
  if (id != leader) return true;
  for (int peer = 1; peer <= c.size(); ++peer)
    if (peer != id && heartbeats_timed(page, peer) == 0) return false;
  return true;
}

// Every node's page has every new family; the Put/OK counters add up to the puts made, each node
// applied them, and the leader timed heartbeats to both peers.
void check_pages(cluster& c, int leader) {
  double put_ok = 0;
  for (int id = 1; id <= c.size(); ++id) {
    std::optional<std::string> page;
    wait_until(
        [&] {
          page = scrape_metrics(c.metrics_port(id), 2s);
          return page && page_settled(c, id, leader, *page);
        },
        steady::now() + 10s);
    BOOST_REQUIRE_MESSAGE(page, "node " << id << " serves no /metrics page");
    for (const auto& family : new_families)
      BOOST_CHECK_MESSAGE(has_family(*page, family), "node " << id << ": no family " << family);
    BOOST_CHECK_GE(metric_sum(*page, "aegis_proposals_applied_total", {}).value_or(0), puts_made);
    BOOST_CHECK_GT(metric_sum(*page, "aegis_apply_duration_seconds_count", {}).value_or(0), 0);
    BOOST_CHECK_GT(metric_sum(*page, "process_resident_memory_bytes", {}).value_or(0), 0);
    put_ok += metric_sum(*page, "aegis_grpc_requests_total", {R"(method="Put")", R"(code="OK")"})
                  .value_or(0);
    if (id == leader)
      for (int peer = 1; peer <= c.size(); ++peer)
        if (peer != id)
          BOOST_CHECK_MESSAGE(
              heartbeats_timed(*page, peer) > 0,
              "leader " << id << " timed no heartbeat to peer " << peer << " within 10 s");
  }
  BOOST_CHECK_EQUAL(put_ok, puts_made);
}

// aegis_clock_stamp_offset_seconds of every node once each applied a put made after the skew.
std::map<int, double> stamp_offsets(cluster& c, int leader, const std::string& key) {
  const auto st = c.put(leader, key, "v", steady::now() + 5s);
  BOOST_REQUIRE_MESSAGE(st.ok(), "put " << key << " failed: " << st.error_message());
  std::map<int, double> offsets;
  for (int id = 1; id <= c.size(); ++id) {
    wait_until([&] { return c.read(id, key, true, steady::now() + 1s).value == "v"; },
               steady::now() + 10s);
    offsets[id] = c.metric(id, "aegis_clock_stamp_offset_seconds").value_or(-1000);
  }
  return offsets;
}

// The SetClockSkew fault shifts the clock a node stamps entries with (as leader) and reads time
// by: a skewed follower shows its skew in the gauge, a skewed leader shows as minus its skew on
// every follower.
void check_clock_skew(cluster& c, int leader) {
  constexpr int64_t skew_ms = 3000;
  const int follower = leader % c.size() + 1;
  BOOST_REQUIRE(c.client(follower)->set_clock_skew(skew_ms, steady::now() + 2s).ok());
  for (const auto& [id, offset] : stamp_offsets(c, leader, "prom/skew-follower"))
    BOOST_CHECK_MESSAGE(
        std::abs(offset - (id == follower ? 3.0 : 0.0)) < 0.5,
        "follower " << follower << " skewed by 3 s: node " << id << " offset " << offset);
  BOOST_REQUIRE(c.client(follower)->clear_faults(steady::now() + 2s).ok());
  BOOST_REQUIRE(c.client(leader)->set_clock_skew(skew_ms, steady::now() + 2s).ok());
  for (const auto& [id, offset] : stamp_offsets(c, leader, "prom/skew-leader"))
    BOOST_CHECK_MESSAGE(
        std::abs(offset - (id == leader ? 0.0 : -3.0)) < 0.5,
        "leader " << leader << " skewed by 3 s: node " << id << " offset " << offset);
  BOOST_REQUIRE(c.client(leader)->clear_faults(steady::now() + 2s).ok());
}

// Waits until Prometheus has scraped `up` targets and sees exactly one leader among them, and
// returns that leader's node id.
std::optional<int> wait_for_one_leader(prometheus_server& prom, int up,
                                       steady::time_point deadline) {
  std::optional<int> leader;
  wait_until(
      [&] {
        leader = std::nullopt;
        if (prom.scalar("count(up == 1)") != up) return false;
        if (prom.scalar("count(aegis_raft_is_leader == 1)") != 1) return false;
        leader = prom.sole_leader();
        return leader.has_value();
      },
      deadline);
  return leader;
}

// libcurl's global state, set up once for the test process.
struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~curl_global() { curl_global_cleanup(); }
};

}  // namespace

BOOST_GLOBAL_FIXTURE(curl_global);

BOOST_AUTO_TEST_CASE(prometheus_scrapes_the_cluster_and_promql_sees_one_leader) {
  cluster c({.name = "prometheus", .nodes = 3, .node_extra = {{"fault_injection", "true"}}});
  c.start_all();
  const auto leader = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(leader, "no leader after start:\n" << c.describe());
  make_puts(c, static_cast<int>(*leader));
  check_pages(c, static_cast<int>(*leader));
  check_clock_skew(c, static_cast<int>(*leader));

  prometheus_server prom(c);
  const auto seen = wait_for_one_leader(prom, 3, steady::now() + 30s);
  BOOST_REQUIRE_MESSAGE(seen, "Prometheus never saw 3 targets up and one leader; its log:\n"
                                  << prom.log_tail() << c.describe());
  // Against the cluster's leader now, not the one before the skew checks: a spurious election on a
  // loaded machine in between is no fault of the scrape.
  const auto leader_now = c.wait_for_leader(steady::now() + 5s);
  BOOST_REQUIRE(leader_now);
  BOOST_CHECK_EQUAL(*seen, static_cast<int>(*leader_now));
  const std::string survivors = "{node!=\"" + std::to_string(*seen) + "\"}";
  const auto changes_before = prom.scalar("sum(aegis_raft_leader_changes_total" + survivors + ")");
  BOOST_REQUIRE(changes_before);

  c.kill(*seen);
  std::optional<int> next;
  const bool moved = wait_until(
      [&] {
        next = wait_for_one_leader(prom, 2, steady::now());
        const auto changes = prom.scalar("sum(aegis_raft_leader_changes_total" + survivors + ")");
        return next && *next != *seen && changes && *changes > *changes_before;
      },
      steady::now() + 30s);
  BOOST_REQUIRE_MESSAGE(moved, "after killing leader " << *seen
                                                       << ", Prometheus never saw one new leader "
                                                          "with more leader changes; its log:\n"
                                                       << prom.log_tail() << c.describe());
  BOOST_TEST_MESSAGE("Prometheus sees node " << *next << " lead after node " << *seen
                                             << " was killed");
  BOOST_CHECK_MESSAGE(prom.stop(), "Prometheus did not stop cleanly on SIGTERM");
}
