// The leader's heartbeat RTT pairing (actors/node/heartbeat_timer.hpp): each answer is paired by
// the heartbeat number it echoes, so reordered and lost answers neither skew nor drop the samples
// of the others, and a silent peer cannot grow the backlog without bound.
#define BOOST_TEST_MODULE heartbeat_timer
#include <boost/test/unit_test.hpp>

#include "actors/node/heartbeat_timer.hpp"

using aegis::node::heartbeat_timer;
using namespace std::chrono_literals;

namespace {
const heartbeat_timer::clock::time_point t0{};
const auto tolerance = boost::test_tools::tolerance(1e-9);
}  // namespace

BOOST_AUTO_TEST_CASE(an_answer_pairs_with_the_heartbeat_it_echoes) {
  heartbeat_timer t;
  t.sent(2, 1, t0);
  t.sent(2, 2, t0 + 50ms);
  BOOST_TEST(*t.answered(2, 1, t0 + 3ms) == 0.003, tolerance);
  BOOST_TEST(*t.answered(2, 2, t0 + 52ms) == 0.002, tolerance);
  BOOST_TEST(!t.answered(2, 2, t0 + 60ms));  // a duplicated answer: timed once only
}

// A jittered link: heartbeat 1 takes 280 ms to come back, heartbeat 2 (sent 50 ms later) 100 ms,
// so answer 2 arrives first. Both samples are exact; neither is lost or merged.
BOOST_AUTO_TEST_CASE(reordered_answers_each_get_their_own_rtt) {
  heartbeat_timer t;
  t.sent(3, 1, t0);
  t.sent(3, 2, t0 + 50ms);
  BOOST_TEST(*t.answered(3, 2, t0 + 150ms) == 0.100, tolerance);
  BOOST_TEST(*t.answered(3, 1, t0 + 280ms) == 0.280, tolerance);
}

BOOST_AUTO_TEST_CASE(lost_answers_do_not_disturb_later_ones) {
  heartbeat_timer t;
  t.sent(3, 1, t0);
  t.sent(3, 2, t0 + 50ms);
  t.sent(3, 3, t0 + 100ms);
  BOOST_TEST(*t.answered(3, 3, t0 + 101ms) == 0.001, tolerance);  // 1 and 2 were lost
  BOOST_TEST(!t.answered(4, 3, t0 + 102ms));  // another peer: nothing sent to it
  BOOST_TEST(!t.answered(3, 9, t0 + 102ms));  // never sent: not ours
}

BOOST_AUTO_TEST_CASE(unnumbered_heartbeats_are_not_timed) {
  heartbeat_timer t;
  t.sent(2, 0, t0);
  BOOST_TEST(!t.answered(2, 0, t0 + 1ms));
}

BOOST_AUTO_TEST_CASE(a_silent_peer_keeps_only_the_newest_heartbeats) {
  heartbeat_timer t;
  for (uint64_t seq = 1; seq <= 1000; ++seq)
    t.sent(2, seq, t0 + seq * 1ms);
  BOOST_TEST(!t.answered(2, 1, t0 + 1s));    // long forgotten
  BOOST_TEST(!t.answered(2, 936, t0 + 1s));  // just beyond the 64 kept
  BOOST_TEST(*t.answered(2, 937, t0 + 1s) == 0.063, tolerance);
  BOOST_TEST(t.answered(2, 1000, t0 + 1s).has_value());
}
