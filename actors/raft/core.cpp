// The machinery every role shares: construction from storage, the term rules that apply to every
// message (§5.1), votes (§5.2, §5.4.1, pre-vote §9.6), configuration tracking, and the ready cycle.
#include "actors/raft/core.hpp"

#include <algorithm>

namespace aegis::raft {

const char* to_string(role r) {
  switch (r) {
    case role::follower:
      return "follower";
    case role::pre_candidate:
      return "pre_candidate";
    case role::candidate:
      return "candidate";
    case role::leader:
      return "leader";
  }
  return "?";
}

const char* to_string(status_code c) {
  switch (c) {
    case status_code::ok:
      return "ok";
    case status_code::not_leader:
      return "not leader";
    case status_code::transfer_in_progress:
      return "leadership transfer in progress";
    case status_code::too_large:
      return "proposal too large";
    case status_code::backlog_full:
      return "backlog full";
    case status_code::conf_change_in_progress:
      return "a membership change is in progress";
    case status_code::unknown_node:
      return "unknown node";
    case status_code::invalid:
      return "invalid request";
  }
  return "?";
}

restore_state restore_state::bootstrap(const conf_state& initial) {
  restore_state rs;
  rs.entries.push_back({1, 1, entry_type::conf_change, encode_conf(initial)});
  rs.hs = {1, no_node, 1};
  rs.durable = false;
  return rs;
}

core::core(node_id id, const config::raft_config& cfg, uint64_t seed, restore_state rs)
    : id_(id), cfg_(cfg), rng_(seed) {
  AEGIS_ASSERT(id != no_node);
  term_ = rs.hs.term;
  vote_ = rs.hs.vote;
  commit_ = rs.hs.commit;
  if (rs.snap) {
    conf_base_ = {rs.snap->meta.index, rs.snap->meta.conf};
    applied_ = std::max(rs.applied, rs.snap->meta.index);
    snapshot_ = std::move(rs.snap);
  } else {
    applied_ = rs.applied;
  }
  log_.reset(rs.offset, std::move(rs.entries), rs.durable);
  conf_ = conf_base_.second;
  on_log_changed(conf_base_.first + 1);
  commit_ = std::max(commit_, applied_);
  applying_to_ = applied_;
  persisted_hs_ = rs.durable ? current_hard_state() : hard_state{};
  durable_term_ = persisted_hs_.term;
  reset_election_timer();
  check_invariants();
}

// ---------------------------------------------------------------------------------------------
// Messages: the term rules first, then the role.

bool core::in_leader_lease() const {
  // §9.6/§4.2.3: a node that heard from a live leader within the minimum election timeout
  // ignores (pre-)vote requests, so a rejoining node cannot depose a healthy leader. So does a
  // node that just voted for another candidate: a leader is about to announce itself, and a
  // second election started before its first append arrives would only depose it.
  if (!cfg_.check_quorum) return false;
  const uint64_t lease = cfg_.election_timeout_ms_min;
  const bool heard_leader = leader_ != no_node && now_ms_ - election_reset_ms_ < lease;
  const bool just_voted =
      role_ == role::follower && vote_granted_ms_ && now_ms_ - *vote_granted_ms_ < lease;
  return heard_leader || just_voted;
}

void core::step(const message& m) {
  const bool vote_req = m.type == msg_type::pre_vote || m.type == msg_type::vote;
  // A removed server that never learned of its removal times out and campaigns; its requests
  // would raise everyone's term and depose the leader again and again (thesis §4.2.3). So a
  // (pre-)vote request from outside our configuration is ignored (always safe) -- unless the
  // candidate's log is at least as up-to-date as ours: then it may be a member added by entries
  // we have not received yet, and ignoring it can leave no electable quorum (a lagging voter
  // that never heard of the new member would refuse the only candidate that can win). A removed
  // server's log falls behind with the first entry after its removal. A node with no
  // configuration yet (joining) filters nothing.
  if (vote_req && !conf_.voters.empty() && !conf_.is_member(m.from) &&
      !log_.is_up_to_date(m.index, m.log_term))
    return;
  if (m.term > term_) {
    if (vote_req && !m.transfer && in_leader_lease()) return;
    const bool keep_term =
        m.type == msg_type::pre_vote || (m.type == msg_type::pre_vote_response && !m.reject);
    if (!keep_term) {
      const bool from_leader = m.type == msg_type::append || m.type == msg_type::heartbeat ||
                               m.type == msg_type::snapshot_chunk;
      // Figure 2: only a leader's message or a granted vote resets the election timer. A vote
      // request at a higher term that we may refuse must not: a candidate with a stale log would
      // otherwise keep every up-to-date node from ever timing out and winning.
      become_follower(m.term, from_leader ? m.from : no_node, /*reset_timer=*/!vote_req);
    }
  } else if (m.term < term_) {
    // A stale leader learns our term from the answer and steps down; a stale pre-candidate
    // learns it from the rejection.
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type == msg_type::append || m.type == msg_type::heartbeat)) {
      send({.type = msg_type::append_response, .to = m.from});
    } else if (m.type == msg_type::pre_vote) {
      send({.type = msg_type::pre_vote_response, .to = m.from, .reject = true});
    }
    return;
  }
  if (vote_req) {
    handle_vote_request(m);
    return;
  }
  switch (role_) {
    case role::follower:
      step_follower(m);
      break;
    case role::pre_candidate:
    case role::candidate:
      step_candidate(m);
      break;
    case role::leader:
      step_leader(m);
      break;
  }
}

void core::handle_vote_request(const message& m) {
  const bool pre = m.type == msg_type::pre_vote;
  // One vote per term (§5.2); a pre-vote is only a question about a future term.
  const bool can_vote =
      vote_ == m.from || (vote_ == no_node && leader_ == no_node) || (pre && m.term > term_);
  const bool granted = can_vote && log_.is_up_to_date(m.index, m.log_term);
  message r{.type = pre ? msg_type::pre_vote_response : msg_type::vote_response, .to = m.from};
  r.reject = !granted;
  // A granted pre-vote answers in the asked-for term so the pre-candidate can count it.
  r.term = (granted && pre) ? m.term : term_;
  if (granted && !pre) {
    vote_ = m.from;
    vote_granted_ms_ = now_ms_;
    reset_election_timer();
  }
  send(std::move(r));
}

// What a leader tells its followers promises nothing about its own unsynced writes: its term and
// vote were durable before it could win, and its own log counts toward commit only once synced.
// So these leave at once, in parallel with the leader's fsync (thesis §10.2.1). Everything else
// (votes, acknowledgements) waits for the receipt.
bool core::independent_of_disk(const message& m) const {
  // A leader that won without asking anyone (a single voter) has not synced its new term yet.
  if (role_ != role::leader || durable_term_ != term_) return false;
  switch (m.type) {
    case msg_type::append:
    case msg_type::heartbeat:
    case msg_type::snapshot_chunk:
    case msg_type::timeout_now:
    case msg_type::read_index_response:
      return true;
    default:
      return false;
  }
}

void core::send(message m) {
  m.from = id_;
  if (m.term == 0) m.term = term_;
  (independent_of_disk(m) ? early_msgs_ : msgs_).push_back(std::move(m));
}

void core::become_follower(term_t term, node_id leader, bool reset_timer) {
  if (role_ == role::leader) fail_pending_reads();
  if (term > term_) {
    term_ = term;
    vote_ = no_node;
  }
  role_ = role::follower;
  leader_ = leader;
  prs_.clear();
  votes_.clear();
  transfer_target_ = no_node;
  append_broadcast_ = commit_broadcast_ = read_broadcast_ = false;
  if (reset_timer) reset_election_timer();
}

void core::reset_election_timer() {
  election_reset_ms_ = now_ms_;
  election_timeout_ms_ =
      rng_.between(cfg_.election_timeout_ms_min, cfg_.election_timeout_ms_max + 1);
}

void core::tick(uint64_t now_ms) {
  AEGIS_ASSERT(now_ms >= now_ms_);
  now_ms_ = now_ms;
  if (!ticked_) {
    // The clock starts with the first tick: a node started (or restarted) late waits a full
    // election timeout from then, not from time 0.
    ticked_ = true;
    reset_election_timer();
  }
  if (role_ == role::leader)
    tick_leader();
  else
    tick_election();
}

uint64_t core::next_deadline_ms() const {
  if (role_ != role::leader) return election_reset_ms_ + election_timeout_ms_;
  // Check-quorum runs at every tick, and ticks come at least once per heartbeat interval.
  uint64_t d = heartbeat_sent_ms_ + cfg_.heartbeat_interval_ms;
  if (transfer_target_ != no_node)
    d = std::min(d, transfer_start_ms_ + cfg_.election_timeout_ms_min);
  return d;
}

void core::commit_to(index_t index) {
  if (index <= commit_) return;
  AEGIS_ASSERT(index <= log_.last_index());
  commit_ = index;
}

// ---------------------------------------------------------------------------------------------
// Configuration: a node uses a configuration as soon as it is in its log (§4.1), so the
// configuration follows every log change, including truncation.

void core::on_log_changed(index_t from) {
  if (from == 0) return;
  while (!conf_history_.empty() && conf_history_.back().first >= from)
    conf_history_.pop_back();
  for (index_t i = std::max(from, log_.first_index()); i <= log_.last_index(); ++i) {
    const entry& e = log_.at(i);
    if (e.type != entry_type::conf_change || i <= conf_base_.first) continue;
    conf_state c;
    AEGIS_ASSERT(decode_conf(e.data, c));  // only leaders write these, always well-formed
    conf_history_.emplace_back(i, std::move(c));
  }
  conf_ = conf_history_.empty() ? conf_base_.second : conf_history_.back().second;
}

void core::apply_conf(index_t index, const conf_state& c) {
  conf_history_.emplace_back(index, c);
  conf_ = c;
  if (role_ != role::leader) return;
  for (auto it = prs_.begin(); it != prs_.end();) {
    it = conf_.is_member(it->first) ? std::next(it) : prs_.erase(it);
  }
  // A new member starts at the entry that adds it, so the first append carries something and
  // probing begins at once instead of at the next heartbeat.
  for (const auto* ids : {&conf_.voters, &conf_.learners}) {
    for (node_id n : *ids) {
      if (n == id_ || prs_.count(n)) continue;
      prs_[n].next = index;
      prs_[n].last_active_ms = now_ms_;
    }
  }
  if (transfer_target_ != no_node && !conf_.is_voter(transfer_target_)) transfer_target_ = no_node;
}

const conf_state& core::conf_at(index_t index) const {
  for (auto it = conf_history_.rbegin(); it != conf_history_.rend(); ++it)
    if (it->first <= index) return it->second;
  return conf_base_.second;
}

// ---------------------------------------------------------------------------------------------
// Snapshots taken by the host.

void core::compact(index_t index, std::string data) {
  AEGIS_ASSERT(index <= applied_);
  // A snapshot of the host's state can arrive after a newer one from the leader was installed.
  if (index <= log_.offset().index || (snapshot_ && index <= snapshot_->meta.index)) return;
  auto t = log_.term_at(index);
  AEGIS_ASSERT(t.has_value());
  snapshot_ = snapshot{{index, *t, conf_at(index)}, std::move(data)};
  snap_to_write_ = snapshot_;
  conf_base_ = {index, conf_at(index)};
  while (!conf_history_.empty() && conf_history_.front().first <= index)
    conf_history_.erase(conf_history_.begin());
  // Keep a tail of entries so a follower slightly behind catches up from the log, not from a
  // (much larger) snapshot.
  if (index > cfg_.snapshot_catchup_entries) {
    index_t to = index - cfg_.snapshot_catchup_entries;
    if (to > log_.offset().index) {
      log_.compact(to);
      compact_to_ = log_.offset();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The ready cycle.

bool core::has_ready() const {
  if (outstanding_seq_ != 0) return false;
  return !msgs_.empty() || !early_msgs_.empty() || log_.has_unstable() ||
         current_hard_state() != persisted_hs_ || commit_ > applying_to_ || !read_states_.empty() ||
         snap_to_write_ || compact_to_ || restore_ || append_broadcast_ || commit_broadcast_ ||
         read_broadcast_;
}

ready core::take_ready() {
  AEGIS_ASSERT(outstanding_seq_ == 0);
  flush_broadcasts();
  ready r;
  const uint64_t seq = next_seq_++;
  outstanding_seq_ = seq;
  r.persist.seq = seq;
  r.persist.snap = std::move(snap_to_write_);
  r.persist.compact_to = compact_to_;
  r.persist.log = log_.take_write();
  snap_to_write_.reset();
  compact_to_.reset();
  outstanding_term_ = current_hard_state().term;
  if (current_hard_state() != persisted_hs_) {
    persisted_hs_ = current_hard_state();
    r.persist.hs = persisted_hs_;
  }
  r.restore = std::move(restore_);
  restore_.reset();
  std::vector<committed_entry> committed;
  committed.reserve(std::min<uint64_t>(commit_ - applying_to_, 256));
  // Bound the batch: a node far behind applies in several rounds.
  uint64_t bytes = 0;
  for (index_t i = applying_to_ + 1; i <= commit_ && bytes < 4 * cfg_.max_append_bytes; ++i) {
    committed.push_back(committed_entry(log_.at(i)));
    bytes += payload_bytes(log_.at(i));
    applying_to_ = i;
  }
  outstanding_applying_to_ = applying_to_;
  r.committed = sealed<committed_entry>(std::move(committed), seq);
  r.messages = sealed<message>(std::move(msgs_), seq);
  msgs_.clear();
  r.early_messages = std::move(early_msgs_);
  early_msgs_.clear();
  r.read_states = std::move(read_states_);
  read_states_.clear();
  return r;
}

void core::advance(const durable& d) {
  AEGIS_ASSERT(outstanding_seq_ != 0 && d.seq() >= outstanding_seq_);
  outstanding_seq_ = 0;
  durable_term_ = outstanding_term_;
  log_.mark_durable();
  applied_ = std::max(applied_, outstanding_applying_to_);
  // The leader counts its own log toward commit only once it is durable.
  if (role_ == role::leader && maybe_commit()) after_commit();
}

// ---------------------------------------------------------------------------------------------

void core::check_invariants() const {
  log_.check_invariants();
  AEGIS_ASSERT(applied_ <= applying_to_ && applying_to_ <= commit_);
  AEGIS_ASSERT(commit_ <= log_.last_index());
  AEGIS_ASSERT(log_.offset().index <= applying_to_);
  AEGIS_ASSERT(role_ != role::leader || leader_ == id_);
  AEGIS_ASSERT(role_ != role::leader || vote_ == id_);
  AEGIS_ASSERT(role_ == role::leader || prs_.empty());
  AEGIS_ASSERT(log_.last_term() <= term_);
  for (const auto& [n, pr] : prs_) {
    AEGIS_ASSERT(pr.match < pr.next);
    AEGIS_ASSERT(pr.match <= log_.last_index());
    AEGIS_ASSERT(n != id_);
  }
  if (snapshot_) AEGIS_ASSERT(snapshot_->meta.index <= commit_);
}

}  // namespace aegis::raft
