// The classifier against the fixture library (tests/fixtures/traces/): each trace is named by
// its file (healthy.trace is `healthy`, ...), and the classifier's most confident verdict must
// be that class; the healthy trace gets no anomaly at all. Prints the score table. Plus the rules'
// edges on hand-made telemetry and the JSON document the proposer reads.
#define BOOST_TEST_MODULE classifier
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "control/classifier.hpp"
#include "control/observer.hpp"

#ifndef AEGIS_FIXTURES_DIR
#define AEGIS_FIXTURES_DIR "tests/fixtures/traces"
#endif

using namespace aegis::control;
namespace trace = aegis::chaos::trace;

namespace {

std::vector<std::filesystem::path> fixtures() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(AEGIS_FIXTURES_DIR))
    if (e.path().extension() == ".trace") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<verdict> classify_file(const std::string& path) {
  auto o = observe_trace(path);
  if (auto* e = std::get_if<std::string>(&o)) BOOST_FAIL(*e);
  return classify(std::get<observation>(o).view);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_fixture_is_classified_as_its_class) {
  size_t right = 0, total = 0;
  for (const auto& path : fixtures()) {
    const std::string want = path.stem().string();
    if (!class_named(want)) continue;  // a fixture that is not named after a class
    ++total;
    const auto vs = classify_file(path.string());
    BOOST_REQUIRE(!vs.empty());
    const bool ok = name_of(vs.front().cls) == want;
    right += ok;
    std::string got;
    for (const auto& v : vs)
      got += std::string(name_of(v.cls)) + " (" + std::to_string(v.confidence).substr(0, 4) + ") ";
    std::cout << (ok ? "  ok    " : "  WRONG ") << want << ": " << got << "\n";
    BOOST_TEST(ok, path.filename() << ": got " << got);
    if (want == "healthy") BOOST_TEST(vs.size() == 1u, "no false alarm on the healthy fixture");
    for (const auto& v : vs) {
      BOOST_TEST(v.confidence > 0);
      BOOST_TEST(v.confidence <= 1);
      if (v.cls != incident_class::healthy) BOOST_TEST(!v.evidence.empty());
    }
  }
  std::cout << "classifier score: " << right << "/" << total << " fixtures\n";
  BOOST_TEST(total >= 8u);
}

namespace {

// A steady 3-node cluster led by node 1, 40 rounds of 250 ms; `tweak` edits each sample.
template <typename F>
telemetry_view steady(F tweak) {
  std::vector<trace::metric_sample> ms;
  for (int r = 0; r < 40; ++r) {
    for (uint32_t n = 1; n <= 3; ++n) {
      trace::metric_sample m{.at_us = r * 250'000, .node = n, .up = true};
      m.values = {{"aegis_raft_term", 2},
                  {"aegis_raft_is_leader", n == 1 ? 1.0 : 0.0},
                  {"aegis_raft_has_leader", 1},
                  {"aegis_raft_commit_index", 10.0 + r},
                  {"aegis_raft_applied_index", 10.0 + r},
                  {"aegis_proposals_pending", 1},
                  {"aegis_log_fsync_duration_seconds_count", 4.0 * r},
                  {"aegis_log_fsync_duration_seconds_sum", 0.004 * r},
                  {"aegis_clock_stamp_offset_seconds", 0.005}};
      if (n == 1)
        for (uint32_t p : {2u, 3u}) {
          m.values[peer_key("aegis_raft_follower_match_lag", p)] = 0;
          m.values[peer_key("aegis_raft_heartbeat_rtt_seconds_count", p)] = 2.5 * r;
          m.values[peer_key("aegis_raft_heartbeat_rtt_seconds_sum", p)] = 0.005 * r;
        }
      tweak(r, n, m);
      ms.push_back(std::move(m));
    }
  }
  return telemetry_view(std::move(ms), {{"election_timeout_ms_min", "1000"}});
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_window_without_an_answer_has_no_verdict) {
  std::vector<trace::metric_sample> ms;
  for (int r = 0; r < 8; ++r)
    for (uint32_t n = 1; n <= 3; ++n)
      ms.push_back({.at_us = r * 250'000, .node = n, .up = false});
  BOOST_TEST(classify(telemetry_view(std::move(ms))).empty());
  BOOST_TEST(classify(telemetry_view({})).empty());
}

BOOST_AUTO_TEST_CASE(a_steady_cluster_is_healthy) {
  const auto vs = classify(steady([](int, uint32_t, trace::metric_sample&) {}));
  BOOST_REQUIRE(vs.size() == 1u);
  BOOST_TEST(name_of(vs[0].cls) == "healthy");
}

// A crashed and restarted follower lags while down, but a restart is not a slow follower.
BOOST_AUTO_TEST_CASE(a_restarted_node_is_not_a_slow_follower) {
  auto view = steady([](int r, uint32_t n, trace::metric_sample& m) {
    if (n == 1) m.values[peer_key("aegis_raft_follower_match_lag", 2)] = r < 30 ? 20.0 * r : 0;
    if (n == 2 && r >= 5 && r < 30) m = {.at_us = m.at_us, .node = 2, .up = false};
    if (n == 2 && r >= 30) m.values["aegis_log_fsync_duration_seconds_count"] = r - 30;
  });
  for (const auto& v : classify(view))
    BOOST_TEST(name_of(v.cls) != "slow_follower");
  // The same lag without the restart is a slow (hung) follower.
  auto hung = steady([](int r, uint32_t n, trace::metric_sample& m) {
    if (n == 1) m.values[peer_key("aegis_raft_follower_match_lag", 2)] = r < 30 ? 20.0 * r : 0;
    if (n == 2 && r >= 5 && r < 30) m = {.at_us = m.at_us, .node = 2, .up = false};
  });
  const auto vs = classify(hung);
  BOOST_TEST(name_of(vs.front().cls) == "slow_follower");
  BOOST_TEST(vs.front().nodes == std::vector<uint32_t>{2});
}

// Skew is relative: every node equally late is not skew; one node off by 300 ms is.
BOOST_AUTO_TEST_CASE(clock_skew_is_one_node_off_the_others) {
  auto even = steady([](int, uint32_t, trace::metric_sample& m) {
    m.values["aegis_clock_stamp_offset_seconds"] = 0.25;
  });
  for (const auto& v : classify(even))
    BOOST_TEST(name_of(v.cls) != "clock_skew");
  auto one = steady([](int, uint32_t n, trace::metric_sample& m) {
    if (n == 3) m.values["aegis_clock_stamp_offset_seconds"] = -0.3;
  });
  const auto vs = classify(one);
  BOOST_TEST(name_of(vs.front().cls) == "clock_skew");
  BOOST_TEST(vs.front().nodes == std::vector<uint32_t>{3});
}

// Leases expiring with a stable leader are the application's business; around a leader change
// they are starvation.
BOOST_AUTO_TEST_CASE(lease_expiry_is_starvation_only_around_a_leader_change) {
  auto expire = [](int r, uint32_t, trace::metric_sample& m) {
    m.values["aegis_lease_expired_total"] = r >= 20 ? 5 : 0;
    m.values["aegis_lease_active"] = r >= 20 ? 0 : 5;
  };
  for (const auto& v : classify(steady(expire)))
    BOOST_TEST(name_of(v.cls) != "lease_starvation");
  auto with_change = steady([&](int r, uint32_t n, trace::metric_sample& m) {
    expire(r, n, m);
    if (r >= 15) {  // node 2 takes over in term 3
      m.values["aegis_raft_term"] = 3;
      m.values["aegis_raft_is_leader"] = n == 2 ? 1 : 0;
    }
  });
  bool found = false;
  for (const auto& v : classify(with_change))
    found = found || name_of(v.cls) == "lease_starvation";
  BOOST_TEST(found);
}

BOOST_AUTO_TEST_CASE(the_output_document_round_trips_its_verdicts) {
  auto o = observe_trace(std::string(AEGIS_FIXTURES_DIR) + "/slow_follower.trace");
  BOOST_REQUIRE(std::holds_alternative<observation>(o));
  const auto& obs = std::get<observation>(o);
  const auto vs = classify(obs.view);
  const auto doc = to_json(obs, vs);
  BOOST_TEST(doc.at("source").at("kind") == "trace");
  BOOST_TEST(doc.at("config").at("snapshot_threshold_entries") == "200");
  const auto back = verdict_from_json(doc.at("verdicts").at(0));
  BOOST_TEST(name_of(back.cls) == name_of(vs[0].cls));
  BOOST_TEST(back.evidence.size() == vs[0].evidence.size());
  BOOST_CHECK_THROW(verdict_from_json({{"class", "nonsense"}, {"confidence", 0.5}}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(verdict_from_json({{"class", "overload"}, {"confidence", 1.5}}),
                    std::invalid_argument);
}
