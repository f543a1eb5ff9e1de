// The verifier: replays an incident in the simulator under the config in force and under the
// proposed one, with the same seeds for both, and reports the before/after table. A proposal
// whose target row does not improve -- or that makes a safety row worse -- is not proposed; the
// table is kept as a negative result. Counterfactual, never applied: the simulator is the
// sandbox, no node is touched.
//
// Rows (medians over the seeds): availability (share of the 250 ms samples with a leader, from
// the first election on; higher is better), leader_changes, commit_p99_ms, ops_failed (client
// operations that failed or timed out), snapshots_installed, lease_expiries (the simulator has no
// leases: the leaderless stretches at least as long as the config's minimum lease TTL, each of
// which would expire the leases renewed through the lost leader), violations (Raft safety
// invariants broken plus a non-linearizable history; must stay 0).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chaos/script.hpp"
#include "config/raft_config.hpp"
#include "control/incident.hpp"

namespace aegis::control {

struct verify_options {
  std::vector<uint64_t> seeds;      // the same for both configs; empty: 5 seeds from the script's
  double min_relative_gain = 0.10;  // the target row must improve by at least this share ...
  double min_absolute_gain = 0.5;   // ... and by at least this much (counts: half an event)
};

// `incident` is the script of the recorded trace (or the class's fixture script when the
// incident was observed live); `name` says which, for the table.
verification verify(const chaos::script& incident, const std::string& name,
                    const config::raft_config& before, const config::raft_config& after,
                    const std::string& target_metric, const verify_options& opt = {});

// The table as aligned text (what the demo prints) and as a markdown table (the PR body).
std::string format_table(const verification& v);

}  // namespace aegis::control
