// The fixture library (tests/fixtures/traces/): every trace reads (version, syntax, digest), and
// every simulator-made one replays -- its script, seed and config run again -- to the very same
// trace, digest included. A change to the simulator or the Raft core that alters any fixture's
// run fails here; remake the fixtures with the command in their README and review the diff.
#define BOOST_TEST_MODULE fixture_replay
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "chaos/sim/simulator.hpp"
#include "chaos/trace.hpp"

#ifndef AEGIS_FIXTURES_DIR
#define AEGIS_FIXTURES_DIR "tests/fixtures/traces"
#endif

using namespace aegis::chaos;

namespace {

std::vector<std::string> fixture_paths() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(AEGIS_FIXTURES_DIR))
    if (e.path().extension() == ".trace") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

trace::trace load(const std::string& path) {
  auto r = trace::load_trace(path);
  if (auto* e = std::get_if<trace::read_error>(&r)) BOOST_FAIL(e->to_string());
  return std::get<trace::trace>(std::move(r));
}

// The first line where two traces differ, for a message a person can act on.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t line = 1, i = 0;
  for (; i < a.size() && i < b.size() && a[i] == b[i]; ++i)
    if (a[i] == '\n') ++line;
  auto line_at = [&](const std::string& s) {
    const size_t start = s.rfind('\n', i == 0 ? 0 : i - 1);
    const size_t from = start == std::string::npos || i == 0 ? 0 : start + 1;
    return s.substr(from, s.find('\n', from) - from);
  };
  return "line " + std::to_string(line) + ":\n  recorded: " + line_at(a) +
         "\n  replayed: " + line_at(b);
}

void replay(const std::string& path, const trace::trace& t) {
  auto s = trace::script_of(t);
  if (auto* e = std::get_if<parse_error>(&s)) BOOST_FAIL(e->to_string());
  auto cfg = sim::config_of(t);
  if (auto* e = std::get_if<std::string>(&cfg)) BOOST_FAIL(*e);
  sim::sim_options opt;
  opt.seed = t.seed;
  opt.record_trace = true;
  opt.scrape_us = t.sample_period_us;
  const auto r = sim::simulate(std::get<script>(s), std::get<aegis::config::raft_config>(cfg), opt);
  BOOST_REQUIRE(r.trace);
  trace::trace recorded = t;
  const std::string want = trace::write_trace(recorded);
  const std::string got = trace::write_trace(*r.trace);
  BOOST_TEST(r.trace->digest == t.digest, path << ": replay digest " << r.trace->digest
                                               << " != recorded " << t.digest << " at "
                                               << first_difference(want, got));
  BOOST_TEST(r.passed(), path << ": the replay broke a safety check");
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_fixture_reads_and_every_simulated_one_replays_to_its_digest) {
  const auto paths = fixture_paths();
  size_t simulated = 0, real = 0;
  for (const auto& path : paths) {
    BOOST_TEST_CONTEXT(path) {
      const trace::trace t = load(path);
      BOOST_TEST(!t.metrics.empty());
      BOOST_TEST(t.nodes >= 1u);
      if (t.source == "sim") {
        ++simulated;
        replay(path, t);
      } else {
        BOOST_TEST(t.source == "real");
        ++real;
      }
    }
  }
  BOOST_TEST_MESSAGE(simulated << " simulated and " << real << " real fixtures");
  BOOST_TEST(simulated >= 7u);
}
