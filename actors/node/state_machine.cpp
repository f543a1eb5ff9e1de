#include "actors/node/state_machine.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <map>

#include "actors/state/kv_machine.hpp"
#include "protocol/etcd/rpc.pb.h"

namespace aegis::node {

namespace {

struct queued_read {
  std::string request;  // a serialized RangeRequest
  reply_ptr reply;
};

struct sm_state {
  std::unique_ptr<persistence::kv_store> store;
  std::unique_ptr<state::kv_machine> machine;
  consensus_actor consensus;
  std::shared_ptr<node_metrics> metrics;
  uint64_t snapshot_threshold_entries = 0;
  uint64_t last_snapshot_index = 0;
  uint64_t term = 0;                           // newest term seen, for headers
  std::multimap<uint64_t, queued_read> reads;  // by read index; bounded by consensus
};

using sm_pointer = state_machine_actor::stateful_pointer<sm_state>;

void serve_read(sm_state& st, const queued_read& r) {
  etcdserverpb::RangeRequest req;
  if (!req.ParseFromString(r.request)) {
    r.reply->finish(call_result::error(call_code::invalid_argument, "malformed RangeRequest"));
    return;
  }
  r.reply->finish(st.machine->range(req, st.term));
}

void serve_ready_reads(sm_state& st) {
  const uint64_t applied = st.machine->applied_index();
  while (!st.reads.empty() && st.reads.begin()->first <= applied) {
    serve_read(st, st.reads.begin()->second);
    st.reads.erase(st.reads.begin());
  }
}

void apply_committed(sm_pointer self, const apply_batch& b) {
  auto& st = self->state;
  st.term = std::max(st.term, b.term);
  if (b.restore) {
    // A snapshot from the leader replaces everything; it is durable in the raft store already.
    AEGIS_ASSERT(st.machine->restore(b.restore->data));
    st.machine->commit_batch(b.restore->meta.index);
    st.last_snapshot_index = b.restore->meta.index;
    st.metrics->snapshots_installed->Increment();
  }
  auto reply = b.replies.begin();
  uint64_t last = 0;
  for (const auto& ce : b.entries) {
    const raft::entry& e = ce.get();
    if (e.index <= st.machine->applied_index()) continue;  // already in the store (restart)
    call_result r = st.machine->apply(e, b.term);
    while (reply != b.replies.end() && reply->first < e.index)
      ++reply;
    if (reply != b.replies.end() && reply->first == e.index) reply->second->finish(std::move(r));
    last = e.index;
  }
  if (last != 0) st.machine->commit_batch(last);
  serve_ready_reads(st);
  const uint64_t applied = st.machine->applied_index();
  st.metrics->applied_index->Set(static_cast<double>(applied));
  if (applied >= st.last_snapshot_index + st.snapshot_threshold_entries) {
    st.last_snapshot_index = applied;
    st.metrics->snapshots_taken->Increment();
    auto snap = std::make_shared<local_snapshot>();
    snap->index = applied;
    snap->data = st.machine->snapshot_data();
    self->send(st.consensus, compact_atom::value, std::move(snap));
  }
}

void status(sm_state& st, const raft_status& rs, const reply_ptr& reply) {
  etcdserverpb::StatusResponse resp;
  st.machine->fill_header(*resp.mutable_header(), rs.term);
  resp.set_version("3.4.0-aegis");
  resp.set_dbsize(static_cast<int64_t>(st.machine->db_size_bytes()));
  resp.set_dbsizeinuse(resp.dbsize());
  resp.set_leader(rs.leader);
  resp.set_raftindex(rs.commit);
  resp.set_raftterm(rs.term);
  resp.set_raftappliedindex(st.machine->applied_index());
  resp.set_islearner(rs.is_learner);
  if (rs.leader == 0) resp.add_errors("etcdserver: no leader");
  call_result r;
  r.response = resp.SerializeAsString();
  reply->finish(std::move(r));
}

state_machine_actor::behavior_type sm_behavior(sm_pointer self,
                                               std::shared_ptr<state_machine_params> params,
                                               consensus_actor consensus) {
  auto& p = *params;
  auto& st = self->state;
  st.store = std::move(p.store);
  st.machine = std::make_unique<state::kv_machine>(*st.store, p.cluster_id, p.member_id);
  st.consensus = std::move(consensus);
  st.metrics = p.metrics;
  st.snapshot_threshold_entries = p.snapshot_threshold_entries;
  st.last_snapshot_index = p.last_snapshot_index;
  return {
      [=](apply_atom, const apply_batch_ptr& b) { apply_committed(self, *b); },
      [=](read_atom, uint64_t index, std::string& req, reply_ptr& reply) {
        self->state.reads.emplace(index, queued_read{std::move(req), std::move(reply)});
        serve_ready_reads(self->state);
      },
      [=](status_atom, const raft_status& rs, const reply_ptr& reply) {
        status(self->state, rs, reply);
      },
  };
}

}  // namespace

state_machine_actor spawn_state_machine(caf::actor_system& sys, state_machine_params p,
                                        consensus_actor consensus) {
  return sys.spawn(sm_behavior, std::make_shared<state_machine_params>(std::move(p)),
                   std::move(consensus));
}

}  // namespace aegis::node
