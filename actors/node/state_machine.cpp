#include "actors/node/state_machine.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <chrono>
#include <map>

#include "actors/state/kv_machine.hpp"
#include "actors/state/watch_hub.hpp"
#include "protocol/etcd/rpc.pb.h"

namespace aegis::node {

namespace {

struct queued_read {
  read_query query;
  reply_ptr reply;
};

struct sm_state {
  std::unique_ptr<persistence::kv_store> store;
  std::unique_ptr<state::kv_machine> machine;
  std::unique_ptr<state::watch_hub> watches;
  consensus_actor consensus;
  lease_timer_actor lease_timer;
  std::shared_ptr<node_metrics> metrics;
  uint64_t snapshot_threshold_entries = 0;
  uint64_t last_snapshot_index = 0;
  uint32_t watch_progress_notify_ms = 0;
  std::string members;          // MemberListResponse without header
  uint64_t term = 0;            // newest term seen, for headers
  state::apply_stats reported;  // the machine's counts already in the metrics
  std::chrono::steady_clock::time_point db_size_read;  // when the db size metric was last read
  std::multimap<uint64_t, queued_read> reads;          // by read index; bounded by consensus
};

using sm_pointer = state_machine_actor::stateful_pointer<sm_state>;

call_result malformed(const char* what) {
  return call_result::error(call_code::invalid_argument, std::string("malformed ") + what);
}

call_result members(const sm_state& st) {
  etcdserverpb::MemberListResponse resp;
  resp.ParseFromString(st.members);
  st.machine->fill_header(*resp.mutable_header(), st.term);
  call_result r;
  r.response = resp.SerializeAsString();
  return r;
}

call_result answer(const sm_state& st, const read_query& q) {
  const state::kv_machine& m = *st.machine;
  switch (q.kind) {
    case read_kind::range: {
      etcdserverpb::RangeRequest req;
      return req.ParseFromString(q.request) ? m.range(req, st.term) : malformed("RangeRequest");
    }
    case read_kind::lease_ttl: {
      etcdserverpb::LeaseTimeToLiveRequest req;
      return req.ParseFromString(q.request) ? m.lease_time_to_live(req, q.now_ms, st.term)
                                            : malformed("LeaseTimeToLiveRequest");
    }
    case read_kind::lease_list:
      return m.lease_leases(st.term);
    case read_kind::hash_kv: {
      etcdserverpb::HashKVRequest req;
      return req.ParseFromString(q.request) ? m.hash_kv(req.revision(), st.term)
                                            : malformed("HashKVRequest");
    }
    case read_kind::hash:
      return m.hash(st.term);
    case read_kind::members:
      return members(st);
    case read_kind::txn: {
      etcdserverpb::TxnRequest req;
      return req.ParseFromString(q.request) ? m.read_txn(req, st.term) : malformed("TxnRequest");
    }
  }
  return malformed("read");
}

void serve_ready_reads(sm_state& st) {
  const uint64_t applied = st.machine->applied_index();
  while (!st.reads.empty() && st.reads.begin()->first <= applied) {
    auto& r = st.reads.begin()->second;
    r.reply->finish(answer(st, r.query));
    st.reads.erase(st.reads.begin());
  }
}

void update_metrics(sm_state& st) {
  node_metrics& m = *st.metrics;
  const state::kv_machine& k = *st.machine;
  m.applied_index->Set(static_cast<double>(k.applied_index()));
  m.mvcc_revision->Set(static_cast<double>(k.revision()));
  // RocksDB's size properties walk its file list: read them at most once a second, not per batch.
  const auto now = std::chrono::steady_clock::now();
  if (now - st.db_size_read >= std::chrono::seconds(1)) {
    st.db_size_read = now;
    m.db_size_bytes->Set(static_cast<double>(k.db_size_bytes()));
  }
  m.leases_active->Set(static_cast<double>(k.leases().all().size()));
  m.watchers->Set(static_cast<double>(st.watches->watch_count()));
  m.leases_granted->Increment(
      static_cast<double>(k.stats().leases_granted - st.reported.leases_granted));
  m.leases_expired->Increment(
      static_cast<double>(k.stats().leases_expired - st.reported.leases_expired));
  st.reported = k.stats();
}

// What the rest of the node hears of an applied batch: watchers get its revisions, the lease
// timer its lease changes.
void publish(sm_state& st) {
  st.watches->publish(st.machine->take_events());
  auto changes =
      std::make_shared<std::vector<state::lease_change>>(st.machine->take_lease_changes());
  if (!changes->empty()) caf::anon_send(st.lease_timer, lease_atom::value, std::move(changes));
}

void maybe_snapshot(sm_pointer self) {
  auto& st = self->state;
  const uint64_t applied = st.machine->applied_index();
  if (applied < st.last_snapshot_index + st.snapshot_threshold_entries) return;
  st.last_snapshot_index = applied;
  st.metrics->snapshots_taken->Increment();
  auto snap = std::make_shared<local_snapshot>();
  snap->index = applied;
  snap->data = st.machine->snapshot_data();
  self->send(st.consensus, compact_atom::value, std::move(snap));
}

// This node's wall clock, shifted as its own stamps would be, minus the leader's stamp of the
// newest applied command: how far this node's clock is from the leader's (plus commit latency).
void note_stamp_offset(sm_state& st, int64_t clock_skew_ms) {
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count() +
                    clock_skew_ms;
  const auto stamp = static_cast<int64_t>(st.machine->last_stamp_ms());
  st.metrics->clock_stamp_offset->Set(static_cast<double>(wall - stamp) / 1000.0);
}

void apply_committed(sm_pointer self, const apply_batch& b) {
  auto& st = self->state;
  const auto started = std::chrono::steady_clock::now();
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
  uint64_t commands = 0;
  for (const auto& ce : b.entries) {
    const raft::entry& e = ce.get();
    if (e.index <= st.machine->applied_index()) continue;  // already in the store (restart)
    if (e.type == raft::entry_type::command) ++commands;
    call_result r = st.machine->apply(e, b.term);
    while (reply != b.replies.end() && reply->first < e.index)
      ++reply;
    if (reply != b.replies.end() && reply->first == e.index) reply->second->finish(std::move(r));
    last = e.index;
  }
  if (last != 0) st.machine->commit_batch(last);
  publish(st);
  // Reads served next and the snapshot are not part of applying; the watch fan-out is.
  st.metrics->apply_seconds->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (commands > 0) {
    st.metrics->proposals_applied->Increment(static_cast<double>(commands));
    note_stamp_offset(st, b.clock_skew_ms);
  }
  serve_ready_reads(st);
  update_metrics(st);
  maybe_snapshot(self);
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

void on_watch(sm_state& st, const watch_command& c) {
  using K = watch_command::kind;
  switch (c.what) {
    case K::create: {
      etcdserverpb::WatchCreateRequest req;
      if (req.ParseFromString(c.request)) st.watches->create(c.stream, req, c.sink);
      break;
    }
    case K::cancel: {
      etcdserverpb::WatchCancelRequest req;
      if (req.ParseFromString(c.request)) st.watches->cancel(c.stream, req.watch_id());
      break;
    }
    case K::progress:
      st.watches->progress(c.sink);
      break;
    case K::close:
      st.watches->close(c.stream);
      break;
  }
}

state_machine_actor::behavior_type sm_behavior(sm_pointer self,
                                               std::shared_ptr<state_machine_params> params,
                                               consensus_actor consensus,
                                               lease_timer_actor leases) {
  auto& p = *params;
  auto& st = self->state;
  st.store = std::move(p.store);
  st.machine =
      std::make_unique<state::kv_machine>(*st.store, p.cluster_id, p.member_id, p.min_lease_ttl_s);
  st.watches = std::make_unique<state::watch_hub>(
      st.machine->store_view(), [m = st.machine.get(), s = &st](etcdserverpb::ResponseHeader& h) {
        m->fill_header(h, s->term);
      });
  st.consensus = std::move(consensus);
  st.lease_timer = std::move(leases);
  st.metrics = p.metrics;
  st.snapshot_threshold_entries = p.snapshot_threshold_entries;
  st.last_snapshot_index = p.last_snapshot_index;
  st.watch_progress_notify_ms = p.watch_progress_notify_ms;
  st.members = p.members;
  publish(st);  // the lease timer learns every stored lease
  self->delayed_send(self, std::chrono::milliseconds(st.watch_progress_notify_ms),
                     tick_atom::value);
  return {
      [=](apply_atom, const apply_batch_ptr& b) { apply_committed(self, *b); },
      [=](read_atom, uint64_t index, read_query& q, reply_ptr& reply) {
        self->state.reads.emplace(index, queued_read{std::move(q), std::move(reply)});
        serve_ready_reads(self->state);
      },
      [=](status_atom, const raft_status& rs, const reply_ptr& reply) {
        status(self->state, rs, reply);
      },
      [=](watch_atom, const watch_command& c) {
        on_watch(self->state, c);
        self->state.metrics->watchers->Set(static_cast<double>(self->state.watches->watch_count()));
      },
      [=](tick_atom) {
        self->state.watches->notify_progress();
        self->delayed_send(self, std::chrono::milliseconds(self->state.watch_progress_notify_ms),
                           tick_atom::value);
      },
  };
}

}  // namespace

state_machine_actor spawn_state_machine(caf::actor_system& sys, state_machine_params p,
                                        consensus_actor consensus, lease_timer_actor leases) {
  return sys.spawn(sm_behavior, std::make_shared<state_machine_params>(std::move(p)),
                   std::move(consensus), std::move(leases));
}

}  // namespace aegis::node
