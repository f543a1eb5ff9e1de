// The observer: the control plane's only window on a cluster. It reads a recorded trace, or
// scrapes the nodes' /metrics endpoints (read-only HTTP GETs) for a window, and hands the
// classifier a telemetry_view. It holds no handle to a node that could change anything.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "control/incident.hpp"
#include "control/telemetry_view.hpp"

namespace aegis::control {

struct observation {
  std::string kind;                    // "trace" or "live"
  std::string trace_path;              // kind == "trace": the file read
  std::string script_name;             // kind == "trace": the script that made it ...
  std::string script_text;             // ... and its text (the incident the verifier replays)
  uint64_t seed = 0;                   // kind == "trace"
  std::vector<std::string> endpoints;  // kind == "live": host:port per node, node k at k-1
  std::vector<std::pair<std::string, std::string>> config;  // the Raft config, when known
  telemetry_view view;
};

// Reads a trace file; the error names the file and line.
std::variant<observation, std::string> observe_trace(const std::string& path);

// Scrapes every endpoint every period_s for window_s (a failed scrape is an up=0 sample);
// `config` is the cluster's Raft config if the caller knows it. The error names a bad endpoint.
std::variant<observation, std::string> observe_live(
    const std::vector<std::string>& endpoints, double window_s, double period_s,
    std::vector<std::pair<std::string, std::string>> config = {});

// The classifier's output document: where the telemetry came from, the window, the config and
// the verdicts (what `aegis-proposer` reads on stdin).
nlohmann::json to_json(const observation& o, const std::vector<verdict>& verdicts);

}  // namespace aegis::control
