// The classifier, advisor and verifier actors: each parses its input, calls the plain code of
// control/ (classify, advise + envelope, verify) and answers with JSON. Bad input is refused
// with an error naming what was wrong; nothing here throws out of a handler.
#include <map>

#include "control/actors/internal.hpp"
#include "control/actors/roles.hpp"
#include "control/actors/stages.hpp"
#include "control/classifier.hpp"

namespace aegis::control::actors {

namespace {

caf::result<json_list> on_classify(const window& w) {
  if (!w.error.empty()) return refused("classifier: no window: " + w.error);
  const auto obs = observation_of(w);
  json_list out;
  for (const auto& v : classify(obs.view))
    out.items.push_back(to_json(v).dump());
  return out;
}

// CAF 0.17.6 spawns a function actor that takes no arguments through a null empty-tuple
// pointer (UBSan: "reference binding to null pointer"); the classifier takes its (empty)
// settings so the spawn goes through a real tuple.
struct classifier_settings {};

classifier_actor::behavior_type classifier_fn(classifier_settings) {
  return {[](classify_atom, const window& w) { return on_classify(w); }};
}

// ---- Advisor -------------------------------------------------------------------------------

struct advisor_state {
  std::string config_file;
};
using advisor_pointer = advisor_actor::stateful_pointer<advisor_state>;

caf::result<std::string> on_advise(const std::string& config_file, const window& w,
                                   const std::string& verdict_json) {
  try {
    const auto v = verdict_from_json(nlohmann::json::parse(verdict_json));
    return to_json(advise_stage(v, inputs_for(w, config_file))).dump();
  } catch (const std::exception& e) {
    return refused(std::string("advisor: bad verdict: ") + e.what());
  }
}

advisor_actor::behavior_type advisor_fn(advisor_pointer self, std::string config_file) {
  self->state.config_file = std::move(config_file);
  return {[=](advise_atom, const window& w, const std::string& verdict_json) {
    return on_advise(self->state.config_file, w, verdict_json);
  }};
}

// ---- Verifier ------------------------------------------------------------------------------

// A replay runs the simulator over several seeds: the same proposal against the same incident
// is answered from a bounded cache (an incident that lasts several cycles is verified once).
constexpr size_t kVerifiedCacheEntries = 32;

struct verifier_state {
  std::string config_file;
  std::string scripts_dir;
  verify_options opt;
  std::map<std::string, proposal> verified;  // key: proposal id + incident script name
  std::deque<std::string> verified_order;    // oldest first, for eviction
};
using verifier_pointer = verifier_actor::stateful_pointer<verifier_state>;

void remember(verifier_state& st, const std::string& key, const proposal& p) {
  if (st.verified.emplace(key, p).second) st.verified_order.push_back(key);
  if (st.verified_order.size() > kVerifiedCacheEntries) {
    st.verified.erase(st.verified_order.front());
    st.verified_order.pop_front();
  }
}

proposal verified(verifier_state& st, const window& w, proposal p) {
  auto in = inputs_for(w, st.config_file);
  in.incident = incident_for(w, p.incident.cls, st.scripts_dir, in.incident_name);
  in.verify = st.opt;
  const auto key = p.id + "|" + in.incident_name;
  if (auto hit = st.verified.find(key); hit != st.verified.end()) {
    p.status = hit->second.status;
    p.envelope = hit->second.envelope;
    p.verified = hit->second.verified;
    return p;
  }
  p = verify_stage(std::move(p), in);
  remember(st, key, p);
  return p;
}

caf::result<std::string> on_verify(verifier_state& st, const window& w,
                                   const std::string& proposal_json) {
  proposal p;
  try {
    p = proposal_from_json(nlohmann::json::parse(proposal_json));
  } catch (const std::exception& e) {
    return refused(std::string("verifier: bad proposal: ") + e.what());
  }
  if (p.status != kAwaitingVerification)
    return refused("verifier: proposal " + p.id + " has status '" + p.status + "', expected '" +
                   kAwaitingVerification + "'");
  try {
    return to_json(verified(st, w, std::move(p))).dump();
  } catch (const std::exception& e) {
    return refused(std::string("verifier: replay failed: ") + e.what());
  }
}

verifier_actor::behavior_type verifier_fn(verifier_pointer self, std::string config_file,
                                          std::string scripts_dir, verify_options opt) {
  self->state.config_file = std::move(config_file);
  self->state.scripts_dir = std::move(scripts_dir);
  self->state.opt = std::move(opt);
  return {[=](verify_atom, const window& w, const std::string& proposal_json) {
    return on_verify(self->state, w, proposal_json);
  }};
}

}  // namespace

// Detached: each of these computes for a while (the verifier for seconds) and must not hold a
// scheduler thread that a node's consensus actor may need.
classifier_actor spawn_classifier(caf::actor_system& sys) {
  return sys.spawn<caf::detached>(classifier_fn, classifier_settings{});
}

advisor_actor spawn_advisor(caf::actor_system& sys, std::string config_file) {
  return sys.spawn<caf::detached>(advisor_fn, std::move(config_file));
}

verifier_actor spawn_verifier(caf::actor_system& sys, std::string config_file,
                              std::string scripts_dir, verify_options opt) {
  return sys.spawn<caf::detached>(verifier_fn, std::move(config_file), std::move(scripts_dir),
                                  std::move(opt));
}

}  // namespace aegis::control::actors
