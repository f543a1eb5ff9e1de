// The public face of the simulator: config from a script, one run, its summary.
#include "chaos/sim/simulator.hpp"

#include <algorithm>
#include <cstdio>

#include "actors/raft/assert.hpp"
#include "chaos/sim/engine.hpp"
#include "config/schema.hpp"

namespace aegis::chaos::sim {

std::variant<config::raft_config, parse_error> config_for(const script& s) {
  config::raft_config cfg;
  for (const auto& st : s.settings) {
    if (auto err = config::set_field(cfg, st.key, st.value))
      return parse_error{s.name, st.pos, *err};
  }
  auto errs = config::validate(cfg);
  if (!errs.empty()) {
    source_pos pos = s.settings.empty() ? source_pos{} : s.settings.front().pos;
    for (const auto& st : s.settings)
      if (st.key == errs.front().key) pos = st.pos;
    return parse_error{s.name, pos, errs.front().key + " " + errs.front().rule};
  }
  return cfg;
}

std::variant<config::raft_config, std::string> config_of(
    const trace::trace& t, const std::vector<std::string>& overrides) {
  config::raft_config cfg;
  for (const auto& [k, v] : t.config)
    if (auto err = config::set_field(cfg, k, v)) return "trace config: " + *err;
  for (const auto& kv : overrides) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos) return "--set " + kv + ": expected KEY=VALUE";
    if (auto err = config::set_field(cfg, kv.substr(0, eq), kv.substr(eq + 1)))
      return "--set " + kv + ": " + *err;
  }
  auto errs = config::validate(cfg);
  if (!errs.empty()) return "config: " + errs.front().key + " " + errs.front().rule;
  return cfg;
}

run_summary simulate(const script& s, const config::raft_config& cfg, const sim_options& opt) {
  engine e(s, cfg, opt);
  return e.run();
}

namespace {
uint64_t replay_seed = 0;
void print_replay() {
  std::fprintf(
      stderr, "while simulating seed %llu; replay: ./aegis sim fuzz --start %llu --seeds 1\n",
      static_cast<unsigned long long>(replay_seed), static_cast<unsigned long long>(replay_seed));
}
}  // namespace

void replay_on_assert(uint64_t seed) {
  replay_seed = seed;
  assert_context = print_replay;
}

namespace {
double percentile_ms(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return double(v[i]) / 1000.0;
}
}  // namespace

run_summary engine::finish() {
  run_summary r = std::move(sum_);
  r.script = script_.name;
  r.seed = opt_.seed;
  r.nodes = script_.nodes;
  r.duration_us = script_.duration_us;
  r.availability = samples_ ? double(available_samples_) / double(samples_) : 0;
  r.commit_p50_ms = percentile_ms(commit_latencies_us_, 0.50);
  r.commit_p99_ms = percentile_ms(commit_latencies_us_, 0.99);
  // Operations still in flight at the end are unknown: the client never heard back.
  for (auto& op : history_) {
    if (op.return_us == never || op.status == op_status::unknown) {
      op.status = op_status::unknown;
      op.return_us = never;
    }
    if (op.status == op_status::ok) {
      ++r.ops_ok;
      r.last_ok_us = std::max(r.last_ok_us, op.return_us);
    } else if (op.status == op_status::fail)
      ++r.ops_fail;
    else
      ++r.ops_unknown;
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    trace_.add_u64(nodes_[i].up ? nodes_[i].sm.digest() : 0);
    trace_.add_u64(nodes_[i].up ? nodes_[i].core->commit() : 0);
  }
  r.violations = checker_.violations();
  if (opt_.check_linearizability) {
    r.linearizability = check_linearizable(history_);
    r.linearizability_checked = true;
  }
  r.digest = trace_.value();
  if (rec_) {
    finish_trace(r);
    r.trace = rec_;
  }
  r.client_history = std::move(history_);
  return r;
}

std::string format_summary(const run_summary& r, bool with_timeline) {
  std::string out;
  char line[256];
  auto row = [&](const char* k, const std::string& v) {
    std::snprintf(line, sizeof line, "  %-26s %s\n", k, v.c_str());
    out += line;
  };
  auto num = [](double v, const char* fmt) {
    char b[64];
    std::snprintf(b, sizeof b, fmt, v);
    return std::string(b);
  };
  if (with_timeline && !r.timeline.empty()) {
    out += "timeline (virtual time)\n";
    for (const auto& t : r.timeline)
      out += "  " + t + "\n";
    out += "\n";
  }
  out += "run summary: " + r.script + "\n";
  row("seed", std::to_string(r.seed));
  row("nodes", std::to_string(r.nodes));
  row("virtual duration", num(double(r.duration_us) / 1e6, "%.1f s"));
  row("availability", num(100.0 * r.availability, "%.1f %%"));
  row("leader changes",
      std::to_string(r.leader_changes) + " (max term " + std::to_string(r.max_term) + ")");
  row("commit latency p50 / p99",
      num(r.commit_p50_ms, "%.1f ms") + " / " + num(r.commit_p99_ms, "%.1f ms"));
  row("messages sent (lost)",
      std::to_string(r.messages_sent) + " (" + std::to_string(r.messages_lost) + ")");
  row("snapshots installed", std::to_string(r.snapshots_installed));
  row("client ops ok/fail/unknown", std::to_string(r.ops_ok) + " / " + std::to_string(r.ops_fail) +
                                        " / " + std::to_string(r.ops_unknown));
  row("safety invariants", r.violations.empty() ? "ok" : "VIOLATED");
  for (const auto& v : r.violations)
    out += "    - " + v + "\n";
  std::string lin = "not checked";
  if (r.linearizability_checked) {
    switch (r.linearizability.verdict) {
      case lin_verdict::linearizable:
        lin = "ok";
        break;
      case lin_verdict::not_linearizable:
        lin = "VIOLATED (key " + r.linearizability.key + ")";
        break;
      case lin_verdict::gave_up:
        lin = "GAVE UP (search budget, key " + r.linearizability.key + ")";
        break;
    }
  }
  row("linearizability", lin);
  std::snprintf(line, sizeof line, "%016llx", static_cast<unsigned long long>(r.digest));
  row("trace digest", line);
  row("events / wall time",
      std::to_string(r.events) + " in " + num(r.wall_seconds, "%.3f s") + " (" +
          num(double(r.duration_us) / 1e6 / std::max(r.wall_seconds, 1e-9), "%.0fx real time") +
          ")");
  return out;
}

}  // namespace aegis::chaos::sim
