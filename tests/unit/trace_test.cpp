// The trace format (chaos/TRACE-FORMAT.md): a trace reads back field for field, its digest
// catches an edited or truncated file, bad lines are reported with their line number, a node's
// /metrics text turns into trace series, and the simulator's recording observes without
// changing the run (pause included).
#define BOOST_TEST_MODULE chaos_trace
#include <boost/test/unit_test.hpp>

#include <string>

#include "chaos/sim/simulator.hpp"
#include "chaos/trace.hpp"

using namespace aegis::chaos;

namespace {

trace::trace sample_trace() {
  trace::trace t;
  t.source = "sim";
  t.script_name = "dir with space/x.chaos";
  t.seed = 42;
  t.nodes = 3;
  t.sample_period_us = 250'000;
  t.config = {{"heartbeat_interval_ms", "100"}, {"pre_vote", "true"}};
  t.script_text = "nodes 3\nduration 2s\n\nat 1s kill leader\n";
  t.faults = {{1'000'000, "kill 2"}, {1'500'000, "end kill 2"}};
  t.roles = {{0, 1, "follower", 1}, {1'000'000, 2, "down", 0}};
  t.metrics = {
      {0, 1, true, {{"aegis_raft_term", 1}, {"aegis_raft_follower_match_lag{peer=\"2\"}", 0}}},
      {0, 2, true, {{"aegis_raft_term", 1}}},
      {250'000, 1, true, {{"aegis_raft_term", 2}}},  // the lag series disappears
      {250'000, 2, false, {}},
      {500'000, 1, true, {{"aegis_raft_term", 2}, {"x_sum", 0.125}}},
      {500'000, 2, true, {{"aegis_raft_term", 2}}},
  };
  operation put{.id = 0,
                .client = 1,
                .kind = op_kind::put,
                .key = "k 1",
                .value = "v%\"=",
                .status = op_status::ok,
                .invoke_us = 10,
                .return_us = 20};
  operation get{.id = 1,
                .client = 2,
                .kind = op_kind::get,
                .key = "k 1",
                .status = op_status::unknown,
                .invoke_us = 30,
                .return_us = never};
  operation cas{.id = 2,
                .client = 1,
                .kind = op_kind::cas,
                .key = "",
                .value = "b",
                .expected = "",
                .cas_ok = true,
                .status = op_status::ok,
                .invoke_us = 40,
                .return_us = 50};
  t.ops = {put, get, cas};
  t.summary = {{"availability", "0.9000"}, {"linearizable", "yes"}};
  return t;
}

trace::trace read_ok(const std::string& text) {
  auto r = trace::read_trace(text, "t.trace");
  if (auto* e = std::get_if<trace::read_error>(&r)) BOOST_FAIL("unexpected: " << e->to_string());
  return std::get<trace::trace>(std::move(r));
}

trace::read_error read_bad(const std::string& text) {
  auto r = trace::read_trace(text, "t.trace");
  if (std::holds_alternative<trace::trace>(r)) BOOST_FAIL("expected an error");
  return std::get<trace::read_error>(std::move(r));
}

std::string replace_line(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_trace_reads_back_field_for_field) {
  trace::trace t = sample_trace();
  const std::string text = trace::write_trace(t);
  const trace::trace r = read_ok(text);
  BOOST_TEST(r.source == t.source);
  BOOST_TEST(r.script_name == t.script_name);
  BOOST_TEST(r.seed == t.seed);
  BOOST_TEST(r.nodes == t.nodes);
  BOOST_TEST(r.sample_period_us == t.sample_period_us);
  BOOST_TEST(r.config == t.config);
  BOOST_TEST(r.script_text == t.script_text);
  BOOST_REQUIRE(r.faults.size() == 2u);
  BOOST_TEST(r.faults[1].text == "end kill 2");
  BOOST_TEST(r.roles.size() == 2u);
  BOOST_REQUIRE(r.metrics.size() == t.metrics.size());
  for (size_t i = 0; i < r.metrics.size(); ++i) {
    BOOST_TEST(r.metrics[i].up == t.metrics[i].up);
    BOOST_TEST((r.metrics[i].values == t.metrics[i].values), "sample " << i);
  }
  BOOST_REQUIRE(r.ops.size() == 3u);
  BOOST_TEST(r.ops[0].value == "v%\"=");
  BOOST_TEST(r.ops[0].key == "k 1");
  BOOST_TEST(r.ops[1].return_us == never);
  BOOST_TEST(r.ops[2].key.empty());
  BOOST_TEST(r.ops[2].cas_ok);
  BOOST_TEST(r.summary == t.summary);
  BOOST_TEST(r.digest == t.digest);
  trace::trace again = r;
  BOOST_TEST(trace::write_trace(again) == text);  // and writes back to the same bytes
}

// "metric 500000 1 up=1 x_sum=0.125": only what changed, and nothing for an unchanged series.
BOOST_AUTO_TEST_CASE(metric_lines_carry_only_changes_after_a_full_sample) {
  trace::trace t = sample_trace();
  const std::string text = trace::write_trace(t);
  // Changed series first, then the removed ones ("=-").
  BOOST_TEST(text.find("metric 250000 1 up=1 aegis_raft_term=2 "
                       "aegis_raft_follower_match_lag{peer=\"2\"}=-\n") != std::string::npos);
  BOOST_TEST(text.find("metric 250000 2 up=0\n") != std::string::npos);
  BOOST_TEST(text.find("metric 500000 1 up=1 x_sum=0.125\n") != std::string::npos);
  // After a failed scrape the node's next sample is complete again.
  BOOST_TEST(text.find("metric 500000 2 up=1 aegis_raft_term=2\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_edited_line_breaks_the_digest) {
  trace::trace t = sample_trace();
  const std::string text = trace::write_trace(t);
  const auto e = read_bad(replace_line(text, "fault 1000000 kill 2", "fault 1000000 kill 3"));
  BOOST_TEST(e.message.find("digest mismatch") != std::string::npos, e.to_string());
}

BOOST_AUTO_TEST_CASE(a_truncated_file_is_refused) {
  trace::trace t = sample_trace();
  std::string text = trace::write_trace(t);
  text.resize(text.find("op 2 "));
  BOOST_TEST(read_bad(text).message.find("truncated") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(another_version_is_refused_on_line_1) {
  trace::trace t = sample_trace();
  const auto e = read_bad(replace_line(trace::write_trace(t), "aegis-trace 1", "aegis-trace 9"));
  BOOST_TEST(e.line == 1u);
  BOOST_TEST(e.message.find("unsupported trace version") != std::string::npos);
  BOOST_TEST(read_bad("hello\n").message == "not an aegis trace");
}

BOOST_AUTO_TEST_CASE(a_malformed_line_is_reported_with_its_number) {
  trace::trace t = sample_trace();
  const std::string text = trace::write_trace(t);
  const auto e = read_bad(replace_line(text, "role 0 1 follower 1", "role zero 1 follower 1"));
  BOOST_TEST(e.line > 1u);
  BOOST_TEST(e.to_string().find("t.trace:") == 0u);
  BOOST_TEST(e.message.find("expected a time") != std::string::npos, e.message);
}

BOOST_AUTO_TEST_CASE(exposition_text_becomes_trace_series) {
  const std::string text =
      "# HELP aegis_raft_term current Raft term\n"
      "# TYPE aegis_raft_term gauge\n"
      "aegis_raft_term{node=\"3\"} 7\n"
      "aegis_raft_follower_match_lag{node=\"3\",peer=\"1\"} 12\n"
      "aegis_grpc_requests_total{code=\"OK\",method=\"Put\",node=\"3\"} 5\n"
      "aegis_log_fsync_duration_seconds_bucket{node=\"3\",le=\"0.001\"} 4\n"
      "aegis_log_fsync_duration_seconds_sum{node=\"3\"} 0.0025\n"
      "aegis_log_fsync_duration_seconds_count{node=\"3\"} 4\n"
      "process_resident_memory_bytes 1.5e+07\n"
      "go_threads 9\n"
      "aegis_broken{node=\"3\" nonsense\n";
  const auto s = trace::series_from_exposition(text);
  BOOST_TEST(s.at("aegis_raft_term") == 7.0);
  BOOST_TEST(s.at("aegis_raft_follower_match_lag{peer=\"1\"}") == 12.0);
  BOOST_TEST(s.at("aegis_grpc_requests_total{code=\"OK\",method=\"Put\"}") == 5.0);
  BOOST_TEST(s.at("aegis_log_fsync_duration_seconds_sum") == 0.0025);
  BOOST_TEST(s.at("process_resident_memory_bytes") == 1.5e7);
  BOOST_TEST(s.count("aegis_log_fsync_duration_seconds_bucket{le=\"0.001\"}") == 0u);
  BOOST_TEST(s.count("go_threads") == 0u);
  BOOST_TEST(s.size() == 6u);
}

// ---- the simulator's recording -----------------------------------------------------------

namespace {

script parse(const std::string& text) {
  auto r = parse_script(text, "t.chaos");
  if (auto* e = std::get_if<parse_error>(&r)) BOOST_FAIL(e->to_string());
  return std::get<script>(std::move(r));
}

sim::run_summary simulate(const script& s, bool record) {
  auto cfg = sim::config_for(s);
  BOOST_REQUIRE(std::holds_alternative<aegis::config::raft_config>(cfg));
  sim::sim_options opt;
  opt.seed = 9;
  opt.record_trace = record;
  return sim::simulate(s, std::get<aegis::config::raft_config>(cfg), opt);
}

constexpr const char* kPauseScript =
    "nodes 3\nduration 8s\nload clients 2 rate 50/s keys 4\n"
    "at 3s for 2s pause 2\nat 6s kill leader\n";

}  // namespace

BOOST_AUTO_TEST_CASE(recording_a_trace_does_not_change_the_run) {
  const script s = parse(kPauseScript);
  const auto plain = simulate(s, false);
  const auto recorded = simulate(s, true);
  BOOST_TEST(plain.digest == recorded.digest);
  BOOST_TEST(plain.trace == nullptr);
  BOOST_REQUIRE(recorded.trace != nullptr);
  BOOST_TEST(recorded.passed());
}

// Pause (SIGSTOP): the node's scrapes fail and it reads as down while stopped; once resumed it
// catches up with what it missed.
BOOST_AUTO_TEST_CASE(a_paused_node_is_down_while_stopped_and_catches_up) {
  const auto r = simulate(parse(kPauseScript), true);
  const trace::trace& t = *r.trace;
  bool down_while_paused = true, seen_paused = false;
  for (const auto& m : t.metrics) {
    if (m.node != 2) continue;
    const bool paused = m.at_us >= 3'000'000 && m.at_us < 5'000'000;
    if (paused) {
      seen_paused = true;
      down_while_paused = down_while_paused && !m.up;
    }
  }
  BOOST_TEST(seen_paused);
  BOOST_TEST(down_while_paused);
  BOOST_REQUIRE(t.faults.size() >= 3u);
  BOOST_TEST(t.faults[0].text == "pause 2");
  BOOST_TEST(t.faults[1].text == "end pause 2");
  BOOST_TEST(t.faults[2].text.rfind("kill ", 0) == 0u);
  // Node 2 applied everything the leader had applied at 5.75 s, a moment after resuming.
  double applied2 = -1, leader_applied = -1;
  for (const auto& m : t.metrics) {
    if (m.at_us != 5'750'000 || !m.up) continue;
    if (m.node == 2) applied2 = m.values.at("aegis_raft_applied_index");
    if (m.values.at("aegis_raft_is_leader") == 1)
      leader_applied = m.values.at("aegis_raft_applied_index");
  }
  BOOST_TEST(leader_applied > 0);
  BOOST_TEST(applied2 >= leader_applied - 5);
  BOOST_TEST(r.passed());
}

BOOST_AUTO_TEST_CASE(pause_resume_and_lease_holders_parse_and_format) {
  const script s = parse(
      "nodes 3\nduration 5s\nload leases 20 lease-ttl 4s\nat 1s pause follower\n"
      "at 2s resume 3\n");
  BOOST_REQUIRE(s.load.has_value());
  BOOST_TEST(s.load->leases == 20u);
  BOOST_TEST(s.load->lease_ttl_us == 4'000'000);
  BOOST_TEST((s.faults[0].kind == fault_kind::pause));
  BOOST_TEST((s.faults[1].kind == fault_kind::resume));
  const script again = parse(format_script(s));
  BOOST_TEST(again.load->leases == 20u);
  BOOST_TEST(format_script(again) == format_script(s));
  auto bad = parse_script("nodes 3\nduration 5s\nload lease-ttl 1.5s\n", "b.chaos");
  BOOST_REQUIRE(std::holds_alternative<parse_error>(bad));
  BOOST_TEST(std::get<parse_error>(bad).to_string() ==
             "b.chaos:3:16: lease-ttl must be whole seconds from 1s to 3600s");
  auto no_for = parse_script("nodes 3\nduration 5s\nat 1s for 1s resume 2\n", "b.chaos");
  BOOST_TEST(std::holds_alternative<parse_error>(no_for));
}
