#include "chaos/sim/network.hpp"

#include <algorithm>

namespace aegis::chaos::sim {

network::network(uint32_t nodes, const network_spec& base) : nodes_(nodes), base_(base) {}

bool network::rule::applies(node_index from, node_index to) const {
  if (k == kind::partition) {
    const uint32_t a = group_of[from], b = group_of[to];
    return a == 0 || b == 0 || a != b;  // blocked unless both in the same group
  }
  return !link || (link->first == from && link->second == to);
}

bool network::connected(node_index from, node_index to) const {
  double loss = base_.drop_percent;
  for (const auto& r : rules_) {
    if (!r.applies(from, to)) continue;
    if (r.k == rule::kind::partition) return false;
    if (r.k == rule::kind::drop) loss = std::max(loss, r.percent);
  }
  return loss < 100.0;
}

std::vector<int64_t> network::transit(node_index from, node_index to, raft::prng& rng) const {
  double drop = base_.drop_percent, dup = base_.duplicate_percent;
  int64_t extra = 0;
  for (const auto& r : rules_) {
    if (!r.applies(from, to)) continue;
    switch (r.k) {
      case rule::kind::partition:
        return {};
      case rule::kind::drop:
        drop = 100.0 - (100.0 - drop) * (100.0 - r.percent) / 100.0;
        break;
      case rule::kind::duplicate:
        dup = std::max(dup, r.percent);
        break;
      case rule::kind::delay:
        extra += r.amount_us + (r.jitter_us > 0 ? int64_t(rng.between(0, r.jitter_us + 1)) : 0);
        break;
    }
  }
  const bool lost = rng.chance(drop / 100.0);
  const bool twice = rng.chance(dup / 100.0);
  auto latency = [&] {
    return int64_t(rng.between(base_.latency_min_us, base_.latency_max_us + 1)) + extra;
  };
  std::vector<int64_t> out;
  if (lost) return out;
  out.push_back(latency());
  if (twice) out.push_back(latency());
  return out;
}

uint64_t network::add(rule r) {
  r.handle = next_handle_++;
  rules_.push_back(std::move(r));
  return rules_.back().handle;
}

uint64_t network::partition(const std::vector<std::vector<uint32_t>>& groups) {
  rule r{rule::kind::partition};
  r.group_of.assign(nodes_ + 1, 0);
  for (size_t g = 0; g < groups.size(); ++g)
    for (uint32_t n : groups[g])
      if (n >= 1 && n <= nodes_) r.group_of[n] = uint32_t(g + 1);
  return add(std::move(r));
}

uint64_t network::isolate(node_index n) {
  std::vector<uint32_t> rest;
  for (uint32_t i = 1; i <= nodes_; ++i)
    if (i != n) rest.push_back(i);
  return partition({rest});  // n is in no group: cut from everyone
}

uint64_t network::drop(std::optional<std::pair<node_index, node_index>> link, double percent) {
  rule r{rule::kind::drop};
  r.link = link;
  r.percent = percent;
  return add(std::move(r));
}

uint64_t network::delay(std::optional<std::pair<node_index, node_index>> link, int64_t amount_us,
                        int64_t jitter_us) {
  rule r{rule::kind::delay};
  r.link = link;
  r.amount_us = amount_us;
  r.jitter_us = jitter_us;
  return add(std::move(r));
}

uint64_t network::duplicate(std::optional<std::pair<node_index, node_index>> link, double percent) {
  rule r{rule::kind::duplicate};
  r.link = link;
  r.percent = percent;
  return add(std::move(r));
}

void network::undo(uint64_t handle) {
  std::erase_if(rules_, [&](const rule& r) { return r.handle == handle; });
}

}  // namespace aegis::chaos::sim
