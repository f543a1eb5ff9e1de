// Every Raft tunable, with its unit (last in the name) and default.
//
// This struct is plain data: the pure Raft core (actors/raft/) reads it, the simulator and the
// node fill it, and `validate` is the one place where its rules are written down. The schema
// table in schema.hpp names every field for config files, --help and error messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aegis::config {

struct raft_config {
  // Interval between leader heartbeats. Invariant: > 0 and well below the election timeout.
  uint32_t heartbeat_interval_ms = 100;
  // A follower that hears no leader for a timeout drawn uniformly from [min, max] campaigns.
  // Invariant: min >= 2 * heartbeat, max > min (randomization is what breaks split votes).
  uint32_t election_timeout_ms_min = 1000;
  uint32_t election_timeout_ms_max = 2000;
  // Pre-vote (Raft thesis §9.6): a node first asks whether it could win before raising its term,
  // so a node rejoining from a partition cannot depose a healthy leader.
  bool pre_vote = true;
  // A leader that has not heard from a quorum within election_timeout_ms_min steps down; a node
  // that heard from a live leader within that time refuses (pre-)votes.
  bool check_quorum = true;
  // Flow control: at most this many append messages in flight to one follower, each carrying at
  // most max_append_bytes of entry payload (at least one entry is always sent).
  uint32_t max_inflight_appends = 64;
  uint32_t max_append_bytes = 1024 * 1024;
  // A leader refuses proposals while its uncommitted tail exceeds this many bytes (0: no limit).
  uint64_t max_uncommitted_bytes = 64ull * 1024 * 1024;
  // A single proposal larger than this is refused.
  uint32_t max_proposal_bytes = 1536 * 1024;
  // At most this many ReadIndex requests wait at the leader; more are refused.
  uint32_t max_pending_reads = 4096;
  // The host takes a snapshot once this many entries were applied since the last one ...
  uint64_t snapshot_threshold_entries = 10000;
  // ... and keeps this many entries behind it so slightly slow followers catch up from the log.
  uint64_t snapshot_catchup_entries = 5000;
  // InstallSnapshot sends the snapshot in chunks of at most this many bytes.
  uint32_t snapshot_chunk_bytes = 1024 * 1024;
  // A learner is promoted to voter once it holds the configuration entry that added it and its
  // match index is within this many entries of the leader's last index.
  uint64_t learner_catchup_entries = 100;
};

// One broken rule: the key and the rule, phrased for an operator.
struct config_error {
  std::string key;
  std::string rule;
};

// Returns every rule the config breaks (empty: valid).
std::vector<config_error> validate(const raft_config& c);

}  // namespace aegis::config
