// What a leader knows about one follower's log, and the flow-control window toward it.
//
//   probe:     the leader does not know where the follower's log matches; one append at a time
//              until an acknowledgement fixes `match`.
//   replicate: the logs match up to `match`; appends are pipelined optimistically (`next` runs
//              ahead), at most max_inflight_appends unacknowledged messages.
//   snapshot:  the follower needs entries the leader compacted away; one snapshot chunk at a time.
//
// Invariants: match < next; in replicate, inflight indexes are increasing and > match.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "actors/raft/types.hpp"

namespace aegis::raft {

struct progress {
  enum class state : uint8_t { probe, replicate, snapshot };

  index_t match = 0;
  index_t next = 1;
  state st = state::probe;
  bool probe_sent = false;       // probe: an append is outstanding, wait for its answer
  std::deque<index_t> inflight;  // replicate: last index carried by each unacknowledged append
  index_t snapshot_index = 0;    // snapshot: the index of the snapshot being sent
  uint64_t snapshot_offset = 0;  // snapshot: bytes the follower has acknowledged
  // snapshot: the snapshot being sent, kept until the transfer ends even if a newer one is taken
  // meanwhile (else a transfer slower than the snapshot interval would restart forever).
  std::shared_ptr<const snapshot> sending;
  // snapshot: when the last chunk went out (leader's clock). A heartbeat answer resends the
  // chunk only if it is older than a heartbeat interval: a follower waking from a stall answers
  // every queued heartbeat at once, and each would otherwise resend a whole chunk.
  uint64_t chunk_sent_ms = 0;
  uint64_t last_active_ms = 0;  // when the leader last heard from it (leader's clock)
  uint64_t read_ack = 0;        // highest read-index round the follower acknowledged
  index_t commit_sent = 0;      // highest commit index any message to it carried

  bool paused(uint32_t max_inflight) const;
  // An acknowledgement that the follower's log matches up to `index`. Returns false if stale.
  bool update(index_t index);
  // Frees the in-flight slots of appends up to `index`.
  void free_to(index_t index);
  void become_probe();
  void become_replicate();
  void become_snapshot(index_t snap_index);
};

}  // namespace aegis::raft
