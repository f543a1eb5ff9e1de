// What the agent's actors send each other (roles.hpp says who sends what to whom): plain values
// only. Telemetry travels as samples, the stages' documents (verdicts, proposals, ranked causes)
// as the JSON of control/incident.hpp, so a message holds nothing that could reach a node.
//
// The type-ID block `aegis_control` starts 200 IDs after the node's block `aegis`
// (actors/node/messages.hpp, which starts at caf::first_custom_type_id): both may be compiled into
// one process (an agent embedded in aegis-node), and tests/unit/capability_test.cpp asserts the
// two ranges do not overlap.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "chaos/trace.hpp"

namespace aegis::chaos::trace {

// CAF needs to be able to inspect every message element; a sample is a plain value.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metric_sample& x) {
  return f(caf::meta::type_name("metric_sample"), x.at_us, x.node, x.up, x.values);
}

}  // namespace aegis::chaos::trace

namespace aegis::control::actors {

// One window of telemetry, as the observer saw it. `error` set: there is no window this time
// (unreadable trace, no endpoint answered yet), and it says why.
struct window {
  uint64_t cycle = 0;
  std::string kind;                    // "trace", "live" (HTTP /metrics) or "node" (in-process)
  std::string source;                  // the trace path, the endpoints, or "node N"
  std::string script_name;             // kind == "trace": the script that made it
  uint64_t seed = 0;                   // kind == "trace"
  std::vector<std::string> endpoints;  // kind == "live": node k at k-1
  std::vector<std::pair<std::string, std::string>> config;  // the Raft config, when known
  int64_t sample_period_us = 0;
  int64_t started_unix_ms = 0;  // wall clock at sample time 0 (live and node windows)
  std::vector<chaos::trace::metric_sample> samples;  // time order
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, window& x) {
  return f(caf::meta::type_name("window"), x.cycle, x.kind, x.source, x.script_name, x.seed,
           x.endpoints, x.config, x.sample_period_us, x.started_unix_ms, x.samples, x.error);
}

// A list of JSON documents: verdicts, proposals or ranked causes, one per item.
struct json_list {
  std::vector<std::string> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, json_list& x) {
  return f(caf::meta::type_name("json_list"), x.items);
}

// What the proposer did with a cycle's proposals.
struct proposer_report {
  int32_t exit_code = 0;  // run_proposer's: 0 every proposal handled, 1 one failed
  std::vector<std::pair<std::string, uint32_t>> by_status;  // "proposed" -> 1, ...
  std::vector<std::string> files;                           // the dry-run PR files written
  std::string error;  // a proposal that could not be read (a bug upstream), or run_proposer threw
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, proposer_report& x) {
  return f(caf::meta::type_name("proposer_report"), x.exit_code, x.by_status, x.files, x.error);
}

// Where the postmortem went ("" when none was written) and why not, if it failed.
struct postmortem_report {
  std::string path;
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, postmortem_report& x) {
  return f(caf::meta::type_name("postmortem_report"), x.path, x.error);
}

// The agent's counters, for its driver (aegis-agent, the node) and tests.
struct agent_stats {
  uint64_t cycles_done = 0;
  uint64_t ticks_skipped = 0;  // a tick came while a cycle was in flight
  bool in_flight = false;
  std::string last_line;                  // the last status line
  std::vector<std::string> last_classes;  // the last cycle's verdict classes
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_stats& x) {
  return f(caf::meta::type_name("agent_stats"), x.cycles_done, x.ticks_skipped, x.in_flight,
           x.last_line, x.last_classes);
}

}  // namespace aegis::control::actors

CAF_BEGIN_TYPE_ID_BLOCK(aegis_control, caf::first_custom_type_id + 200)
CAF_ADD_TYPE_ID(aegis_control, (aegis::control::actors::window))
CAF_ADD_TYPE_ID(aegis_control, (aegis::control::actors::json_list))
CAF_ADD_TYPE_ID(aegis_control, (aegis::control::actors::proposer_report))
CAF_ADD_TYPE_ID(aegis_control, (aegis::control::actors::postmortem_report))
CAF_ADD_TYPE_ID(aegis_control, (aegis::control::actors::agent_stats))
// Atom texts start with "ag": an atom is its text, and the node's "tick", "read" or "propose"
// must never be the same type as one of ours (the capability test would rightly flag it).
CAF_ADD_ATOM(aegis_control, aegis::control::actors, tick_atom, "agtick")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, observe_atom, "agobserve")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, classify_atom, "agclassify")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, advise_atom, "agadvise")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, verify_atom, "agverify")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, propose_atom, "agpropose")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, cause_atom, "agcause")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, postmortem_atom, "agpostmort")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, stats_atom, "agstats")
CAF_ADD_ATOM(aegis_control, aegis::control::actors, sample_atom, "agsample")
CAF_END_TYPE_ID_BLOCK(aegis_control)
