// JSON forms of the control-plane values (control/incident.hpp).
#include "control/incident.hpp"

#include <stdexcept>

namespace aegis::control {

using nlohmann::json;

namespace {

constexpr std::string_view kNames[] = {"healthy",
                                       "election_storm",
                                       "leader_disk_stall",
                                       "slow_follower",
                                       "partition_stale_leader",
                                       "lease_starvation",
                                       "clock_skew",
                                       "overload",
                                       "flaky_link"};

// The field `key` of object `j`, or an error naming it.
const json& field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key))
    throw std::invalid_argument(std::string("missing field '") + key + "'");
  return j.at(key);
}

template <typename T>
T get(const json& j, const char* key) {
  try {
    return field(j, key).get<T>();
  } catch (const json::exception&) {
    throw std::invalid_argument(std::string("field '") + key + "' has the wrong type");
  }
}

template <typename T>
T get_or(const json& j, const char* key, T fallback) {
  return j.is_object() && j.contains(key) ? get<T>(j, key) : fallback;
}

incident_class class_field(const json& j) {
  const auto name = get<std::string>(j, "class");
  auto c = class_named(name);
  if (!c) throw std::invalid_argument("unknown incident class '" + name + "'");
  return *c;
}

evidence evidence_from_json(const json& j) {
  return {get<std::string>(j, "metric"), get_or<uint32_t>(j, "node", 0),
          get<int64_t>(j, "from_us"),    get<int64_t>(j, "to_us"),
          get<double>(j, "value"),       get<std::string>(j, "op"),
          get<double>(j, "threshold"),   get_or<std::string>(j, "note", "")};
}

envelope_check check_from_json(const json& j) {
  return {get<std::string>(j, "rule"), get<bool>(j, "passed"), get<std::string>(j, "reason"),
          get_or<std::string>(j, "detail", "")};
}

verification verification_from_json(const json& j) {
  verification v;
  v.trace = get<std::string>(j, "trace");
  v.seeds = get<std::vector<uint64_t>>(j, "seeds");
  for (const auto& r : field(j, "rows"))
    v.rows.push_back({get<std::string>(r, "metric"), get<double>(r, "before"),
                      get<double>(r, "after"), get<bool>(r, "higher_is_better")});
  v.target_metric = get<std::string>(j, "target_metric");
  v.improved = get<bool>(j, "improved");
  v.explanation = get_or<std::string>(j, "explanation", "");
  return v;
}

}  // namespace

std::string_view name_of(incident_class c) {
  const auto i = static_cast<size_t>(c);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::optional<incident_class> class_named(std::string_view name) {
  for (size_t i = 0; i < std::size(kNames); ++i)
    if (kNames[i] == name) return static_cast<incident_class>(i);
  return std::nullopt;
}

json to_json(const evidence& e) {
  return {{"metric", e.metric}, {"node", e.node}, {"from_us", e.from_us},     {"to_us", e.to_us},
          {"value", e.value},   {"op", e.op},     {"threshold", e.threshold}, {"note", e.note}};
}

json to_json(const verdict& v) {
  json ev = json::array();
  for (const auto& e : v.evidence)
    ev.push_back(to_json(e));
  return {{"class", name_of(v.cls)}, {"confidence", v.confidence}, {"nodes", v.nodes},
          {"from_us", v.from_us},    {"to_us", v.to_us},           {"summary", v.summary},
          {"evidence", ev}};
}

verdict verdict_from_json(const json& j) {
  verdict v;
  v.cls = class_field(j);
  v.confidence = get<double>(j, "confidence");
  if (!(v.confidence > 0 && v.confidence <= 1))
    throw std::invalid_argument("field 'confidence' must be in (0, 1]");
  v.nodes = get_or<std::vector<uint32_t>>(j, "nodes", {});
  v.from_us = get_or<int64_t>(j, "from_us", 0);
  v.to_us = get_or<int64_t>(j, "to_us", 0);
  v.summary = get_or<std::string>(j, "summary", "");
  if (j.contains("evidence"))
    for (const auto& e : field(j, "evidence"))
      v.evidence.push_back(evidence_from_json(e));
  return v;
}

json to_json(const advice& a) {
  json patch = json::array();
  for (const auto& c : a.patch)
    patch.push_back({{"key", c.key}, {"from", c.from}, {"to", c.to}});
  return {{"class", name_of(a.cls)},           {"patch", patch},
          {"rationale", a.rationale},          {"expected_effect", a.expected_effect},
          {"target_metric", a.target_metric},  {"rollback", a.rollback},
          {"recommendation", a.recommendation}};
}

advice advice_from_json(const json& j) {
  advice a;
  a.cls = class_field(j);
  for (const auto& c : field(j, "patch"))
    a.patch.push_back(
        {get<std::string>(c, "key"), get<std::string>(c, "from"), get<std::string>(c, "to")});
  a.rationale = get_or<std::string>(j, "rationale", "");
  a.expected_effect = get_or<std::string>(j, "expected_effect", "");
  a.target_metric = get_or<std::string>(j, "target_metric", "");
  a.rollback = get_or<std::string>(j, "rollback", "");
  a.recommendation = get_or<std::string>(j, "recommendation", "");
  return a;
}

json to_json(const envelope_check& c) {
  return {{"rule", c.rule}, {"passed", c.passed}, {"reason", c.reason}, {"detail", c.detail}};
}

json to_json(const verification& v) {
  json rows = json::array();
  for (const auto& r : v.rows)
    rows.push_back({{"metric", r.metric},
                    {"before", r.before},
                    {"after", r.after},
                    {"higher_is_better", r.higher_is_better}});
  return {{"trace", v.trace},       {"seeds", v.seeds},
          {"rows", rows},           {"target_metric", v.target_metric},
          {"improved", v.improved}, {"explanation", v.explanation}};
}

json to_json(const proposal& p) {
  json env = json::array();
  for (const auto& c : p.envelope)
    env.push_back(to_json(c));
  json j = {{"id", p.id},
            {"incident", to_json(p.incident)},
            {"advice", to_json(p.advice)},
            {"envelope", env},
            {"status", p.status},
            {"config_file", p.config_file}};
  j["verified"] = p.verified ? to_json(*p.verified) : json(nullptr);
  return j;
}

proposal proposal_from_json(const json& j) {
  proposal p;
  p.id = get<std::string>(j, "id");
  p.incident = verdict_from_json(field(j, "incident"));
  p.advice = advice_from_json(field(j, "advice"));
  for (const auto& c : field(j, "envelope"))
    p.envelope.push_back(check_from_json(c));
  if (j.contains("verified") && !j.at("verified").is_null())
    p.verified = verification_from_json(j.at("verified"));
  p.status = get<std::string>(j, "status");
  p.config_file = get_or<std::string>(j, "config_file", "");
  return p;
}

}  // namespace aegis::control
