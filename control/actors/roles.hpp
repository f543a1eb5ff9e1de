// The agent's actors (DESIGN.md "Control plane"): one typed_actor alias per role, the settings
// each is spawned with, and its spawn function. Actors are thin shells: each hands its message to
// the plain code of control/ (observer, classifier, advisor, verifier, proposer, postmortem) and
// answers with plain values (messages.hpp).
//
//   agent --observe--> observer  (trace file | /metrics over HTTP | node's telemetry_reader)
//   agent --classify(window)--> classifier                        -> verdicts
//   agent --advise(window, verdict)--> advisor  (advice + envelope) -> proposal
//   agent --verify(window, proposal)--> verifier (simulator replay) -> proposal
//   agent --propose(proposals)--> proposer  (ledger, dry-run PR / git / GitHub)
//   agent --cause(window, verdicts)--> root_cause (BM25 over the runbook corpus)
//   agent --postmortem(window, verdicts)--> postmortem (markdown / GitHub issue)
//
// Capability separation: every actor handle an agent actor can hold reaches it through one of
// the spawn functions below (their parameters, and the handles they return). `agent_held_handles`
// lists those handle types; tests/unit/capability_test.cpp checks at compile time that none of
// them has a mutating node message in its interface and that no node interface converts to one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "actors/node/telemetry_reader.hpp"
#include "control/actors/messages.hpp"
#include "control/proposer/postmortem.hpp"
#include "control/proposer/proposer.hpp"
#include "control/verifier.hpp"

namespace aegis::control::actors {

// ---- Roles ---------------------------------------------------------------------------------

// Keeps the newest window of telemetry (sampling itself for live and node sources) and hands it
// out per cycle.
using observer_actor =
    caf::typed_actor<caf::replies_to<observe_atom, uint64_t>::with<window>,  // cycle number
                     caf::reacts_to<sample_atom>>;                           // internal: take one

// Verdicts (control/incident.hpp JSON, most confident first) for a window.
using classifier_actor = caf::typed_actor<caf::replies_to<classify_atom, window>::with<json_list>>;

// One verdict (JSON) -> a proposal (JSON) with the advice and the envelope's checks. Status
// "recommendation_only", "rejected_by_envelope", or "awaiting_verification".
using advisor_actor =
    caf::typed_actor<caf::replies_to<advise_atom, window, std::string>::with<std::string>>;

// An "awaiting_verification" proposal -> "proposed" or "negative_result", with its table.
using verifier_actor =
    caf::typed_actor<caf::replies_to<verify_atom, window, std::string>::with<std::string>>;

// Every proposal of a cycle -> ledger, and a PR (dry-run files, or git/GitHub) for "proposed".
using proposer_actor =
    caf::typed_actor<caf::replies_to<propose_atom, json_list>::with<proposer_report>>;

// Ranked root causes: {"id","title","score"} per item, best first.
using root_cause_actor =
    caf::typed_actor<caf::replies_to<cause_atom, window, json_list>::with<json_list>>;

// The incident's postmortem.
using postmortem_actor =
    caf::typed_actor<caf::replies_to<postmortem_atom, window, json_list>::with<postmortem_report>>;

// Runs the cycles: one in flight at a time; a tick that finds one running is skipped and said.
using agent_actor =
    caf::typed_actor<caf::reacts_to<tick_atom>, caf::replies_to<stats_atom>::with<agent_stats>>;

// Every stage an agent drives, in pipeline order.
using stage_handles = std::tuple<observer_actor, classifier_actor, advisor_actor, verifier_actor,
                                 proposer_actor, root_cause_actor, postmortem_actor>;

// Every actor handle type an agent actor may hold: the stages, the agent itself, and the node's
// read-only telemetry interface. Nothing else (no untyped caf::actor either).
using agent_held_handles =
    caf::detail::type_list<observer_actor, classifier_actor, advisor_actor, verifier_actor,
                           proposer_actor, root_cause_actor, postmortem_actor, agent_actor,
                           node::telemetry_reader_actor>;

// ---- Settings ------------------------------------------------------------------------------

struct source_settings {
  std::string kind;                    // "trace", "live" or "node"
  std::string trace_path;              // kind == "trace"
  std::vector<std::string> endpoints;  // kind == "live": host:port of each node's /metrics
  uint32_t node_id = 0;                // kind == "node": the node the reader belongs to
  std::vector<std::pair<std::string, std::string>> config;  // the Raft config, when known
  double window_s = 20;                                     // the telemetry a cycle looks at
  double period_s = 0.25;  // one sample round this often (live and node)
};

struct agent_settings {
  source_settings source;
  uint64_t cycles = 0;      // stop after this many; 0: run until stopped
  std::string out_dir;      // proposals/, postmortems/, agent.log
  std::string scripts_dir;  // chaos/scripts: the fixtures a live incident is replayed from
  std::string config_file = "aegis.ini";  // the config file a patch edits (proposal id, PR)
  verify_options verify;
  proposer::proposer_options proposer;  // dry_run, repo, ledger; out/log are set by the agent
  std::string corpus_dir = proposer::default_corpus_dir();
};

// Where status lines go (aegis-agent: stdout; a node: its log).
using status_sink = std::function<void(const std::string&)>;

// What is wrong with the settings (one line naming the option), or "" when they can run.
std::string settings_error(const agent_settings& s);

// ---- Spawning ------------------------------------------------------------------------------

// `reader` is used only for source kind "node" (and may be invalid otherwise).
observer_actor spawn_observer(caf::actor_system& sys, source_settings s,
                              node::telemetry_reader_actor reader);
classifier_actor spawn_classifier(caf::actor_system& sys);
advisor_actor spawn_advisor(caf::actor_system& sys, std::string config_file);
verifier_actor spawn_verifier(caf::actor_system& sys, std::string config_file,
                              std::string scripts_dir, verify_options opt);
proposer_actor spawn_proposer(caf::actor_system& sys, proposer::proposer_options opt);
root_cause_actor spawn_root_cause(caf::actor_system& sys, std::string corpus_dir,
                                  std::string ledger_path);
postmortem_actor spawn_postmortem(caf::actor_system& sys, proposer::postmortem_options opt);
agent_actor spawn_agent(caf::actor_system& sys, agent_settings s, stage_handles stages,
                        status_sink sink);

// Every stage plus the agent, wired; the first tick is scheduled. The reader is the only node
// handle involved (kind "node"); the agent stops itself after s.cycles cycles.
agent_actor spawn_pipeline(caf::actor_system& sys, const agent_settings& s,
                           node::telemetry_reader_actor reader, status_sink sink);

}  // namespace aegis::control::actors
