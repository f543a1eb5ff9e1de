// aegis-sim: runs chaos scripts on the deterministic simulator.
//   aegis-sim run SCRIPT [--seed N] [--set KEY=VALUE]... [--timeline] [--trace FILE]
//   aegis-sim replay TRACE [--seed N] [--set KEY=VALUE]... [--trace FILE]
//                                              rerun a recorded trace (simulated or real)
//   aegis-sim fuzz [--start S] [--seeds N]     random scripts, one per seed; replay on failure
//   aegis-sim random --seed S                  print the random script of a seed
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "chaos/sim/random_script.hpp"
#include "chaos/sim/simulator.hpp"
#include "chaos/trace.hpp"

using namespace aegis::chaos;

namespace {

// What `run` and `replay` share: the options and where the trace goes.
struct run_request {
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;  // KEY=VALUE overrides
  bool timeline = false;
  bool checks = true;
  std::string trace_path;  // "": no trace file
};

bool split_setting(const std::string& kv, std::string& k, std::string& v) {
  const auto eq = kv.find('=');
  if (eq == std::string::npos) {
    std::cerr << "--set " << kv << ": expected KEY=VALUE\n";
    return false;
  }
  k = kv.substr(0, eq);
  v = kv.substr(eq + 1);
  return true;
}

// Runs, prints the summary, writes the trace if asked; returns the run or null on a bad trace
// path.
std::optional<sim::run_summary> run_and_record(const script& s,
                                               const aegis::config::raft_config& cfg, uint64_t seed,
                                               const run_request& req) {
  sim::sim_options opt;
  opt.seed = seed;
  opt.check_invariants = opt.check_linearizability = req.checks;
  opt.record_trace = !req.trace_path.empty();
  auto r = sim::simulate(s, cfg, opt);
  std::cout << sim::format_summary(r, req.timeline);
  if (r.trace) {
    const std::string text = trace::write_trace(*r.trace);
    if (auto err = trace::save_text(req.trace_path, text); !err.empty()) {
      std::cerr << err << "\n";
      return std::nullopt;
    }
    std::cout << "trace: " << req.trace_path << " (digest " << r.trace->digest << ")\n";
  }
  return r;
}

int run_script(const std::string& path, const run_request& req) {
  auto parsed = load_script(path);
  if (auto* err = std::get_if<parse_error>(&parsed)) {
    std::cerr << err->to_string() << "\n";
    return 2;
  }
  script s = std::get<script>(std::move(parsed));
  for (const auto& kv : req.sets) {
    std::string k, v;
    if (!split_setting(kv, k, v)) return 2;
    s.settings.push_back({k, v, {}});
  }
  auto cfg = sim::config_for(s);
  if (auto* err = std::get_if<parse_error>(&cfg)) {
    std::cerr << err->to_string() << "\n";
    return 2;
  }
  auto r = run_and_record(s, std::get<aegis::config::raft_config>(cfg),
                          req.seed.value_or(s.seed.value_or(1)), req);
  if (!r) return 2;
  return r->passed() ? 0 : 1;
}

// Reruns a trace's script under its seed and config (or the overrides). A simulator trace rerun
// unchanged must give the very same trace: the digest is compared and a mismatch fails.
int replay(const std::string& path, const run_request& req) {
  auto loaded = trace::load_trace(path);
  if (auto* err = std::get_if<trace::read_error>(&loaded)) {
    std::cerr << err->to_string() << "\n";
    return 2;
  }
  const trace::trace t = std::get<trace::trace>(std::move(loaded));
  auto parsed = trace::script_of(t);
  if (auto* err = std::get_if<parse_error>(&parsed)) {
    std::cerr << path << ": its script: " << err->to_string() << "\n";
    return 2;
  }
  auto cfg_or = sim::config_of(t, req.sets);
  if (auto* err = std::get_if<std::string>(&cfg_or)) {
    std::cerr << *err << "\n";
    return 2;
  }
  const auto& cfg = std::get<aegis::config::raft_config>(cfg_or);
  run_request rr = req;
  const bool same_run = t.source == "sim" && req.sets.empty() && (!req.seed || *req.seed == t.seed);
  const std::string tmp = path + ".replay.tmp";
  if (same_run && rr.trace_path.empty()) rr.trace_path = tmp;
  auto r = run_and_record(std::get<script>(parsed), cfg, req.seed.value_or(t.seed), rr);
  if (rr.trace_path == tmp) std::remove(tmp.c_str());
  if (!r) return 2;
  if (!same_run) return r->passed() ? 0 : 1;
  const bool match = r->trace && r->trace->digest == t.digest;
  std::cout << "replay of " << path << ": digest " << (r->trace ? r->trace->digest : "?")
            << (match ? " matches the recorded one\n"
                      : " differs from the recorded " + t.digest + "\n");
  return match && r->passed() ? 0 : 1;
}

// One seed of the sweep: prints nothing when it passes.
bool fuzz_one(uint64_t seed) {
  sim::replay_on_assert(seed);
  script s = sim::random_script(seed);
  auto cfg = sim::config_for(s);
  if (auto* err = std::get_if<parse_error>(&cfg)) {
    std::cout << "seed " << seed << ": generated an invalid config: " << err->message << "\n";
    return false;
  }
  sim::sim_options opt;
  opt.seed = seed;
  auto r = sim::simulate(s, std::get<aegis::config::raft_config>(cfg), opt);
  if (r.passed()) return true;
  std::cout << "FAILED seed " << seed << "\n" << sim::format_summary(r, true);
  if (r.linearizability_checked && !r.linearizability.explanation.empty())
    std::cout << r.linearizability.explanation << "\n";
  std::cout << "replay: ./aegis sim fuzz --start " << seed << " --seeds 1\n"
            << "script: ./aegis sim random --seed " << seed << "\n";
  return false;
}

int fuzz(uint64_t start, uint64_t count) {
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t failed = 0;
  for (uint64_t seed = start; seed < start + count; ++seed)
    if (!fuzz_one(seed)) ++failed;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("fuzz: seeds %llu..%llu: %llu passed, %llu failed (%.1f seeds/s)\n",
              (unsigned long long)start, (unsigned long long)(start + count - 1),
              (unsigned long long)(count - failed), (unsigned long long)failed,
              double(count) / std::max(secs, 1e-9));
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aegis-sim: the deterministic AEGIS cluster simulator"};
  app.require_subcommand(1);

  auto* run = app.add_subcommand("run", "run a chaos script and print its summary");
  std::string path;
  run_request req;
  run->add_option("script", path, "chaos script file")->required();
  bool no_checks = false;
  auto common = [&](CLI::App* cmd) {
    cmd->add_option("--seed", req.seed, "seed (default: the script's or trace's, else 1)");
    cmd->add_option("--set", req.sets, "raft config override KEY=VALUE (repeatable)");
    cmd->add_flag("--timeline", req.timeline, "print faults and leader changes");
    cmd->add_option("--trace", req.trace_path, "write the run's trace to this file");
    cmd->add_flag("--no-checks", no_checks,
                  "skip per-step invariants and the linearizability check (metrics only)");
  };
  common(run);

  auto* rep = app.add_subcommand(
      "replay", "rerun a recorded trace's script, seed and config; a simulator trace must match");
  std::string trace_path;
  rep->add_option("trace", trace_path, "trace file (chaos/TRACE-FORMAT.md)")->required();
  common(rep);

  auto* fz = app.add_subcommand("fuzz", "run random scripts, one per seed");
  uint64_t start = 1, count = 100;
  fz->add_option("--start", start, "first seed");
  fz->add_option("--seeds", count, "number of seeds");

  auto* rnd = app.add_subcommand("random", "print the random script of a seed");
  uint64_t rseed = 1;
  rnd->add_option("--seed", rseed, "seed")->required();

  CLI11_PARSE(app, argc, argv);
  req.checks = !no_checks;
  if (*run) return run_script(path, req);
  if (*rep) return replay(trace_path, req);
  if (*fz) return fuzz(start, count);
  if (*rnd) {
    std::cout << format_script(sim::random_script(rseed));
    return 0;
  }
  return 2;
}
