// From verdicts to proposals on the fixture library: every anomaly gets a proposal whose status
// follows the rules -- a patch that breaks the envelope never reaches the verifier, a proposed
// patch passed every envelope rule and improved its target row in the replay, anything else is
// kept as a negative result -- and the election storm's timeout raise is verified and proposed.
#define BOOST_TEST_MODULE pipeline
#include <boost/test/unit_test.hpp>

#include <iostream>
#include <set>

#include "control/classifier.hpp"
#include "control/observer.hpp"
#include "control/pipeline.hpp"

#ifndef AEGIS_SOURCE_DIR
#define AEGIS_SOURCE_DIR "."
#endif

using namespace aegis::control;

namespace {

const std::string kFixtures = std::string(AEGIS_SOURCE_DIR) + "/tests/fixtures/traces/";

std::vector<proposal> run(const std::string& name) {
  auto o = observe_trace(kFixtures + name + ".trace");
  if (auto* e = std::get_if<std::string>(&o)) BOOST_FAIL(*e);
  const auto& obs = std::get<observation>(o);
  const auto doc = to_json(obs, classify(obs.view));
  document_options opt{.scripts_dir = std::string(AEGIS_SOURCE_DIR) + "/chaos/scripts",
                       .config_file = "cluster/node.ini",
                       .verify = {.seeds = {1, 2, 3}}};
  return proposals_from_document(doc, opt);
}

void check_rules(const proposal& p) {
  static const std::set<std::string> kStatuses{"proposed", "rejected_by_envelope",
                                               "negative_result", "recommendation_only"};
  BOOST_TEST(kStatuses.count(p.status) == 1u, p.status);
  bool all_passed = true;
  for (const auto& c : p.envelope)
    all_passed = all_passed && c.passed;
  if (p.status == "rejected_by_envelope") {
    BOOST_TEST(!all_passed);
    BOOST_TEST(!p.verified.has_value(), "a rejected patch never reaches the verifier");
  }
  if (p.status == "proposed") {
    BOOST_TEST(all_passed);
    BOOST_REQUIRE(p.verified.has_value());
    BOOST_TEST(p.verified->improved);
    BOOST_TEST(p.verified->seeds.size() == 3u);
  }
  if (p.status == "negative_result") BOOST_TEST((!p.verified || !p.verified->improved));
  if (p.status == "recommendation_only") {
    BOOST_TEST(p.advice.patch.empty());
    BOOST_TEST(!p.advice.recommendation.empty());
  }
  BOOST_TEST(p.id.size() == 12u);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_fixture_anomaly_gets_a_proposal_that_follows_the_rules) {
  for (const char* name :
       {"election_storm", "leader_disk_stall", "slow_follower", "partition_stale_leader",
        "lease_starvation", "clock_skew", "overload", "flaky_link"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto ps = run(name);
      BOOST_TEST(!ps.empty());
      for (const auto& p : ps) {
        std::cout << name << ": " << name_of(p.incident.cls) << " -> " << p.status;
        if (p.verified) std::cout << " (" << p.verified->explanation << ")";
        std::cout << "\n";
        check_rules(p);
      }
    }
  }
  BOOST_TEST(run("healthy").empty(), "nothing to propose for a healthy cluster");
}

BOOST_AUTO_TEST_CASE(the_election_storm_fix_is_verified_and_proposed) {
  const auto ps = run("election_storm");
  BOOST_REQUIRE(ps.size() >= 1u);
  const proposal& p = ps.front();
  BOOST_TEST(name_of(p.incident.cls) == "election_storm");
  BOOST_TEST(p.status == "proposed");
  BOOST_REQUIRE(p.verified.has_value());
  std::cout << format_table(*p.verified);
  for (const auto& r : p.verified->rows)
    if (r.metric == "leader_changes") BOOST_TEST(r.after < r.before);
  // The same advice for the same file gets the same id: a retry finds its PR.
  BOOST_TEST(run("election_storm").front().id == p.id);
}
