// Property: every Raft config the safety envelope accepts is safe. Draws random configs that
// pass the envelope's rules for the cluster a chaos script describes (a seeded generator), runs
// each in the simulator on a fixture script and a random chaos script, and requires zero safety
// violations and a linearizable history. A failure prints the seed, the config and the command
// that replays it.
//
//   envelope_property_test -- --seed S --trials N   (defaults: a fixed seed, 200 trials; 40 under
//   the sanitizers)
#define BOOST_TEST_MODULE envelope_property
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "chaos/sim/random_script.hpp"
#include "chaos/sim/simulator.hpp"
#include "config/envelope.hpp"
#include "config/schema.hpp"

using namespace aegis;
using namespace aegis::chaos;

namespace {

uint64_t arg(const std::string& name, uint64_t fallback) {
  auto& m = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i + 1 < m.argc; ++i)
    if (m.argv[i] == name) return std::strtoull(m.argv[i + 1], nullptr, 10);
  return fallback;
}

// Uniform in [lo, hi] (hi < lo yields lo), and log-uniform for sizes spanning decades.
uint64_t between(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  if (hi <= lo) return lo;
  return lo + rng() % (hi - lo + 1);
}
uint64_t log_between(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  const double a = std::log(double(lo)), b = std::log(double(hi));
  const double x = std::exp(a + (b - a) * double(rng() % 1'000'000) / 1'000'000.0);
  return std::clamp<uint64_t>(uint64_t(x), lo, hi);
}

// What the envelope may assume about a script's cluster: its size and a round trip of twice
// the base one-way latency at its worst.
config::cluster_facts facts_of(const script& s) {
  config::cluster_facts f;
  f.voters = s.nodes;
  f.peer_rtt_p99_ms = uint32_t((2 * s.network.latency_max_us + 999) / 1000);
  return f;
}

// Timing inside the envelope, kept short enough that a 12..20 s run sees elections.
void draw_timing(std::mt19937_64& rng, const config::cluster_facts& f, config::raft_config& c) {
  c.heartbeat_interval_ms = uint32_t(between(rng, config::kMinHeartbeatMs, 150));
  const uint64_t floor =
      std::max<uint64_t>(10ull * c.heartbeat_interval_ms, 10ull * f.peer_rtt_p99_ms.value_or(0));
  c.election_timeout_ms_min = uint32_t(between(rng, floor, floor + floor / 2 + 500));
  const uint64_t lo = (3ull * c.election_timeout_ms_min + 1) / 2;
  c.election_timeout_ms_max = uint32_t(between(rng, lo, 3ull * c.election_timeout_ms_min));
}

// Flow control and snapshots inside the envelope, biased small: the paths where bugs hide.
void draw_storage(std::mt19937_64& rng, config::raft_config& c) {
  c.max_inflight_appends = uint32_t(log_between(rng, 1, config::kMaxInflightAppends));
  c.max_append_bytes = uint32_t(log_between(rng, config::kMinAppendBytes, 1 << 20));
  c.max_uncommitted_bytes =
      rng() % 4 == 0 ? 0 : log_between(rng, c.max_proposal_bytes, 64ull << 20);
  c.max_pending_reads = uint32_t(log_between(rng, 1, 4096));
  c.snapshot_threshold_entries = log_between(rng, 10, 5000);
  c.snapshot_catchup_entries = between(rng, 0, c.snapshot_threshold_entries);
  c.snapshot_chunk_bytes = uint32_t(log_between(rng, 64, 1 << 20));
  c.learner_catchup_entries = log_between(rng, 1, 1000);
}

config::raft_config draw_config(std::mt19937_64& rng, const config::cluster_facts& f) {
  config::raft_config c;
  draw_timing(rng, f, c);
  draw_storage(rng, c);
  return c;  // pre_vote and check_quorum stay on: the envelope requires both
}

// Every key in config-file syntax, as `--set` takes it.
std::string settings_of(const config::raft_config& c) {
  std::string out;
  for (const auto& f : config::raft_fields())
    out += " --set " + std::string(f.key) + "=" + config::get_field(c, f);
  return out;
}

std::vector<script> fixture_scripts() {
  std::vector<std::string> paths;
  for (const auto& e : std::filesystem::directory_iterator(AEGIS_FIXTURE_SCRIPTS_DIR))
    if (e.path().extension() == ".chaos") paths.push_back(e.path().string());
  std::sort(paths.begin(), paths.end());
  std::vector<script> out;
  for (const auto& p : paths) {
    auto r = load_script(p);
    BOOST_REQUIRE_MESSAGE(std::holds_alternative<script>(r), "cannot load " << p);
    out.push_back(std::get<script>(r));
  }
  return out;
}

// A random script whose cluster the envelope accepts (odd voter count, at most 7).
script random_envelope_script(uint64_t& seed) {
  for (;; ++seed) {
    script s = sim::random_script(seed, 10'000'000);
    if (s.nodes % 2 == 1 && s.nodes <= config::kMaxVoters) return s;
  }
}

std::string replay_hint(const script& s, bool random, uint64_t script_seed, uint64_t sim_seed,
                        const config::raft_config& c) {
  std::string h = "replay: ";
  if (random)
    h += "./aegis sim random --seed " + std::to_string(script_seed) + " > /tmp/p.chaos && " +
         "./aegis sim run /tmp/p.chaos";
  else
    h += "./aegis sim run " + s.name;
  return h + " --seed " + std::to_string(sim_seed) + settings_of(c);
}

// What the runs exercised, so a sweep that silently did nothing fails.
struct sweep_totals {
  uint64_t runs = 0, ops_ok = 0, leader_changes = 0, snapshots = 0;
};

// Runs one config on one script; false (with the report printed) when safety broke.
bool run_safe(const script& s, const config::raft_config& c, uint64_t sim_seed,
              const std::string& hint, sweep_totals& totals) {
  sim::sim_options opt;
  opt.seed = sim_seed;
  const auto r = sim::simulate(s, c, opt);
  ++totals.runs;
  totals.ops_ok += r.ops_ok;
  totals.leader_changes += r.leader_changes;
  totals.snapshots += r.snapshots_installed;
  if (r.passed()) return true;
  BOOST_ERROR("a config inside the envelope broke safety on "
              << s.name << "\n"
              << sim::format_summary(r, true) << r.linearizability.explanation << "\n"
              << hint);
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(configs_inside_the_envelope_are_safe) {
  const uint64_t seed = arg("--seed", 20261128), trials = arg("--trials", AEGIS_PROPERTY_TRIALS);
  std::cout << "envelope property: seed " << seed << ", " << trials << " trials\n";
  std::mt19937_64 rng(seed);
  const auto fixtures = fixture_scripts();
  BOOST_REQUIRE(!fixtures.empty());
  sweep_totals totals;
  uint64_t script_seed = seed;
  const auto start = std::chrono::steady_clock::now();
  for (uint64_t t = 0; t < trials; ++t) {
    const script& fixture = fixtures[t % fixtures.size()];
    const script random = random_envelope_script(++script_seed);
    for (const script* s : {&fixture, &random}) {
      const auto facts = facts_of(*s);
      const auto cfg = draw_config(rng, facts);
      const uint64_t sim_seed = rng() % 1'000'000 + 1;
      const auto hint = replay_hint(*s, s == &random, script_seed, sim_seed, cfg);
      const auto rep = config::check_config(cfg, cfg, facts);
      // The message is built even when the check passes: no front() of an empty list.
      const auto broken = rep.broken_rules();
      BOOST_REQUIRE_MESSAGE(broken.empty(), "seed " << seed << " trial " << t
                                                    << ": the generator drew a config outside "
                                                       "the envelope, broken: "
                                                    << (broken.empty() ? "" : broken.front())
                                                    << "\n"
                                                    << hint);
      if (!run_safe(*s, cfg, sim_seed, hint, totals))
        std::cout << "failing seed " << seed << " trial " << t
                  << ": rerun with envelope_property_test -- --seed " << seed << " --trials "
                  << t + 1 << "\n";
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << totals.runs << " simulated runs in " << secs << " s: " << totals.ops_ok
            << " ops ok, " << totals.leader_changes << " leader changes, " << totals.snapshots
            << " snapshots installed\n";
  BOOST_TEST(totals.ops_ok > 0u);
  BOOST_TEST(totals.leader_changes > totals.runs);  // faults force elections, not just the first
  BOOST_TEST(totals.snapshots > 0u);
}
