// Advice for the classes no config change can cure, or that the config in force already
// handles: a recommendation for people and no patch. Each says why a patch would not help.
#include "control/advisor/advice_parts.hpp"

namespace aegis::control::advisor_detail {

advice healthy(const advice_input&) {
  advice a;
  a.rationale = "No anomaly: the cluster behaves as configured.";
  a.expected_effect = "None.";
  a.recommendation = "Nothing to do.";
  return a;
}

advice leader_disk_stall(const advice_input& in) {
  advice a;
  a.rationale =
      "The leader's disk stalls: fsyncs take seconds, so it cannot persist its own "
      "entries and leadership moves away. No Raft setting makes a failing disk fast. "
      "A longer election timeout would only keep the stalled node in office longer "
      "while clients wait on it; the quick leader change is the cluster defending "
      "itself, so the timeouts stay as they are.";
  a.expected_effect = "None from config; replacing the disk ends the leader flapping.";
  a.recommendation = "Inspect the disk of " + nodes_text(in.v) +
                     " (SMART, dmesg I/O errors, fsync latency in "
                     "aegis_log_fsync_duration_seconds, a noisy neighbour on shared storage); move "
                     "leadership away from it meanwhile; if it keeps stalling, replace the disk "
                     "(remove the member, wipe, add it back as a learner).";
  return a;
}

advice partition_stale_leader(const advice_input& in) {
  const auto& cur = in.current;
  advice a;
  set_key(a.patch, cur, "pre_vote", true);
  set_key(a.patch, cur, "check_quorum", true);
  if (!a.patch.empty()) {
    a.rationale =
        "A leader cut off from the majority kept acting as leader and a node "
        "rejoining from the partition could depose the new one. Check-quorum makes a "
        "leader that cannot reach a quorum step down within an election timeout, and "
        "pre-vote keeps a rejoining node from raising the term.";
    a.expected_effect =
        "Clients stop waiting on the cut-off leader: fewer failed and timed-out "
        "operations during partitions, no term bump when it heals.";
    a.target_metric = "ops_failed";
  } else {
    a.rationale =
        "Pre-vote and check-quorum are already on: the stale leader stepped down and "
        "rejoined as designed. The fault is the network partition itself.";
    a.expected_effect = "None from config.";
  }
  a.recommendation = "Find what cut off " + nodes_text(in.v) +
                     " (switch, routing, firewall rules, a saturated link) and give the nodes "
                     "independent network paths.";
  return a;
}

advice lease_starvation(const advice_input& in) {
  advice a;
  a.rationale =
      "Leases expired around a leader change because keep-alives had nowhere to go "
      "while there was no leader. The node already sets the lease TTL floor to 1.5 "
      "election timeouts (" +
      std::to_string(config::min_lease_ttl_ms(in.current) / 1000) +
      " s now) and a new leader extends every lease by its election gap. A longer "
      "election timeout would lengthen the leaderless gap and raise that floor for "
      "everyone; a shorter one risks election storms. The cure is on the clients.";
  a.expected_effect =
      "None from config; clients with a keep-alive every TTL/3 ride out a leader "
      "change.";
  a.recommendation =
      "Have clients use a TTL of at least 3x their keep-alive interval (etcd's "
      "clients keep alive every TTL/3), retry keep-alives against another member "
      "on failure, and use TTLs above the " +
      std::to_string(config::min_lease_ttl_ms(in.current) / 1000) + " s floor plus one election.";
  return a;
}

advice clock_skew(const advice_input& in) {
  advice a;
  a.rationale =
      "Nodes' clocks disagree. Lease and TTL math uses the leader's stamp only, so "
      "replicas stay consistent, but expiry times shift with each leader change by the "
      "leader's offset. No Raft setting synchronizes clocks.";
  a.expected_effect = "None from config.";
  a.recommendation = "Run NTP or chrony on " + nodes_text(in.v) +
                     " and alert on offsets; keep lease-based reads off until the drift is "
                     "bounded below the election timeout (envelope rule lease_reads_guarded).";
  if (in.facts.lease_reads_requested)
    a.recommendation += " Lease-based reads are requested: turn them off until then.";
  return a;
}

}  // namespace aegis::control::advisor_detail
