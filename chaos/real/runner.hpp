// `aegis-chaos run`: one chaos script against a running local cluster, from the checks before
// anything is touched to the trace written at the end.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

namespace aegis::chaos::real {

struct run_options {
  std::string script_path;
  std::string cluster_dir = "cluster";  // as `./aegis cluster` defaults to, from the repo root
  std::optional<uint64_t> seed;         // default: the script's, else 1
  std::string trace_path;               // default: traces/<script stem>-<seed>.trace
  uint32_t sample_ms = 250;             // metrics sampling period
  std::string launcher;                 // config/cluster.sh
};

// Exit codes: 0 the run completed (and its history, if any, is linearizable); 1 it completed
// but the history is not proven linearizable or the trace could not be written; 2 refused
// before anything ran (bad script, options or cluster); 130 interrupted (faults healed, trace
// written). `stop` is set by a signal handler; the run notices it within ~50 ms.
int run_chaos(const run_options& o, const std::atomic<bool>& stop);

}  // namespace aegis::chaos::real
