// The advisor: every incident class gets advice; classes with a patch produce one that passes
// the safety envelope from the default config with facts like the fixtures'; every rollback
// restores the config; classes no config can fix get a recommendation and no patch.
#define BOOST_TEST_MODULE advisor
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <set>
#include <string>

#include "control/advisor/advisor.hpp"

using namespace aegis;
using namespace aegis::control;

namespace {

// Facts as the fixtures show them: 5 voters, every node on the same config, a few ms RTT.
config::cluster_facts fixture_facts() {
  config::cluster_facts f;
  f.voters = 5;
  f.peer_rtt_p99_ms = 6;
  f.node_configs.assign(5, config::raft_config{});
  return f;
}

evidence ev(std::string metric, double value) {
  evidence e;
  e.metric = std::move(metric);
  e.value = value;
  return e;
}

// A verdict like the classifier's for each fixture, with the evidence the advisor reads.
verdict verdict_for(incident_class c) {
  verdict v;
  v.cls = c;
  v.confidence = 0.9;
  v.summary = std::string(name_of(c));
  if (c == incident_class::election_storm)
    v.evidence.push_back(ev("aegis_raft_heartbeat_rtt_seconds (mean)", 0.32));
  if (c == incident_class::slow_follower) {
    v.nodes = {3};
    v.evidence.push_back(ev("aegis_raft_follower_match_lag{peer=\"3\"}", 560));
  }
  if (c == incident_class::overload) v.evidence.push_back(ev("aegis_proposals_pending", 30));
  if (c == incident_class::flaky_link) v.nodes = {1, 4};
  if (c == incident_class::leader_disk_stall) v.nodes = {2};
  return v;
}

bool is_patch_class(incident_class c) {
  return c == incident_class::election_storm || c == incident_class::slow_follower ||
         c == incident_class::overload || c == incident_class::flaky_link;
}

std::string broken(const std::vector<envelope_check>& checks) {
  std::string out;
  for (const auto& c : checks)
    if (!c.passed) out += c.rule + " (" + c.detail + ") ";
  return out;
}

config::raft_config applied(const config::raft_config& c, const std::vector<config_change>& p) {
  auto r = apply_patch(c, p);
  if (auto* err = std::get_if<std::string>(&r)) BOOST_FAIL("patch refused: " << *err);
  return std::get<config::raft_config>(r);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_class_gets_advice) {
  const std::set<std::string> rows = {"availability", "leader_changes", "commit_p99_ms",
                                      "ops_failed",   "lease_expiries", "snapshots_installed"};
  for (auto c : kAllClasses) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      const auto a = advise(verdict_for(c), config::raft_config{}, fixture_facts());
      BOOST_TEST((a.cls == c));
      BOOST_TEST(!a.rationale.empty());
      BOOST_TEST(!a.expected_effect.empty());
      BOOST_TEST(!a.recommendation.empty());
      BOOST_TEST(!a.rollback.empty());
      BOOST_TEST(a.patch.empty() == !is_patch_class(c));
      BOOST_TEST(a.patch.empty() == a.target_metric.empty());
      if (!a.patch.empty()) BOOST_TEST(rows.count(a.target_metric) == 1u, a.target_metric);
    }
  }
}

BOOST_AUTO_TEST_CASE(patches_pass_the_envelope_from_the_defaults) {
  for (auto c : kAllClasses) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      const auto a = advise(verdict_for(c), config::raft_config{}, fixture_facts());
      const auto checks = envelope_checks(a, config::raft_config{}, fixture_facts());
      BOOST_TEST(checks.size() == config::envelope_rules().size());
      BOOST_TEST(envelope_passed(checks), broken(checks));
    }
  }
}

BOOST_AUTO_TEST_CASE(rollback_restores_the_config) {
  for (auto c : kAllClasses) {
    BOOST_TEST_CONTEXT(name_of(c)) {
      const config::raft_config cur{};
      const auto a = advise(verdict_for(c), cur, fixture_facts());
      const auto after = applied(cur, a.patch);
      BOOST_TEST(config::diff(cur, after).size() == a.patch.size());
      BOOST_TEST(config::diff(cur, applied(after, rollback_of(a.patch))).empty());
      for (const auto& ch : a.patch)
        BOOST_TEST(a.rollback.find(ch.key + "=" + ch.from) != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(election_storm_raises_timeouts_to_ten_round_trips) {
  const auto a =
      advise(verdict_for(incident_class::election_storm), config::raft_config{}, fixture_facts());
  const auto after = applied(config::raft_config{}, a.patch);
  BOOST_TEST(after.election_timeout_ms_min >= 3200u);
  BOOST_TEST(after.election_timeout_ms_min >= 10 * after.heartbeat_interval_ms);
  BOOST_TEST(after.election_timeout_ms_max >= after.election_timeout_ms_min * 3 / 2);
  BOOST_TEST(a.target_metric == "leader_changes");
}

BOOST_AUTO_TEST_CASE(election_storm_from_the_fixture_config_is_a_jump_for_a_person) {
  config::raft_config storm;  // chaos/scripts/fixtures/election_storm.chaos
  storm.heartbeat_interval_ms = 60;
  storm.election_timeout_ms_min = 120;
  storm.election_timeout_ms_max = 160;
  const auto a = advise(verdict_for(incident_class::election_storm), storm, fixture_facts());
  BOOST_TEST(a.recommendation.find("person") != std::string::npos, a.recommendation);
  auto facts = fixture_facts();
  facts.node_configs.assign(5, storm);
  const auto checks = envelope_checks(a, storm, facts);
  BOOST_TEST(broken(checks).find("step_bounded") != std::string::npos, broken(checks));
  BOOST_TEST(!envelope_passed(checks));
}

BOOST_AUTO_TEST_CASE(rtt_evidence_in_ms_and_bad_evidence) {
  verdict v = verdict_for(incident_class::election_storm);
  v.evidence = {ev("peer RTT p99 ms", 250)};
  auto facts = fixture_facts();
  facts.peer_rtt_p99_ms.reset();
  auto after = applied(config::raft_config{}, advise(v, config::raft_config{}, facts).patch);
  BOOST_TEST(after.election_timeout_ms_min == 2500u);
  // NaN and negative values prove nothing: without an RTT the timeout is doubled.
  v.evidence = {ev("heartbeat rtt seconds", std::nan("")), ev("heartbeat rtt seconds", -1)};
  after = applied(config::raft_config{}, advise(v, config::raft_config{}, facts).patch);
  BOOST_TEST(after.election_timeout_ms_min == 2000u);
  BOOST_TEST(after.heartbeat_interval_ms == 100u);
}

BOOST_AUTO_TEST_CASE(slow_follower_from_the_fixture_config_goes_one_bounded_step) {
  config::raft_config slow;  // chaos/scripts/fixtures/slow_follower.chaos
  slow.snapshot_threshold_entries = 200;
  slow.snapshot_catchup_entries = 50;
  auto facts = fixture_facts();
  facts.node_configs.assign(5, slow);
  const auto a = advise(verdict_for(incident_class::slow_follower), slow, facts);
  const auto after = applied(slow, a.patch);
  BOOST_TEST(after.snapshot_catchup_entries == 200u);
  BOOST_TEST(after.snapshot_threshold_entries >= after.snapshot_catchup_entries);
  BOOST_TEST(a.recommendation.find("840") != std::string::npos, a.recommendation);
  const auto checks = envelope_checks(a, slow, facts);
  BOOST_TEST(envelope_passed(checks), broken(checks));
}

BOOST_AUTO_TEST_CASE(partition_turns_the_guards_on_only_when_off) {
  config::raft_config loose;
  loose.check_quorum = false;
  auto facts = fixture_facts();
  facts.node_configs.assign(5, loose);
  const auto a = advise(verdict_for(incident_class::partition_stale_leader), loose, facts);
  BOOST_TEST(a.patch.size() == 1u);
  BOOST_TEST(a.patch[0].key == "check_quorum");
  BOOST_TEST(a.target_metric == "ops_failed");
  BOOST_TEST(envelope_passed(envelope_checks(a, loose, facts)));
  const auto b = advise(verdict_for(incident_class::partition_stale_leader), {}, fixture_facts());
  BOOST_TEST(b.patch.empty());
}

BOOST_AUTO_TEST_CASE(bad_input_gets_an_answer_not_a_crash) {
  verdict v;
  v.cls = static_cast<incident_class>(200);
  const auto a = advise(v, {}, fixture_facts());
  BOOST_TEST(a.patch.empty());
  BOOST_TEST(a.recommendation.find("unknown incident class") != std::string::npos);
  auto r = apply_patch({}, {{"no_such_key", "1", "2"}});
  BOOST_TEST(std::holds_alternative<std::string>(r));
  r = apply_patch({}, {{"heartbeat_interval_ms", "100", "soon"}});
  BOOST_TEST(std::get<std::string>(r).find("heartbeat_interval_ms") != std::string::npos);
}
