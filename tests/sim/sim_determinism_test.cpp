// Same seed + same script + same config => byte-identical trace (the digest); every bundled
// script runs without a safety violation and with a linearizable history.
#define BOOST_TEST_MODULE sim_determinism
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "chaos/sim/random_script.hpp"
#include "chaos/sim/simulator.hpp"

using namespace aegis;
using namespace aegis::chaos;

namespace {

script load(const std::string& name) {
  auto r = load_script(std::string(AEGIS_SCRIPTS_DIR) + "/" + name);
  if (auto* e = std::get_if<parse_error>(&r)) BOOST_FAIL(e->to_string());
  return std::get<script>(std::move(r));
}

sim::run_summary run(const script& s, uint64_t seed) {
  auto cfg = sim::config_for(s);
  if (auto* e = std::get_if<parse_error>(&cfg)) BOOST_FAIL(e->to_string());
  sim::sim_options opt;
  opt.seed = seed;
  return sim::simulate(s, std::get<config::raft_config>(cfg), opt);
}

}  // namespace

BOOST_AUTO_TEST_CASE(same_seed_same_script_same_digest) {
  const script s = load("demo.chaos");
  const auto a = run(s, 7), b = run(s, 7);
  BOOST_TEST(a.digest == b.digest);
  BOOST_TEST(a.events == b.events);
  BOOST_TEST(a.client_history.size() == b.client_history.size());
  BOOST_TEST(a.passed());
}

BOOST_AUTO_TEST_CASE(another_seed_another_digest) {
  const script s = load("demo.chaos");
  BOOST_TEST(run(s, 7).digest != run(s, 8).digest);
}

BOOST_AUTO_TEST_CASE(another_config_another_digest) {
  script s = load("baseline.chaos");
  const auto a = run(s, 3);
  s.settings.push_back({"heartbeat_interval_ms", "50", {}});
  BOOST_TEST(run(s, 3).digest != a.digest);
}

BOOST_AUTO_TEST_CASE(random_scripts_are_a_function_of_the_seed) {
  BOOST_TEST(format_script(sim::random_script(11)) == format_script(sim::random_script(11)));
  BOOST_TEST(format_script(sim::random_script(11)) != format_script(sim::random_script(12)));
  // The text form is a valid script that runs to the same digest as the tree it came from.
  const script s = sim::random_script(11);
  auto reparsed = parse_script(format_script(s), "<random>");
  BOOST_REQUIRE(std::holds_alternative<script>(reparsed));
  BOOST_TEST(run(std::get<script>(reparsed), 11).digest == run(s, 11).digest);
}

BOOST_AUTO_TEST_CASE(every_bundled_script_is_safe_and_linearizable) {
  for (const auto& f : std::filesystem::directory_iterator(AEGIS_SCRIPTS_DIR)) {
    if (f.path().extension() != ".chaos") continue;
    const auto r = run(load(f.path().filename().string()), 1);
    BOOST_TEST_CONTEXT(f.path().filename().string()) {
      BOOST_TEST(r.violations.empty());
      BOOST_TEST((r.linearizability.verdict == lin_verdict::linearizable));
      if (f.path().filename() == "election_storm.chaos") {
        // The storm is the point of that script: terms climb and almost nothing commits.
        BOOST_TEST(r.max_term > 20u);
        BOOST_TEST(r.availability < 0.5);
      } else {
        BOOST_TEST(r.ops_ok > 0u);
      }
      BOOST_TEST(r.leader_changes >= 1u);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_partitioned_minority_loses_availability_not_safety) {
  script s = load("baseline.chaos");
  const auto healthy = run(s, 5);
  fault f;
  f.kind = fault_kind::partition;
  f.at_us = 5'000'000;
  f.for_us = 10'000'000;
  f.groups = {{1, 2}, {3}, {4}, {5}};  // no group holds a quorum
  s.faults.push_back(f);
  const auto split = run(s, 5);
  BOOST_TEST(split.passed());
  BOOST_TEST(split.availability < healthy.availability - 0.2);
}
