// Internal to the envelope: what a rule sees and how the table is assembled from its groups
// (patch shape, timing, leases, cluster and storage), one file per group.
#pragma once

#include <string>
#include <vector>

#include "config/envelope.hpp"

namespace aegis::config::envelope_detail {

// Everything a rule may look at. `proposed` is `current` with the applicable patch entries set;
// `nodes_after` is each known node's config with the same entries set (empty when unknown).
struct rule_input {
  const raft_config& proposed;
  const raft_config& current;
  const cluster_facts& facts;
  const std::vector<raft_config>& nodes_after;
  const std::vector<std::string>& bad_entries;    // refused patch entries, one line each
  const std::vector<std::string>& stale_entries;  // entries whose `from` is not the value in force
};

struct rule_outcome {
  bool passed = false;
  std::string detail;
};

struct rule_def {
  rule_info info;
  rule_outcome (*check)(const rule_input&);
};

std::vector<rule_def> patch_rules();
std::vector<rule_def> timing_rules();
std::vector<rule_def> lease_rules();
std::vector<rule_def> cluster_rules();

// The whole table in report order.
const std::vector<rule_def>& rule_table();

// "a >= b" style details: numbers with their unit.
std::string ms(uint64_t v);

}  // namespace aegis::config::envelope_detail
