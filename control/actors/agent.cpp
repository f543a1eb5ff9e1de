// The agent actor: runs the cycles. A tick starts a cycle unless one is in flight (then the tick
// is skipped and said so: one cycle at a time bounds every stage's queue). A cycle:
//   observe -> classify -> per anomaly: advise (+ envelope) -> verify when the envelope passed
//   -> propose all (ledger, PR files); beside it, for an incident: root causes, and a postmortem
//   when the set of classes differs from the last one written.
// When both branches are done it prints one status line.
#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "control/actors/internal.hpp"
#include "control/actors/roles.hpp"
#include "control/actors/stages.hpp"
#include "control/proposer/ledger.hpp"

namespace aegis::control::actors {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How long each stage may take before the cycle goes on without it (the answer, if it comes
// later, is dropped). The verifier simulates several seeds per proposal; the rest are quick.
constexpr auto kObserveTimeout = 30s;
constexpr auto kClassifyTimeout = 60s;
constexpr auto kAdviseTimeout = 60s;
constexpr auto kVerifyTimeout = 15min;
constexpr auto kProposeTimeout = 5min;
constexpr auto kCauseTimeout = 60s;
constexpr auto kPostmortemTimeout = 5min;

struct cycle_run {
  clock_type::time_point started;
  window w;
  json_list verdicts;                  // all of them, as the classifier answered
  std::vector<std::string> proposals;  // final proposal JSON, one per anomaly
  size_t proposals_pending = 0;        // anomalies still with the advisor or the verifier
  int branches_pending = 0;            // proposals, postmortem
  cycle_outcome outcome;
};

struct agent_state {
  agent_settings s;
  observer_actor observer;
  classifier_actor classifier;
  advisor_actor advisor;
  verifier_actor verifier;
  proposer_actor proposer;
  root_cause_actor root_cause;
  postmortem_actor postmortem;
  status_sink sink;
  std::optional<cycle_run> run;
  uint64_t cycles_started = 0;
  agent_stats stats;
  std::string last_postmortem_classes;  // "" before the first postmortem
};
using agent_pointer = agent_actor::stateful_pointer<agent_state>;

bool limit_reached(const agent_state& st, uint64_t count) {
  return st.s.cycles != 0 && count >= st.s.cycles;
}

void finish_cycle(agent_pointer self) {
  auto& st = self->state;
  auto& run = *st.run;
  run.outcome.took_s = std::chrono::duration<double>(clock_type::now() - run.started).count();
  const auto line = status_line(run.outcome, proposer::utc_now());
  st.stats.cycles_done++;
  st.stats.last_line = line;
  st.stats.last_classes.clear();
  for (const auto& v : run.outcome.verdicts)
    st.stats.last_classes.emplace_back(name_of(v.cls));
  st.run.reset();
  st.sink(line);
  // Quitting with a non-normal reason takes the linked stage actors down with the agent.
  if (limit_reached(st, st.stats.cycles_done)) self->quit(caf::exit_reason::user_shutdown);
}

void branch_done(agent_pointer self) {
  if (--self->state.run->branches_pending == 0) finish_cycle(self);
}

// A stage failed: noted in the status line; the cycle goes on with what it has.
auto noting(agent_pointer self, std::string stage, std::function<void()> then) {
  return [=](caf::error& err) {
    if (self->state.run) self->state.run->outcome.errors.push_back(stage + ": " + describe(err));
    then();
  };
}

// ---- Proposals branch ------------------------------------------------------------------------

void propose_all(agent_pointer self) {
  auto& run = *self->state.run;
  self->request(self->state.proposer, kProposeTimeout, propose_atom::value,
                json_list{run.proposals})
      .then(
          [=](proposer_report& r) {
            auto& o = self->state.run->outcome;
            o.by_status = r.by_status;
            o.files.insert(o.files.end(), r.files.begin(), r.files.end());
            if (!r.error.empty()) o.errors.push_back(r.error);
            if (r.exit_code != 0) o.errors.push_back("proposer: a proposal failed (proposer.log)");
            branch_done(self);
          },
          noting(self, "proposer", [=] { branch_done(self); }));
}

void proposal_final(agent_pointer self, std::string proposal_json) {
  auto& run = *self->state.run;
  if (!proposal_json.empty()) run.proposals.push_back(std::move(proposal_json));
  if (--run.proposals_pending > 0) return;
  if (run.proposals.empty()) return branch_done(self);
  propose_all(self);
}

void advised(agent_pointer self, std::string proposal_json) {
  std::string status;
  try {
    status = nlohmann::json::parse(proposal_json).value("status", "");
  } catch (const std::exception&) {
    // Leave it to the proposer, which refuses a malformed proposal by name.
  }
  if (status != kAwaitingVerification) return proposal_final(self, std::move(proposal_json));
  self->request(self->state.verifier, kVerifyTimeout, verify_atom::value, self->state.run->w,
                proposal_json)
      .then([=](std::string& verified) { proposal_final(self, std::move(verified)); },
            noting(self, "verifier", [=] { proposal_final(self, ""); }));
}

void start_proposals(agent_pointer self, const std::vector<std::string>& anomalies) {
  auto& run = *self->state.run;
  if (anomalies.empty()) return branch_done(self);
  run.proposals_pending = anomalies.size();
  for (const auto& v : anomalies)
    self->request(self->state.advisor, kAdviseTimeout, advise_atom::value, run.w, v)
        .then([=](std::string& p) { advised(self, std::move(p)); },
              noting(self, "advisor", [=] { proposal_final(self, ""); }));
}

// ---- Postmortem branch ---------------------------------------------------------------------

std::string classes_key(const std::vector<verdict>& vs) {
  std::set<std::string> names;
  for (const auto& v : vs)
    if (v.cls != incident_class::healthy) names.emplace(name_of(v.cls));
  std::string key;
  for (const auto& n : names)
    key += (key.empty() ? "" : ",") + n;
  return key;
}

void write_postmortem(agent_pointer self, const std::string& classes) {
  auto& run = *self->state.run;
  self->request(self->state.postmortem, kPostmortemTimeout, postmortem_atom::value, run.w,
                run.verdicts)
      .then(
          [=](postmortem_report& r) {
            auto& o = self->state.run->outcome;
            if (!r.path.empty()) {
              o.files.push_back(r.path);
              self->state.last_postmortem_classes = classes;
            }
            if (!r.error.empty()) o.errors.push_back(r.error);
            branch_done(self);
          },
          noting(self, "postmortem", [=] { branch_done(self); }));
}

void start_postmortem(agent_pointer self) {
  auto& run = *self->state.run;
  const auto classes = classes_key(run.outcome.verdicts);
  if (classes.empty()) return branch_done(self);
  self->request(self->state.root_cause, kCauseTimeout, cause_atom::value, run.w, run.verdicts)
      .then(
          [=](json_list& causes) {
            for (const auto& c : causes.items)
              self->state.run->outcome.causes.push_back(nlohmann::json::parse(c).value("id", "?"));
            // An incident that lasts several cycles gets one postmortem, not one per cycle.
            if (classes == self->state.last_postmortem_classes) return branch_done(self);
            write_postmortem(self, classes);
          },
          noting(self, "root_cause", [=] { branch_done(self); }));
}

// ---- The cycle -----------------------------------------------------------------------------

size_t node_count(const window& w) {
  std::set<uint32_t> nodes;
  for (const auto& s : w.samples)
    nodes.insert(s.node);
  return nodes.size();
}

void classified(agent_pointer self, json_list& verdicts) {
  auto& run = *self->state.run;
  std::vector<std::string> anomalies;
  for (const auto& item : verdicts.items) {
    try {
      auto v = verdict_from_json(nlohmann::json::parse(item));
      if (v.cls != incident_class::healthy) anomalies.push_back(item);
      run.outcome.verdicts.push_back(std::move(v));
    } catch (const std::exception& e) {
      run.outcome.errors.push_back(std::string("classifier: bad verdict: ") + e.what());
    }
  }
  run.verdicts = std::move(verdicts);
  run.branches_pending = 2;
  start_proposals(self, anomalies);
  if (self->state.run) start_postmortem(self);  // the first branch may have finished the cycle
}

void observed(agent_pointer self, window& w) {
  auto& run = *self->state.run;
  auto& o = run.outcome;
  if (!w.error.empty()) {
    o.window_error = w.error;
    return finish_cycle(self);
  }
  o.source_kind = w.kind;
  o.nodes = node_count(w);
  if (!w.samples.empty())
    o.window_s = double(w.samples.back().at_us - w.samples.front().at_us) / 1e6;
  run.w = std::move(w);
  self->request(self->state.classifier, kClassifyTimeout, classify_atom::value, run.w)
      .then([=](json_list& vs) { classified(self, vs); },
            noting(self, "classifier", [=] { finish_cycle(self); }));
}

void start_cycle(agent_pointer self) {
  auto& st = self->state;
  const uint64_t cycle = ++st.cycles_started;
  st.run.emplace();
  st.run->started = clock_type::now();
  st.run->outcome.cycle = cycle;
  self->request(st.observer, kObserveTimeout, observe_atom::value, cycle)
      .then([=](window& w) { observed(self, w); },
            noting(self, "observer", [=] { finish_cycle(self); }));
}

void on_tick(agent_pointer self) {
  auto& st = self->state;
  if (st.run) {
    st.stats.ticks_skipped++;
    const double busy_s =
        std::chrono::duration<double>(clock_type::now() - st.run->started).count();
    st.sink(proposer::utc_now() + " tick skipped: cycle " + std::to_string(st.run->outcome.cycle) +
            " still in flight after " + std::to_string(int(busy_s)) + "s (" +
            std::to_string(st.stats.ticks_skipped) + " skipped so far)");
  } else {
    start_cycle(self);
  }
  if (!limit_reached(st, st.cycles_started))
    self->delayed_send(self, ms_of(st.s.source.window_s), tick_atom::value);
}

agent_actor::behavior_type agent_fn(agent_pointer self, agent_settings s, stage_handles stages,
                                    status_sink sink) {
  auto& st = self->state;
  std::tie(st.observer, st.classifier, st.advisor, st.verifier, st.proposer, st.root_cause,
           st.postmortem) = std::move(stages);
  // Linked: the stages stop with the agent (and the agent with any stage that dies).
  std::apply([&](const auto&... h) { (self->link_to(h), ...); },
             std::tie(st.observer, st.classifier, st.advisor, st.verifier, st.proposer,
                      st.root_cause, st.postmortem));
  st.s = std::move(s);
  st.sink = std::move(sink);
  // A trace is whole from the start; live telemetry needs one window first.
  if (st.s.source.kind == "trace")
    self->send(self, tick_atom::value);
  else
    self->delayed_send(self, ms_of(st.s.source.window_s), tick_atom::value);
  return {
      [=](tick_atom) { on_tick(self); },
      [=](stats_atom) {
        auto out = self->state.stats;
        out.in_flight = self->state.run.has_value();
        return out;
      },
  };
}

bool valid_endpoint(const std::string& e) {
  const auto colon = e.rfind(':');
  return colon != std::string::npos && colon > 0 && colon + 1 < e.size() &&
         e.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
         e.find_first_of(" /?#@") == std::string::npos;
}

}  // namespace

std::string settings_error(const agent_settings& s) {
  const auto& src = s.source;
  if (src.kind == "trace" && src.trace_path.empty()) return "--trace: a trace file is required";
  if (src.kind == "live") {
    if (src.endpoints.empty()) return "--endpoints: at least one HOST:PORT is required";
    for (const auto& e : src.endpoints)
      if (!valid_endpoint(e)) return "--endpoints: '" + e + "' is not HOST:PORT";
  }
  if (src.kind == "node" && src.node_id == 0) return "agent: the node id is required";
  if (src.kind != "trace" && src.kind != "live" && src.kind != "node")
    return "agent: source kind '" + src.kind + "' is not trace, live or node";
  if (!(src.window_s > 0)) return "--window-s: must be > 0";
  if (!(src.period_s > 0)) return "--period-s: must be > 0";
  if (src.period_s > src.window_s) return "--period-s: must not exceed --window-s";
  if (s.out_dir.empty()) return "--out: an output directory is required";
  const auto& p = s.proposer;
  const bool github = !p.github.repo.empty() && !p.github.token.empty();
  if (!p.dry_run && p.config_repo.empty() && !github)
    return "--no-dry-run needs --config-repo (a local git repository) or a GitHub repository "
           "and token";
  if (!p.config_repo.empty() && p.config_file.empty())
    return "--config-repo needs --config-file (the file to patch, relative to the repository)";
  return "";
}

agent_actor spawn_agent(caf::actor_system& sys, agent_settings s, stage_handles stages,
                        status_sink sink) {
  return sys.spawn(agent_fn, std::move(s), std::move(stages), std::move(sink));
}

agent_actor spawn_pipeline(caf::actor_system& sys, const agent_settings& s,
                           node::telemetry_reader_actor reader, status_sink sink) {
  auto prop = s.proposer;
  if (prop.out_dir.empty()) prop.out_dir = s.out_dir;
  proposer::postmortem_options pm;
  pm.dry_run = prop.dry_run;
  pm.out_dir = s.out_dir;
  pm.corpus_dir = s.corpus_dir;
  pm.ledger_path = prop.ledger_path;
  pm.github = prop.github;
  const auto& file = prop.config_file.empty() ? s.config_file : prop.config_file;
  stage_handles stages{spawn_observer(sys, s.source, std::move(reader)),
                       spawn_classifier(sys),
                       spawn_advisor(sys, file),
                       spawn_verifier(sys, file, s.scripts_dir, s.verify),
                       spawn_proposer(sys, prop),
                       spawn_root_cause(sys, s.corpus_dir, prop.ledger_path),
                       spawn_postmortem(sys, pm)};
  return spawn_agent(sys, s, std::move(stages), std::move(sink));
}

}  // namespace aegis::control::actors
