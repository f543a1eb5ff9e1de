// Leader: log replication with flow control (§5.3), commit by counting only current-term entries
// (§5.4.2), check-quorum, ReadIndex (§6.4), leadership transfer (§3.10) and single-server
// membership changes with learners (§4.1-4.2).
#include <algorithm>
#include <functional>

#include "actors/raft/core.hpp"

namespace aegis::raft {

void core::become_leader() {
  role_ = role::leader;
  leader_ = id_;
  prs_.clear();
  for (const auto* ids : {&conf_.voters, &conf_.learners}) {
    for (node_id n : *ids) {
      if (n == id_) continue;
      prs_[n].next = log_.last_index() + 1;
      prs_[n].last_active_ms = now_ms_;  // a quorum just voted for us: a full period of grace
    }
  }
  heartbeat_sent_ms_ = election_reset_ms_ = now_ms_;
  transfer_target_ = no_node;
  uncommitted_bytes_ = 0;
  read_confirmed_ = read_seq_;  // no read round in flight in a new term
  // §5.4.2/§6.4: a no-op of our own term lets us commit, and serve reads, in this term. Any
  // configuration change still in the log counts as pending until it commits.
  log_.append({term_, log_.last_index() + 1, entry_type::noop, {}});
  pending_conf_index_ = log_.last_index();
  append_broadcast_ = true;
  if (maybe_commit()) after_commit();
}

void core::tick_leader() {
  if (now_ms_ - heartbeat_sent_ms_ >= cfg_.heartbeat_interval_ms) broadcast_heartbeat();
  if (transfer_target_ != no_node && now_ms_ - transfer_start_ms_ >= cfg_.election_timeout_ms_min) {
    transfer_target_ = no_node;  // the target did not take over in time: resume service
  }
  // Check-quorum, at every tick: a leader that has not heard from a quorum within the minimum
  // election timeout may be on the minority side of a partition, and steps down. While it does
  // hear from one, its lease on votes (in_leader_lease) is renewed.
  if (cfg_.check_quorum && !quorum_active()) {
    become_follower(term_, no_node);
    return;
  }
  election_reset_ms_ = now_ms_;
}

bool core::quorum_active() const {
  size_t active = 0;
  for (node_id v : conf_.voters) {
    auto it = prs_.find(v);
    if (v == id_ ||
        (it != prs_.end() && now_ms_ - it->second.last_active_ms < cfg_.election_timeout_ms_min))
      ++active;
  }
  return active >= conf_.quorum();
}

void core::step_leader(const message& m) {
  if (m.type == msg_type::read_index) {
    if (!register_read(m.from, m.context).ok())
      send({.type = msg_type::read_index_response,
            .to = m.from,
            .reject = true,
            .context = m.context});
    return;
  }
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;  // not (or no longer) a member
  progress& pr = it->second;
  // Check-quorum counts answers to this leader's own messages only, not stray (pre-)vote replies.
  if (m.type == msg_type::append_response || m.type == msg_type::heartbeat_response ||
      m.type == msg_type::snapshot_response)
    pr.last_active_ms = now_ms_;
  switch (m.type) {
    case msg_type::append_response:
      if (m.reject)
        handle_append_reject(m, pr);
      else
        handle_append_response(m, pr);
      break;
    case msg_type::heartbeat_response:
      handle_heartbeat_response(m, pr);
      break;
    case msg_type::snapshot_response:
      handle_snapshot_response(m, pr);
      break;
    default:
      break;
  }
}

void core::handle_append_response(const message& m, progress& pr) {
  if (!pr.update(m.index)) {
    if (pr.st == progress::state::replicate) pr.free_to(m.index);
    return;
  }
  if (pr.st == progress::state::probe)
    pr.become_replicate();
  else if (pr.st == progress::state::snapshot && pr.match >= pr.snapshot_index)
    pr.become_probe();
  pr.free_to(m.index);
  if (maybe_commit()) after_commit();
  if (role_ != role::leader) return;  // the commit removed us
  // A follower that acknowledged after the commit moved has heard of no commit past its entries
  // yet; nothing else may be coming to tell it (a client waiting there would wait for the next
  // heartbeat), so it gets a notice of its own.
  const bool unaware = pr.commit_sent < std::min(commit_, pr.match);
  send_append(m.from, unaware ? empty_append::commit_notice : empty_append::never);
  maybe_send_timeout_now(m.from);
  maybe_promote_learners();
}

void core::handle_append_reject(const message& m, progress& pr) {
  // Ignore answers to appends we have since superseded.
  if (pr.st == progress::state::replicate ? m.index <= pr.match : m.index != pr.next - 1) return;
  if (pr.st == progress::state::snapshot) return;
  index_t next = m.reject_hint;
  if (m.hint_term != 0) {
    if (auto last = log_.last_index_of_term(m.hint_term)) next = *last + 1;
  }
  next = std::max(std::min(next, m.index), pr.match + 1);
  pr.become_probe();
  pr.next = next;
  send_append(m.from, empty_append::always);
}

void core::handle_heartbeat_response(const message& m, progress& pr) {
  pr.probe_sent = false;
  if (pr.st == progress::state::replicate && pr.inflight.size() >= cfg_.max_inflight_appends)
    pr.inflight.pop_front();  // an answer may have been lost: let one more append go
  // An empty append at the end of what we sent: over an ordered link it arrives after every
  // earlier append, so a rejection means one was lost and the follower is probed again.
  if (pr.st == progress::state::snapshot) {
    if (now_ms_ >= pr.chunk_sent_ms + cfg_.heartbeat_interval_ms) send_snapshot_chunk(m.from, pr);
  } else if (pr.match < log_.last_index())
    send_append(m.from, empty_append::always);
  if (m.context > pr.read_ack) {
    pr.read_ack = m.context;
    release_reads();
  }
}

void core::handle_snapshot_response(const message& m, progress& pr) {
  // An answer about another snapshot than the one being sent is stale.
  if (pr.st == progress::state::snapshot && m.snap_meta.index != pr.snapshot_index) return;
  if (pr.st != progress::state::snapshot) {
    if (m.snap_done && !m.reject && pr.update(m.index) && maybe_commit()) after_commit();
    return;
  }
  if (m.reject) {
    pr.snapshot_offset = 0;
  } else if (m.snap_done) {
    pr.update(m.index);
    pr.become_probe();
    send_append(m.from, empty_append::always);
    return;
  } else if (m.snap_offset > pr.snapshot_offset) {
    pr.snapshot_offset = m.snap_offset;
  } else {
    return;  // a duplicate answer (resent chunk): the next chunk is already on its way
  }
  send_snapshot_chunk(m.from, pr);
}

// Sends the next append to `to` if its window allows; `empty` says whether one without entries
// is worth sending.
void core::send_append(node_id to, empty_append empty) {
  progress& pr = prs_.at(to);
  if (pr.paused(cfg_.max_inflight_appends)) return;
  const index_t prev = pr.next - 1;
  const auto prev_term = log_.term_at(prev);
  if (!prev_term) {
    // The entries it needs were compacted: send the snapshot instead (§7).
    AEGIS_ASSERT(snapshot_.has_value());
    pr.become_snapshot(snapshot_->meta.index);
    send_snapshot_chunk(to, pr);
    return;
  }
  message m{.type = msg_type::append, .to = to, .index = prev, .log_term = *prev_term};
  if (pr.next <= log_.last_index())
    m.entries = log_.slice(pr.next, log_.last_index(), cfg_.max_append_bytes);
  m.commit = commit_;
  if (m.entries.empty()) {
    if (empty == empty_append::never) return;
    if (empty == empty_append::commit_notice && pr.st == progress::state::replicate) {
      // Appends in flight will be followed by more, or by a heartbeat, carrying the commit. A
      // follower known to match needs the commit index but owes no answer: context = 1.
      if (prev != pr.match) return;
      m.context = 1;
    }
  }
  if (pr.st == progress::state::replicate && !m.entries.empty()) {
    pr.next = m.entries.back().index + 1;
    pr.inflight.push_back(m.entries.back().index);
  } else if (pr.st == progress::state::probe) {
    pr.probe_sent = true;
  }
  pr.commit_sent = std::max(pr.commit_sent, commit_);
  send(std::move(m));
}

void core::send_snapshot_chunk(node_id to, progress& pr) {
  AEGIS_ASSERT(snapshot_.has_value());
  // A transfer in progress goes on with its snapshot; a new one starts with the newest.
  if (pr.st != progress::state::snapshot || !pr.sending) {
    pr.become_snapshot(snapshot_->meta.index);
    pr.sending = std::make_shared<const snapshot>(*snapshot_);
  }
  const snapshot& snap = *pr.sending;
  const std::string& data = snap.data;
  const uint64_t off = std::min<uint64_t>(pr.snapshot_offset, data.size());
  const uint64_t len = std::min<uint64_t>(cfg_.snapshot_chunk_bytes, data.size() - off);
  message m{.type = msg_type::snapshot_chunk, .to = to};
  m.snap_meta = snap.meta;
  m.snap_offset = off;
  m.snap_data = data.substr(off, len);
  m.snap_done = off + len == data.size();
  pr.chunk_sent_ms = now_ms_;
  send(std::move(m));
}

// Every heartbeat round is also a read round: reads waiting for the next round start it.
void core::broadcast_heartbeat() {
  heartbeat_sent_ms_ = now_ms_;
  read_broadcast_ = false;
  if (!reads_.empty() && reads_.back().seq > read_seq_) ++read_seq_;
  ++heartbeat_seq_;
  for (auto& [n, pr] : prs_) {
    pr.commit_sent = std::max(pr.commit_sent, std::min(pr.match, commit_));
    send({.type = msg_type::heartbeat,
          .to = n,
          .commit = std::min(pr.match, commit_),
          .context = read_seq_,
          .heartbeat_seq = heartbeat_seq_});
  }
}

// Proposals and commits only set flags; one round of appends per ready batches them.
void core::flush_broadcasts() {
  if (role_ != role::leader) return;
  // While entries past the commit are in flight, their acknowledgements will move the commit
  // again and later appends carry it: only a commit that reaches the end of the log is worth a
  // notice of its own.
  const bool notice = commit_broadcast_ && commit_ == log_.last_index();
  if (append_broadcast_ || notice)
    for (auto& [n, pr] : prs_)
      send_append(n, notice ? empty_append::commit_notice : empty_append::never);
  if (read_broadcast_) broadcast_heartbeat();
  append_broadcast_ = commit_broadcast_ = read_broadcast_ = false;
}

// §5.3/§5.4.2: the highest index stored on a quorum of voters commits, but only if it is from the
// current term (Figure 8: a previous-term entry is committed indirectly, never by counting).
bool core::maybe_commit() {
  if (conf_.voters.empty()) return false;
  std::vector<index_t>& match = scratch_;
  match.clear();
  for (node_id v : conf_.voters) {
    if (v == id_)
      match.push_back(log_.durable_to());
    else if (auto it = prs_.find(v); it != prs_.end())
      match.push_back(it->second.match);
    else
      match.push_back(0);
  }
  std::sort(match.begin(), match.end(), std::greater<>());
  const index_t n = match[conf_.quorum() - 1];
  if (n <= commit_ || log_.term_at(n) != term_) return false;
  for (index_t i = commit_ + 1; i <= n; ++i) {
    // Only what propose() counted: this term's commands.
    const entry& e = log_.at(i);
    if (e.type != entry_type::command || e.term != term_) continue;
    const uint64_t b = payload_bytes(e);
    uncommitted_bytes_ = uncommitted_bytes_ > b ? uncommitted_bytes_ - b : 0;
  }
  commit_to(n);
  return true;
}

void core::after_commit() {
  commit_broadcast_ = true;
  if (!conf_.is_member(id_) && pending_conf_index_ <= commit_) {
    // §4.2.2: a leader removed from the configuration steps down once the removal commits.
    become_follower(term_, no_node);
    return;
  }
  if (committed_in_term() && !reads_before_noop_.empty()) {
    auto waiting = std::move(reads_before_noop_);
    reads_before_noop_.clear();
    for (const auto& r : waiting)
      if (!register_read(r.requester, r.context).ok()) deliver_read(r, false);
  }
  maybe_promote_learners();
}

// ---------------------------------------------------------------------------------------------
// Proposals and membership.

result core::propose(std::string data) {
  if (role_ != role::leader) return {status_code::not_leader, 0, 0, leader_};
  if (transfer_target_ != no_node) return {status_code::transfer_in_progress, 0, 0, leader_};
  if (data.size() > cfg_.max_proposal_bytes) return {status_code::too_large, 0, 0, leader_};
  if (cfg_.max_uncommitted_bytes != 0 &&
      uncommitted_bytes_ + data.size() > cfg_.max_uncommitted_bytes)
    return {status_code::backlog_full, 0, 0, leader_};
  entry e{term_, log_.last_index() + 1, entry_type::command, std::move(data)};
  uncommitted_bytes_ += payload_bytes(e);
  log_.append(std::move(e));
  append_broadcast_ = true;
  return {status_code::ok, log_.last_index(), term_, id_};
}

result core::propose_conf(conf_state next) {
  if (role_ != role::leader) return {status_code::not_leader, 0, 0, leader_};
  if (transfer_target_ != no_node) return {status_code::transfer_in_progress, 0, 0, leader_};
  if (pending_conf_index_ > commit_) return {status_code::conf_change_in_progress, 0, 0, id_};
  const index_t index = log_.last_index() + 1;
  log_.append({term_, index, entry_type::conf_change, encode_conf(next)});
  pending_conf_index_ = index;
  apply_conf(index, next);  // in force from the moment it is in the log (§4.1)
  append_broadcast_ = true;
  if (maybe_commit()) after_commit();
  return {status_code::ok, index, term_, id_};
}

result core::add_learner(node_id id) {
  if (id == no_node || conf_.is_member(id)) return {status_code::unknown_node, 0, 0, leader_};
  conf_state next = conf_;
  next.learners.insert(std::upper_bound(next.learners.begin(), next.learners.end(), id), id);
  return propose_conf(std::move(next));
}

result core::remove_node(node_id id) {
  if (!conf_.is_member(id)) return {status_code::unknown_node, 0, 0, leader_};
  if (conf_.voters.size() == 1 && conf_.is_voter(id)) return {status_code::invalid, 0, 0, leader_};
  conf_state next = conf_;
  std::erase(next.voters, id);
  std::erase(next.learners, id);
  return propose_conf(std::move(next));
}

// A learner that has caught up becomes a voter: it can no longer stall commits by lagging.
void core::maybe_promote_learners() {
  if (role_ != role::leader || pending_conf_index_ > commit_ || transfer_target_ != no_node) return;
  for (node_id l : conf_.learners) {
    auto it = prs_.find(l);
    if (it == prs_.end()) continue;
    // Caught up: holds the latest configuration entry (its own addition at least) and is within
    // learner_catchup_entries of our last index. A learner that never answered is not.
    if (it->second.match < pending_conf_index_ ||
        it->second.match + cfg_.learner_catchup_entries < log_.last_index())
      continue;
    conf_state next = conf_;
    std::erase(next.learners, l);
    next.voters.insert(std::upper_bound(next.voters.begin(), next.voters.end(), l), l);
    propose_conf(std::move(next));
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// Leadership transfer.

result core::transfer_leadership(node_id target) {
  if (role_ != role::leader) return {status_code::not_leader, 0, 0, leader_};
  if (target == id_) return {status_code::ok, 0, term_, id_};
  if (!conf_.is_voter(target)) return {status_code::unknown_node, 0, 0, id_};
  transfer_target_ = target;
  transfer_start_ms_ = now_ms_;
  if (prs_.at(target).match == log_.last_index())
    maybe_send_timeout_now(target);
  else
    send_append(target, empty_append::always);
  return {status_code::ok, 0, term_, id_};
}

void core::maybe_send_timeout_now(node_id to) {
  if (to != transfer_target_ || prs_.at(to).match != log_.last_index()) return;
  send({.type = msg_type::timeout_now, .to = to});
}

// ---------------------------------------------------------------------------------------------
// ReadIndex (§6.4): a read waits for a heartbeat round that a quorum acknowledged after the read
// arrived, which proves this node was still leader when it recorded the commit index. One round
// is in flight at a time; reads arriving meanwhile join the next one (as etcd batches them), so
// a read costs one round trip at most twice and a busy leader sends one round per round trip.

result core::read_index(uint64_t context) {
  if (role_ == role::leader) return register_read(id_, context);
  if (leader_ == no_node) return {status_code::not_leader, 0, 0, no_node};
  send({.type = msg_type::read_index, .to = leader_, .context = context});
  return {status_code::ok, 0, term_, leader_};
}

result core::register_read(node_id requester, uint64_t context) {
  if (reads_.size() + reads_before_noop_.size() >= cfg_.max_pending_reads)
    return {status_code::backlog_full, 0, 0, id_};
  if (!committed_in_term()) {
    reads_before_noop_.push_back({0, 0, requester, context});
    return {status_code::ok, 0, term_, id_};
  }
  reads_.push_back({read_seq_ + 1, commit_, requester, context});
  if (read_confirmed_ == read_seq_) read_broadcast_ = true;  // no round in flight: start one
  release_reads();
  return {status_code::ok, commit_, term_, id_};
}

void core::release_reads() {
  std::vector<uint64_t>& acks = scratch_;
  acks.clear();
  for (node_id v : conf_.voters) {
    if (v == id_)
      acks.push_back(read_seq_ + 1);  // the leader vouches for itself, even for the next round
    else if (auto it = prs_.find(v); it != prs_.end())
      acks.push_back(it->second.read_ack);
    else
      acks.push_back(0);
  }
  if (acks.empty()) return;
  std::sort(acks.begin(), acks.end(), std::greater<>());
  const uint64_t confirmed = acks[conf_.quorum() - 1];
  while (!reads_.empty() && reads_.front().seq <= confirmed) {
    deliver_read(reads_.front(), true);
    reads_.pop_front();
  }
  read_confirmed_ = std::max(read_confirmed_, std::min(confirmed, read_seq_));
  if (!reads_.empty() && read_confirmed_ == read_seq_) read_broadcast_ = true;
}

void core::deliver_read(const pending_read& r, bool ok) {
  if (r.requester == id_) {
    read_states_.push_back({r.context, r.index, ok});
  } else {
    send({.type = msg_type::read_index_response,
          .to = r.requester,
          .index = r.index,
          .reject = !ok,
          .context = r.context});
  }
}

void core::fail_pending_reads() {
  for (const auto& r : reads_)
    deliver_read(r, false);
  for (const auto& r : reads_before_noop_)
    deliver_read(r, false);
  reads_.clear();
  reads_before_noop_.clear();
}

}  // namespace aegis::raft
