// The output of the Raft core: one `ready` batch per round, and the types that make its ordering
// rules impossible to get wrong (etcd's Ready, with the rules in the type system):
//
//   0. send `early_messages` right away (a leader's messages that promise nothing about its disk);
//   1. write `persist` to stable storage and sync it: the storage hands back a `durable` receipt;
//   2. only with that receipt can the host open `messages` (persist before send, §5.1/Figure 2:
//      a vote or an append acknowledgement must not leave before what it promises is on disk)
//      and `committed` (apply only after commit, and only what is durable here too);
//   3. call core::advance(receipt).
#pragma once

#include <optional>
#include <vector>

#include "actors/raft/assert.hpp"
#include "actors/raft/log.hpp"
#include "actors/raft/types.hpp"

namespace aegis::raft {

class core;
class stable_storage;

// Proof that every persist_batch up to `seq` is in stable storage. Only a stable_storage can
// make one.
class durable {
 public:
  uint64_t seq() const { return seq_; }

 private:
  friend class stable_storage;
  explicit durable(uint64_t seq) : seq_(seq) {}
  uint64_t seq_;
};

// Everything one round asks to write, in this order: the snapshot (stored as the latest one),
// the compaction offset (drop entries <= it; it becomes the log's offset), the log write (drop
// entries >= truncate_from, append), the hard state.
struct persist_batch {
  uint64_t seq = 0;  // position of this batch in the node's write order (1, 2, ...)
  std::optional<snapshot> snap;
  std::optional<log_offset> compact_to;
  log_write log;
  std::optional<hard_state> hs;

  bool empty() const {
    return !snap && !compact_to && !log.truncate_from && log.entries.empty() && !hs;
  }
};

// Implemented by every storage backend (RocksDB, the simulator's in-memory twin). write() may
// buffer; sync() makes everything written so far durable and is the only source of receipts.
class stable_storage {
 public:
  virtual ~stable_storage() = default;
  virtual void write(persist_batch b) = 0;
  durable sync() {
    do_sync();
    return durable{last_written_seq()};
  }

 protected:
  virtual void do_sync() = 0;
  virtual uint64_t last_written_seq() const = 0;
};

// An entry the core has declared committed. Only the core can make one.
class committed_entry {
 public:
  const entry& get() const { return e_; }

 private:
  friend class core;
  explicit committed_entry(entry e) : e_(std::move(e)) {}
  entry e_;
};

// A ReadIndex answer: once the host's applied index reaches `index`, a read for `context` is
// linearizable. ok=false: the read failed (leadership lost, no leader); retry elsewhere.
struct read_state {
  uint64_t context = 0;
  index_t index = 0;
  bool ok = true;
};

// Contents released only against a receipt for the batch they came with.
template <class T>
class sealed {
 public:
  sealed() = default;
  sealed(std::vector<T> items, uint64_t seq) : items_(std::move(items)), seq_(seq) {}
  std::vector<T> open(const durable& d) && {
    AEGIS_ASSERT(d.seq() >= seq_);
    return std::move(items_);
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  // Inspection without release, for checkers and tests.
  const std::vector<T>& peek() const { return items_; }

 private:
  std::vector<T> items_;
  uint64_t seq_ = 0;
};

struct ready {
  persist_batch persist;
  // A leader's appends, heartbeats, snapshot chunks, TimeoutNow and ReadIndex answers: they
  // depend on nothing unsynced here, so the host sends them before persisting (the leader's
  // fsync then overlaps the followers'; Raft thesis §10.2.1).
  std::vector<message> early_messages;
  // Set when a snapshot from the leader was installed: restore the state machine from it
  // (after persisting, before applying `committed`).
  std::optional<snapshot> restore;
  sealed<message> messages;
  sealed<committed_entry> committed;
  std::vector<read_state> read_states;
};

}  // namespace aegis::raft
