// Pairs heartbeat answers with the heartbeats they answer, for a host's round-trip metric: the
// node (actors/node/consensus.cpp, steady-clock times) and the simulator (chaos/sim, simulated
// microseconds) use this one rule, so their aegis_raft_heartbeat_rtt_seconds mean the same. It
// sits beside the core because both hosts link only the core; it reads no clock (times are
// inputs) and Raft's rules never consult it.
//
// Pairing is by the heartbeat's number (message::heartbeat_seq), which the follower echoes: exact
// even when a delay fault with jitter reorders answers or some are lost. Numbers are never reused
// by a core, so answers to an earlier leadership's heartbeats pair correctly too: a leader unseated
// by round trips longer than its election timeout still times them after it stepped down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

namespace aegis::raft {

template <class Time>
class heartbeat_pairing {
 public:
  // Heartbeat number `seq` left for `peer` at `at`.
  void sent(uint64_t peer, uint64_t seq, Time at) {
    auto& waiting = waiting_[peer];
    waiting.insert_or_assign(seq, at);
    if (waiting.size() > max_waiting) waiting.erase(waiting.begin());
  }

  // When heartbeat `seq` to `from` left, if it is still waiting. Each is paired at most once: a
  // duplicated answer gives no second sample.
  std::optional<Time> answered(uint64_t from, uint64_t seq) {
    auto peer = waiting_.find(from);
    if (peer == waiting_.end()) return std::nullopt;
    auto it = peer->second.find(seq);
    if (it == peer->second.end()) return std::nullopt;
    const Time at = it->second;
    peer->second.erase(it);
    return at;
  }

 private:
  // A peer that never answers (down, partitioned) must not grow this without bound: beyond this
  // many unanswered heartbeats per peer the oldest are forgotten, and an answer to one of them
  // (later than 64 heartbeat intervals) gives no sample.
  static constexpr size_t max_waiting = 64;
  std::map<uint64_t, std::map<uint64_t, Time>> waiting_;  // peer -> heartbeat number -> sent at
};

}  // namespace aegis::raft
