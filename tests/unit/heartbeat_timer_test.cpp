// The leader's heartbeat RTT matching (actors/node/heartbeat_timer.hpp): answers pair with the
// oldest unanswered heartbeat of their context, lost rounds are dropped, and a silent peer cannot
// grow the backlog without bound.
#define BOOST_TEST_MODULE heartbeat_timer
#include <boost/test/unit_test.hpp>

#include "actors/node/heartbeat_timer.hpp"

using aegis::node::heartbeat_timer;
using namespace std::chrono_literals;

namespace {
const heartbeat_timer::clock::time_point t0{};
}

BOOST_AUTO_TEST_CASE(an_answer_matches_the_oldest_heartbeat_of_its_context) {
  heartbeat_timer t;
  t.sent(2, 7, t0);
  t.sent(2, 7, t0 + 50ms);
  BOOST_TEST(*t.answered(2, 7, t0 + 3ms) == 0.003, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(*t.answered(2, 7, t0 + 52ms) == 0.002, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(!t.answered(2, 7, t0 + 60ms));  // nothing left to answer
}

BOOST_AUTO_TEST_CASE(older_rounds_are_dropped_and_unknown_answers_ignored) {
  heartbeat_timer t;
  t.sent(3, 1, t0);
  t.sent(3, 2, t0 + 10ms);
  BOOST_TEST(!t.answered(4, 2, t0 + 11ms));  // another peer: nothing sent to it
  BOOST_TEST(!t.answered(3, 0, t0 + 11ms));  // older than anything waiting: not ours
  BOOST_TEST(*t.answered(3, 2, t0 + 15ms) == 0.005, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(!t.answered(3, 1, t0 + 16ms));  // round 1 was dropped as lost
}

BOOST_AUTO_TEST_CASE(a_silent_peer_keeps_only_the_newest_heartbeats) {
  heartbeat_timer t;
  for (int i = 0; i < 1000; ++i)
    t.sent(2, static_cast<uint64_t>(i), t0 + i * 1ms);
  BOOST_TEST(!t.answered(2, 0, t0 + 1s));  // long forgotten
  BOOST_TEST(t.answered(2, 999, t0 + 1s).has_value());
  t.clear();
  BOOST_TEST(!t.answered(2, 999, t0 + 1s));
}
