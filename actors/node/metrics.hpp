// The node's Prometheus metrics (prometheus-cpp), served on node.metrics_listen at /metrics.
// One struct of metric handles, created once and shared by the actors that update them; the
// handles are thread-safe. Names follow DESIGN.md "Telemetry" and Prometheus conventions (base
// units, _total counters). Issue 5 grows this list; these are the ones the node has today.
#pragma once

#include <memory>
#include <string>

namespace prometheus {
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
  prometheus::Gauge* term = nullptr;
  prometheus::Gauge* is_leader = nullptr;
  prometheus::Gauge* has_leader = nullptr;
  prometheus::Counter* leader_changes = nullptr;
  prometheus::Gauge* commit_index = nullptr;
  prometheus::Gauge* applied_index = nullptr;
  prometheus::Gauge* proposals_pending = nullptr;
  prometheus::Counter* proposals_committed = nullptr;
  prometheus::Counter* proposals_failed = nullptr;
  prometheus::Histogram* fsync_seconds = nullptr;
  prometheus::Counter* snapshots_taken = nullptr;
  prometheus::Counter* snapshots_installed = nullptr;
  prometheus::Gauge* mvcc_revision = nullptr;
  prometheus::Gauge* db_size_bytes = nullptr;
  prometheus::Gauge* leases_active = nullptr;
  prometheus::Counter* leases_granted = nullptr;
  prometheus::Counter* leases_expired = nullptr;
  prometheus::Gauge* watchers = nullptr;
  // Per peer, on the leader: entries the peer's log is behind the leader's (0 elsewhere).
  prometheus::Gauge* follower_match_lag(uint64_t peer);

  prometheus::Family<prometheus::Gauge>* match_lag_family = nullptr;
  std::string node_label;

  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<prometheus::Exposer> exposer;  // null when not serving
  ~node_metrics();
};

// Registers every metric labelled with the node id. With a non-empty `listen` ("host:port")
// also serves them; the error text is set when that address cannot be bound.
std::shared_ptr<node_metrics> make_metrics(uint64_t node_id, const std::string& listen,
                                           std::string& error);

}  // namespace aegis::node
