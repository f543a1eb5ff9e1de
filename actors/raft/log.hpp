// The in-memory Raft log of one node: the entries after a compaction offset, plus the
// bookkeeping of which suffix still has to reach stable storage.
//
// Invariants (asserted as entries enter; check_invariants checks the shape):
//   entries_[k].index == offset_.index + 1 + k, and terms never decrease along the log;
//   durable_to_ <= last_index(); unstable_from_ <= last_index() + 1.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "actors/raft/types.hpp"

namespace aegis::raft {

// The part of the log that must be written before anything that depends on it is sent:
// drop stored entries with index >= truncate_from (when set), then append `entries`.
struct log_write {
  std::optional<index_t> truncate_from;
  std::vector<entry> entries;
};

class raft_log {
 public:
  // Replaces the whole log. `durable`: the entries are already in stable storage.
  void reset(log_offset offset, std::vector<entry> entries, bool durable);

  index_t first_index() const { return offset_.index + 1; }
  index_t last_index() const { return offset_.index + entries_.size(); }
  term_t last_term() const { return entries_.empty() ? offset_.term : entries_.back().term; }
  log_offset offset() const { return offset_; }

  // The term of entry i; the offset's term for i == offset index; nullopt when i was compacted
  // away or lies beyond the end.
  std::optional<term_t> term_at(index_t i) const;
  bool matches(index_t i, term_t t) const;
  // Requires first_index() <= i <= last_index().
  const entry& at(index_t i) const;

  // §5.4.1: a candidate's log is at least as up-to-date as ours.
  bool is_up_to_date(index_t last, term_t term) const;

  // Leader append: the entry's index must be last_index() + 1.
  void append(entry e);
  // Follower append (§5.3): entries that already match are skipped; at the first conflicting
  // entry the log is truncated and the rest appended. Entries before first_index() are ignored.
  // Returns the lowest index that changed (0 when nothing did).
  index_t merge(const std::vector<entry>& es);

  // Entries [lo, hi] (inclusive), stopping once max_bytes of payload is reached but always
  // returning at least one entry when lo <= hi.
  std::vector<entry> slice(index_t lo, index_t hi, uint64_t max_bytes) const;

  // Fast back-off helpers (Raft thesis §5.3 optimization).
  index_t first_index_of_term_at(index_t i) const;
  std::optional<index_t> last_index_of_term(term_t t) const;

  // Drops entries <= to (to <= last_index(), to >= offset). Compaction never touches the
  // unstable suffix's durability bookkeeping.
  void compact(index_t to);
  // Discards everything and restarts after a snapshot (index, term).
  void restart_at(log_offset offset);

  // Durability bookkeeping. take_write() hands the unstable suffix to storage; mark_durable()
  // records that the last write completed. At most one write is outstanding.
  bool has_unstable() const { return dirty_; }
  log_write take_write();
  void mark_durable();
  index_t durable_to() const { return durable_to_; }

  void check_invariants() const;

 private:
  void truncate_from(index_t i);

  log_offset offset_;
  std::deque<entry> entries_;
  index_t unstable_from_ = 1;  // lowest index changed since the last take_write()
  bool dirty_ = false;         // something (entries or a truncation) awaits take_write()
  index_t durable_to_ = 0;     // every entry <= this is in stable storage as it is in memory
  std::optional<index_t> in_flight_to_;  // last index of the outstanding write
  // The highest index storage may hold. A write starting at or below it must first delete what
  // follows (truncate_from); a plain append need not (a range delete per batch piles up
  // tombstones in RocksDB).
  index_t stored_to_ = 0;
};

}  // namespace aegis::raft
