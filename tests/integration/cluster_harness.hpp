// A real AEGIS cluster for integration tests: N aegis-node processes on 127.0.0.1, each with its
// own locked ports, config file, data dir and log in a fresh temp dir. The harness starts, kills,
// stops and restarts nodes by PID, talks to them through the etcd v3 API, and waits for
// conditions with deadlines (never a blind sleep). At the end it stops exactly the processes it
// started; the temp dir is removed after a passing test and kept (path and log tails printed)
// after a failing one.
//
// The node binary comes from the AEGIS_NODE_BIN environment variable (CTest sets it). With
// AEGIS_IT_KEEP set, the temp dir is kept after passing tests too (for reading node logs).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/child_process.hpp"
#include "tests/integration/etcd_client.hpp"

namespace aegis::it {

using namespace std::chrono_literals;

// [raft] settings that make test clusters fast: heartbeat 50 ms, election timeout 500-1000 ms.
std::map<std::string, std::string> fast_raft();

struct cluster_options {
  std::string name = "cluster";  // part of the temp dir name
  int nodes = 3;
  // Written under [raft] in every node's config file, e.g. {"heartbeat_interval_ms", "50ms"}.
  std::map<std::string, std::string> raft = fast_raft();
  // Written under [node] after the keys the harness writes itself.
  std::map<std::string, std::string> node_extra;
};

struct start_options {
  bool bootstrap = false;               // --node.bootstrap: a founding member's first start
  std::vector<std::string> extra_args;  // e.g. "--raft.election_timeout_ms_min=50ms"
  bool capture_stderr = false;          // stderr to stderr_path(node) instead of the node log
};

class cluster {
 public:
  explicit cluster(cluster_options opts);
  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  // Nodes are numbered 1..size(); the number is the node's Raft id.
  int size() const { return static_cast<int>(nodes_.size()); }
  const std::string& dir() const { return dir_; }
  std::string data_dir(int node) const;
  std::string config_path(int node) const;
  std::string log_path(int node) const;
  std::string stderr_path(int node) const;
  std::string client_address(int node) const;
  uint16_t metrics_port(int node) const;  // its Prometheus /metrics on 127.0.0.1
  // The election_timeout_ms_max the nodes run with (from the options, else the node default).
  std::chrono::milliseconds election_timeout_max() const;

  // Process control.
  void start_all();  // first start of every node, with bootstrap
  void start(int node, const start_options& opts);
  void restart(int node) { start(node, {}); }
  void kill(int node);  // SIGKILL: a crash
  void kill_all();      // SIGKILL to every running node before reaping any: a simultaneous crash
  bool stop(int node, std::chrono::milliseconds grace = 10s);  // SIGTERM; false if it needed KILL
  bool running(int node);
  pid_t pid(int node) const;
  std::optional<exit_info> wait_exit(int node, steady::time_point deadline);
  const std::optional<exit_info>& exit(int node) const;
  std::vector<int> live_nodes();
  std::string stderr_text(int node) const;

  // etcd v3 client calls; the deadline bounds each call.
  grpc::Status put(int node, const std::string& key, const std::string& value,
                   steady::time_point deadline);
  std::optional<std::string> get(int node, const std::string& key,
                                 steady::time_point deadline);  // linearizable
  std::optional<std::string> get(int node, const std::string& key) {
    return get(node, key, steady::now() + 2s);
  }
  read_result read(int node, const std::string& key, bool serializable,
                   steady::time_point deadline);
  std::optional<node_status> status(int node, steady::time_point deadline);
  std::optional<node_status> status(int node) { return status(node, steady::now() + 1s); }
  // The node's client (created on first use; reset when the node restarts).
  std::shared_ptr<etcd_client> client(int node);
  // One value from the node's Prometheus /metrics page (e.g. "aegis_snapshots_taken_total").
  std::optional<double> metric(int node, const std::string& name);

  // The leader every live node reports, with one term among them; nullopt at the deadline.
  std::optional<uint64_t> wait_for_leader(steady::time_point deadline);
  // One line per node (role view, indexes, or why it is silent) for failure messages.
  std::string describe();
  // The last `lines` lines of every node log, with headers.
  std::string log_tails(int lines) const;

 private:
  struct node_slot {
    uint16_t peer_port = 0;
    uint16_t client_port = 0;
    uint16_t metrics_port = 0;
    child_process proc;
    bool started = false;
    bool ended_by_harness = false;        // its last exit came from kill() or stop()
    std::shared_ptr<etcd_client> client;  // guarded by clients_mu_
  };

  node_slot& slot(int node);
  const node_slot& slot(int node) const;
  void write_config(int node) const;
  std::optional<uint64_t> agreed_leader();
  void stop_everything();

  cluster_options opts_;
  std::string node_bin_;
  std::string dir_;
  std::vector<node_slot> nodes_;
  mutable std::mutex clients_mu_;
  // Guards every node's child_process: tests call live_nodes() from load threads while the main
  // thread kills or restarts nodes, and two threads must not reap (or replace) one process.
  mutable std::mutex procs_mu_;
};

// Polls `pred` every few milliseconds until it holds (true) or `deadline` passes (false).
bool wait_until(const std::function<bool()>& pred, steady::time_point deadline);

// The tail of a text file: its last `lines` lines.
std::string file_tail(const std::string& path, int lines);

}  // namespace aegis::it
