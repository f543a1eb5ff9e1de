// The deterministic whole-cluster simulator: N pure Raft cores with in-memory storage (unsynced
// writes lost on crash), a virtual clock, the seeded network of network.hpp, per-node clock skew
// and fsync latency, a closed-loop KV client load, and the faults of a chaos script.
//
// Everything random is drawn from one generator seeded with the run's seed (each core gets its
// own seed derived from it, node id and incarnation), and events at equal times run in the order
// they were scheduled, so the same seed + script + config always yields the same trace digest.
// Raft's safety invariants are checked after every step; the client history is checked for
// linearizability at the end.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "chaos/history.hpp"
#include "chaos/linearizability.hpp"
#include "chaos/script.hpp"
#include "chaos/trace.hpp"
#include "config/raft_config.hpp"

namespace aegis::chaos::sim {

struct sim_options {
  uint64_t seed = 1;
  int64_t tick_us = 5'000;     // tick granularity: deadlines are rounded up to it (virtual)
  int64_t sample_us = 50'000;  // availability sampling period (virtual)
  bool check_linearizability = true;
  bool check_invariants = true;  // core::check_invariants after every step
  bool record_trace = false;     // fill run_summary::trace
  int64_t scrape_us = 250'000;   // trace metric samples this often (virtual), as aegis-chaos does
};

// What one run measured. Times are virtual.
struct run_summary {
  std::string script;
  uint64_t seed = 0;
  uint32_t nodes = 0;
  int64_t duration_us = 0;
  // Share of samples in which a write could commit: some live leader has committed an entry of
  // its term and reaches (both ways) a quorum of live voters.
  double availability = 0;
  uint32_t leader_changes = 0;  // times a node became leader
  uint64_t max_term = 0;
  double commit_p50_ms = 0, commit_p99_ms = 0;  // proposal at the leader -> applied there
  uint64_t messages_sent = 0, messages_lost = 0;
  uint64_t snapshots_installed = 0;
  uint64_t ops_ok = 0, ops_fail = 0, ops_unknown = 0;
  int64_t last_ok_us = -1;  // when the last successful client operation returned (-1: none)
  uint64_t events = 0;
  std::vector<std::string> violations;  // safety invariants broken (empty: none)
  lin_result linearizability;
  bool linearizability_checked = false;
  std::vector<std::string> timeline;  // faults and leader changes, for people
  uint64_t digest = 0;                // of the whole trace
  double wall_seconds = 0;
  history client_history;
  std::shared_ptr<trace::trace> trace;  // with sim_options::record_trace; else null

  bool passed() const {
    return violations.empty() &&
           (!linearizability_checked || linearizability.verdict == lin_verdict::linearizable);
  }
};

// The raft config a script asks for: defaults overridden by its `set` lines. An unknown key or a
// bad value is an error at the setting's position; so is a config that breaks a rule.
std::variant<config::raft_config, parse_error> config_for(const script& s);

// The config a trace ran under: its `config` lines over the defaults, then `overrides`
// (KEY=VALUE). The error names the bad key or the broken rule.
std::variant<config::raft_config, std::string> config_of(
    const trace::trace& t, const std::vector<std::string>& overrides = {});

run_summary simulate(const script& s, const config::raft_config& cfg, const sim_options& opt);

// From now on an assertion failure also prints the command that replays `seed` of the sweep.
void replay_on_assert(uint64_t seed);

// The summary as an aligned table (what `./aegis demo` prints).
std::string format_summary(const run_summary& r, bool with_timeline);

}  // namespace aegis::chaos::sim
