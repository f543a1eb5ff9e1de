// What the control-plane stages hand each other: the classifier's verdicts, the advisor's
// advice (a config patch or a recommendation), the envelope's judgement and the verifier's
// before/after table. Plain values with JSON forms (nlohmann-json), so the stages can run as
// actors in one process or as separate binaries in a pipe (`aegis-classifier --once |
// aegis-proposer --dry-run`). Nothing here can reach a node: these are descriptions, not handles.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aegis::control {

// The incident classes the classifier names: one per fixture class of tests/fixtures/traces/.
enum class incident_class : uint8_t {
  healthy,
  election_storm,          // elections keep failing or repeating: timeouts too tight
  leader_disk_stall,       // the leader's fsync stalls and leadership flaps
  slow_follower,           // one follower falls behind: growing match lag, snapshot sends
  partition_stale_leader,  // a node cut off keeps an old term/leadership while others move on
  lease_starvation,        // leases expire around a leader change: keep-alives lost
  clock_skew,              // nodes' clocks disagree (stamp offsets)
  overload,                // proposal backlog and apply lag
  flaky_link,              // one peer link loses messages (one way)
};

inline constexpr incident_class kAllClasses[] = {incident_class::healthy,
                                                 incident_class::election_storm,
                                                 incident_class::leader_disk_stall,
                                                 incident_class::slow_follower,
                                                 incident_class::partition_stale_leader,
                                                 incident_class::lease_starvation,
                                                 incident_class::clock_skew,
                                                 incident_class::overload,
                                                 incident_class::flaky_link};

// "election_storm" etc.; parse returns nullopt for an unknown name.
std::string_view name_of(incident_class c);
std::optional<incident_class> class_named(std::string_view name);

// One fact a verdict rests on: a metric over a window compared with a threshold.
struct evidence {
  std::string metric;   // series or derived quantity, e.g. "aegis_raft_term (max - min)"
  uint32_t node = 0;    // the node it was measured on; 0: the cluster as a whole
  int64_t from_us = 0;  // the window, in trace time
  int64_t to_us = 0;
  double value = 0;      // what was measured
  std::string op;        // ">=", ">", "<=", "<", "=="
  double threshold = 0;  // what it was compared against
  std::string note;      // one line for a person: what it means
};

// One anomaly the classifier found (or `healthy`). Several concurrent anomalies are separate
// verdicts. Invariant: 0 < confidence <= 1; evidence is non-empty for every class but healthy.
struct verdict {
  incident_class cls = incident_class::healthy;
  double confidence = 0;        // calibrated: the share of the class's rules that held, weighted
  std::vector<uint32_t> nodes;  // the nodes involved (e.g. the slow follower), sorted
  int64_t from_us = 0;          // when the anomaly was first and last seen
  int64_t to_us = 0;
  std::string summary;  // one sentence
  std::vector<control::evidence> evidence;
};

// One config key set to a new value.
struct config_change {
  std::string key;   // a key of config/schema.hpp (raft section)
  std::string from;  // the value in force, as config::get_field prints it
  std::string to;
};

// The advisor's answer for one verdict. A class no config can fix (a failing disk) gets a
// recommendation and no patch.
struct advice {
  incident_class cls = incident_class::healthy;
  std::vector<config_change> patch;  // empty: nothing to propose
  std::string rationale;             // why this change addresses the class
  std::string expected_effect;       // what should improve, in the verifier's terms
  std::string target_metric;         // the verifier's row that must improve, e.g. "leader_changes"
  std::string rollback;              // how to undo it
  std::string recommendation;        // for people: what to do besides (or instead of) a patch
};

// One rule of the safety envelope (config/envelope.hpp) applied to a proposed config.
struct envelope_check {
  std::string rule;  // short id, e.g. "election_timeout_vs_heartbeat"
  bool passed = false;
  std::string reason;  // why the rule exists (one sentence)
  std::string detail;  // the numbers it compared, e.g. "1000 ms >= 10 x 100 ms"
};

// One row of the verifier's before/after table: a figure of the simulated replay (median over
// the seeds) under the current and the proposed config.
struct verification_row {
  std::string metric;  // "availability", "leader_changes", "commit_p99_ms", "lease_expiries",
                       // "violations", ...
  double before = 0;
  double after = 0;
  bool higher_is_better = false;
};

struct verification {
  std::string trace;            // the trace replayed (path or name)
  std::vector<uint64_t> seeds;  // the same seeds for both configs
  std::vector<verification_row> rows;
  std::string target_metric;  // the advice's target row
  bool improved = false;      // the target row improved and no safety row got worse
  std::string explanation;    // one sentence: why it is (not) proposed
};

// Everything the proposer needs for one pull request (or one ledger line when it is not
// proposed). `status` is "proposed", "rejected_by_envelope" or "negative_result".
struct proposal {
  std::string id;  // stable: hash of class + patch + config file, so a retry finds its PR
  verdict incident;
  control::advice advice;
  std::vector<envelope_check> envelope;
  std::optional<verification> verified;  // absent when the envelope rejected the patch
  std::string status;
  std::string config_file;  // the config file the patch edits, relative to the config repo
};

nlohmann::json to_json(const envelope_check& c);
nlohmann::json to_json(const verification& v);
nlohmann::json to_json(const proposal& p);
proposal proposal_from_json(const nlohmann::json& j);

nlohmann::json to_json(const evidence& e);
nlohmann::json to_json(const verdict& v);
nlohmann::json to_json(const advice& a);
// Parse; throw std::invalid_argument naming the field on bad input.
verdict verdict_from_json(const nlohmann::json& j);
advice advice_from_json(const nlohmann::json& j);

}  // namespace aegis::control
