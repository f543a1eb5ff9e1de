// Issue 3, integration (d): durability across a whole-cluster crash. Four client threads write
// distinct keys through different nodes; every node is SIGKILLed at once while writes are in
// flight; after all restart, every put that was acknowledged (OK) before the crash reads back
// with its value. Unacknowledged puts may or may not have landed: they are not checked.
#define BOOST_TEST_MODULE integration_durability
#include <boost/test/unit_test.hpp>

#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/write_load.hpp"

using namespace aegis::it;

namespace {

constexpr int writer_threads = 4;
constexpr size_t acks_before_crash = 1000;

// A linearizable read of `key` that got an answer, tried through every live node for up to 10 s:
// right after a full restart a read can fail while leadership settles, which says nothing about
// the data. Only an answered read with the wrong value is a lost write.
read_result answered_read(cluster& c, const std::string& key) {
  read_result r;
  wait_until(
      [&] {
        for (int id : c.live_nodes()) {
          r = c.read(id, key, false, steady::now() + 2s);
          if (r.status.ok()) return true;
        }
        return false;
      },
      steady::now() + 10s);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_acknowledged_put_survives_a_crash_of_all_nodes) {
  cluster c({.name = "durability", .nodes = 3});
  c.start_all();
  BOOST_REQUIRE_MESSAGE(c.wait_for_leader(steady::now() + 15s), "no leader:\n" << c.describe());

  const int nodes = c.size();
  write_load load(c, "durable", writer_threads, [nodes](int t) { return t % nodes + 1; });
  const bool loaded =
      wait_until([&] { return load.acked() >= acks_before_crash; }, steady::now() + 60s);
  BOOST_REQUIRE_MESSAGE(loaded, "only " << load.acked() << " writes acknowledged within 60 s ("
                                        << load.failed() << " failed):\n"
                                        << c.describe());
  c.kill_all();  // writes still in flight
  load.stop();
  const auto acked = load.all_acked();
  BOOST_TEST_MESSAGE(acked.size() << " acknowledged writes before the crash");

  for (int id = 1; id <= nodes; ++id)
    c.restart(id);
  const auto leader = c.wait_for_leader(steady::now() + 20s);
  BOOST_REQUIRE_MESSAGE(leader, "no leader after restarting every node:\n" << c.describe());

  size_t lost = 0;
  std::string first_lost;
  for (const auto& w : acked) {
    const auto r = answered_read(c, w.key);
    if (r.value == w.value) continue;
    if (++lost == 1)
      first_lost = w.key + " reads " + (r.value ? "\"" + *r.value + "\"" : "nothing") +
                   " (status: " + r.status.error_message() + "), expected " + w.value;
  }
  BOOST_CHECK_MESSAGE(lost == 0, lost << " of " << acked.size()
                                      << " acknowledged writes are missing after the crash; "
                                      << "first: " << first_lost);
}
