// A complete proposal for the proposer's tests: an election storm with its evidence, a two-key
// patch, passing envelope checks and an improving verification.
#pragma once

#include "control/incident.hpp"

namespace aegis::test {

inline control::proposal sample_proposal(const std::string& id = "p0a1b2c3") {
  using namespace control;
  proposal p;
  p.id = id;
  p.incident.cls = incident_class::election_storm;
  p.incident.confidence = 0.9;
  p.incident.nodes = {1, 2, 3};
  p.incident.from_us = 1'000'000;
  p.incident.to_us = 9'000'000;
  p.incident.summary = "Terms climbed by 12 in 8 s with no stable leader.";
  p.incident.evidence = {
      {"aegis_raft_term (max - min)", 0, 1'000'000, 9'000'000, 12, ">=", 5, "terms rise | fast"}};
  p.advice.cls = incident_class::election_storm;
  p.advice.patch = {{"election_timeout_ms_min", "1000", "2000"},
                    {"election_timeout_ms_max", "2000", "4000"}};
  p.advice.rationale = "Timeouts are too tight for the observed RTT.";
  p.advice.expected_effect = "Fewer spurious elections.";
  p.advice.target_metric = "leader_changes";
  p.advice.rollback = "Restore the previous timeouts.";
  p.envelope = {{"election_timeout_vs_heartbeat", true, "Followers must hear several heartbeats.",
                 "2000 ms >= 10 x 100 ms"},
                {"fsync_on", true, "Durability needs fsync.", "fsync=true"}};
  verification v;
  v.trace = "tests/fixtures/traces/election_storm.trace";
  v.seeds = {1, 2, 3};
  v.rows = {{"availability", 0.80, 0.97, true}, {"leader_changes", 14, 2, false}};
  v.target_metric = "leader_changes";
  v.improved = true;
  v.explanation = "leader_changes fell from 14 to 2 on every seed.";
  p.verified = v;
  p.status = "proposed";
  p.config_file = "cluster/node1.ini";
  return p;
}

}  // namespace aegis::test
