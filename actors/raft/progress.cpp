#include "actors/raft/progress.hpp"

#include <algorithm>

namespace aegis::raft {

bool progress::paused(uint32_t max_inflight) const {
  switch (st) {
    case state::probe:
      return probe_sent;
    case state::replicate:
      return inflight.size() >= max_inflight;
    case state::snapshot:
      return true;
  }
  return true;
}

bool progress::update(index_t index) {
  bool advanced = false;
  if (index > match) {
    match = index;
    advanced = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  return advanced;
}

void progress::free_to(index_t index) {
  while (!inflight.empty() && inflight.front() <= index)
    inflight.pop_front();
}

void progress::become_probe() {
  // After a snapshot the follower holds everything up to the snapshot index.
  if (st == state::snapshot)
    next = std::max(match + 1, snapshot_index + 1);
  else
    next = match + 1;
  st = state::probe;
  probe_sent = false;
  inflight.clear();
  snapshot_index = 0;
  snapshot_offset = 0;
  sending.reset();
}

void progress::become_replicate() {
  st = state::replicate;
  next = match + 1;
  probe_sent = false;
  inflight.clear();
  sending.reset();
}

void progress::become_snapshot(index_t snap_index) {
  st = state::snapshot;
  snapshot_index = snap_index;
  snapshot_offset = 0;
  chunk_sent_ms = 0;
  probe_sent = false;
  inflight.clear();
  sending.reset();
}

}  // namespace aegis::raft
