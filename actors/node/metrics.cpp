#include "actors/node/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

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

// Buckets from 100 us to ~6.5 s, doubling: fsyncs on SSDs and on stalled disks both land.
prometheus::Histogram::BucketBoundaries seconds_buckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double s = 0.0001; s < 10; s *= 2)
    b.push_back(s);
  return b;
}

}  // namespace

node_metrics::~node_metrics() = default;

prometheus::Gauge* node_metrics::follower_match_lag(uint64_t peer) {
  return &match_lag_family->Add({{"node", node_label}, {"peer", std::to_string(peer)}});
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
  m->fsync_seconds = &prometheus::BuildHistogram()
                          .Name("aegis_log_fsync_duration_seconds")
                          .Help("time to write and sync one ready batch")
                          .Register(r)
                          .Add(l, seconds_buckets());
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
  m->node_label = std::to_string(node_id);
  m->match_lag_family = &prometheus::BuildGauge()
                             .Name("aegis_raft_follower_match_lag")
                             .Help("on the leader: entries a peer's log is behind the leader's")
                             .Register(r);
  if (listen.empty()) return m;
  try {
    m->exposer = std::make_unique<prometheus::Exposer>(listen);
    m->exposer->RegisterCollectable(m->registry);
  } catch (const std::exception& e) {
    error = "cannot serve metrics on " + listen + ": " + e.what();
  }
  return m;
}

}  // namespace aegis::node
