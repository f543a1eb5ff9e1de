#include "actors/node/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "actors/node/process_metrics.hpp"

namespace aegis::node {

namespace {

using prometheus::Labels;

prometheus::Gauge* gauge(prometheus::Registry& r, const std::string& name, const std::string& help,
                         const Labels& l) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(l);
}

prometheus::Counter* counter(prometheus::Registry& r, const std::string& name,
                             const std::string& help, const Labels& l) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add(l);
}

// Buckets from 100 us to ~6.5 s, doubling: a loopback round trip, an fsync on an SSD and a
// stalled disk or a lock held for seconds all land in a bucket of their own.
const prometheus::Histogram::BucketBoundaries& seconds_buckets() {
  static const prometheus::Histogram::BucketBoundaries b = [] {
    prometheus::Histogram::BucketBoundaries v;
    for (double s = 0.0001; s < 10; s *= 2)
      v.push_back(s);
    return v;
  }();
  return b;
}

prometheus::Histogram* histogram(prometheus::Registry& r, const std::string& name,
                                 const std::string& help, const Labels& l) {
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add(l, seconds_buckets());
}

}  // namespace

node_metrics::~node_metrics() = default;

// Family::Add returns the existing series for labels it has seen, so these are idempotent; callers
// keep the pointer instead of calling again per event (Add locks the family).
prometheus::Gauge* node_metrics::follower_match_lag(uint64_t peer) {
  return &match_lag_family->Add({{"node", node_label}, {"peer", std::to_string(peer)}});
}

prometheus::Histogram* node_metrics::heartbeat_rtt(uint64_t peer) {
  return &heartbeat_rtt_family->Add({{"node", node_label}, {"peer", std::to_string(peer)}},
                                    seconds_buckets());
}

prometheus::Counter* node_metrics::snapshots_sent(uint64_t peer) {
  return &snapshots_sent_family->Add({{"node", node_label}, {"peer", std::to_string(peer)}});
}

prometheus::Counter* node_metrics::grpc_requests(const std::string& method,
                                                 const std::string& code) {
  return &grpc_requests_family->Add({{"node", node_label}, {"method", method}, {"code", code}});
}

prometheus::Histogram* node_metrics::grpc_duration(const std::string& method) {
  return &grpc_duration_family->Add({{"node", node_label}, {"method", method}}, seconds_buckets());
}

std::shared_ptr<node_metrics> make_metrics(uint64_t node_id, const std::string& listen,
                                           std::string& error) {
  auto m = std::make_shared<node_metrics>();
  m->registry = std::make_shared<prometheus::Registry>();
  auto& r = *m->registry;
  const Labels l{{"node", std::to_string(node_id)}};
  m->term = gauge(r, "aegis_raft_term", "current Raft term", l);
  m->is_leader = gauge(r, "aegis_raft_is_leader", "1 while this node is the leader", l);
  m->has_leader = gauge(r, "aegis_raft_has_leader", "1 while this node knows a leader", l);
  m->leader_changes =
      counter(r, "aegis_raft_leader_changes_total", "times this node saw the leader change", l);
  m->commit_index = gauge(r, "aegis_raft_commit_index", "highest committed log index", l);
  m->applied_index = gauge(r, "aegis_raft_applied_index", "highest applied log index", l);
  m->proposals_pending = gauge(r, "aegis_proposals_pending", "client writes waiting here", l);
  m->proposals_committed =
      counter(r, "aegis_proposals_committed_total", "client writes proposed here and applied", l);
  m->proposals_failed =
      counter(r, "aegis_proposals_failed_total", "client writes proposed here that failed", l);
  m->fsync_seconds =
      histogram(r, "aegis_log_fsync_duration_seconds", "time to write and sync one ready batch", l);
  m->snapshots_taken = counter(r, "aegis_snapshots_taken_total", "state-machine snapshots", l);
  m->snapshots_installed = counter(r, "aegis_snapshots_installed_total",
                                   "snapshots received from a leader and restored", l);
  m->mvcc_revision = gauge(r, "aegis_mvcc_revision", "store revision applied here", l);
  m->db_size_bytes = gauge(r, "aegis_mvcc_db_size_bytes", "state store size on disk", l);
  m->leases_active = gauge(r, "aegis_lease_active", "leases alive in the applied state", l);
  m->leases_granted = counter(r, "aegis_lease_granted_total", "leases granted (applied here)", l);
  m->leases_expired =
      counter(r, "aegis_lease_expired_total", "leases revoked by expiry (applied here)", l);
  m->watchers = gauge(r, "aegis_watchers", "client watches open on this node", l);
  m->proposals_applied = counter(r, "aegis_proposals_applied_total",
                                 "command entries applied by the state machine here", l);
  m->apply_seconds = histogram(r, "aegis_apply_duration_seconds",
                               "time to apply one committed batch in the state machine", l);
  m->clock_stamp_offset =
      gauge(r, "aegis_clock_stamp_offset_seconds",
            "this node's wall clock minus the leader's stamp of the last applied command", l);
  m->lock_wait_seconds = histogram(r, "aegis_lock_wait_seconds",
                                   "Lock/Campaign: time from the call to holding the key", l);
  m->lock_waiters = gauge(r, "aegis_lock_waiters", "Lock/Campaign calls in progress here", l);
  m->node_label = std::to_string(node_id);
  m->match_lag_family = &prometheus::BuildGauge()
                             .Name("aegis_raft_follower_match_lag")
                             .Help("on the leader: entries a peer's log is behind the leader's")
                             .Register(r);
  m->heartbeat_rtt_family = &prometheus::BuildHistogram()
                                 .Name("aegis_raft_heartbeat_rtt_seconds")
                                 .Help("on the leader: heartbeat sent to a peer -> its answer")
                                 .Register(r);
  m->snapshots_sent_family = &prometheus::BuildCounter()
                                  .Name("aegis_snapshots_sent_total")
                                  .Help("on the leader: snapshot transfers started to a peer")
                                  .Register(r);
  m->grpc_requests_family = &prometheus::BuildCounter()
                                 .Name("aegis_grpc_requests_total")
                                 .Help("client gRPC calls ended, by method and status code")
                                 .Register(r);
  m->grpc_duration_family = &prometheus::BuildHistogram()
                                 .Name("aegis_grpc_request_duration_seconds")
                                 .Help("unary client gRPC calls: arrival to status sent")
                                 .Register(r);
  if (listen.empty()) return m;
  try {
    m->exposer = std::make_unique<prometheus::Exposer>(listen);
    m->exposer->RegisterCollectable(m->registry);
    m->process = make_process_collector(m->node_label);
    m->exposer->RegisterCollectable(m->process);
  } catch (const std::exception& e) {
    error = "cannot serve metrics on " + listen + ": " + e.what();
  }
  return m;
}

}  // namespace aegis::node
