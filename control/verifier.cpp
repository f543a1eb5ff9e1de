// See verifier.hpp.
#include "control/verifier.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "chaos/sim/simulator.hpp"
#include "config/envelope.hpp"
#include "control/telemetry_view.hpp"

namespace aegis::control {

namespace {

struct row_spec {
  const char* metric;
  bool higher_is_better;
};

constexpr row_spec kRows[] = {{"availability", true},         {"leader_changes", false},
                              {"commit_p99_ms", false},       {"ops_failed", false},
                              {"snapshots_installed", false}, {"lease_expiries", false},
                              {"violations", false}};

// Leaderless stretches at least as long as the minimum lease TTL: every lease renewed through
// the lost leader would expire in one (the simulator has no leases to count).
double lease_expiries(const telemetry_view& v, const config::raft_config& cfg) {
  const int64_t ttl_us = int64_t(config::min_lease_ttl_ms(cfg)) * 1000;
  double count = 0;
  int64_t since = -1;
  for (const auto& l : v.leaders()) {
    if (l.leader == 0 && since < 0) since = l.at_us;
    if (l.leader != 0 && since >= 0) {
      if (l.at_us - since >= ttl_us) ++count;
      since = -1;
    }
  }
  if (since >= 0 && v.to_us() - since >= ttl_us) ++count;
  return count;
}

// Share of the samples with a leader, counted from the first election on: the initial election
// is the same wait under every config and would otherwise penalize longer timeouts for a cost
// paid once per cluster lifetime, not per incident.
double availability(const telemetry_view& v) {
  size_t led = 0, counted = 0;
  bool started = false;
  for (const auto& l : v.leaders()) {
    started = started || l.leader != 0;
    if (!started) continue;
    ++counted;
    if (l.leader != 0) ++led;
  }
  return counted ? double(led) / double(counted) : 0;
}

// One replay's figures, in kRows order.
std::vector<double> figures(const chaos::script& s, const config::raft_config& cfg, uint64_t seed) {
  chaos::sim::sim_options opt;
  opt.seed = seed;
  opt.record_trace = true;  // the leader timeline, for lease_expiries
  const auto r = chaos::sim::simulate(s, cfg, opt);
  const telemetry_view v(r.trace->metrics);  // recorded: record_trace is on
  const bool lin_bad =
      r.linearizability_checked && r.linearizability.verdict != chaos::lin_verdict::linearizable;
  return {availability(v),
          double(r.leader_changes),
          r.commit_p99_ms,
          double(r.ops_fail + r.ops_unknown),
          double(r.snapshots_installed),
          lease_expiries(v, cfg),
          double(r.violations.size() + (lin_bad ? 1 : 0))};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::vector<uint64_t> seeds_for(const chaos::script& s, const verify_options& opt) {
  if (!opt.seeds.empty()) return opt.seeds;
  const uint64_t base = s.seed.value_or(1);
  return {base, base + 1, base + 2, base + 3, base + 4};
}

bool better(const verification_row& r, double rel, double abs) {
  const double gain = r.higher_is_better ? r.after - r.before : r.before - r.after;
  const double scale = std::max(std::abs(r.before), 1e-9);
  return gain >= abs * (r.metric == std::string("availability") ? 0.02 : 1.0) &&
         gain / scale >= rel;
}

// Why the proposal may or may not go on, from the table.
void judge(verification& v, const verify_options& opt) {
  const verification_row* target = nullptr;
  const verification_row* violations = nullptr;
  const verification_row* availability = nullptr;
  for (const auto& r : v.rows) {
    if (r.metric == v.target_metric) target = &r;
    if (r.metric == "violations") violations = &r;
    if (r.metric == "availability") availability = &r;
  }
  if (!target) {
    v.explanation = "no row '" + v.target_metric + "' in the table: nothing to judge";
    return;
  }
  if (violations && violations->after > 0) {
    v.explanation = "the proposed config broke a safety check in the replay";
    return;
  }
  if (availability && availability->after < availability->before - 0.02) {
    v.explanation = "availability fell by more than 2 points";
    return;
  }
  v.improved = better(*target, opt.min_relative_gain, opt.min_absolute_gain);
  char buf[200];
  std::snprintf(buf, sizeof buf, "%s: %.3g before, %.3g after (median of %zu seeds): %s",
                target->metric.c_str(), target->before, target->after, v.seeds.size(),
                v.improved ? "improved" : "not improved enough to propose");
  v.explanation = buf;
}

}  // namespace

verification verify(const chaos::script& incident, const std::string& name,
                    const config::raft_config& before, const config::raft_config& after,
                    const std::string& target_metric, const verify_options& opt) {
  verification v;
  v.trace = name;
  v.seeds = seeds_for(incident, opt);
  v.target_metric = target_metric;
  std::vector<std::vector<double>> b, a;
  for (uint64_t seed : v.seeds) {
    b.push_back(figures(incident, before, seed));
    a.push_back(figures(incident, after, seed));
  }
  for (size_t i = 0; i < std::size(kRows); ++i) {
    std::vector<double> bi, ai;
    for (size_t s = 0; s < v.seeds.size(); ++s) {
      bi.push_back(b[s][i]);
      ai.push_back(a[s][i]);
    }
    v.rows.push_back({kRows[i].metric, median(bi), median(ai), kRows[i].higher_is_better});
  }
  judge(v, opt);
  return v;
}

std::string format_table(const verification& v) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "  %-22s %12s %12s   (replay of %s, seeds", "metric", "current",
                "proposed", v.trace.c_str());
  out += line;
  for (uint64_t s : v.seeds)
    out += " " + std::to_string(s);
  out += ")\n";
  for (const auto& r : v.rows) {
    const char* mark = r.metric == v.target_metric ? "  <- target" : "";
    std::snprintf(line, sizeof line, "  %-22s %12.3f %12.3f%s\n", r.metric.c_str(), r.before,
                  r.after, mark);
    out += line;
  }
  return out + "  verdict: " + v.explanation + "\n";
}

}  // namespace aegis::control
