// The event loop and the hosting of each core: the same persist -> sync -> send/apply -> advance
// cycle a real node runs, with fsync latency in virtual time.
#include <algorithm>
#include <chrono>

#include "chaos/sim/engine.hpp"

namespace aegis::chaos::sim {

engine::engine(const script& s, const config::raft_config& cfg, const sim_options& opt)
    : script_(s), cfg_(cfg), opt_(opt), rng_(opt.seed), net_(s.nodes, s.network) {
  nodes_.resize(s.nodes + 1);
  for (uint32_t i = 1; i <= s.nodes; ++i) {
    nodes_[i].id = i;
    nodes_[i].rid = i;
    bind(i, i);
    nodes_[i].fsync_us = s.fsync_us;
    start_node(nodes_[i]);
  }
  if (s.load) {
    clients_.resize(s.load->clients);
    for (uint32_t c = 0; c < clients_.size(); ++c) {
      clients_[c].id = c + 1;
      clients_[c].target = uint32_t(rng_.between(1, s.nodes + 1));
      schedule({.at_us = int64_t(rng_.between(0, 10'000)), .kind = ev::next_op, .arg = c});
    }
  }
  for (size_t i = 0; i < s.faults.size(); ++i)
    schedule({.at_us = s.faults[i].at_us, .kind = ev::fault, .arg = i});
  schedule({.at_us = 0, .kind = ev::sample});
  if (opt.record_trace) {
    rec_ = std::make_shared<trace::trace>();
    for (uint32_t i = 1; i <= s.nodes; ++i)
      trace_role(nodes_[i]);
    schedule({.at_us = 0, .kind = ev::scrape});
  }
}

void engine::schedule(event e) {
  e.seq = next_seq_++;
  queue_.push_back(std::move(e));
  std::push_heap(queue_.begin(), queue_.end(), later{});
}

// Events whose delay is the same for all of them (client timeouts) arrive in time order, so a
// FIFO holds them instead of the heap; the next event is the earlier of the two fronts, in the
// same (time, seq) order a single heap would give.
void engine::schedule_in_order(event e) {
  e.seq = next_seq_++;
  AEGIS_ASSERT(fifo_.empty() || fifo_.back().at_us <= e.at_us);
  fifo_.push_back(e);
}

bool engine::next_event(event& e) {
  const bool heap_first =
      !queue_.empty() && (fifo_.empty() || later{}(fifo_.front(), queue_.front()));
  if (heap_first) {
    std::pop_heap(queue_.begin(), queue_.end(), later{});
    e = queue_.back();
    queue_.pop_back();
    return true;
  }
  if (fifo_.empty()) return false;
  e = fifo_.front();
  fifo_.pop_front();
  return true;
}

run_summary engine::run() {
  const auto wall_start = std::chrono::steady_clock::now();
  event e;
  while (next_event(e)) {
    if (e.at_us > script_.duration_us) break;
    now_us_ = e.at_us;
    ++sum_.events;
    dispatch(e);
  }
  now_us_ = script_.duration_us;
  run_summary r = finish();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

void engine::dispatch(event& e) {
  sim_node* n = e.node ? &nodes_[e.node] : nullptr;
  const bool live = n && n->up && n->incarnation == e.incarnation;
  switch (e.kind) {
    case ev::tick:
      if (live && n->paused) {
        if (e.at_us == n->next_tick_us) n->tick_due = true;
      } else if (live) {
        on_tick(*n, e.at_us);
      }
      break;
    case ev::deliver:
      // A restarted node still receives what was sent to its address, unless it was sent to
      // an identity it no longer has.
      if (n && n->up && n->paused) {
        held_[n->id].push_back(e);  // kept in its slab slot until the node resumes
        break;
      }
      if (n && n->up && messages_.at(uint32_t(e.arg)).to == n->rid) {
        trace_.add_u64(now_us_);
        const raft::message& m = messages_.at(uint32_t(e.arg));
        trace_.add_u64(uint64_t(m.type) | m.from << 8 | m.to << 16);
        trace_.add_u64(m.term ^ m.index << 20);
        n->core->tick(clock_ms(*n));  // the core's clock moves before every input
        observe_deliver(*n, m);
        n->core->step(m);  // m may dangle after this: pump() can grow the slab
        after_step(*n);
        pump(*n);
      }
      messages_.release(uint32_t(e.arg));
      break;
    case ev::fsync:
      if (live && n->paused)
        n->fsync_due = true;
      else if (live)
        complete(*n);
      break;
    case ev::request:
      if (n && n->up && n->paused)
        held_[n->id].push_back(e);
      else if (n && n->up)
        on_request(*n, e.arg);
      break;
    case ev::respond:
      on_reply(replies_.at(uint32_t(e.arg)));
      replies_.release(uint32_t(e.arg));
      break;
    case ev::timeout:
      on_timeout(e.arg);
      break;
    case ev::next_op:
      next_op(clients_[e.arg]);
      break;
    case ev::fault:
      fire(script_.faults[e.arg]);
      break;
    case ev::undo:
      undos_[e.arg]();
      break;
    case ev::sample:
      sample();
      break;
    case ev::scrape:
      scrape();
      break;
  }
}

uint64_t engine::clock_ms(sim_node& n) {
  const int64_t local = std::max<int64_t>(0, now_us_ + n.skew_us) / 1000;
  n.clock_ms = std::max<uint64_t>(n.clock_ms, uint64_t(local));
  return n.clock_ms;
}

void engine::start_node(sim_node& n) {
  raft::conf_state conf;
  for (uint32_t i = 1; i < nodes_.size(); ++i)
    conf.voters.push_back(i);
  const uint64_t seed = opt_.seed * 1000003 + n.id * 7919 + n.incarnation;
  const bool empty = n.storage.synced().hs.term == 0;
  auto rs = !empty      ? n.storage.restore()
            : n.joining ? raft::restore_state{}  // learns everything from the leader
                        : raft::restore_state::bootstrap(conf);
  n.sm = kv_store{};
  if (rs.snap) n.sm.restore(rs.snap->data);
  n.core = std::make_unique<raft::core>(n.rid, cfg_, seed, std::move(rs));
  n.stats = node_stats{};  // a new process starts its counters at zero
  n.core->tick(clock_ms(n));
  n.seen_role = raft::role::follower;
  n.seen_term = n.core->term();
  n.next_tick_us = INT64_MAX;
  schedule_tick(n);
  pump(n);
}

void engine::crash(sim_node& n) {
  if (!n.up) return;
  n.up = false;
  ++n.incarnation;
  n.storage.crash();  // what was written but not synced is gone
  n.core.reset();
  n.in_flight.reset();
  n.syncing = false;
  n.writes.clear();
  n.read_contexts.clear();
  n.reads.clear();
  // SIGKILL ends a stopped process too: what waited for it is lost.
  n.paused = n.tick_due = n.fsync_due = false;
  for (const event& e : held_[n.id])
    if (e.kind == ev::deliver) messages_.release(uint32_t(e.arg));
  held_.erase(n.id);
  trace_role(n);
}

void engine::restart(sim_node& n) {
  if (n.up) return;
  n.up = true;
  ++n.incarnation;
  start_node(n);
}

// A node is ticked only when its core has something due (core::next_deadline_ms), rounded up to
// the tick granularity: a handful of ticks per second instead of one every few milliseconds.
void engine::schedule_tick(sim_node& n) {
  const int64_t due_ms = int64_t(n.core->next_deadline_ms());
  int64_t at = std::max(now_us_ + 1, due_ms * 1000 - n.skew_us);
  at = (at + opt_.tick_us - 1) / opt_.tick_us * opt_.tick_us;
  if (at >= n.next_tick_us) return;
  n.next_tick_us = at;
  schedule({.at_us = at, .kind = ev::tick, .node = n.id, .incarnation = n.incarnation});
}

void engine::on_tick(sim_node& n, int64_t scheduled_us) {
  if (scheduled_us != n.next_tick_us) return;  // superseded by an earlier one
  n.next_tick_us = INT64_MAX;
  n.core->tick(clock_ms(n));
  after_step(n);
  pump(n);
  schedule_tick(n);
}

void engine::after_step(sim_node& n) {
  raft::core& c = *n.core;
  if (opt_.check_invariants) c.check_invariants();
  const bool leads = c.current_role() == raft::role::leader;
  if (leads && (n.seen_role != raft::role::leader || n.seen_term != c.term())) {
    checker_.leader_elected(n.id, c.term(), now_us_);
    checker_.leader_log(n.id, c.term(), c.log());
    ++sum_.leader_changes;
    note("node " + std::to_string(n.id) + " becomes leader of term " + std::to_string(c.term()));
    trace_.add_u64(n.id << 1 | c.term() << 8);
  } else if (!leads && n.seen_role == raft::role::leader) {
    note("node " + std::to_string(n.id) + " steps down (term " + std::to_string(c.term()) + ")");
  }
  if (leads && c.conf() != leader_conf_) {
    leader_conf_ = c.conf();
    std::string v, l;
    for (auto id : leader_conf_.voters)
      v += " " + std::to_string(id);
    for (auto id : leader_conf_.learners)
      l += " " + std::to_string(id);
    note("configuration: voters" + v + (l.empty() ? "" : ", learners" + l));
  }
  if (c.leader() != 0 && c.leader() != n.stats.last_leader) ++n.stats.leader_changes;
  if (c.leader() != 0) n.stats.last_leader = c.leader();
  n.seen_role = c.current_role();
  n.seen_term = c.term();
  trace_role(n);
  sum_.max_term = std::max(sum_.max_term, c.term());
  schedule_tick(n);
}

// Takes the next ready if the disk is free: group commit, one fsync per batch.
void engine::pump(sim_node& n) {
  if (!n.up || n.syncing || !n.core->has_ready()) return;
  raft::ready r = n.core->take_ready();
  for (auto& m : r.early_messages)
    send(std::move(m));
  const auto& es = r.persist.log.entries;
  if (!es.empty()) checker_.entries_written(n.id, n.core->log().term_at(es.front().index - 1), es);
  const bool needs_disk = !r.persist.empty();
  n.storage.write(std::move(r.persist));
  n.in_flight = std::move(r);
  if (!needs_disk) {
    complete(n);
    return;
  }
  n.syncing = true;
  ++n.stats.fsyncs;
  n.stats.fsync_us += n.fsync_us;
  schedule({.at_us = now_us_ + n.fsync_us,
            .kind = ev::fsync,
            .node = n.id,
            .incarnation = n.incarnation});
}

void engine::complete(sim_node& n) {
  raft::ready r = std::move(*n.in_flight);
  n.in_flight.reset();
  n.syncing = false;
  const raft::durable d = n.storage.sync();
  if (r.restore) {
    n.sm.restore(r.restore->data);
    ++sum_.snapshots_installed;
    ++n.stats.snapshots_installed;
    // Proposals covered by the snapshot cannot be matched to an apply: their clients time out.
    n.writes.erase(n.writes.begin(), n.writes.upper_bound(r.restore->meta.index));
  }
  for (const auto& ce : std::move(r.committed).open(d))
    apply_entry(n, ce.get());
  for (auto& m : std::move(r.messages).open(d))
    send(std::move(m));
  n.core->advance(d);
  handle_read_states(n, r.read_states);
  serve_reads(n);
  after_step(n);
  maybe_snapshot(n);
  pump(n);
}

void engine::apply_entry(sim_node& n, const raft::entry& e) {
  checker_.entry_applied(n.id, e);
  trace_.add_u64(n.id | e.index << 8);
  auto w = n.writes.find(e.index);
  std::optional<kv_command> cmd;
  if (e.type == raft::entry_type::command) {
    cmd = decode(e.data);
    if (!cmd) {
      checker_.violation("node " + std::to_string(n.id) + " applied an undecodable entry at " +
                         std::to_string(e.index));
      return;
    }
  }
  kv_result res = cmd ? n.sm.apply(*cmd) : kv_result{};
  if (cmd) {
    ++n.stats.proposals_applied;
    // Local clock minus the leader's stamp, read without moving the node's clock.
    const int64_t local_ms = std::max<int64_t>(0, now_us_ + n.skew_us) / 1000;
    n.stats.stamp_offset_ms = local_ms - cmd->stamp_ms;
  }
  if (w == n.writes.end()) return;
  reply rep{.op = w->second.op};
  if (cmd && w->second.term == e.term && cmd->op_id == w->second.op) {
    rep.status = op_status::ok;
    rep.cas_ok = res.cas_ok;
    commit_latencies_us_.push_back(now_us_ - w->second.proposed_us);
    ++n.stats.proposals_committed;
  } else {  // another entry took its slot, so it can never commit: a definite failure
    ++n.stats.proposals_failed;
  }
  n.writes.erase(w);
  respond(rep);
}

void engine::handle_read_states(sim_node& n, const std::vector<raft::read_state>& rs) {
  for (const auto& s : rs) {
    auto it = n.read_contexts.find(s.context);
    if (it == n.read_contexts.end()) continue;
    const uint64_t op = it->second;
    n.read_contexts.erase(it);
    if (!s.ok)
      respond({.op = op, .status = op_status::fail});
    else
      n.reads.emplace(s.index, op);
  }
}

// ReadIndex, last step: answer once the state machine has caught up with the read index.
void engine::serve_reads(sim_node& n) {
  const raft::index_t applied = n.core->applied();
  while (!n.reads.empty() && n.reads.begin()->first <= applied) {
    const uint64_t op = n.reads.begin()->second;
    n.reads.erase(n.reads.begin());
    respond({.op = op, .status = op_status::ok, .output = n.sm.get(history_[op].key)});
  }
}

void engine::maybe_snapshot(sim_node& n) {
  const raft::core& c = *n.core;
  const raft::index_t last = c.latest_snapshot() ? c.latest_snapshot()->meta.index : 0;
  if (c.applied() >= last + cfg_.snapshot_threshold_entries)
    n.core->compact(c.applied(), n.sm.serialize());
}

void engine::send(raft::message&& m) {
  ++sum_.messages_sent;
  const uint32_t from = slot(m.from), to = slot(m.to);
  observe_send(m, from);
  const auto copies = to == 0 ? std::vector<int64_t>{} : net_.transit(from, to, rng_);
  if (copies.empty()) {
    ++sum_.messages_lost;
    return;
  }
  const uint32_t index = messages_.put(std::move(m), uint32_t(copies.size()));
  for (int64_t delay : copies)
    schedule({.at_us = now_us_ + delay, .kind = ev::deliver, .node = to, .arg = index});
}

sim_node* engine::leader() {
  sim_node* best = nullptr;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    sim_node& n = nodes_[i];
    if (n.up && n.core->current_role() == raft::role::leader &&
        (!best || n.core->term() > best->core->term()))
      best = &n;
  }
  return best;
}

void engine::sample() {
  ++samples_;
  sim_node* l = leader();
  if (l && !l->paused && l->core->committed_in_term()) {
    size_t reach = 0;
    for (raft::node_id v : l->core->conf().voters) {
      const uint32_t id = slot(v);
      const bool live = id != 0 && nodes_[id].up && !nodes_[id].paused && nodes_[id].rid == v;
      if (v == l->rid || (live && net_.connected(l->id, id) && net_.connected(id, l->id))) ++reach;
    }
    if (reach >= l->core->conf().quorum()) ++available_samples_;
  }
  schedule({.at_us = now_us_ + opt_.sample_us, .kind = ev::sample});
}

void engine::note(const std::string& what) {
  char t[32];
  std::snprintf(t, sizeof t, "%8.3fs  ", double(now_us_) / 1e6);
  if (sum_.timeline.size() < 500) sum_.timeline.push_back(t + what);
}

}  // namespace aegis::chaos::sim
