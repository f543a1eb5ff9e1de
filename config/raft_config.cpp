#include "config/raft_config.hpp"

namespace aegis::config {

std::vector<config_error> validate(const raft_config& c) {
  std::vector<config_error> errs;
  auto rule = [&](bool ok, const char* key, const char* why) {
    if (!ok) errs.push_back({key, why});
  };
  rule(c.heartbeat_interval_ms > 0, "heartbeat_interval_ms", "must be > 0");
  rule(c.election_timeout_ms_min >= 2 * c.heartbeat_interval_ms, "election_timeout_ms_min",
       "must be >= 2 x heartbeat_interval_ms so one lost heartbeat does not start an election");
  rule(c.election_timeout_ms_max > c.election_timeout_ms_min, "election_timeout_ms_max",
       "must be > election_timeout_ms_min (randomized timeouts break split votes)");
  rule(c.max_inflight_appends > 0, "max_inflight_appends", "must be > 0");
  rule(c.max_append_bytes > 0, "max_append_bytes", "must be > 0");
  rule(c.max_proposal_bytes > 0, "max_proposal_bytes", "must be > 0");
  rule(c.max_pending_reads > 0, "max_pending_reads", "must be > 0");
  rule(c.snapshot_threshold_entries > 0, "snapshot_threshold_entries", "must be > 0");
  rule(c.snapshot_chunk_bytes > 0, "snapshot_chunk_bytes", "must be > 0");
  return errs;
}

}  // namespace aegis::config
