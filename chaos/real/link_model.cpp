// See link_model.hpp.
#include "chaos/real/link_model.hpp"

namespace aegis::chaos::real {

std::vector<link> link_model::add(net_fault f, uint64_t& handle) {
  const auto before = snapshot();
  handle = next_handle_++;
  active_.emplace(handle, std::move(f));
  return changed_since(before);
}

std::vector<link> link_model::remove(uint64_t handle) {
  const auto before = snapshot();
  active_.erase(handle);
  return changed_since(before);
}

std::vector<link> link_model::clear() {
  const auto before = snapshot();
  active_.clear();
  return changed_since(before);
}

link_state link_model::state(const link& l) const {
  link_state s;
  for (const auto& [handle, f] : active_) {
    bool hits = false;
    for (const auto& x : f.links)
      hits = hits || x == l;
    if (!hits) continue;
    s.partitioned = s.partitioned || f.cut;
    if (f.drop_percent) s.drop_percent = *f.drop_percent;
    if (f.delay_ms) {
      s.delay_ms = f.delay_ms->first;
      s.jitter_ms = f.delay_ms->second;
    }
  }
  return s;
}

std::vector<link> link_model::all_links() const {
  std::vector<link> out;
  for (uint32_t a = 1; a <= nodes_; ++a)
    for (uint32_t b = 1; b <= nodes_; ++b)
      if (a != b) out.emplace_back(a, b);
  return out;
}

std::vector<link> link_model::faulty_links_from(uint32_t from) const {
  std::vector<link> out;
  for (const auto& l : all_links())
    if (l.first == from && !(state(l) == link_state{})) out.push_back(l);
  return out;
}

std::vector<link> link_model::partition_links(
    const std::vector<std::vector<uint32_t>>& groups) const {
  // Unlisted nodes are each a group of their own: group 0 means "alone".
  std::vector<uint32_t> group_of(nodes_ + 1, 0);
  for (size_t g = 0; g < groups.size(); ++g)
    for (uint32_t n : groups[g])
      if (n >= 1 && n <= nodes_) group_of[n] = static_cast<uint32_t>(g + 1);
  std::vector<link> out;
  for (const auto& l : all_links())
    if (group_of[l.first] == 0 || group_of[l.first] != group_of[l.second]) out.push_back(l);
  return out;
}

std::vector<link> link_model::isolate_links(uint32_t node) const {
  std::vector<link> out;
  for (const auto& l : all_links())
    if (l.first == node || l.second == node) out.push_back(l);
  return out;
}

std::map<link, link_state> link_model::snapshot() const {
  std::map<link, link_state> out;
  for (const auto& l : all_links())
    out[l] = state(l);
  return out;
}

std::vector<link> link_model::changed_since(const std::map<link, link_state>& before) const {
  std::vector<link> out;
  for (const auto& [l, s] : before)
    if (!(state(l) == s)) out.push_back(l);
  return out;
}

}  // namespace aegis::chaos::real
