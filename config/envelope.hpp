// The safety envelope: static rules a proposed Raft config must pass before any agent may
// propose it (DESIGN.md "Control plane"). The control plane's advisor turns an incident into a
// patch; the envelope applies the patch to the config in force and judges the result against
// the table below and the facts observed on the cluster. A patch that breaks a rule is rejected
// naming the rule, and never reaches the verifier or the proposer.
//
// The envelope is plain code over config values: it depends on nothing but the schema, so the
// rules are readable in one place (config/ENVELOPE.md is the same table for operators).
//
// | id                            | bound                                                      |
// |-------------------------------|------------------------------------------------------------|
// | schema_keys_known             | every patched key is in the schema and its value parses     |
// | patch_base_current            | every patch entry's `from` equals the value in force       |
// | patch_size                    | at most kMaxPatchKeys keys change                          |
// | step_bounded                  | a numeric key changes by at most kMaxStepFactor x; not 0<->n |
// | config_valid                  | config::validate finds nothing                             |
// | heartbeat_floor               | heartbeat_interval_ms >= kMinHeartbeatMs                   |
// | election_timeout_vs_heartbeat | election_timeout_ms_min >= 10 x heartbeat_interval_ms      |
// | election_timeout_vs_rtt       | election_timeout_ms_min >= 10 x observed peer RTT p99      |
// | election_timeout_max_bound    | election_timeout_ms_max <= kMaxElectionTimeoutMs           |
// | election_timeout_spread       | election_timeout_ms_max >= 1.5 x election_timeout_ms_min   |
// | timeouts_identical            | every node runs the same heartbeat and election timeouts   |
// | pre_vote_on                   | pre_vote = true                                            |
// | check_quorum_on               | check_quorum = true                                        |
// | lease_reads_guarded           | lease reads only with check_quorum and drift < timeout min |
// | lease_ttl_above_election      | min lease TTL >= election_timeout_ms_max + clock drift     |
// | lease_ttl_bounded             | min lease TTL <= kMaxLeaseTtlFloorMs                       |
// | fsync_on                      | fsync is never off                                         |
// | voters_odd                    | the voter count is odd                                     |
// | voters_at_most_7              | the voter count is <= kMaxVoters                           |
// | snapshot_threshold_vs_catchup | snapshot_threshold_entries >= snapshot_catchup_entries     |
// | catchup_covers_snapshot_send  | catch-up entries >= 2 x writes during one snapshot send    |
// | snapshot_threshold_vs_send    | threshold entries >= 2 x writes during one snapshot send   |
// | inflight_bounds               | 1 <= max_inflight_appends <= kMaxInflightAppends           |
// | append_bytes_bounds           | kMinAppendBytes <= max_append_bytes <= kMaxAppendBytes     |
// | uncommitted_vs_proposal       | max_uncommitted_bytes = 0 or >= max_proposal_bytes         |
//
// Rules about an observation (RTT, snapshot send time, write rate, per-node configs) pass with a
// detail saying "not observed" when the fact is absent: they cannot be judged, and the rules
// about the config alone still apply. The voter count must always be known.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/raft_config.hpp"

namespace aegis::config {

// Bounds named by the table. Changing one changes what an agent may propose.
inline constexpr uint32_t kMaxPatchKeys = 4;          // more at once is a redesign, not a tweak
inline constexpr uint32_t kMaxStepFactor = 4;         // bigger jumps are for humans
inline constexpr uint32_t kMinHeartbeatMs = 10;       // below this heartbeats flood the peers
inline constexpr uint32_t kTimeoutPerHeartbeat = 10;  // election timeout / heartbeat, and / RTT
inline constexpr uint32_t kMaxElectionTimeoutMs = 50'000;
inline constexpr uint32_t kMaxLeaseTtlFloorMs = 60'000;
inline constexpr uint32_t kMaxVoters = 7;
inline constexpr uint32_t kMaxInflightAppends = 1024;
inline constexpr uint32_t kMinAppendBytes = 1024;
inline constexpr uint32_t kMaxAppendBytes = 16 * 1024 * 1024;

// One key of a patch: set `key` from `from` (the value the patch was computed against, as
// config::get_field prints it; empty: not checked) to `to` (any text config::set_field takes).
struct patch_entry {
  std::string key;
  std::string from;
  std::string to;
};

// What was observed on the cluster the config is for. Optional fields are absent when nobody
// measured them; rules that need them then pass with "not observed" in their detail.
struct cluster_facts {
  uint32_t voters = 0;  // voting members; 0 = unknown, which fails the voter rules
  // The config each node runs now (empty: unknown). The envelope applies the patch to each and
  // requires the timing keys to agree afterwards: a patch rolled out to one file only, or nodes
  // that already disagree, would leave nodes timing out on different clocks.
  std::vector<raft_config> node_configs;
  std::optional<uint32_t> peer_rtt_p99_ms;       // heartbeat round trip, 99th percentile
  std::optional<uint32_t> snapshot_send_ms;      // time to send one snapshot to a follower
  std::optional<uint32_t> write_rate_per_s;      // log entries appended per second, steady state
  std::optional<uint32_t> clock_drift_bound_ms;  // bound on any two nodes' clock difference
  bool fsync_enabled = true;                     // the log fsyncs before acknowledging
  bool lease_reads_requested = false;            // the operator asks for lease-based reads
};

// A rule of the table: its id, why it exists, and the bound it enforces.
struct rule_info {
  std::string_view id;
  std::string_view reason;  // one sentence
  std::string_view bound;   // the comparison, for the table in ENVELOPE.md
};

// One rule applied to one proposal. `detail` gives the numbers compared ("3200 ms >= 10 x 320
// ms") so a reviewer can check the judgement without rerunning it.
struct rule_result {
  std::string rule;
  bool passed = false;
  std::string reason;
  std::string detail;
};

// The envelope's judgement: every rule of the table, in table order, passed or not.
struct envelope_report {
  raft_config proposed;  // the current config with every applicable patch entry set
  std::vector<rule_result> results;

  bool passed() const;
  std::vector<std::string> broken_rules() const;  // ids of the failed rules, table order
};

// The table, in the order results are reported.
const std::vector<rule_info>& envelope_rules();

// Applies `patch` to `current` and judges the result. Unknown keys, unparseable values and
// repeated keys are not applied and fail schema_keys_known; never throws on bad input.
envelope_report check_patch(const raft_config& current, const std::vector<patch_entry>& patch,
                            const cluster_facts& facts);

// Judges `proposed` as the patch that turns `current` into it (the keys that differ).
envelope_report check_config(const raft_config& proposed, const raft_config& current,
                             const cluster_facts& facts);

// The keys whose values differ, in schema order, as a patch from `from` to `to`.
std::vector<patch_entry> diff(const raft_config& from, const raft_config& to);

// The smallest lease TTL the node grants: 1.5 x election_timeout_ms_max rounded up to whole
// seconds, at least 1 s (actors/node/consensus.cpp min_lease_ttl_s; README "Leases").
uint64_t min_lease_ttl_ms(const raft_config& c);

}  // namespace aegis::config
