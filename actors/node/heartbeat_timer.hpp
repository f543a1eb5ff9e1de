// Heartbeat round-trip times on the leader, measured by the consensus host (the Raft core reads
// no clock): the host notes when each heartbeat leaves and pairs each answer with it.
//
// Pairing is by the heartbeat's number (raft::message::heartbeat_seq), which the follower echoes:
// exact even when a delay fault with jitter reorders answers or some are lost. Numbers are never
// reused by a process, so answers to an earlier leadership's heartbeats pair correctly too.
// (Pairing by the read-index context, which many heartbeats share, dropped the late answers of a
// jittered link and so kept only the fast ones: an RTT biased low exactly when it matters.)
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>

namespace aegis::node {

class heartbeat_timer {
 public:
  using clock = std::chrono::steady_clock;

  // Heartbeat number `seq` left for `peer` at `at`. seq 0 means unnumbered: not timed.
  void sent(uint64_t peer, uint64_t seq, clock::time_point at);
  // The round-trip time in seconds of heartbeat `seq` to `from`, if it is waiting (each is timed
  // at most once: a duplicated answer gives no second sample).
  std::optional<double> answered(uint64_t from, uint64_t seq, clock::time_point at);

 private:
  // A peer that never answers (down, partitioned) must not grow this without bound: beyond this
  // many unanswered heartbeats per peer the oldest are forgotten, and an answer to one of them
  // (later than 64 heartbeat intervals) gives no sample.
  static constexpr size_t max_waiting = 64;
  std::map<uint64_t, std::map<uint64_t, clock::time_point>> waiting_;  // peer -> seq -> sent at
};

}  // namespace aegis::node
