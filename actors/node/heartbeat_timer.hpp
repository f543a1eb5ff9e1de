// Heartbeat round-trip times on the leader, measured by the consensus host (the Raft core reads
// no clock): the host notes when each heartbeat leaves and matches the answers that come back.
//
// Matching: a heartbeat carries the core's read-index round as its context and the answer echoes
// it, but many heartbeats share one context while no reads arrive. Links are ordered (one TCP
// stream per peer, and the link's delay fault keeps order unless it adds jitter), so an answer
// belongs to the oldest unanswered heartbeat with its context; older unanswered ones with a lower
// context (contexts never decrease within a leadership) were lost and are dropped. A lost answer
// with the same context makes the next sample one heartbeat interval too long: rare, and on a lossy
// link a longer RTT is the right signal.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>

namespace aegis::node {

class heartbeat_timer {
 public:
  using clock = std::chrono::steady_clock;

  void sent(uint64_t peer, uint64_t context, clock::time_point at);
  // The round-trip time in seconds of the heartbeat this answer belongs to, if one is waiting.
  std::optional<double> answered(uint64_t peer, uint64_t context, clock::time_point at);
  // Leadership ended: answers still to come belong to a term that is over.
  void clear() { waiting_.clear(); }

 private:
  struct outstanding {
    uint64_t context = 0;
    clock::time_point at;
  };
  // A peer that never answers (down, partitioned) must not grow this without bound: beyond this
  // many unanswered heartbeats the oldest are forgotten (no sample for them).
  static constexpr size_t max_waiting = 64;
  std::map<uint64_t, std::deque<outstanding>> waiting_;
};

}  // namespace aegis::node
