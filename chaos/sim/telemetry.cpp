// What the simulator writes into a trace: every node's metrics every scrape period (under the
// names a real node exports), role changes, faults as they fired, and pause/resume (a paused
// node neither ticks nor takes input, as a SIGSTOPped process). Recording only observes: it draws
// nothing from the run's generator, so a run's outcome is the same with or without a trace.
#include <cstdio>

#include "chaos/sim/engine.hpp"
#include "config/schema.hpp"

namespace aegis::chaos::sim {

namespace {

std::string peer_label(uint32_t slot) {
  return "{peer=\"" + std::to_string(slot) + "\"}";
}

const char* role_word(raft::role r) {
  switch (r) {
    case raft::role::leader:
      return "leader";
    case raft::role::candidate:
    case raft::role::pre_candidate:
      return "candidate";
    case raft::role::follower:
      break;
  }
  return "follower";
}

}  // namespace

void engine::scrape() {
  for (size_t i = 1; i < nodes_.size(); ++i) {
    const sim_node& n = nodes_[i];
    trace::metric_sample m{.at_us = now_us_, .node = n.id, .up = n.up && !n.paused};
    if (m.up) m.values = series(n);
    rec_->metrics.push_back(std::move(m));
  }
  schedule({.at_us = now_us_ + opt_.scrape_us, .kind = ev::scrape});
}

std::map<std::string, double> engine::series(const sim_node& n) const {
  const raft::core& c = *n.core;
  const node_stats& st = n.stats;
  const bool leads = c.current_role() == raft::role::leader;
  std::map<std::string, double> v{
      {"aegis_raft_term", double(c.term())},
      {"aegis_raft_is_leader", leads ? 1.0 : 0.0},
      {"aegis_raft_has_leader", c.leader() != 0 ? 1.0 : 0.0},
      {"aegis_raft_leader_changes_total", double(st.leader_changes)},
      {"aegis_raft_commit_index", double(c.commit())},
      {"aegis_raft_applied_index", double(c.applied())},
      {"aegis_proposals_pending", double(n.writes.size())},
      {"aegis_proposals_committed_total", double(st.proposals_committed)},
      {"aegis_proposals_failed_total", double(st.proposals_failed)},
      {"aegis_proposals_applied_total", double(st.proposals_applied)},
      {"aegis_log_fsync_duration_seconds_count", double(st.fsyncs)},
      {"aegis_log_fsync_duration_seconds_sum", double(st.fsync_us) / 1e6},
      {"aegis_snapshots_installed_total", double(st.snapshots_installed)},
      {"aegis_clock_stamp_offset_seconds", double(st.stamp_offset_ms) / 1e3},
  };
  for (size_t p = 1; p < nodes_.size(); ++p) {
    if (p == n.id) continue;
    double lag = 0;
    const auto it = c.peers().find(nodes_[p].rid);
    if (leads && it != c.peers().end())
      lag = double(c.log().last_index() - std::min(it->second.match, c.log().last_index()));
    v["aegis_raft_follower_match_lag" + peer_label(uint32_t(p))] = lag;
  }
  for (const auto& [peer, sent] : st.snapshots_sent)
    v["aegis_snapshots_sent_total" + peer_label(peer)] = double(sent);
  for (const auto& [peer, cs] : st.heartbeat_rtt) {
    v["aegis_raft_heartbeat_rtt_seconds_count" + peer_label(peer)] = double(cs.first);
    v["aegis_raft_heartbeat_rtt_seconds_sum" + peer_label(peer)] = double(cs.second) / 1e6;
  }
  return v;
}

// Writes a role line when what a scrape would show of the node changed: its role and term, or
// "down" while it is not running or paused.
void engine::trace_role(sim_node& n) {
  if (!rec_) return;
  const bool down = !n.up || n.paused || !n.core;
  const std::string role = down ? "down" : role_word(n.core->current_role());
  const uint64_t term = down ? 0 : n.core->term();
  if (role == n.traced_role && term == n.traced_term) return;
  n.traced_role = role;
  n.traced_term = term;
  rec_->roles.push_back({now_us_, n.id, role, term});
}

// The fault with `leader`/`follower` replaced by the nodes they resolved to.
void engine::trace_fault(const fault& f, const std::vector<sim_node*>& targets,
                         const std::optional<std::pair<node_index, node_index>>& link) {
  if (!rec_) return;
  fault r = f;
  if (!targets.empty() && f.target.k != node_ref::kind::all)
    r.target = node_ref{.k = node_ref::kind::id, .id = targets[0]->id};
  if (link)
    r.link = link_ref{node_ref{.k = node_ref::kind::id, .id = uint32_t(link->first)},
                      node_ref{.k = node_ref::kind::id, .id = uint32_t(link->second)}};
  fired_text_ = format_fault_action(r);
  rec_->faults.push_back({now_us_, fired_text_});
}

void engine::observe_send(const raft::message& m, uint32_t from_slot) {
  if (!rec_ || from_slot == 0) return;
  node_stats& st = nodes_[from_slot].stats;
  const uint32_t to = slot(m.to);
  if (m.type == raft::msg_type::heartbeat) st.heartbeats_out.sent(to, m.heartbeat_seq, now_us_);
  if (m.type == raft::msg_type::snapshot_chunk && m.snap_offset == 0) ++st.snapshots_sent[to];
}

void engine::observe_deliver(sim_node& n, const raft::message& m) {
  if (!rec_ || m.type != raft::msg_type::heartbeat_response) return;
  const uint32_t from = slot(m.from);
  const auto sent_us = n.stats.heartbeats_out.answered(from, m.heartbeat_seq);
  if (!sent_us) return;
  auto& [count, sum] = n.stats.heartbeat_rtt[from];
  ++count;
  sum += now_us_ - *sent_us;
}

void engine::pause(sim_node& n) {
  if (!n.up || n.paused) return;
  n.paused = true;
  trace_role(n);
}

// Runs what fell due while the node was stopped, in the order it arrived.
void engine::resume(sim_node& n) {
  if (!n.paused) return;
  n.paused = false;
  for (event e : held_[n.id]) {
    e.at_us = now_us_;
    schedule(e);
  }
  held_.erase(n.id);
  if (n.fsync_due) {
    n.fsync_due = false;
    schedule({.at_us = now_us_, .kind = ev::fsync, .node = n.id, .incarnation = n.incarnation});
  }
  if (n.tick_due) {
    n.tick_due = false;
    n.next_tick_us = now_us_;
    schedule({.at_us = now_us_, .kind = ev::tick, .node = n.id, .incarnation = n.incarnation});
  }
  trace_role(n);
}

// The trace's header, history and summary, once the run is over.
void engine::finish_trace(const run_summary& r) {
  trace::trace& t = *rec_;
  t.source = "sim";
  t.script_name = script_.name;
  t.seed = opt_.seed;
  t.nodes = script_.nodes;
  t.sample_period_us = opt_.scrape_us;
  t.config = config::field_pairs(cfg_);
  t.script_text = format_script(script_);
  t.ops = history_;
  char buf[64];
  auto fixed = [&](double v, int digits) {
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return std::string(buf);
  };
  const char* lin = !r.linearizability_checked                               ? "unchecked"
                    : r.linearizability.verdict == lin_verdict::linearizable ? "yes"
                                                                             : "no";
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r.digest));
  const std::string engine_digest = buf;
  t.summary = {{"availability", fixed(r.availability, 4)},
               {"leader_changes", std::to_string(r.leader_changes)},
               {"max_term", std::to_string(r.max_term)},
               {"commit_p50_ms", fixed(r.commit_p50_ms, 3)},
               {"commit_p99_ms", fixed(r.commit_p99_ms, 3)},
               {"ops_ok", std::to_string(r.ops_ok)},
               {"ops_fail", std::to_string(r.ops_fail)},
               {"ops_unknown", std::to_string(r.ops_unknown)},
               {"snapshots_installed", std::to_string(r.snapshots_installed)},
               {"messages_sent", std::to_string(r.messages_sent)},
               {"messages_lost", std::to_string(r.messages_lost)},
               {"violations", std::to_string(r.violations.size())},
               {"linearizable", lin},
               {"engine_digest", engine_digest}};
}

}  // namespace aegis::chaos::sim
