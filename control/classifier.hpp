// The classifier: deterministic rules over a window of telemetry that name the incident classes
// of control/incident.hpp, each verdict with its evidence (metric, node, window, value,
// threshold) and a confidence. One rule per class; every rule that fires yields its own verdict,
// so concurrent anomalies are reported separately. No rule fires: one `healthy` verdict.
//
// The rules read only metrics (what a live observer scrapes), never a trace's fault lines: the
// faults are the ground truth the fixtures are scored against, not an input. The thresholds and
// how the confidence is computed are in control/CLASSIFIER.md.
#pragma once

#include <vector>

#include "control/incident.hpp"
#include "control/telemetry_view.hpp"

namespace aegis::control {

// Verdicts for the window, most confident first (ties in class order); none when no node
// answered a single scrape in the window (nothing is known: not healthy either).
std::vector<verdict> classify(const telemetry_view& view);

}  // namespace aegis::control
