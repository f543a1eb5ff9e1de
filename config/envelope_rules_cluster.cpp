// Envelope rules about the cluster and its storage: durability, the voter count, snapshot and
// log retention against the observed snapshot-send time, and flow-control bounds.
#include "config/envelope_rules.hpp"

namespace aegis::config::envelope_detail {

namespace {

rule_outcome fsync_on(const rule_input& in) {
  return {in.facts.fsync_enabled, in.facts.fsync_enabled ? "fsync on" : "fsync off"};
}

rule_outcome voters_odd(const rule_input& in) {
  const uint32_t v = in.facts.voters;
  if (v == 0) return {false, "voter count unknown"};
  return {v % 2 == 1, std::to_string(v) + " voters"};
}

rule_outcome voters_at_most(const rule_input& in) {
  const uint32_t v = in.facts.voters;
  if (v == 0) return {false, "voter count unknown"};
  return {v <= kMaxVoters, std::to_string(v) + " voters <= " + std::to_string(kMaxVoters)};
}

rule_outcome threshold_vs_catchup(const rule_input& in) {
  const auto& c = in.proposed;
  return {c.snapshot_threshold_entries >= c.snapshot_catchup_entries,
          std::to_string(c.snapshot_threshold_entries) +
              " >= " + std::to_string(c.snapshot_catchup_entries) + " entries"};
}

// Entries appended while one snapshot is sent, doubled for the follower's catch-up after it
// lands; nullopt when either observation is missing.
std::optional<uint64_t> writes_during_send_x2(const cluster_facts& f) {
  if (!f.snapshot_send_ms || !f.write_rate_per_s) return std::nullopt;
  const uint64_t w = (uint64_t(*f.write_rate_per_s) * *f.snapshot_send_ms + 999) / 1000;
  return 2 * w;
}

rule_outcome catchup_covers_send(const rule_input& in) {
  const auto need = writes_during_send_x2(in.facts);
  if (!need) return {true, "snapshot send time or write rate not observed: not checked"};
  const uint64_t have = in.proposed.snapshot_catchup_entries;
  return {have >= *need, std::to_string(have) + " >= " + std::to_string(*need) +
                             " entries (2 x writes during one snapshot send)"};
}

rule_outcome threshold_vs_send(const rule_input& in) {
  const auto need = writes_during_send_x2(in.facts);
  if (!need) return {true, "snapshot send time or write rate not observed: not checked"};
  const uint64_t have = in.proposed.snapshot_threshold_entries;
  return {have >= *need, std::to_string(have) + " >= " + std::to_string(*need) +
                             " entries (2 x writes during one snapshot send)"};
}

rule_outcome inflight_bounds(const rule_input& in) {
  const uint32_t n = in.proposed.max_inflight_appends;
  return {n >= 1 && n <= kMaxInflightAppends,
          "1 <= " + std::to_string(n) + " <= " + std::to_string(kMaxInflightAppends)};
}

rule_outcome append_bytes_bounds(const rule_input& in) {
  const uint32_t b = in.proposed.max_append_bytes;
  return {b >= kMinAppendBytes && b <= kMaxAppendBytes,
          std::to_string(kMinAppendBytes) + " <= " + std::to_string(b) +
              " <= " + std::to_string(kMaxAppendBytes) + " bytes"};
}

rule_outcome uncommitted_vs_proposal(const rule_input& in) {
  const auto& c = in.proposed;
  if (c.max_uncommitted_bytes == 0) return {true, "max_uncommitted_bytes = 0 (no limit)"};
  return {c.max_uncommitted_bytes >= c.max_proposal_bytes,
          std::to_string(c.max_uncommitted_bytes) + " >= " + std::to_string(c.max_proposal_bytes) +
              " bytes"};
}

}  // namespace

std::vector<rule_def> cluster_rules() {
  return {
      {{"fsync_on",
        "Raft's promises assume an acknowledged entry is on disk; without fsync a power loss "
        "can erase committed writes and votes.",
        "fsync enabled"},
       fsync_on},
      {{"voters_odd",
        "An even voter count tolerates no more failures than the odd count below it while "
        "needing a larger quorum.",
        "voter count odd"},
       voters_odd},
      {{"voters_at_most_7",
        "Every voter adds a round trip to each commit's quorum; beyond 7, latency grows with no "
        "useful gain in fault tolerance.",
        "voter count <= 7"},
       voters_at_most},
      {{"snapshot_threshold_vs_catchup",
        "Keeping more entries behind a snapshot than are applied between two snapshots means a "
        "snapshot frees nothing: the log grows as if there were none.",
        "snapshot_threshold_entries >= snapshot_catchup_entries"},
       threshold_vs_catchup},
      {{"catchup_covers_snapshot_send",
        "Entries written while a snapshot is sent must still be in the leader's log when it "
        "lands, or the follower needs another snapshot: a snapshot loop.",
        "snapshot_catchup_entries >= 2 x write rate x snapshot send time"},
       catchup_covers_send},
      {{"snapshot_threshold_vs_send",
        "Snapshots taken more often than one can be sent leave every lagging follower chasing "
        "a snapshot that is already stale.",
        "snapshot_threshold_entries >= 2 x write rate x snapshot send time"},
       threshold_vs_send},
      {{"inflight_bounds",
        "No pipelining stalls replication on every round trip; unbounded pipelining lets one "
        "slow follower pin unbounded memory at the leader.",
        "1 <= max_inflight_appends <= 1024"},
       inflight_bounds},
      {{"append_bytes_bounds",
        "Tiny appends waste a round trip per entry; huge ones delay heartbeats queued behind "
        "them on the same link past the election timeout.",
        "1 KiB <= max_append_bytes <= 16 MiB"},
       append_bytes_bounds},
      {{"uncommitted_vs_proposal",
        "A backlog limit below the largest proposal refuses every proposal of that size, even "
        "on an idle cluster.",
        "max_uncommitted_bytes = 0 or >= max_proposal_bytes"},
       uncommitted_vs_proposal},
  };
}

}  // namespace aegis::config::envelope_detail
