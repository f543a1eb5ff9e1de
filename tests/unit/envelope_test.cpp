// The safety envelope: every rule of the table has a case where it fails, reported under its
// id, and a case where it passes; bad patches are refused with a reason, never a crash.
#define BOOST_TEST_MODULE envelope
#include <boost/test/unit_test.hpp>
#include <functional>
#include <set>
#include <string>

#include "config/envelope.hpp"

using namespace aegis::config;

namespace {

cluster_facts five_nodes() {
  cluster_facts f;
  f.voters = 5;
  f.peer_rtt_p99_ms = 10;
  return f;
}

const rule_result& result_of(const envelope_report& rep, const std::string& id) {
  for (const auto& r : rep.results)
    if (r.rule == id) return r;
  BOOST_FAIL("no result for rule " << id);
  return rep.results.front();
}

// `id` fails with `bad` and passes with `good`: each is a patch over the defaults plus facts.
struct rule_case {
  std::string id;
  std::vector<patch_entry> bad_patch;
  std::function<void(cluster_facts&)> bad_facts;
  std::vector<patch_entry> good_patch;
  std::function<void(cluster_facts&)> good_facts;
};

void no_change(cluster_facts&) {}

std::vector<rule_case> cases() {
  return {
      {"schema_keys_known",
       {{"no_such_key", "", "1"}},
       no_change,
       {{"pre_vote", "", "true"}},
       no_change},
      {"patch_base_current",
       {{"max_pending_reads", "17", "2048"}},
       no_change,
       {{"max_pending_reads", "4096", "2048"}},
       no_change},
      {"patch_size",
       {{"max_pending_reads", "", "2000"},
        {"max_inflight_appends", "", "32"},
        {"learner_catchup_entries", "", "200"},
        {"snapshot_chunk_bytes", "", "524288"},
        {"max_append_bytes", "", "524288"}},
       no_change,
       {{"max_pending_reads", "", "2000"}, {"max_inflight_appends", "", "32"}},
       no_change},
      {"step_bounded",
       {{"max_pending_reads", "", "100"}},
       no_change,
       {{"max_pending_reads", "", "1024"}},
       no_change},
      {"config_valid", {{"max_proposal_bytes", "", "0"}}, no_change, {}, no_change},
      {"heartbeat_floor",
       {{"heartbeat_interval_ms", "", "5"}},
       no_change,
       {{"heartbeat_interval_ms", "", "50"}},
       no_change},
      {"election_timeout_vs_heartbeat",
       {{"heartbeat_interval_ms", "", "150"}},
       no_change,
       {{"heartbeat_interval_ms", "", "90"}},
       no_change},
      {"election_timeout_vs_rtt",
       {},
       [](cluster_facts& f) { f.peer_rtt_p99_ms = 101; },
       {},
       [](cluster_facts& f) { f.peer_rtt_p99_ms = 100; }},
      {"election_timeout_max_bound",
       {{"heartbeat_interval_ms", "", "400"},
        {"election_timeout_ms_min", "", "4000"},
        {"election_timeout_ms_max", "", "60000"}},
       no_change,
       {{"election_timeout_ms_max", "", "8000"}},
       no_change},
      {"election_timeout_spread",
       {{"election_timeout_ms_max", "", "1400"}},
       no_change,
       {{"election_timeout_ms_max", "", "1500"}},
       no_change},
      {"timeouts_identical",
       {},
       [](cluster_facts& f) {
         f.node_configs.assign(5, raft_config{});
         f.node_configs[3].election_timeout_ms_max = 2500;
       },
       {{"election_timeout_ms_max", "", "3000"}},
       [](cluster_facts& f) { f.node_configs.assign(5, raft_config{}); }},
      {"pre_vote_on", {{"pre_vote", "", "false"}}, no_change, {}, no_change},
      {"check_quorum_on", {{"check_quorum", "", "false"}}, no_change, {}, no_change},
      {"lease_reads_guarded",
       {},
       [](cluster_facts& f) {
         f.lease_reads_requested = true;
         f.clock_drift_bound_ms = 1000;
       },
       {},
       [](cluster_facts& f) {
         f.lease_reads_requested = true;
         f.clock_drift_bound_ms = 999;
       }},
      {"lease_ttl_above_election",
       {},
       [](cluster_facts& f) { f.clock_drift_bound_ms = 1001; },
       {},
       [](cluster_facts& f) { f.clock_drift_bound_ms = 1000; }},
      {"lease_ttl_bounded",
       {{"heartbeat_interval_ms", "", "400"},
        {"election_timeout_ms_min", "", "4000"},
        {"election_timeout_ms_max", "", "7000"}},
       // ceil(1.5 x 7000 ms) = 11 s: fine; the failing case needs the max above 40 s, which
       // takes several steps from the defaults, so it is judged as a config pair below.
       no_change,
       {},
       no_change},
      {"fsync_on", {}, [](cluster_facts& f) { f.fsync_enabled = false; }, {}, no_change},
      {"voters_odd",
       {},
       [](cluster_facts& f) { f.voters = 4; },
       {},
       [](cluster_facts& f) { f.voters = 3; }},
      {"voters_at_most_7",
       {},
       [](cluster_facts& f) { f.voters = 9; },
       {},
       [](cluster_facts& f) { f.voters = 7; }},
      {"snapshot_threshold_vs_catchup",
       {{"snapshot_catchup_entries", "", "12000"}},
       no_change,
       {{"snapshot_catchup_entries", "", "10000"}},
       no_change},
      {"catchup_covers_snapshot_send",
       {},
       [](cluster_facts& f) {
         f.write_rate_per_s = 1000;
         f.snapshot_send_ms = 2501;  // 2 x 2501 writes > 5000 entries kept
       },
       {},
       [](cluster_facts& f) {
         f.write_rate_per_s = 1000;
         f.snapshot_send_ms = 2500;
       }},
      {"snapshot_threshold_vs_send",
       {},
       [](cluster_facts& f) {
         f.write_rate_per_s = 100;
         f.snapshot_send_ms = 50'001;
       },
       {},
       [](cluster_facts& f) {
         f.write_rate_per_s = 100;
         f.snapshot_send_ms = 25'000;
       }},
      {"inflight_bounds",
       {{"max_inflight_appends", "", "0"}},
       no_change,
       {{"max_inflight_appends", "", "256"}},
       no_change},
      {"append_bytes_bounds",
       {{"max_append_bytes", "", "512"}},
       no_change,
       {{"max_append_bytes", "", "4194304"}},
       no_change},
      {"uncommitted_vs_proposal",
       {{"max_uncommitted_bytes", "", "1000000"}},
       no_change,
       {{"max_uncommitted_bytes", "", "16777216"}},
       no_change},
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(defaults_pass_every_rule) {
  const auto rep = check_patch(raft_config{}, {}, five_nodes());
  for (const auto& r : rep.results)
    BOOST_TEST(r.passed, r.rule << ": " << r.detail);
  BOOST_TEST(rep.passed());
  BOOST_TEST(rep.results.size() == envelope_rules().size());
}

BOOST_AUTO_TEST_CASE(table_has_at_least_12_rules_with_unique_ids_and_reasons) {
  std::set<std::string_view> ids;
  for (const auto& r : envelope_rules()) {
    BOOST_TEST(!r.reason.empty(), r.id);
    BOOST_TEST(!r.bound.empty(), r.id);
    BOOST_TEST(ids.insert(r.id).second, "duplicate id " << r.id);
  }
  BOOST_TEST(ids.size() >= 12u);
}

BOOST_AUTO_TEST_CASE(every_rule_has_a_failing_and_a_passing_case) {
  std::set<std::string> covered;
  for (const auto& c : cases()) {
    BOOST_TEST_CONTEXT("rule " << c.id) {
      cluster_facts bad = five_nodes(), good = five_nodes();
      c.bad_facts(bad);
      c.good_facts(good);
      const auto bad_rep = check_patch(raft_config{}, c.bad_patch, bad);
      const auto good_rep = check_patch(raft_config{}, c.good_patch, good);
      BOOST_TEST(result_of(good_rep, c.id).passed, result_of(good_rep, c.id).detail);
      if (c.id == "lease_ttl_bounded") continue;  // its failing case is the next test
      BOOST_TEST(!result_of(bad_rep, c.id).passed, result_of(bad_rep, c.id).detail);
      const auto broken = bad_rep.broken_rules();
      BOOST_TEST((std::find(broken.begin(), broken.end(), c.id) != broken.end()));
      BOOST_TEST(!bad_rep.passed());
      covered.insert(c.id);
    }
  }
  for (const auto& r : envelope_rules())
    if (r.id != "lease_ttl_bounded") BOOST_TEST(covered.count(std::string(r.id)) == 1u, r.id);
}

BOOST_AUTO_TEST_CASE(lease_ttl_floor_past_a_minute_is_refused) {
  raft_config current;
  current.heartbeat_interval_ms = 2000;
  current.election_timeout_ms_min = 20'000;
  current.election_timeout_ms_max = 40'000;  // floor 60 s: the bound itself
  BOOST_TEST(result_of(check_patch(current, {}, five_nodes()), "lease_ttl_bounded").passed);
  const auto rep = check_patch(current, {{"election_timeout_ms_max", "", "40700"}}, five_nodes());
  BOOST_TEST(!result_of(rep, "lease_ttl_bounded").passed);  // ceil(61.05 s) = 62 s
  BOOST_TEST(rep.broken_rules() == std::vector<std::string>{"lease_ttl_bounded"});
}

BOOST_AUTO_TEST_CASE(bad_patches_are_refused_with_reasons_not_crashes) {
  const auto rep = check_patch(raft_config{},
                               {{"heartbeat_interval_ms", "", "fast"},
                                {"pre_vote", "", "maybe"},
                                {"max_inflight_appends", "", "99999999999999999999"},
                                {"", "", ""},
                                {"max_pending_reads", "", "2048"},
                                {"max_pending_reads", "", "1024"}},
                               five_nodes());
  const auto& r = result_of(rep, "schema_keys_known");
  BOOST_TEST(!r.passed);
  BOOST_TEST(r.detail.find("heartbeat_interval_ms") != std::string::npos, r.detail);
  BOOST_TEST(r.detail.find("appears twice") != std::string::npos, r.detail);
  BOOST_TEST(rep.proposed.heartbeat_interval_ms == 100u);  // refused entries are not applied
  BOOST_TEST(rep.proposed.max_pending_reads == 2048u);
}

BOOST_AUTO_TEST_CASE(unknown_voter_count_fails_the_voter_rules) {
  const auto rep = check_patch(raft_config{}, {}, cluster_facts{});
  BOOST_TEST(rep.broken_rules() == (std::vector<std::string>{"voters_odd", "voters_at_most_7"}));
}

BOOST_AUTO_TEST_CASE(check_config_judges_the_difference) {
  raft_config proposed;
  proposed.election_timeout_ms_min = 5000;  // 5x: too big a step, and no spread left
  const auto rep = check_config(proposed, raft_config{}, five_nodes());
  BOOST_TEST(!result_of(rep, "step_bounded").passed);
  BOOST_TEST(!result_of(rep, "config_valid").passed);  // max must exceed min
  BOOST_TEST(diff(raft_config{}, proposed).size() == 1u);
  BOOST_TEST(diff(raft_config{}, proposed)[0].from == "1000");
}

BOOST_AUTO_TEST_CASE(min_lease_ttl_matches_the_node) {
  raft_config c;
  BOOST_TEST(min_lease_ttl_ms(c) == 3000u);  // README: 3 s with the default 2 s maximum
  c.election_timeout_ms_max = 100;
  BOOST_TEST(min_lease_ttl_ms(c) == 1000u);
  c.election_timeout_ms_max = 6400;
  BOOST_TEST(min_lease_ttl_ms(c) == 10'000u);
}
