// From verdicts to proposals: for each anomaly the advisor's patch, the envelope's judgement,
// the verifier's table, and the resulting status -- plain code that the agent's actors call one
// stage at a time and that aegis-proposer runs in one go. Nothing here writes anywhere.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "chaos/script.hpp"
#include "config/envelope.hpp"
#include "config/raft_config.hpp"
#include "control/incident.hpp"
#include "control/telemetry_view.hpp"
#include "control/verifier.hpp"

namespace aegis::control {

// What the envelope needs to know about the cluster, measured from its telemetry: voters (the
// nodes seen), peer RTT p99 (the worst one-second mean heartbeat round trip on any leader), and
// the write rate (commit index growth on the leader).
config::cluster_facts facts_from(const telemetry_view& v);

struct stage_inputs {
  config::raft_config current;  // the config in force
  config::cluster_facts facts;
  // The incident to replay: the recorded trace's script, or the class's fixture script.
  std::optional<chaos::script> incident;
  std::string incident_name;
  std::string config_file;  // the config file a patch edits (for the proposal id and PR)
  verify_options verify;
};

// decide() in two halves, for two actors: advise_stage is advice + envelope (status
// "recommendation_only", "rejected_by_envelope", or kAwaitingVerification); verify_stage takes
// an awaiting proposal to "proposed" or "negative_result" (anything else passes unchanged).
inline constexpr const char* kAwaitingVerification = "awaiting_verification";
proposal advise_stage(const verdict& v, const stage_inputs& in);
proposal verify_stage(proposal p, const stage_inputs& in);

// One verdict through advisor -> envelope -> verifier: verify_stage(advise_stage(v, in), in).
// Status: "proposed", "rejected_by_envelope", "negative_result", or "recommendation_only" (no
// patch: the advice is for people; nothing to verify or propose).
proposal decide(const verdict& v, const stage_inputs& in);

// The same for every non-healthy verdict.
std::vector<proposal> decide_all(const std::vector<verdict>& verdicts, const stage_inputs& in);

// A stable id: class + patch + config file, hashed, so retrying a proposal finds its branch/PR.
std::string proposal_id(const advice& a, const std::string& config_file);

// From the classifier's output document (observer.hpp to_json: source, config, verdicts) to
// proposals: the config in force from its `config`, the facts from the trace it names (or none
// for a live source), the incident to replay from that trace's script or else the class's
// fixture script under scripts_dir. Throws std::invalid_argument on a malformed document.
struct document_options {
  std::string scripts_dir;  // chaos/scripts
  std::string config_file;  // the config file a patch edits
  verify_options verify;
};
std::vector<proposal> proposals_from_document(const nlohmann::json& doc,
                                              const document_options& opt);

// The script of a class's fixture (chaos/scripts/fixtures/<class>.chaos under scripts_dir).
std::optional<chaos::script> fixture_script(incident_class c, const std::string& scripts_dir);

}  // namespace aegis::control
