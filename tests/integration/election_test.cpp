// Issue 3, integration (a): a freshly bootstrapped 3- or 5-node cluster elects exactly one
// leader: every node reports the same leader id in the same term, the leader stays put, and
// writes through the leader and through a follower succeed.
#define BOOST_TEST_MODULE integration_election
#include <boost/test/unit_test.hpp>
#include <set>

#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;

namespace {

constexpr auto election_deadline = 15s;

void check_one_leader(int nodes) {
  cluster c({.name = "elect" + std::to_string(nodes), .nodes = nodes});
  c.start_all();
  const auto leader = c.wait_for_leader(steady::now() + election_deadline);
  BOOST_REQUIRE_MESSAGE(leader, nodes << "-node cluster: the nodes did not agree on one leader "
                                      << "within 15 s:\n"
                                      << c.describe());
  std::set<uint64_t> terms;
  for (int id = 1; id <= nodes; ++id) {
    const auto s = c.status(id);
    BOOST_REQUIRE_MESSAGE(s, "node " << id << " does not answer Status:\n" << c.describe());
    BOOST_CHECK_MESSAGE(s->member_id == static_cast<uint64_t>(id),
                        "node " << id << " reports member_id " << s->member_id);
    BOOST_CHECK_MESSAGE(s->leader == *leader, "node " << id << " names leader " << s->leader
                                                      << ", the others " << *leader);
    terms.insert(s->term);
  }
  BOOST_CHECK_MESSAGE(terms.size() == 1, "nodes report " << terms.size() << " different terms:\n"
                                                         << c.describe());
  const uint64_t term = *terms.begin();

  // No further election for two election timeouts: the leader is stable, not flapping.
  const auto changed = wait_until(
      [&] {
        // A Status call that times out on a loaded machine is no evidence of a new election.
        const auto s = c.status(static_cast<int>(*leader));
        return s && (s->leader != *leader || s->term != term);
      },
      steady::now() + 2 * c.election_timeout_max());
  BOOST_CHECK_MESSAGE(!changed, "leadership changed after the election:\n" << c.describe());

  const int follower = static_cast<int>(*leader % nodes + 1);
  const auto via_leader = c.put(static_cast<int>(*leader), "elect/a", "1", steady::now() + 5s);
  BOOST_CHECK_MESSAGE(via_leader.ok(), "put through leader "
                                           << *leader << " failed: " << via_leader.error_message());
  const auto via_follower = c.put(follower, "elect/b", "2", steady::now() + 5s);
  BOOST_CHECK_MESSAGE(via_follower.ok(), "put through follower " << follower << " failed: "
                                                                 << via_follower.error_message());
}

}  // namespace

BOOST_AUTO_TEST_CASE(three_nodes_elect_exactly_one_leader) {
  check_one_leader(3);
}

BOOST_AUTO_TEST_CASE(five_nodes_elect_exactly_one_leader) {
  check_one_leader(5);
}
