// The in-memory twin of the RocksDB store, with the same crash semantics: write() only buffers,
// sync() makes everything written so far durable, crash() loses whatever was not synced. The
// simulator and the unit tests use it; the RocksDB store implements the same interface.
#pragma once

#include <optional>
#include <vector>

#include "actors/raft/core.hpp"
#include "actors/raft/ready.hpp"

namespace aegis::persistence {

class mem_storage final : public raft::stable_storage {
 public:
  // What survives a crash. Invariant: entries[k].index == offset.index + 1 + k.
  struct image {
    raft::hard_state hs;
    std::optional<raft::snapshot> snap;
    raft::log_offset offset;
    std::vector<raft::entry> entries;
  };

  void write(raft::persist_batch b) override;
  // Power loss: every write since the last sync is gone. The next process numbers its batches
  // from 1 again.
  void crash() {
    pending_.clear();
    last_seq_ = 0;
  }
  // What a restarting node finds; `applied` is what its state machine already holds (0 for an
  // in-memory state machine, which restarts from the snapshot).
  raft::restore_state restore() const;
  const image& synced() const { return synced_; }

 protected:
  void do_sync() override;
  uint64_t last_written_seq() const override { return last_seq_; }

 private:
  static void apply(image& img, const raft::persist_batch& b);

  image synced_;
  std::vector<raft::persist_batch> pending_;
  uint64_t last_seq_ = 0;
};

}  // namespace aegis::persistence
