// Plain code behind the agent's actors: what each actor's handler calls. No CAF here beyond the
// message structs, so everything is testable without an actor system.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chaos/trace.hpp"
#include "control/actors/messages.hpp"
#include "control/observer.hpp"
#include "control/pipeline.hpp"

namespace aegis::control::actors {

// ---- Observing -----------------------------------------------------------------------------

// The newest `window_us` of sample rounds, bounded: a round older than the window is dropped,
// and at most `max_rounds` are kept whatever the clock says (a stalled clock cannot grow it).
class rolling_window {
 public:
  rolling_window(int64_t window_us, size_t max_rounds);
  // One round: every node's sample at one time (node order). Rounds arrive in time order.
  void push(std::vector<chaos::trace::metric_sample> round);
  // The kept samples in time order.
  std::vector<chaos::trace::metric_sample> samples() const;
  size_t rounds() const { return rounds_.size(); }

 private:
  int64_t window_us_;
  size_t max_rounds_;
  std::deque<std::vector<chaos::trace::metric_sample>> rounds_;
};

// Rounds a window of `window_s` at `period_s` holds, plus one for the boundary.
size_t rounds_for(double window_s, double period_s);

// A trace file as a window (the whole trace); `error` set when it cannot be read.
window window_from_trace(const std::string& path);

// One /metrics page (or a failed scrape: nullopt) as a sample of node `node`.
chaos::trace::metric_sample sample_from_page(int64_t at_us, uint32_t node,
                                             const std::optional<std::string>& page);

// ---- Stages --------------------------------------------------------------------------------

// The window as the classifier's observation (its telemetry view built from the samples).
observation observation_of(const window& w);

// What the advisor and the verifier need: the config in force (the window's, else the schema
// defaults), the facts measured from the telemetry, and the config file a patch edits. The
// incident script is the verifier's (incident_for).
stage_inputs inputs_for(const window& w, const std::string& config_file);

// The script to replay: the recorded trace's for a trace window, else the class's fixture.
// `name` is set to what was chosen.
std::optional<chaos::script> incident_for(const window& w, incident_class c,
                                          const std::string& scripts_dir, std::string& name);

// The advisor and verifier actors run decide()'s two halves, advise_stage and verify_stage
// (control/pipeline.hpp).

// The trace a postmortem is written from: the recorded one for a trace window; for live and
// node windows one built from the samples (source "live", roles read from each sample, script
// name "live-<UTC time>", seed = the cycle number).
chaos::trace::trace trace_for(const window& w);

// ---- Reporting -----------------------------------------------------------------------------

struct cycle_outcome {
  uint64_t cycle = 0;
  std::string window_error;  // no window: why
  std::string source_kind;
  size_t nodes = 0;
  double window_s = 0;
  std::vector<verdict> verdicts;
  std::vector<std::pair<std::string, uint32_t>> by_status;  // proposals per status
  std::vector<std::string> files;                           // written this cycle
  std::vector<std::string> causes;                          // top root-cause ids
  std::vector<std::string> errors;                          // stage failures
  double took_s = 0;
};

// One status line: UTC time, cycle, window, verdicts (class:confidence), proposals by status,
// root causes, files, errors, how long the cycle took.
std::string status_line(const cycle_outcome& o, const std::string& utc_time);

// Proposals per status, in first-seen order.
std::vector<std::pair<std::string, uint32_t>> count_by_status(const std::vector<proposal>& ps);

}  // namespace aegis::control::actors
