// Pre-candidate and candidate: leader election with randomized timeouts (§5.2) and pre-vote
// (thesis §9.6).
#include "actors/raft/core.hpp"

namespace aegis::raft {

void core::tick_election() {
  if (now_ms_ - election_reset_ms_ < election_timeout_ms_) return;
  if (conf_.is_voter(id_))
    campaign(false);
  else {
    // Learners and removed nodes never campaign, but they stop vouching for a leader they no
    // longer hear from (or they would keep refusing votes a new leader needs).
    leader_ = no_node;
    reset_election_timer();
  }
}

void core::campaign(bool transfer) {
  start_vote(cfg_.pre_vote && !transfer, transfer);
}

void core::start_vote(bool pre, bool transfer) {
  if (pre) {
    // Ask first, without raising our term: a node that cannot win disturbs nobody.
    role_ = role::pre_candidate;
  } else {
    role_ = role::candidate;
    ++term_;
    vote_ = id_;
  }
  leader_ = no_node;
  votes_.clear();
  votes_[id_] = true;
  reset_election_timer();
  if (votes_.size() >= conf_.quorum()) {  // a single-voter cluster wins at once
    if (pre)
      start_vote(false, transfer);
    else
      become_leader();
    return;
  }
  for (node_id v : conf_.voters) {
    if (v == id_) continue;
    message m{.type = pre ? msg_type::pre_vote : msg_type::vote, .to = v};
    m.term = pre ? term_ + 1 : term_;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.transfer = transfer;
    send(std::move(m));
  }
}

void core::step_candidate(const message& m) {
  const bool pre = role_ == role::pre_candidate;
  switch (m.type) {
    case msg_type::append:
    case msg_type::heartbeat:
    case msg_type::snapshot_chunk:
      // A leader of our term exists (§5.2): return to follower and accept it.
      become_follower(term_, m.from);
      step_follower(m);
      return;
    case msg_type::pre_vote_response:
    case msg_type::vote_response: {
      if ((m.type == msg_type::pre_vote_response) != pre) return;  // answer to an older round
      if (!conf_.is_voter(m.from)) return;
      votes_[m.from] = !m.reject;
      size_t granted = 0, rejected = 0;
      for (const auto& [n, g] : votes_)
        (g ? granted : rejected) += 1;
      if (granted >= conf_.quorum()) {
        if (pre)
          start_vote(false, false);
        else
          become_leader();
      } else if (conf_.voters.size() - rejected < conf_.quorum()) {
        become_follower(term_, no_node);
      }
      return;
    }
    default:
      step_follower(m);
      return;
  }
}

}  // namespace aegis::raft
