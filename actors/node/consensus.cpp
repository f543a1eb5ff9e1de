#include "actors/node/consensus.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <chrono>
#include <iostream>
#include <map>

#include "actors/node/forwarding.hpp"
#include "actors/node/lease_timer.hpp"
#include "actors/node/log_actor.hpp"
#include "actors/node/log_line.hpp"
#include "actors/node/peer_link.hpp"
#include "actors/node/state_machine.hpp"
#include "actors/raft/heartbeat_pairing.hpp"
#include "protocol/command.pb.h"
#include "protocol/etcd/rpc.pb.h"
#include "protocol/raft_codec.hpp"

namespace aegis::node {

namespace {

struct pending_write {
  raft::term_t term = 0;
  reply_ptr reply;
  uint64_t deadline_ms = 0;
};

struct pending_read {
  read_query query;
  reply_ptr reply;
  uint64_t deadline_ms = 0;
};

// One peer's series, created once (Family::Add locks), and what update_metrics last saw of it.
struct peer_metrics {
  prometheus::Gauge* match_lag = nullptr;
  prometheus::Histogram* heartbeat_rtt = nullptr;
  prometheus::Counter* snapshots_sent = nullptr;
  bool sending_snapshot = false;  // the leader's progress for it was in snapshot state
  raft::index_t snapshot_index = 0;
};

// Incarnation-based ids stay far from wrapping: the top bits are cleared.
uint64_t first_id(uint64_t incarnation) {
  return (incarnation >> 2) | 1;
}

struct consensus_state {
  config::node_config cfg;
  std::unique_ptr<raft::core> core;
  log_actor log;
  std::shared_ptr<persistence::rocks_storage> storage;  // see spawn_log: only while !persisting
  state_machine_actor sm;
  lease_timer_actor lease_timer;
  std::map<raft::node_id, peer_link_actor> links;
  std::map<raft::node_id, peer_inbox_actor> routes;  // direct to a remote inbox (see peer_link)
  std::chrono::steady_clock::time_point origin = std::chrono::steady_clock::now();
  bool persisting = false;                        // a ready is with the log actor
  std::map<raft::index_t, pending_write> writes;  // proposed here, waiting to apply
  // Linearizable reads share ReadIndex rounds (as etcd batches them): one round is in flight at a
  // time and the reads that arrive meanwhile wait in read_queue for the next one. A round whose
  // answer has not come within read_retry_ms (its request or answer lost to a leader change) no
  // longer holds the queue back.
  std::map<uint64_t, std::vector<pending_read>> reads;  // by round context, awaiting a read point
  std::vector<pending_read> read_queue;                 // waiting for the next round
  uint64_t last_round_ms = 0;                           // when the newest round started
  std::multimap<raft::index_t, pending_read> confirmed_reads;  // by read index, awaiting apply
  uint64_t next_read_ctx = 0;
  std::unique_ptr<forward_tracker> forwarded;  // our clients' writes sent to the leader
  uint64_t last_stamp_ms = 0;  // newest stamp seen committed or issued (stamps never go back)
  int64_t clock_skew_ms = 0;   // fault hook: shifts this node's wall clock
  std::shared_ptr<node_metrics> metrics;
  raft::role last_role = raft::role::follower;
  raft::node_id last_leader = raft::no_node;
  uint64_t last_leader_seen_ms = 0;  // when another node was last known to lead (now_ms clock)
  std::map<raft::node_id, peer_metrics> peer_series;  // per peer, created on first use
  raft::heartbeat_pairing<std::chrono::steady_clock::time_point> heartbeats;  // sent, unanswered
};

using self_pointer = consensus_actor::stateful_pointer<consensus_state>;

uint64_t now_ms(const consensus_state& st) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now() - st.origin)
                                   .count());
}

uint64_t wall_ms(const consensus_state& st) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return static_cast<uint64_t>(now + st.clock_skew_ms);
}

// Client writes waiting at one node (proposed here or forwarded from here); more are refused.
constexpr size_t max_pending_writes = 16384;

call_result refusal(const raft::result& r) {
  switch (r.code) {
    case raft::status_code::not_leader:
      return call_result::error(call_code::unavailable, "etcdserver: no leader");
    case raft::status_code::transfer_in_progress:
      return call_result::error(call_code::unavailable, "etcdserver: leader changed");
    case raft::status_code::too_large:
      return call_result::error(call_code::invalid_argument, "etcdserver: request is too large");
    case raft::status_code::backlog_full:
      return call_result::error(call_code::resource_exhausted, "etcdserver: too many requests");
    default:
      return call_result::error(call_code::internal, std::string("aegis: ") + to_string(r.code));
  }
}

peer_metrics& series_of(consensus_state& st, raft::node_id peer) {
  peer_metrics& pm = st.peer_series[peer];
  if (!pm.match_lag) {
    pm.match_lag = st.metrics->follower_match_lag(peer);
    pm.heartbeat_rtt = st.metrics->heartbeat_rtt(peer);
    pm.snapshots_sent = st.metrics->snapshots_sent(peer);
  }
  return pm;
}

// A snapshot transfer starts when the leader's progress for a peer enters snapshot state (or
// moves on to a newer snapshot). Observed from the core's progress rather than from the chunks
// sent, since a chunk is resent on every heartbeat answer while the transfer waits.
void count_snapshot_sends(peer_metrics& pm, const raft::progress& pr, bool leads) {
  const bool sending = leads && pr.st == raft::progress::state::snapshot;
  if (sending && (!pm.sending_snapshot || pr.snapshot_index != pm.snapshot_index))
    pm.snapshots_sent->Increment();
  pm.sending_snapshot = sending;
  pm.snapshot_index = sending ? pr.snapshot_index : 0;
}

void update_metrics(consensus_state& st) {
  const raft::core& c = *st.core;
  node_metrics& m = *st.metrics;
  m.term->Set(static_cast<double>(c.term()));
  m.is_leader->Set(c.current_role() == raft::role::leader ? 1 : 0);
  m.has_leader->Set(c.leader() != raft::no_node ? 1 : 0);
  m.commit_index->Set(static_cast<double>(c.commit()));
  m.proposals_pending->Set(static_cast<double>(st.writes.size() + st.forwarded->pending()));
  const bool leads = c.current_role() == raft::role::leader;
  for (const auto& [peer, pr] : c.peers()) {
    peer_metrics& pm = series_of(st, peer);
    const raft::index_t last = c.log().last_index();
    pm.match_lag->Set(leads && last > pr.match ? static_cast<double>(last - pr.match) : 0.0);
    count_snapshot_sends(pm, pr, leads);
  }
}

// A new leader's stamps must not go below any entry in its log, committed or not, applied in this
// run or before a restart. (Entries folded into a snapshot are not seen here; the state machine
// keeps the newest stamp it applied with its state and never lets time go back, see kv_machine.)
void raise_stamp_to_log(consensus_state& st) {
  const raft::raft_log& log = st.core->log();
  for (raft::index_t i = log.offset().index + 1; i <= log.last_index(); ++i) {
    const raft::entry& e = log.at(i);
    aegis::smpb::Envelope env;
    if (e.type == raft::entry_type::command && env.ParseFromString(e.data))
      st.last_stamp_ms = std::max(st.last_stamp_ms, env.stamp_unix_ms());
  }
}

// The lease timer hears of every change of this node's leadership; a new leader tells it how long
// the cluster went without one (since this node last knew another leader), which is what every
// lease is extended by.
void tell_lease_timer(consensus_state& st) {
  const bool leads = st.core->current_role() == raft::role::leader;
  const bool led = st.last_role == raft::role::leader;
  if (leads == led) return;
  const uint64_t gap_ms = leads ? now_ms(st) - st.last_leader_seen_ms : 0;
  caf::anon_send(st.lease_timer, leader_atom::value, leads, gap_ms);
}

void note_leader_seen(consensus_state& st) {
  const raft::node_id leader = st.core->leader();
  if (leader != raft::no_node && leader != st.cfg.node_id) st.last_leader_seen_ms = now_ms(st);
}

void log_role_change(consensus_state& st) {
  const raft::core& c = *st.core;
  if (c.current_role() == st.last_role && c.leader() == st.last_leader) return;
  if (c.current_role() == raft::role::leader && st.last_role != raft::role::leader)
    raise_stamp_to_log(st);
  tell_lease_timer(st);
  if (c.leader() != st.last_leader && c.leader() != raft::no_node) {
    st.metrics->leader_changes->Increment();
    st.metrics->proposals_failed->Increment(
        static_cast<double>(st.forwarded->leader_changed(c.leader())));
  }
  st.last_role = c.current_role();
  st.last_leader = c.leader();
  log_line(c.id()) << to_string(c.current_role()) << " in term " << c.term() << ", leader "
                   << c.leader() << std::endl;
}

void pump(self_pointer self);

// Where messages for `peer` go: straight to its published consensus while our link to it is
// connected and fault-free, else through the link (which queues, delays, drops). Invalid for an
// unknown peer. Both accept the peer_inbox_actor messages, so callers send untyped.
caf::actor destination(const consensus_state& st, raft::node_id peer) {
  if (auto route = st.routes.find(peer); route != st.routes.end())
    return caf::actor_cast<caf::actor>(route->second);
  if (auto link = st.links.find(peer); link != st.links.end())
    return caf::actor_cast<caf::actor>(link->second);
  return {};
}

void send_messages(consensus_state& st, std::vector<raft::message> msgs) {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& m : msgs) {
    auto to = destination(st, m.to);
    if (!to) continue;
    if (m.type == raft::msg_type::heartbeat) st.heartbeats.sent(m.to, m.heartbeat_seq, now);
    caf::anon_send(to, raft_atom::value, protocol::encode(m));
  }
}

// A heartbeat's answer from `m.from`: one RTT sample, if we timed that heartbeat -- also after this
// node stepped down (heartbeat_pairing.hpp says why).
void time_heartbeat(consensus_state& st, const raft::message& m) {
  if (m.type != raft::msg_type::heartbeat_response) return;
  if (const auto sent_at = st.heartbeats.answered(m.from, m.heartbeat_seq)) {
    const std::chrono::duration<double> rtt = std::chrono::steady_clock::now() - *sent_at;
    series_of(st, m.from).heartbeat_rtt->Observe(rtt.count());
  }
}

// Pairs committed entries with the clients waiting on them. An entry at a waiting index with
// another term means the proposal was overwritten by a new leader: it failed.
void attach_replies(consensus_state& st, apply_batch& b) {
  if (b.restore) {
    // Entries folded into a received snapshot: their outcome is not knowable here.
    while (!st.writes.empty() && st.writes.begin()->first <= b.restore->meta.index) {
      st.metrics->proposals_failed->Increment();
      st.writes.begin()->second.reply->finish(call_result::error(
          call_code::unavailable,
          "etcdserver: request timed out, possibly due to previous leader failure"));
      st.writes.erase(st.writes.begin());
    }
  }
  for (const auto& ce : b.entries) {
    const raft::entry& e = ce.get();
    if (e.type == raft::entry_type::command) {
      aegis::smpb::Envelope env;
      if (env.ParseFromString(e.data)) {
        st.last_stamp_ms = std::max(st.last_stamp_ms, env.stamp_unix_ms());
        if (env.origin_node() == st.cfg.node_id)
          if (auto reply = st.forwarded->take(env.origin_request()))
            b.replies.emplace_back(e.index, std::move(reply));
      }
    }
    auto it = st.writes.find(e.index);
    if (it == st.writes.end()) continue;
    if (it->second.term == e.term) {
      b.replies.emplace_back(e.index, std::move(it->second.reply));
      st.metrics->proposals_committed->Increment();
    } else {
      it->second.reply->finish(
          call_result::error(call_code::unavailable, "etcdserver: leader changed"));
      st.metrics->proposals_failed->Increment();
    }
    st.writes.erase(it);
  }
}

constexpr uint64_t read_retry_ms = 500;

// Starts a ReadIndex round for the queued reads, unless one is already in flight (and not stale).
void start_read_round(consensus_state& st) {
  if (st.read_queue.empty()) return;
  const uint64_t now = now_ms(st);
  if (!st.reads.empty() && now < st.last_round_ms + read_retry_ms) return;
  const uint64_t ctx = st.next_read_ctx++;
  const raft::result r = st.core->read_index(ctx);
  if (!r.ok()) {
    for (auto& read : st.read_queue)
      read.reply->finish(refusal(r));
  } else {
    st.reads[ctx] = std::move(st.read_queue);
    st.last_round_ms = now;
  }
  st.read_queue.clear();
}

void confirm_reads(consensus_state& st, std::vector<raft::read_state> rss) {
  for (const auto& rs : rss) {
    auto it = st.reads.find(rs.context);
    if (it == st.reads.end()) continue;
    for (auto& read : it->second) {
      if (rs.ok)
        st.confirmed_reads.emplace(rs.index, std::move(read));
      else
        read.reply->finish(
            call_result::error(call_code::unavailable, "etcdserver: leader changed"));
    }
    st.reads.erase(it);
  }
  start_read_round(st);
}

// Reads whose read index has been handed to the state machine: it applies those entries before
// it sees the read (one mailbox, in order). The others wait here, under their deadline.
void release_reads(consensus_state& st, self_pointer self) {
  const raft::index_t applied = st.core->applied();
  while (!st.confirmed_reads.empty() && st.confirmed_reads.begin()->first <= applied) {
    auto& r = st.confirmed_reads.begin()->second;
    self->send(st.sm, read_atom::value, st.confirmed_reads.begin()->first, std::move(r.query),
               std::move(r.reply));
    st.confirmed_reads.erase(st.confirmed_reads.begin());
  }
}

void finish_ready(self_pointer self, persist_job& job) {
  auto& st = self->state;
  const raft::durable& d = *job.receipt;
  st.metrics->fsync_seconds->Observe(job.fsync_seconds);
  send_messages(st, std::move(job.rd.messages).open(d));
  auto batch = std::make_shared<apply_batch>();
  batch->restore = std::move(job.rd.restore);
  batch->entries = std::move(job.rd.committed).open(d);
  batch->term = st.core->term();
  batch->clock_skew_ms = st.clock_skew_ms;
  attach_replies(st, *batch);
  if (batch->restore || !batch->entries.empty()) self->send(st.sm, apply_atom::value, batch);
  confirm_reads(st, std::move(job.rd.read_states));
  st.core->advance(d);
  release_reads(st, self);
}

void pump(self_pointer self) {
  auto& st = self->state;
  log_role_change(st);
  if (auto batch = st.forwarded->take_batch()) {
    if (auto to = destination(st, batch->first))
      caf::anon_send(to, forward_atom::value, std::move(batch->second));
  }
  update_metrics(st);
  // A batch that needs no fsync (only a new commit index, or nothing) is written right here: the
  // log actor round trip would cost two thread hops on every commit.
  while (!st.persisting && st.core->has_ready()) {
    auto job = std::make_shared<persist_job>();
    job->rd = st.core->take_ready();
    send_messages(st, std::move(job->rd.early_messages));
    if (!st.storage->needs_fsync(job->rd.persist)) {
      persist_now(*st.storage, *job);
      finish_ready(self, *job);
      log_role_change(st);
      continue;
    }
    st.persisting = true;
    for (const auto& [id, link] : st.links)
      job->destinations[id] = destination(st, id);
    self->request(st.log, caf::infinite, persist_atom::value, std::move(job))
        .then([=](persist_job_ptr& done) {
          self->state.persisting = false;
          finish_ready(self, *done);
          pump(self);
        });
  }
}

// Fails what waited past its deadline (from the oldest; deadlines grow with arrival order).
void time_out(const pending_read& r) {
  r.reply->finish(call_result::error(call_code::unavailable, "etcdserver: request timed out"));
}

// Fails the reads of every round (and the queue) past their deadline.
void expire_reads(consensus_state& st, uint64_t now) {
  auto expired = [now](const pending_read& r) {
    if (r.deadline_ms > now) return false;
    time_out(r);
    return true;
  };
  for (auto it = st.reads.begin(); it != st.reads.end();) {
    std::erase_if(it->second, expired);
    it = it->second.empty() ? st.reads.erase(it) : std::next(it);
  }
  std::erase_if(st.read_queue, expired);
}

template <class Map>
size_t expire(Map& pending, uint64_t now) {
  size_t expired = 0;
  for (auto it = pending.begin(); it != pending.end();) {
    if (it->second.deadline_ms > now) {
      ++it;
      continue;
    }
    it->second.reply->finish(
        call_result::error(call_code::unavailable, "etcdserver: request timed out"));
    it = pending.erase(it);
    ++expired;
  }
  return expired;
}

void on_tick(self_pointer self) {
  auto& st = self->state;
  const uint64_t now = now_ms(st);
  st.core->tick(now);
  note_leader_seen(st);
  st.metrics->proposals_failed->Increment(static_cast<double>(expire(st.writes, now)));
  expire_reads(st, now);
  expire(st.confirmed_reads, now);
  start_read_round(st);
  st.metrics->proposals_failed->Increment(static_cast<double>(st.forwarded->expire(now)));
  pump(self);
  const uint32_t tick_ms = std::clamp<uint32_t>(st.cfg.raft.heartbeat_interval_ms / 5, 1, 10);
  self->delayed_send(self, std::chrono::milliseconds(tick_ms), tick_atom::value);
}

void on_peer_message(self_pointer self, const std::string& bytes) {
  auto& st = self->state;
  auto decoded = protocol::decode(bytes);
  if (auto* err = std::get_if<protocol::decode_error>(&decoded)) {
    log_line(st.cfg.node_id) << "dropped a peer message: " << err->reason << std::endl;
    return;
  }
  const raft::message& m = std::get<raft::message>(decoded);
  if (m.to != st.cfg.node_id) return;  // misrouted: never step someone else's message
  time_heartbeat(st, m);
  st.core->tick(now_ms(st));
  st.core->step(m);
  note_leader_seen(st);
  pump(self);
}

// Stamps a command with the leader's clock (never below an earlier stamp) and proposes it.
raft::result propose_stamped(consensus_state& st, std::string command, uint64_t origin_node,
                             uint64_t origin_request) {
  st.last_stamp_ms = std::max(st.last_stamp_ms, wall_ms(st));
  aegis::smpb::Envelope env;
  env.set_stamp_unix_ms(st.last_stamp_ms);
  env.set_command(std::move(command));
  env.set_origin_node(origin_node);
  env.set_origin_request(origin_request);
  return st.core->propose(env.SerializeAsString());
}

// A client write: proposed here by the leader, queued for the leader by a follower.
void propose(self_pointer self, std::string command, reply_ptr reply) {
  auto& st = self->state;
  const uint64_t now = now_ms(st);
  st.core->tick(now);
  const uint64_t deadline = now + st.cfg.request_timeout_ms;
  if (st.writes.size() + st.forwarded->pending() >= max_pending_writes) {
    reply->finish(
        call_result::error(call_code::resource_exhausted, "etcdserver: too many requests"));
  } else if (st.core->current_role() == raft::role::leader) {
    const raft::result r = propose_stamped(st, std::move(command), 0, 0);
    if (r.ok()) {
      // An older call at this index lost its entry to a new leader's log.
      if (auto old = st.writes.find(r.index); old != st.writes.end())
        old->second.reply->finish(
            call_result::error(call_code::unavailable, "etcdserver: leader changed"));
      st.writes[r.index] = {r.term, std::move(reply), deadline};
    } else
      reply->finish(refusal(r));
  } else if (st.core->leader() != raft::no_node && st.links.count(st.core->leader())) {
    st.forwarded->add(std::move(command), std::move(reply), st.core->leader(), deadline);
  } else {
    reply->finish(call_result::error(call_code::unavailable, "etcdserver: no leader"));
  }
  pump(self);
}

// A follower's batch: propose each write with the follower as origin; refuse what cannot be.
void on_forward_batch(self_pointer self, const std::string& bytes) {
  auto& st = self->state;
  aegis::smpb::ForwardBatch batch;
  if (!batch.ParseFromString(bytes) || !st.links.count(batch.origin_node())) return;
  st.core->tick(now_ms(st));
  aegis::smpb::ForwardRefusals refusals;
  for (auto& item : *batch.mutable_items()) {
    raft::result r;
    if (st.core->current_role() == raft::role::leader)
      r = propose_stamped(st, std::move(*item.mutable_command()), batch.origin_node(),
                          item.request());
    else
      r.code = raft::status_code::not_leader;
    if (r.ok()) continue;
    const call_result why = refusal(r);
    auto* out = refusals.add_items();
    out->set_request(item.request());
    out->set_code(static_cast<int>(why.code));
    out->set_message(why.message);
  }
  if (refusals.items_size() > 0)
    self->send(st.links.at(batch.origin_node()), refuse_atom::value, refusals.SerializeAsString());
  pump(self);
}

void on_read(self_pointer self, bool serializable, read_query query, reply_ptr reply) {
  auto& st = self->state;
  query.now_ms = std::max(st.last_stamp_ms, wall_ms(st));
  if (serializable) {
    self->send(st.sm, read_atom::value, uint64_t{0}, std::move(query), std::move(reply));
    return;
  }
  const uint64_t now = now_ms(st);
  st.core->tick(now);
  if (st.read_queue.size() + st.confirmed_reads.size() >= st.cfg.raft.max_pending_reads)
    return reply->finish(
        call_result::error(call_code::resource_exhausted, "etcdserver: too many requests"));
  st.read_queue.push_back({std::move(query), std::move(reply), now + st.cfg.request_timeout_ms});
  start_read_round(st);
  pump(self);
}

void on_status(self_pointer self, reply_ptr reply) {
  auto& st = self->state;
  const raft::core& c = *st.core;
  raft_status rs{c.leader(), c.term(), c.commit(),
                 std::find(c.conf().learners.begin(), c.conf().learners.end(), c.id()) !=
                     c.conf().learners.end()};
  self->send(st.sm, status_atom::value, rs, std::move(reply));
}

// Fault hooks: the gateway has already checked that fault injection is enabled.
void set_link_faults(self_pointer self, uint64_t peer, const link_faults& f, const reply_ptr& r) {
  auto link = self->state.links.find(peer);
  if (link == self->state.links.end())
    return r->finish(call_result::error(call_code::not_found,
                                        "aegis: no peer " + std::to_string(peer) + " here"));
  self->send(link->second, fault_atom::value, f);
  r->finish({});
}

void clear_faults(self_pointer self, const reply_ptr& r) {
  auto& st = self->state;
  for (auto& [id, link] : st.links)
    self->send(link, fault_atom::value, link_faults{});
  self->send(st.log, fsync_atom::value, uint32_t{0});
  st.clock_skew_ms = 0;
  r->finish({});
}

// Cluster.MemberList's answer (without header) from the configured members.
std::string member_list(const config::node_config& cfg) {
  etcdserverpb::MemberListResponse resp;
  for (const auto& peer : cfg.peers) {
    auto* m = resp.add_members();
    m->set_id(peer.id);
    m->set_name("aegis-" + std::to_string(peer.id));
    m->add_peerurls("http://" + peer.peer.str());
    for (const auto& c : cfg.clients)
      if (c.id == peer.id) m->add_clienturls("http://" + c.peer.str());
    if (peer.id == cfg.node_id && m->clienturls_size() == 0)
      m->add_clienturls("http://" + cfg.client_listen.str());
  }
  return resp.SerializeAsString();
}

// A lease must outlive a leader change: as etcd, at least 1.5 election timeouts (whole seconds).
int64_t min_lease_ttl_s(const config::node_config& cfg) {
  return std::max<int64_t>(1, (cfg.raft.election_timeout_ms_max * 3 / 2 + 999) / 1000);
}

void start_children(self_pointer self, consensus_params& p, uint64_t snapshot_index) {
  auto& st = self->state;
  auto& sys = self->system();
  st.storage = std::move(p.raft_store);
  st.log = spawn_log(sys, st.storage);
  st.lease_timer = spawn_lease_timer(sys, {}, self);
  state_machine_params smp;
  smp.store = std::move(p.kv_store);
  smp.cluster_id = st.cfg.cluster_id();
  smp.member_id = st.cfg.node_id;
  smp.snapshot_threshold_entries = st.cfg.raft.snapshot_threshold_entries;
  smp.last_snapshot_index = snapshot_index;
  smp.min_lease_ttl_s = min_lease_ttl_s(st.cfg);
  smp.watch_progress_notify_ms = st.cfg.watch_progress_notify_ms;
  smp.members = member_list(st.cfg);
  smp.metrics = p.metrics;
  st.sm = spawn_state_machine(sys, std::move(smp), self, st.lease_timer);
  for (const auto& peer : st.cfg.peers) {
    if (peer.id == st.cfg.node_id) continue;
    st.links[peer.id] = spawn_peer_link(
        sys, {peer.id, peer.peer, st.cfg.peer_queue_messages, p.seed ^ (peer.id * 0x9e37), self});
  }
  self->link_to(st.log);
  self->link_to(st.sm);
  self->link_to(st.lease_timer);
  for (auto& [id, link] : st.links)
    self->link_to(link);
}

consensus_actor::behavior_type consensus_behavior(self_pointer self,
                                                  std::shared_ptr<consensus_params> params) {
  auto& p = *params;
  auto& st = self->state;
  st.cfg = p.cfg;
  st.metrics = p.metrics;
  std::map<raft::node_id, std::string> peers;
  for (const auto& peer : p.cfg.peers)
    peers[peer.id] = peer.peer.str();
  st.forwarded =
      std::make_unique<forward_tracker>(p.cfg.node_id, first_id(p.incarnation), std::move(peers));
  st.next_read_ctx = first_id(~p.incarnation);
  for (const auto& peer : p.cfg.peers)  // every peer's series exists from the start, at zero
    if (peer.id != p.cfg.node_id) series_of(st, peer.id);
  const uint64_t snapshot_index = p.restore.snap ? p.restore.snap->meta.index : 0;
  st.core = std::make_unique<raft::core>(p.cfg.node_id, p.cfg.raft, p.seed, std::move(p.restore));
  start_children(self, p, snapshot_index);
  self->send(self, tick_atom::value);
  return {
      [=](raft_atom, const std::string& bytes) { on_peer_message(self, bytes); },
      [=](forward_atom, const std::string& batch) { on_forward_batch(self, batch); },
      [=](refuse_atom, const std::string& refusals) { self->state.forwarded->refused(refusals); },
      [=](propose_atom, std::string& cmd, reply_ptr& reply) {
        propose(self, std::move(cmd), std::move(reply));
      },
      [=](read_atom, bool serializable, read_query& q, reply_ptr& reply) {
        on_read(self, serializable, std::move(q), std::move(reply));
      },
      [=](watch_atom, watch_command& c) {
        self->send(self->state.sm, watch_atom::value, std::move(c));
      },
      [=](status_atom, reply_ptr& reply) { on_status(self, std::move(reply)); },
      [=](compact_atom, const local_snapshot_ptr& snap) {
        self->state.core->tick(now_ms(self->state));
        self->state.core->compact(snap->index, std::move(snap->data));
        pump(self);
      },
      [=](tick_atom) { on_tick(self); },
      [=](fault_atom, uint64_t peer, const link_faults& f, const reply_ptr& reply) {
        set_link_faults(self, peer, f, reply);
      },
      [=](fsync_atom, uint32_t extra_ms, const reply_ptr& reply) {
        self->send(self->state.log, fsync_atom::value, extra_ms);
        reply->finish({});
      },
      [=](clear_atom, const reply_ptr& reply) { clear_faults(self, reply); },
      [=](route_atom, const local_route& r) {
        if (r.inbox)
          self->state.routes[r.peer] = caf::actor_cast<peer_inbox_actor>(r.inbox);
        else
          self->state.routes.erase(r.peer);
      },
      [=](skew_atom, int64_t skew_ms, const reply_ptr& reply) {
        self->state.clock_skew_ms = skew_ms;
        reply->finish({});
      },
  };
}

}  // namespace

consensus_actor spawn_consensus(caf::actor_system& sys, consensus_params p) {
  return sys.spawn(consensus_behavior, std::make_shared<consensus_params>(std::move(p)));
}

}  // namespace aegis::node
