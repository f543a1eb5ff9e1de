// The node's Prometheus metrics (prometheus-cpp), served on node.metrics_listen at /metrics.
// One struct of metric handles, created once and shared by the actors that update them; the
// handles are thread-safe. Names follow DESIGN.md "Telemetry" and Prometheus conventions (base
// units, _total counters, histograms in seconds). Every series carries the label node="K"; the
// trace recorder and the simulator read these exact names, so renaming one breaks them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace prometheus {
class Collectable;
class Counter;
class Exposer;
class Gauge;
template <typename T>
class Family;
class Histogram;
class Registry;
}  // namespace prometheus

namespace aegis::node {

struct node_metrics {
  // ---- Raft (consensus actor) ----
  prometheus::Gauge* term = nullptr;               // aegis_raft_term
  prometheus::Gauge* is_leader = nullptr;          // aegis_raft_is_leader: 1 while leading
  prometheus::Gauge* has_leader = nullptr;         // aegis_raft_has_leader: 1 while one is known
  prometheus::Counter* leader_changes = nullptr;   // aegis_raft_leader_changes_total
  prometheus::Gauge* commit_index = nullptr;       // aegis_raft_commit_index
  prometheus::Gauge* applied_index = nullptr;      // aegis_raft_applied_index (state machine)
  prometheus::Gauge* proposals_pending = nullptr;  // aegis_proposals_pending: writes waiting here
  prometheus::Counter* proposals_committed = nullptr;  // aegis_proposals_committed_total
  prometheus::Counter* proposals_failed = nullptr;     // aegis_proposals_failed_total
  prometheus::Histogram* fsync_seconds = nullptr;  // aegis_log_fsync_duration_seconds: one ready
  prometheus::Counter* snapshots_taken = nullptr;  // aegis_snapshots_taken_total
  prometheus::Counter* snapshots_installed = nullptr;  // aegis_snapshots_installed_total
  // Per peer, on the leader (0 / no samples elsewhere):
  //   aegis_raft_follower_match_lag{peer}: entries the peer's log is behind the leader's;
  //   aegis_raft_heartbeat_rtt_seconds{peer}: heartbeat sent -> its answer back (heartbeats
  //     only: an append's answer waits for the follower's fsync, which would hide the network;
  //     paired by heartbeat number, see actors/raft/heartbeat_pairing.hpp);
  //   aegis_snapshots_sent_total{peer}: snapshot transfers started toward the peer.
  prometheus::Gauge* follower_match_lag(uint64_t peer);
  prometheus::Histogram* heartbeat_rtt(uint64_t peer);
  prometheus::Counter* snapshots_sent(uint64_t peer);

  // ---- State machine ----
  prometheus::Gauge* mvcc_revision = nullptr;        // aegis_mvcc_revision
  prometheus::Gauge* db_size_bytes = nullptr;        // aegis_mvcc_db_size_bytes (read <= 1/s)
  prometheus::Gauge* leases_active = nullptr;        // aegis_lease_active
  prometheus::Counter* leases_granted = nullptr;     // aegis_lease_granted_total
  prometheus::Counter* leases_expired = nullptr;     // aegis_lease_expired_total
  prometheus::Gauge* watchers = nullptr;             // aegis_watchers: client watches open here
  prometheus::Counter* proposals_applied = nullptr;  // aegis_proposals_applied_total: command
                                                     // entries applied here (not no-ops/confs)
  prometheus::Histogram* apply_seconds = nullptr;    // aegis_apply_duration_seconds: one batch
  // aegis_clock_stamp_offset_seconds: this node's wall clock (with its SetClockSkew fault) minus
  // the leader's stamp of the newest applied command, set when a batch applies. A skewed
  // follower shows its skew; a skewed leader shows as minus its skew on every follower.
  prometheus::Gauge* clock_stamp_offset = nullptr;

  // ---- Lock manager ----
  prometheus::Histogram* lock_wait_seconds = nullptr;  // aegis_lock_wait_seconds: Lock/Campaign
                                                       // call admitted -> key held
  prometheus::Gauge* lock_waiters = nullptr;           // aegis_lock_waiters: those calls now

  // ---- gRPC gateway (gateway/grpc_metrics.*) ----
  // aegis_grpc_requests_total{method,code}: calls ended, by short method name ("Put") and gRPC
  // status name ("OK"); streams count once, when they end.
  prometheus::Counter* grpc_requests(const std::string& method, const std::string& code);
  // aegis_grpc_request_duration_seconds{method}: unary calls only, arrival -> status sent.
  prometheus::Histogram* grpc_duration(const std::string& method);

  // Process: process_resident_memory_bytes, process_cpu_seconds_total,
  // process_start_time_seconds, process_open_fds, read from /proc/self at scrape time
  // (process_metrics.hpp), only while serving.

  std::string node_label;
  prometheus::Family<prometheus::Gauge>* match_lag_family = nullptr;
  prometheus::Family<prometheus::Histogram>* heartbeat_rtt_family = nullptr;
  prometheus::Family<prometheus::Counter>* snapshots_sent_family = nullptr;
  prometheus::Family<prometheus::Counter>* grpc_requests_family = nullptr;
  prometheus::Family<prometheus::Histogram>* grpc_duration_family = nullptr;

  std::shared_ptr<prometheus::Registry> registry;
  // The exposer holds its collectables by weak_ptr: this keeps the process collector alive.
  std::shared_ptr<prometheus::Collectable> process;
  std::unique_ptr<prometheus::Exposer> exposer;  // null when not serving
  ~node_metrics();
};

// Registers every metric labelled with the node id. With a non-empty `listen` ("host:port")
// also serves them; the error text is set when that address cannot be bound.
std::shared_ptr<node_metrics> make_metrics(uint64_t node_id, const std::string& listen,
                                           std::string& error);

}  // namespace aegis::node
