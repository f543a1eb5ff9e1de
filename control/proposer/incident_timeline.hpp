// What a trace says happened, for the postmortem: a timeline of faults and leadership events,
// and the impact (time without a leader, leader changes, failed operations).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chaos/trace.hpp"

namespace aegis::control::proposer {

struct timeline_line {
  int64_t at_us = 0;
  std::string kind;  // "fault", "leader", "down", "up"
  std::string text;  // one line for a person
};

// Faults as they fired, a node becoming leader, going down and coming back: time order, faults
// first at equal times. Candidate/follower churn is left out (the impact counts it).
std::vector<timeline_line> build_timeline(const chaos::trace::trace& t);

// A span with no leader anywhere in the cluster.
struct leaderless_window {
  int64_t from_us = 0;
  int64_t to_us = 0;
};

// Invariant: unavailable_us is the sum of windows' lengths; counts are -1 when unknown.
struct impact {
  std::vector<leaderless_window> windows;  // after the first leader was elected
  int64_t unavailable_us = 0;
  int64_t longest_us = 0;
  int64_t leader_changes = -1;
  int64_t elections = 0;  // times a node became leader, the first election included
  int64_t ops_ok = -1, ops_fail = -1, ops_unknown = -1;
  std::string availability;   // from the trace summary ("0.9426"), or "" when absent
  std::string commit_p99_ms;  // idem
  int64_t duration_us = 0;    // the last event's time
};

impact measure_impact(const chaos::trace::trace& t);

}  // namespace aegis::control::proposer
