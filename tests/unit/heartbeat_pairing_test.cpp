// Heartbeat RTT pairing (actors/raft/heartbeat_pairing.hpp), as the node and the simulator time
// round trips: each answer is paired by the heartbeat number it echoes, so reordered and lost
// answers neither skew nor drop the samples of the others, and a silent peer cannot grow the
// backlog without bound. Times are plain milliseconds here.
#define BOOST_TEST_MODULE heartbeat_pairing
#include <boost/test/unit_test.hpp>

#include "actors/raft/heartbeat_pairing.hpp"

using pairing = aegis::raft::heartbeat_pairing<int64_t>;

namespace {

// The round trip of heartbeat `seq` to `peer` answered at `at_ms`, or -1 when nothing pairs.
int64_t rtt_ms(pairing& p, uint64_t peer, uint64_t seq, int64_t at_ms) {
  const auto sent = p.answered(peer, seq);
  return sent ? at_ms - *sent : -1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(an_answer_pairs_with_the_heartbeat_it_echoes) {
  pairing p;
  p.sent(2, 1, 0);
  p.sent(2, 2, 50);
  BOOST_TEST(rtt_ms(p, 2, 1, 3) == 3);
  BOOST_TEST(rtt_ms(p, 2, 2, 52) == 2);
  BOOST_TEST(rtt_ms(p, 2, 2, 60) == -1);  // a duplicated answer: paired once only
}

// A jittered link: heartbeat 1 takes 280 ms to come back, heartbeat 2 (sent 50 ms later) 100 ms,
// so answer 2 arrives first. Both samples are exact; neither is lost or merged.
BOOST_AUTO_TEST_CASE(reordered_answers_each_get_their_own_rtt) {
  pairing p;
  p.sent(3, 1, 0);
  p.sent(3, 2, 50);
  BOOST_TEST(rtt_ms(p, 3, 2, 150) == 100);
  BOOST_TEST(rtt_ms(p, 3, 1, 280) == 280);
}

BOOST_AUTO_TEST_CASE(lost_answers_do_not_disturb_later_ones) {
  pairing p;
  p.sent(3, 1, 0);
  p.sent(3, 2, 50);
  p.sent(3, 3, 100);
  BOOST_TEST(rtt_ms(p, 3, 3, 101) == 1);   // 1 and 2 were lost
  BOOST_TEST(rtt_ms(p, 4, 3, 102) == -1);  // another peer: nothing sent to it
  BOOST_TEST(rtt_ms(p, 3, 9, 102) == -1);  // never sent: not ours
  BOOST_TEST(rtt_ms(p, 3, 0, 102) == -1);  // unnumbered (a core never sends 0)
}

BOOST_AUTO_TEST_CASE(a_silent_peer_keeps_only_the_newest_64_heartbeats) {
  pairing p;
  for (int64_t seq = 1; seq <= 1000; ++seq)
    p.sent(2, uint64_t(seq), seq);
  BOOST_TEST(rtt_ms(p, 2, 1, 1000) == -1);    // long forgotten
  BOOST_TEST(rtt_ms(p, 2, 936, 1000) == -1);  // just beyond the 64 kept
  BOOST_TEST(rtt_ms(p, 2, 937, 1000) == 63);
  BOOST_TEST(rtt_ms(p, 2, 1000, 1000) == 0);
}
