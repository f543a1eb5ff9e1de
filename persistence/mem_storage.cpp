#include "persistence/mem_storage.hpp"

#include <algorithm>

namespace aegis::persistence {

void mem_storage::write(raft::persist_batch b) {
  AEGIS_ASSERT(b.seq > last_seq_);
  last_seq_ = b.seq;
  if (!b.empty())
    pending_.push_back(std::move(b));  // an empty batch needs no disk: durable at once
}

void mem_storage::do_sync() {
  for (const auto& b : pending_)
    apply(synced_, b);
  pending_.clear();
}

// Applies one batch in the order persist_batch documents.
void mem_storage::apply(image& img, const raft::persist_batch& b) {
  if (b.snap) img.snap = b.snap;
  if (b.compact_to && b.compact_to->index > img.offset.index) {
    const raft::index_t drop = b.compact_to->index - img.offset.index;
    img.entries.erase(img.entries.begin(),
                      img.entries.begin() + std::min<size_t>(drop, img.entries.size()));
    img.offset = *b.compact_to;
  }
  if (b.log.truncate_from) {
    // A truncation point at or below the offset drops every stored entry after it.
    const raft::index_t t = *b.log.truncate_from;
    const size_t keep = t > img.offset.index ? t - img.offset.index - 1 : 0;
    if (keep < img.entries.size()) img.entries.resize(keep);
  }
  for (const auto& e : b.log.entries) {
    if (e.index <= img.offset.index) continue;
    AEGIS_ASSERT(e.index == img.offset.index + img.entries.size() + 1);
    img.entries.push_back(e);
  }
  if (b.hs) img.hs = *b.hs;
}

raft::restore_state mem_storage::restore() const {
  raft::restore_state rs;
  rs.hs = synced_.hs;
  rs.snap = synced_.snap;
  rs.offset = synced_.offset;
  rs.entries = synced_.entries;
  rs.applied = synced_.snap ? synced_.snap->meta.index : 0;
  rs.durable = true;
  return rs;
}

}  // namespace aegis::persistence
