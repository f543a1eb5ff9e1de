// See pipeline.hpp.
#include "control/pipeline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chaos/sim/digest.hpp"
#include "config/schema.hpp"
#include "control/advisor/advisor.hpp"
#include "control/observer.hpp"

namespace aegis::control {

namespace {

constexpr int64_t kSecondUs = 1'000'000;

// The peer round trip "p99" a trace allows (it keeps histograms as sum and count only): the 90th
// percentile of the one-second mean heartbeat round trips of every leader to every peer. Not the
// maximum: a follower that was paused answers its queued heartbeats late, once, and that is not
// the network.
std::optional<uint32_t> rtt_p99_ms(const telemetry_view& v) {
  std::vector<double> means;
  for (uint32_t n : v.nodes())
    for (uint32_t p : v.peers(n, "aegis_raft_heartbeat_rtt_seconds_count"))
      for (int64_t t : v.rounds()) {
        const double c =
            v.increase(n, peer_key("aegis_raft_heartbeat_rtt_seconds_count", p), t - kSecondUs, t);
        const double s =
            v.increase(n, peer_key("aegis_raft_heartbeat_rtt_seconds_sum", p), t - kSecondUs, t);
        if (c > 0) means.push_back(s / c);
      }
  if (means.empty()) return std::nullopt;
  std::sort(means.begin(), means.end());
  return uint32_t(std::ceil(means[means.size() * 9 / 10] * 1000));
}

// Entries committed per second on the cluster's leaders over the window.
std::optional<uint32_t> write_rate(const telemetry_view& v) {
  double best = 0;
  for (uint32_t n : v.nodes())
    best = std::max(best, v.increase(n, "aegis_raft_commit_index", v.from_us(), v.to_us()));
  if (v.span_us() <= 0 || best <= 0) return std::nullopt;
  return uint32_t(best * 1e6 / double(v.span_us()));
}

}  // namespace

config::cluster_facts facts_from(const telemetry_view& v) {
  config::cluster_facts f;
  f.voters = uint32_t(v.nodes().size());
  f.peer_rtt_p99_ms = rtt_p99_ms(v);
  f.write_rate_per_s = write_rate(v);
  return f;
}

std::string proposal_id(const advice& a, const std::string& config_file) {
  chaos::sim::hasher h;
  h.add(name_of(a.cls));
  for (const auto& c : a.patch) {
    h.add(c.key);
    h.add(c.from);
    h.add(c.to);
  }
  h.add(config_file);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h.value()));
  return std::string(buf).substr(0, 12);
}

proposal advise_stage(const verdict& v, const stage_inputs& in) {
  proposal p;
  p.incident = v;
  p.advice = advise(v, in.current, in.facts);
  p.config_file = in.config_file;
  p.id = proposal_id(p.advice, in.config_file);
  p.envelope = envelope_checks(p.advice, in.current, in.facts);
  if (p.advice.patch.empty())
    p.status = "recommendation_only";
  else if (!envelope_passed(p.envelope))
    p.status = "rejected_by_envelope";  // never reaches the verifier
  else
    p.status = kAwaitingVerification;
  return p;
}

proposal verify_stage(proposal p, const stage_inputs& in) {
  if (p.status != kAwaitingVerification) return p;
  auto after = apply_patch(in.current, p.advice.patch);
  if (auto* err = std::get_if<std::string>(&after)) {
    p.status = "rejected_by_envelope";
    p.envelope.push_back({"patch_applies", false, "the patch must apply to the config", *err});
    return p;
  }
  if (!in.incident) {
    p.verified = verification{.trace = "(none)",
                              .target_metric = p.advice.target_metric,
                              .explanation = "no incident script to replay: not verified"};
    p.status = "negative_result";
    return p;
  }
  p.verified = verify(*in.incident, in.incident_name, in.current,
                      std::get<config::raft_config>(after), p.advice.target_metric, in.verify);
  p.status = p.verified->improved ? "proposed" : "negative_result";
  return p;
}

proposal decide(const verdict& v, const stage_inputs& in) {
  return verify_stage(advise_stage(v, in), in);
}

std::vector<proposal> decide_all(const std::vector<verdict>& verdicts, const stage_inputs& in) {
  std::vector<proposal> out;
  for (const auto& v : verdicts)
    if (v.cls != incident_class::healthy) out.push_back(decide(v, in));
  return out;
}

std::optional<chaos::script> fixture_script(incident_class c, const std::string& scripts_dir) {
  const std::string path = scripts_dir + "/fixtures/" + std::string(name_of(c)) + ".chaos";
  auto parsed = chaos::load_script(path);
  if (auto* s = std::get_if<chaos::script>(&parsed)) return std::move(*s);
  return std::nullopt;
}

namespace {

config::raft_config config_of(const nlohmann::json& doc) {
  config::raft_config cfg;
  if (!doc.contains("config")) return cfg;
  const auto& c = doc.at("config");
  if (!c.is_object()) throw std::invalid_argument("'config' must be an object");
  for (const auto& [k, v] : c.items()) {
    if (!v.is_string()) throw std::invalid_argument("config '" + k + "' must be a string");
    if (auto err = config::set_field(cfg, k, v.get<std::string>()))
      throw std::invalid_argument("config: " + *err);
  }
  return cfg;
}

}  // namespace

std::vector<proposal> proposals_from_document(const nlohmann::json& doc,
                                              const document_options& opt) {
  if (!doc.is_object() || !doc.contains("verdicts") || !doc.at("verdicts").is_array())
    throw std::invalid_argument("expected the classifier's document with a 'verdicts' array");
  std::vector<verdict> verdicts;
  for (const auto& v : doc.at("verdicts"))
    verdicts.push_back(verdict_from_json(v));
  stage_inputs in;
  in.current = config_of(doc);
  in.config_file = opt.config_file;
  in.verify = opt.verify;
  std::optional<observation> obs;
  const auto& src = doc.contains("source") ? doc.at("source") : nlohmann::json::object();
  if (src.is_object() && src.value("kind", "") == "trace") {
    auto o = observe_trace(src.value("trace", ""));
    if (auto* err = std::get_if<std::string>(&o)) throw std::invalid_argument(*err);
    obs.emplace(std::move(std::get<observation>(o)));
  }
  if (obs) {
    in.facts = facts_from(obs->view);
    auto s = chaos::parse_script(obs->script_text, obs->script_name);
    if (auto* sc = std::get_if<chaos::script>(&s)) in.incident = std::move(*sc);
    in.incident_name = obs->trace_path;
  }
  if (in.facts.voters == 0 && doc.contains("nodes"))
    in.facts.voters = uint32_t(doc.at("nodes").size());
  std::vector<proposal> out;
  for (const auto& v : verdicts) {
    if (v.cls == incident_class::healthy) continue;
    stage_inputs each = in;
    if (!each.incident) {
      each.incident = fixture_script(v.cls, opt.scripts_dir);
      each.incident_name = "fixture " + std::string(name_of(v.cls)) + ".chaos";
    }
    out.push_back(decide(v, each));
  }
  return out;
}

}  // namespace aegis::control
