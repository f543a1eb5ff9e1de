// The fault state of every directed link of a real cluster, as the runner has asked the nodes to
// apply it. The admin API sets a link's whole state at once (SetLinkFaults replaces it), so the
// runner keeps every active network fault here and sends each changed link its combined state:
// a `drop` on a link that a partition also cuts keeps the cut, and ending one leaves the other.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace aegis::chaos::real {

// What one node does to the messages it sends to one peer (admin.proto LinkFaults).
struct link_state {
  bool partitioned = false;
  uint32_t drop_percent = 0;  // 0..100
  uint32_t delay_ms = 0;
  uint32_t jitter_ms = 0;
  bool operator==(const link_state&) const = default;
};

// A directed link between node indexes (1..nodes): messages `first` sends to `second`.
using link = std::pair<uint32_t, uint32_t>;

// One active network fault: the links it affects and what it does to them.
struct net_fault {
  std::vector<link> links;
  bool cut = false;                                       // partition / isolate
  std::optional<uint32_t> drop_percent;                   // drop
  std::optional<std::pair<uint32_t, uint32_t>> delay_ms;  // delay: {amount, jitter}
};

class link_model {
 public:
  explicit link_model(uint32_t nodes) : nodes_(nodes) {}

  // Adds a fault; returns its handle for remove(). Returns the links whose state changed.
  std::vector<link> add(net_fault f, uint64_t& handle);
  // Ends one fault (no-op if `heal` already ended it). Returns the links whose state changed.
  std::vector<link> remove(uint64_t handle);
  // Ends every network fault (`heal`). Returns the links whose state changed.
  std::vector<link> clear();

  // The combined state of a link: cut if any fault cuts it; drop and delay from the latest
  // fault that sets them (a later `drop 50%` replaces an earlier `drop 10%` on the same link).
  link_state state(const link& l) const;
  // Every directed link of the cluster, in (from, to) order.
  std::vector<link> all_links() const;
  // Links from `from` whose state is not healthy (to re-send after the node restarts).
  std::vector<link> faulty_links_from(uint32_t from) const;

  // Link sets for the script's network faults.
  std::vector<link> partition_links(const std::vector<std::vector<uint32_t>>& groups) const;
  std::vector<link> isolate_links(uint32_t node) const;

 private:
  std::vector<link> changed_since(const std::map<link, link_state>& before) const;
  std::map<link, link_state> snapshot() const;

  uint32_t nodes_;
  uint64_t next_handle_ = 1;
  std::map<uint64_t, net_fault> active_;  // by handle: firing order
};

}  // namespace aegis::chaos::real
