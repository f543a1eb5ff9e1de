// The agent's actors (control/actors/): the split of decide() across the advisor and verifier
// actors gives decide()'s proposals; a whole cycle on a fixture trace; an agent embedded with a
// node's telemetry reader (the only node handle it gets) classifying a quiet node; a slow stage
// making ticks skip rather than queue; settings refused with the option named.
#define BOOST_TEST_MODULE agent_actors_test
#include <boost/test/unit_test.hpp>

#include <prometheus/gauge.h>
#include <caf/all.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "actors/node/metrics.hpp"
#include "actors/node/telemetry_reader.hpp"
#include "control/actors/roles.hpp"
#include "control/actors/stages.hpp"
#include "control/classifier.hpp"

namespace {

namespace fs = std::filesystem;
using namespace aegis::control;
using namespace aegis::control::actors;
using namespace std::chrono_literals;

const std::string kSource = AEGIS_SOURCE_DIR;
const std::string kFixtures = kSource + "/tests/fixtures/traces/";

std::string temp_dir(const std::string& name) {
  auto d =
      fs::temp_directory_path() / ("aegis-agent-test-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

// Status lines, collected from whatever thread the agent runs on.
struct lines {
  std::mutex mu;
  std::vector<std::string> all;
  status_sink sink() {
    return [this](const std::string& l) {
      std::lock_guard<std::mutex> g(mu);
      all.push_back(l);
    };
  }
  std::vector<std::string> copy() {
    std::lock_guard<std::mutex> g(mu);
    return all;
  }
};

// Waits for the agent to stop (it does after its cycles), at most `limit`.
bool wait_down(caf::actor_system& sys, const agent_actor& agent, std::chrono::seconds limit) {
  caf::scoped_actor self{sys};
  self->monitor(agent);
  bool down = false;
  self->receive([&](caf::down_msg&) { down = true; }, caf::after(limit) >> [] {});
  return down;
}

agent_settings trace_settings(const std::string& trace, const std::string& out) {
  agent_settings s;
  s.source.kind = "trace";
  s.source.trace_path = trace;
  s.cycles = 1;
  s.out_dir = out;
  s.scripts_dir = kSource + "/chaos/scripts";
  s.proposer.ledger_path = out + "/ledger.jsonl";
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(advisor_then_verifier_equals_decide) {
  for (const char* name : {"election_storm", "slow_follower", "overload", "leader_disk_stall"}) {
    const auto w = window_from_trace(kFixtures + name + ".trace");
    BOOST_TEST_REQUIRE(w.error.empty(), w.error);
    auto in = inputs_for(w, "aegis.ini");
    for (const auto& v : classify(observation_of(w).view)) {
      if (v.cls == incident_class::healthy) continue;
      in.incident = incident_for(w, v.cls, kSource + "/chaos/scripts", in.incident_name);
      const auto whole = to_json(decide(v, in));
      const auto split = to_json(verify_stage(advise_stage(v, in), in));
      BOOST_TEST(whole == split, name << ": " << whole.dump() << "\nvs\n" << split.dump());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_cycle_on_a_fixture_trace_proposes_and_writes_the_postmortem) {
  const auto out = temp_dir("trace");
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  lines got;
  auto agent =
      spawn_pipeline(sys, trace_settings(kFixtures + "election_storm.trace", out), {}, got.sink());
  BOOST_TEST_REQUIRE(wait_down(sys, agent, 120s));
  const auto all = got.copy();
  BOOST_TEST_REQUIRE(all.size() == 1u);
  const auto& line = all.front();
  BOOST_TEST(line.find("cycle 1 window") != std::string::npos, line);
  BOOST_TEST(line.find("verdicts election_storm:") != std::string::npos, line);
  BOOST_TEST(line.find("proposals proposed=1") != std::string::npos, line);
  BOOST_TEST(line.find("errors") == std::string::npos, line);
  BOOST_TEST(fs::exists(out + "/ledger.jsonl"));
  BOOST_TEST(!fs::is_empty(out + "/postmortems"));
  BOOST_TEST(!fs::is_empty(out + "/proposals"));
  fs::remove_all(out);
}

BOOST_AUTO_TEST_CASE(an_unreadable_trace_is_a_cycle_without_a_window) {
  const auto out = temp_dir("missing");
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  lines got;
  auto agent = spawn_pipeline(sys, trace_settings(out + "/nope.trace", out), {}, got.sink());
  BOOST_TEST_REQUIRE(wait_down(sys, agent, 30s));
  const auto all = got.copy();
  BOOST_TEST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all.front().find("no window: ") != std::string::npos, all.front());
  BOOST_TEST(all.front().find("nope.trace") != std::string::npos, all.front());
  fs::remove_all(out);
}

// In a node process the agent gets the node's telemetry reader and nothing else of the node.
BOOST_AUTO_TEST_CASE(embedded_with_a_node_reader_a_quiet_leader_is_healthy) {
  std::string error;
  auto metrics = aegis::node::make_metrics(1, "", error);
  BOOST_TEST_REQUIRE(error.empty());
  metrics->term->Set(2);
  metrics->is_leader->Set(1);
  metrics->has_leader->Set(1);
  const auto out = temp_dir("node");
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto reader = aegis::node::spawn_telemetry_reader(sys, metrics);
  agent_settings s;
  s.source = {.kind = "node", .node_id = 1, .window_s = 1.0, .period_s = 0.1};
  s.cycles = 2;
  s.out_dir = out;
  s.scripts_dir = kSource + "/chaos/scripts";
  BOOST_TEST_REQUIRE(settings_error(s) == "");
  lines got;
  auto agent = spawn_pipeline(sys, s, reader, got.sink());
  BOOST_TEST_REQUIRE(wait_down(sys, agent, 30s));
  const auto all = got.copy();
  BOOST_TEST_REQUIRE(all.size() == 2u);
  for (const auto& line : all) {
    BOOST_TEST(line.find("(node, 1 node)") != std::string::npos, line);
    BOOST_TEST(line.find("verdicts healthy:") != std::string::npos, line);
    BOOST_TEST(line.find("proposals none") != std::string::npos, line);
  }
  caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
  fs::remove_all(out);
}

namespace {

// An observer that takes longer than a window to answer (a detached actor may block).
// Takes its delay as an argument: CAF 0.17.6 spawns an argument-less function actor through a
// null empty-tuple pointer, which UBSan (rightly) reports.
observer_actor::behavior_type slow_observer(std::chrono::milliseconds delay) {
  return {
      [delay](observe_atom, uint64_t cycle) {
        std::this_thread::sleep_for(delay);
        return window{.cycle = cycle, .error = "slow on purpose"};
      },
      [](sample_atom) {},
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_slow_cycle_skips_ticks_and_says_so) {
  const auto out = temp_dir("slow");
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  agent_settings s;
  s.source = {.kind = "node", .node_id = 1, .window_s = 0.5, .period_s = 0.1};
  s.cycles = 1;
  s.out_dir = out;
  stage_handles stages{sys.spawn<caf::detached>(slow_observer, 1200ms),
                       spawn_classifier(sys),
                       spawn_advisor(sys, "aegis.ini"),
                       spawn_verifier(sys, "aegis.ini", kSource + "/chaos/scripts", {}),
                       spawn_proposer(sys, {.out_dir = out}),
                       spawn_root_cause(sys, kSource + "/control/corpus", ""),
                       spawn_postmortem(sys, {.out_dir = out})};
  lines got;
  auto agent = spawn_agent(sys, s, stages, got.sink());
  // Ticks come every 0.5 s; the cycle takes 1.2 s. One cycle runs; the tick in between is
  // skipped and reported; none queues up behind it.
  BOOST_TEST_REQUIRE(wait_down(sys, agent, 30s));
  const auto all = got.copy();
  BOOST_TEST_REQUIRE(all.size() >= 1u);
  BOOST_TEST(all.back().find("cycle 1 no window: slow on purpose") != std::string::npos,
             all.back());
  fs::remove_all(out);
}

BOOST_AUTO_TEST_CASE(bad_settings_are_refused_by_name) {
  agent_settings s;
  s.out_dir = "out";
  s.source = {.kind = "live", .endpoints = {"127.0.0.1:9100", "nohost"}};
  BOOST_TEST(settings_error(s).find("--endpoints: 'nohost' is not HOST:PORT") == 0u);
  s.source = {.kind = "live", .endpoints = {"127.0.0.1:9100"}, .window_s = 1, .period_s = 2};
  BOOST_TEST(settings_error(s) == "--period-s: must not exceed --window-s");
  s.source = {.kind = "trace"};
  BOOST_TEST(settings_error(s) == "--trace: a trace file is required");
  s.source = {.kind = "trace", .trace_path = "x.trace"};
  s.proposer.dry_run = false;
  BOOST_TEST(settings_error(s).find("--no-dry-run needs --config-repo") == 0u);
  s.proposer.dry_run = true;
  BOOST_TEST(settings_error(s) == "");
}

BOOST_AUTO_TEST_CASE(the_rolling_window_keeps_only_the_window_and_a_bounded_count) {
  rolling_window w(1'000'000, 5);  // 1 s, at most 5 rounds
  for (int64_t i = 0; i < 20; ++i)
    w.push({{.at_us = i * 100'000, .node = 1}});  // every 0.1 s
  BOOST_TEST(w.rounds() == 5u);                   // the bound, before the window's 11
  const auto s = w.samples();
  BOOST_TEST(s.front().at_us == 1'500'000);
  BOOST_TEST(s.back().at_us == 1'900'000);
  rolling_window by_time(250'000, 100);
  for (int64_t i = 0; i < 20; ++i)
    by_time.push({{.at_us = i * 100'000, .node = 1}});
  BOOST_TEST(by_time.rounds() == 3u);  // 1.65 .. 1.9 s
}
