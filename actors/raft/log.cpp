#include "actors/raft/log.hpp"

#include <algorithm>
#include "actors/raft/assert.hpp"

namespace aegis::raft {

void raft_log::reset(log_offset offset, std::vector<entry> entries, bool durable) {
  offset_ = offset;
  entries_.assign(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end()));
  in_flight_to_.reset();
  stored_to_ = durable ? last_index() : offset_.index;
  if (durable) {
    durable_to_ = last_index();
    unstable_from_ = last_index() + 1;
    dirty_ = false;
  } else {
    durable_to_ = offset_.index;
    unstable_from_ = offset_.index + 1;
    dirty_ = true;
  }
}

std::optional<term_t> raft_log::term_at(index_t i) const {
  if (i == offset_.index) return offset_.term;
  if (i < offset_.index || i > last_index()) return std::nullopt;
  return entries_[i - offset_.index - 1].term;
}

bool raft_log::matches(index_t i, term_t t) const {
  auto x = term_at(i);
  return x && *x == t;
}

const entry& raft_log::at(index_t i) const {
  AEGIS_ASSERT(i >= first_index() && i <= last_index());
  return entries_[i - offset_.index - 1];
}

bool raft_log::is_up_to_date(index_t last, term_t term) const {
  return term > last_term() || (term == last_term() && last >= last_index());
}

void raft_log::append(entry e) {
  AEGIS_ASSERT(e.index == last_index() + 1 && e.term >= last_term());
  entries_.push_back(std::move(e));
  dirty_ = true;
}

void raft_log::truncate_from(index_t i) {
  AEGIS_ASSERT(i > offset_.index && i <= last_index() + 1);
  entries_.resize(i - offset_.index - 1);
  unstable_from_ = std::min(unstable_from_, i);
  durable_to_ = std::min(durable_to_, i - 1);
  if (in_flight_to_) in_flight_to_ = std::min(*in_flight_to_, i - 1);
  dirty_ = true;
}

index_t raft_log::merge(const std::vector<entry>& es) {
  index_t changed = 0;
  for (const auto& e : es) {
    if (e.index <= offset_.index) continue;  // compacted: committed, so it matches
    if (e.index <= last_index()) {
      if (at(e.index).term == e.term) continue;
      truncate_from(e.index);  // §5.3: delete the conflicting entry and all that follow it
    }
    AEGIS_ASSERT(e.index == last_index() + 1 && e.term >= last_term());
    entries_.push_back(e);
    unstable_from_ = std::min(unstable_from_, e.index);
    dirty_ = true;
    if (changed == 0) changed = e.index;
  }
  return changed;
}

std::vector<entry> raft_log::slice(index_t lo, index_t hi, uint64_t max_bytes) const {
  std::vector<entry> out;
  lo = std::max(lo, first_index());
  hi = std::min(hi, last_index());
  if (lo <= hi) out.reserve(std::min<uint64_t>(hi - lo + 1, 256));
  uint64_t bytes = 0;
  for (index_t i = lo; i <= hi; ++i) {
    const auto& e = at(i);
    bytes += payload_bytes(e);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

index_t raft_log::first_index_of_term_at(index_t i) const {
  auto t = term_at(i);
  AEGIS_ASSERT(t);
  while (i > first_index() && at(i - 1).term == *t)
    --i;
  return i;
}

std::optional<index_t> raft_log::last_index_of_term(term_t t) const {
  for (index_t i = last_index(); i >= first_index(); --i) {
    auto ti = at(i).term;
    if (ti == t) return i;
    if (ti < t) break;
  }
  if (offset_.term == t) return offset_.index;
  return std::nullopt;
}

void raft_log::compact(index_t to) {
  AEGIS_ASSERT(to >= offset_.index && to <= last_index());
  if (to == offset_.index) return;
  const term_t t = at(to).term;
  entries_.erase(entries_.begin(), entries_.begin() + (to - offset_.index));
  offset_ = {to, t};
}

void raft_log::restart_at(log_offset offset) {
  entries_.clear();
  offset_ = offset;
  unstable_from_ = offset.index + 1;
  durable_to_ = offset.index;  // the snapshot itself is written in the same batch
  in_flight_to_.reset();
  dirty_ = true;
}

log_write raft_log::take_write() {
  AEGIS_ASSERT(!in_flight_to_);
  log_write w;
  if (dirty_) {
    if (unstable_from_ <= stored_to_) w.truncate_from = unstable_from_;
    w.entries = slice(unstable_from_, last_index(), UINT64_MAX);
    stored_to_ = last_index();
  }
  in_flight_to_ = last_index();
  unstable_from_ = last_index() + 1;
  dirty_ = false;
  return w;
}

void raft_log::mark_durable() {
  if (in_flight_to_) durable_to_ = std::max(durable_to_, *in_flight_to_);
  in_flight_to_.reset();
}

// O(1): the per-entry rules (contiguous indexes, non-decreasing terms) are asserted where
// entries enter the log (append, merge), so here only the shape is checked.
void raft_log::check_invariants() const {
  if (!entries_.empty()) {
    AEGIS_ASSERT(entries_.front().index == offset_.index + 1);
    AEGIS_ASSERT(entries_.back().index == last_index());
    AEGIS_ASSERT(entries_.front().term >= offset_.term);
  }
  AEGIS_ASSERT(durable_to_ <= last_index());
  AEGIS_ASSERT(unstable_from_ <= last_index() + 1);
}

}  // namespace aegis::raft
