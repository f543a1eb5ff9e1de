// The advisor: for one verdict of the classifier, a candidate patch to named Raft config keys
// with its rationale, expected effect, the verifier row it must improve and its rollback — or,
// for classes no config can fix, a recommendation for people and no patch. Deterministic: the
// same verdict, config and facts give the same advice.
//
// | class                  | patch                                            | target metric     |
// |------------------------|--------------------------------------------------|-------------------|
// | healthy                | none                                             | -                 |
// | election_storm         | heartbeat >= RTT, timeout min >= 10 x RTT, max 2x | leader_changes |
// | leader_disk_stall      | none: replace/inspect the disk, move leadership  | -                 |
// | slow_follower          | snapshot_catchup_entries up to the lag seen      |
// snapshots_installed| | partition_stale_leader | pre_vote/check_quorum on if off; else none |
// ops_failed        | | lease_starvation       | none: clients' keep-alive cadence (TTL >= 3 x)   |
// -                 | | clock_skew             | none: NTP/chrony, bound the drift                |
// -                 | | overload               | max_uncommitted_bytes and max_pending_reads / 4  |
// commit_p99_ms     | | flaky_link             | election timeouts x 1.5; fix the link            |
// leader_changes    |
//
// Patches are sized to pass the envelope from the defaults; from a config far from safe the
// advisor still proposes the safe destination and the envelope's step rule sends it to a human.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "config/envelope.hpp"
#include "config/raft_config.hpp"
#include "control/incident.hpp"

namespace aegis::control {

// The advice for `v` against the config in force and what is known about the cluster.
advice advise(const verdict& v, const config::raft_config& current,
              const config::cluster_facts& facts);

// The patch that undoes `patch`: every key back to its `from`, in reverse order.
std::vector<config_change> rollback_of(const std::vector<config_change>& patch);

// `current` with every change set, or the error naming the first bad key or value.
std::variant<config::raft_config, std::string> apply_patch(config::raft_config current,
                                                           const std::vector<config_change>& patch);

// The envelope's judgement of the advice's patch: every rule, passed or not, in table order.
// An empty patch is judged too (the config in force against the facts).
std::vector<envelope_check> envelope_checks(const advice& a, const config::raft_config& current,
                                            const config::cluster_facts& facts);

// True when every check passed.
bool envelope_passed(const std::vector<envelope_check>& checks);

}  // namespace aegis::control
