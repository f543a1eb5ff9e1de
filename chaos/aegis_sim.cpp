// aegis-sim: runs chaos scripts on the deterministic simulator.
//   aegis-sim run SCRIPT [--seed N] [--set KEY=VALUE]... [--timeline]
//   aegis-sim fuzz [--start S] [--seeds N]     random scripts, one per seed; replay on failure
//   aegis-sim random --seed S                  print the random script of a seed
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "chaos/sim/random_script.hpp"
#include "chaos/sim/simulator.hpp"

using namespace aegis::chaos;

namespace {

int run_script(const std::string& path, std::optional<uint64_t> seed,
               const std::vector<std::string>& sets, bool timeline, bool checks) {
  auto parsed = load_script(path);
  if (auto* err = std::get_if<parse_error>(&parsed)) {
    std::cerr << err->to_string() << "\n";
    return 2;
  }
  script s = std::get<script>(std::move(parsed));
  for (const auto& kv : sets) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) {
      std::cerr << "--set " << kv << ": expected KEY=VALUE\n";
      return 2;
    }
    s.settings.push_back({kv.substr(0, eq), kv.substr(eq + 1), {}});
  }
  auto cfg = sim::config_for(s);
  if (auto* err = std::get_if<parse_error>(&cfg)) {
    std::cerr << err->to_string() << "\n";
    return 2;
  }
  sim::sim_options opt;
  opt.seed = seed.value_or(s.seed.value_or(1));
  opt.check_invariants = opt.check_linearizability = checks;
  auto r = sim::simulate(s, std::get<aegis::config::raft_config>(cfg), opt);
  std::cout << sim::format_summary(r, timeline);
  return r.passed() ? 0 : 1;
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
  std::optional<uint64_t> seed;
  std::vector<std::string> sets;
  bool timeline = false;
  run->add_option("script", path, "chaos script file")->required();
  run->add_option("--seed", seed, "seed (default: the script's, else 1)");
  run->add_option("--set", sets, "raft config override KEY=VALUE (repeatable)");
  run->add_flag("--timeline", timeline, "print faults and leader changes");
  bool no_checks = false;
  run->add_flag("--no-checks", no_checks,
                "skip per-step invariants and the linearizability check (metrics only)");

  auto* fz = app.add_subcommand("fuzz", "run random scripts, one per seed");
  uint64_t start = 1, count = 100;
  fz->add_option("--start", start, "first seed");
  fz->add_option("--seeds", count, "number of seeds");

  auto* rnd = app.add_subcommand("random", "print the random script of a seed");
  uint64_t rseed = 1;
  rnd->add_option("--seed", rseed, "seed")->required();

  CLI11_PARSE(app, argc, argv);
  if (*run) return run_script(path, seed, sets, timeline, !no_checks);
  if (*fz) return fuzz(start, count);
  if (*rnd) {
    std::cout << format_script(sim::random_script(rseed));
    return 0;
  }
  return 2;
}
