// The outcome figures of a real-cluster run, computed from what the trace recorded, as the
// summary lines of the trace (key=value, in a fixed order).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "chaos/linearizability.hpp"
#include "chaos/real/lease_holders.hpp"
#include "chaos/trace.hpp"

namespace aegis::chaos::real {

// What the trace itself does not hold.
struct run_facts {
  bool load = false;  // the script had a load line
  lin_result lin;     // the checker's verdict on the history (load only)
  bool history_truncated = false;
  bool leases = false;  // the script had lease holders
  lease_stats lease;
  uint32_t faults_fired = 0, faults_skipped = 0;
  uint64_t samples_dropped = 0;
  bool interrupted = false;  // Ctrl-C / SIGTERM ended the run early
  int64_t ran_us = 0;        // how long the run went on
};

// Share of sample rounds in which exactly one node called itself leader and a majority of the
// cluster (the leader included) was up, knew a leader and was in the leader's term.
double availability(const std::vector<trace::metric_sample>& samples, uint32_t nodes);
// Leaders seen after the first one: distinct terms in which some node was leader, minus one.
uint32_t leader_changes(const std::vector<trace::role_event>& roles);

std::vector<std::pair<std::string, std::string>> summarize(const trace::trace& t,
                                                           const run_facts& f);

}  // namespace aegis::chaos::real
