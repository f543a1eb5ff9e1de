// Follower: accept the leader's log (§5.3), its commit index, and its snapshots (§7).
#include <algorithm>

#include "actors/raft/core.hpp"

namespace aegis::raft {

void core::step_follower(const message& m) {
  switch (m.type) {
    case msg_type::append:
    case msg_type::heartbeat:
    case msg_type::snapshot_chunk:
      leader_ = m.from;
      reset_election_timer();
      if (m.type == msg_type::append)
        handle_append(m);
      else if (m.type == msg_type::heartbeat)
        handle_heartbeat(m);
      else
        handle_snapshot_chunk(m);
      break;
    case msg_type::timeout_now:
      // Leadership transfer (§3.10): campaign at once, skipping pre-vote.
      if (conf_.is_voter(id_)) campaign(true);
      break;
    case msg_type::read_index:
      // Only a leader can confirm a read point; the asker retries elsewhere.
      send({.type = msg_type::read_index_response,
            .to = m.from,
            .reject = true,
            .context = m.context});
      break;
    case msg_type::read_index_response:
      read_states_.push_back({m.context, m.index, !m.reject});
      break;
    default:
      break;  // answers to a role we no longer hold
  }
}

void core::handle_append(const message& m) {
  if (m.index < commit_) {
    // Everything up to our commit index already matches; tell the leader where we are.
    send({.type = msg_type::append_response, .to = m.from, .index = commit_});
    return;
  }
  if (!log_.matches(m.index, m.log_term)) {
    reject_append(m);
    return;
  }
  on_log_changed(log_.merge(m.entries));
  const index_t last_new = m.index + m.entries.size();
  // §5.3: commit = min(leaderCommit, index of last new entry).
  commit_to(std::min(m.commit, last_new));
  if (m.context == 1 && m.entries.empty()) return;  // a commit notice: nothing to acknowledge
  send({.type = msg_type::append_response, .to = m.from, .index = last_new});
}

// Fast back-off: tell the leader the conflicting term and where it starts in our log, so it skips
// a whole term per round trip instead of one entry.
void core::reject_append(const message& m) {
  message r{.type = msg_type::append_response, .to = m.from, .index = m.index, .reject = true};
  if (m.index > log_.last_index()) {
    r.reject_hint = log_.last_index() + 1;
  } else {
    r.hint_term = *log_.term_at(m.index);
    r.reject_hint = log_.first_index_of_term_at(m.index);
  }
  send(std::move(r));
}

void core::handle_heartbeat(const message& m) {
  // The leader sends min(its commit, our match), which our log holds.
  commit_to(std::min(m.commit, log_.last_index()));
  send({.type = msg_type::heartbeat_response,
        .to = m.from,
        .context = m.context,
        .heartbeat_seq = m.heartbeat_seq});
}

void core::handle_snapshot_chunk(const message& m) {
  message r{.type = msg_type::snapshot_response, .to = m.from};
  r.snap_meta.index = m.snap_meta.index;  // which transfer this answers
  if (m.snap_meta.index <= commit_) {
    // We already hold everything it covers.
    r.index = commit_;
    r.snap_done = true;
    send(std::move(r));
    return;
  }
  // Offset 0 starts a transfer, unless it is a late copy of the first chunk of the one under way.
  if (m.snap_offset == 0 && (!incoming_ || incoming_->meta != m.snap_meta))
    incoming_ = snapshot{m.snap_meta, {}};
  if (!incoming_ || incoming_->meta != m.snap_meta || m.snap_offset > incoming_->data.size()) {
    r.reject = true;  // a chunk of another snapshot or after a gap: start over
    send(std::move(r));
    return;
  }
  if (m.snap_offset == incoming_->data.size()) incoming_->data += m.snap_data;
  // else: a duplicate of a chunk we have; acknowledge what we hold.
  if (m.snap_done && m.snap_offset + m.snap_data.size() == incoming_->data.size()) {
    r.index = incoming_->meta.index;
    r.snap_done = true;
    install_snapshot(std::move(*incoming_));
    incoming_.reset();
  } else {
    r.snap_offset = incoming_->data.size();
  }
  send(std::move(r));
}

// §7: keep the log suffix that follows a matching entry, otherwise discard the whole log.
void core::install_snapshot(snapshot s) {
  const snapshot_meta& meta = s.meta;
  if (log_.matches(meta.index, meta.term)) {
    log_.compact(meta.index);
  } else {
    log_.restart_at({meta.index, meta.term});
  }
  conf_base_ = {meta.index, meta.conf};
  conf_history_.clear();
  on_log_changed(meta.index + 1);
  commit_ = std::max(commit_, meta.index);
  // Entries up to the snapshot are handed over (as the snapshot, in the next ready), but not
  // applied until the host has restored it: advance() of that ready moves applied_.
  applying_to_ = meta.index;
  compact_to_ = log_offset{meta.index, meta.term};  // storage drops what the snapshot covers
  snapshot_ = s;
  snap_to_write_ = s;
  restore_ = std::move(s);
}

}  // namespace aegis::raft
