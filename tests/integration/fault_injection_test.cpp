// Issue 3, fault hooks: the admin API (aegis.adminpb.Admin) refuses every fault unless the node
// runs with node.fault_injection=true; with it, partitioning the leader through the hooks makes
// the others elect a new leader, and clearing the faults heals the cluster.
#define BOOST_TEST_MODULE integration_fault_injection
#include <grpcpp/grpcpp.h>

#include <boost/test/unit_test.hpp>

#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;

namespace {

grpc::Status set_link(cluster& c, int node, int peer, bool partitioned, uint32_t drop = 0) {
  return c.client(node)->set_link_faults(static_cast<uint64_t>(peer), partitioned, drop,
                                         steady::now() + 5s);
}

grpc::Status clear(cluster& c, int node) {
  return c.client(node)->clear_faults(steady::now() + 5s);
}

// The leader named by every node in `nodes`, if they agree on one.
std::optional<uint64_t> agreed_leader(cluster& c, const std::vector<int>& nodes) {
  std::optional<uint64_t> leader;
  for (int n : nodes) {
    const auto s = c.status(n);
    if (!s || s->leader == 0 || (leader && *leader != s->leader)) return std::nullopt;
    leader = s->leader;
  }
  return leader;
}

}  // namespace

BOOST_AUTO_TEST_CASE(faults_are_refused_without_fault_injection) {
  cluster c({.name = "nofaults", .nodes = 3});
  c.start_all();
  BOOST_REQUIRE_MESSAGE(c.wait_for_leader(steady::now() + 15s), "no leader:\n" << c.describe());
  const auto st = set_link(c, 1, 2, true);
  BOOST_TEST(st.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(st.error_message().find("fault injection is disabled") != std::string::npos,
             st.error_message());
  BOOST_TEST(clear(c, 1).error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  // Nothing changed: the cluster still takes writes through every node.
  for (int n = 1; n <= 3; ++n)
    BOOST_TEST(c.put(n, "nofaults/" + std::to_string(n), "v", steady::now() + 5s).ok());
}

BOOST_AUTO_TEST_CASE(a_partitioned_leader_is_replaced_and_clearing_heals) {
  cluster c({.name = "faults", .nodes = 3, .node_extra = {{"fault_injection", "true"}}});
  c.start_all();
  const auto first = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(first, "no leader:\n" << c.describe());
  const int leader = static_cast<int>(*first);
  std::vector<int> others;
  for (int n = 1; n <= 3; ++n)
    if (n != leader) others.push_back(n);

  // Bad settings are refused and change nothing.
  BOOST_TEST(set_link(c, leader, others[0], false, 101).error_code() ==
             grpc::StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(set_link(c, leader, 9, true).error_code() == grpc::StatusCode::NOT_FOUND);

  // Both directions between the leader and each other node.
  for (int n : others) {
    BOOST_REQUIRE(set_link(c, leader, n, true).ok());
    BOOST_REQUIRE(set_link(c, n, leader, true).ok());
  }
  const bool replaced = wait_until(
      [&] {
        const auto l = agreed_leader(c, others);
        return l && *l != static_cast<uint64_t>(leader);
      },
      steady::now() + 4 * c.election_timeout_max() + 2s);
  BOOST_REQUIRE_MESSAGE(replaced, "the partitioned leader " << leader << " was not replaced:\n"
                                                            << c.describe());
  BOOST_TEST(c.put(others[0], "faults/during", "1", steady::now() + 5s).ok());

  for (int n = 1; n <= 3; ++n)
    BOOST_REQUIRE(clear(c, n).ok());
  const auto healed = c.wait_for_leader(steady::now() + 4 * c.election_timeout_max() + 2s);
  BOOST_REQUIRE_MESSAGE(healed, "no single leader after clearing the faults:\n" << c.describe());
  BOOST_TEST(c.put(leader, "faults/after", "2", steady::now() + 5s).ok());
  BOOST_TEST(c.get(leader, "faults/during", steady::now() + 5s).value_or("") == "1");
}
