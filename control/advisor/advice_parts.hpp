// Internal to the advisor: the per-class advice functions (one file per family of classes) and
// the small helpers they share to build patches and read the verdict's evidence.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/envelope.hpp"
#include "control/incident.hpp"

namespace aegis::control::advisor_detail {

// What every class function is given.
struct advice_input {
  const verdict& v;
  const config::raft_config& current;
  const config::cluster_facts& facts;
};

// Timing classes (timing_advice.cpp).
advice election_storm(const advice_input& in);
advice flaky_link(const advice_input& in);
// Storage and load classes (storage_advice.cpp).
advice slow_follower(const advice_input& in);
advice overload(const advice_input& in);
// Classes answered with a recommendation (recommendations.cpp).
advice healthy(const advice_input& in);
advice leader_disk_stall(const advice_input& in);
advice partition_stale_leader(const advice_input& in);
advice lease_starvation(const advice_input& in);
advice clock_skew(const advice_input& in);

// Appends key := value to `patch` with the value in force as `from`, unless it is unchanged.
void set_key(std::vector<config_change>& patch, const config::raft_config& current,
             std::string_view key, uint64_t value);
void set_key(std::vector<config_change>& patch, const config::raft_config& current,
             std::string_view key, bool value);

// "election_timeout_ms_min=1000 heartbeat_interval_ms=100": a patch in config-file syntax,
// written with each change's `from` (the rollback) or `to`.
std::string as_settings(const std::vector<config_change>& patch, bool use_from);

// Fills `rollback` from the patch (the inverse settings), or says there is nothing to undo.
void fill_rollback(advice& a);

// The largest value among the evidence whose metric name contains `needle` (case-insensitive);
// nullopt when there is none or every such value is negative or not finite.
std::optional<double> max_evidence(const verdict& v, std::string_view needle);

// The peer round trip p99 in ms: the larger of the observed fact and any RTT evidence (metric
// names containing "rtt"; a name containing "seconds" is in s, any other in ms).
std::optional<uint64_t> rtt_ms(const advice_input& in);

// "node 3", "nodes 2 and 4", "the nodes involved" when the verdict names none.
std::string nodes_text(const verdict& v);

// `v` rounded up to a multiple of `step`.
uint64_t round_up(uint64_t v, uint64_t step);

}  // namespace aegis::control::advisor_detail
