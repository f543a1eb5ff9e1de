// The simulated network: one-way latency drawn from the base distribution, plus the faults a
// chaos script layers on it (partitions, one-way loss, delay with jitter, duplication). All
// randomness comes from the simulator's seeded generator, so a run replays exactly.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "actors/raft/prng.hpp"
#include "chaos/script.hpp"

namespace aegis::chaos::sim {

using node_index = uint32_t;  // 1-based node id, as in scripts

class network {
 public:
  network(uint32_t nodes, const network_spec& base);

  // What happens to one message sent now from `from` to `to`: the delays (microseconds) of the
  // copies that arrive; empty when it is lost.
  std::vector<int64_t> transit(node_index from, node_index to, raft::prng& rng) const;
  // Whether a message can currently get through at all (no partition, loss below 100%).
  bool connected(node_index from, node_index to) const;

  // Faults. Each returns a handle that undo() accepts (for `for D` faults).
  uint64_t partition(const std::vector<std::vector<uint32_t>>& groups);
  uint64_t isolate(node_index n);
  uint64_t drop(std::optional<std::pair<node_index, node_index>> link, double percent);
  uint64_t delay(std::optional<std::pair<node_index, node_index>> link, int64_t amount_us,
                 int64_t jitter_us);
  uint64_t duplicate(std::optional<std::pair<node_index, node_index>> link, double percent);
  void undo(uint64_t handle);
  void heal() { rules_.clear(); }

 private:
  struct rule {
    enum class kind : uint8_t { partition, drop, delay, duplicate } k;
    uint64_t handle = 0;
    std::vector<uint32_t> group_of;  // partition: group per node (index = node id), 0 = alone
    std::optional<std::pair<node_index, node_index>> link;  // none: every link
    double percent = 0;
    int64_t amount_us = 0, jitter_us = 0;
    bool applies(node_index from, node_index to) const;
  };
  uint64_t add(rule r);

  uint32_t nodes_;
  network_spec base_;
  std::vector<rule> rules_;
  uint64_t next_handle_ = 1;
};

}  // namespace aegis::chaos::sim
