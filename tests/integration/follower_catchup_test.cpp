// Issue 3, integration (c): a follower killed (SIGKILL) while a client writes continuously to
// the leader, then restarted, catches up: its applied index reaches the leader's commit index
// and it serves every acknowledged write, the latest included. Once from the leader's log, once
// with snapshots so frequent (threshold 200, catch-up 50) that the leader has compacted past the
// follower, which must then catch up by InstallSnapshot.
#define BOOST_TEST_MODULE integration_follower_catchup
#include <boost/test/unit_test.hpp>

#include "tests/integration/cluster_harness.hpp"
#include "tests/integration/write_load.hpp"

using namespace aegis::it;

namespace {

constexpr auto load_deadline = 60s;     // for the writer to reach a target count
constexpr auto catchup_deadline = 30s;  // for the restarted follower
constexpr size_t writes_before_kill = 50;
constexpr size_t writes_after_restart = 50;
const std::string snapshots_metric = "aegis_snapshots_taken_total";

void wait_for_acks(cluster& c, const write_load& load, size_t target, const char* phase) {
  const bool ok = wait_until([&] { return load.acked() >= target; }, steady::now() + load_deadline);
  BOOST_REQUIRE_MESSAGE(ok, phase << ": only " << load.acked() << " of " << target
                                  << " writes acknowledged within 60 s (" << load.failed()
                                  << " failed):\n"
                                  << c.describe());
}

// The restarted follower's applied index reaches the leader's commit index.
void wait_for_catchup(cluster& c, int leader, int follower) {
  const auto ls = c.status(leader);
  BOOST_REQUIRE_MESSAGE(ls, "leader " << leader << " does not answer Status:\n" << c.describe());
  uint64_t applied = 0;
  const bool ok = wait_until(
      [&] {
        const auto fs = c.status(follower);
        if (fs) applied = fs->applied_index;
        return fs && fs->applied_index >= ls->raft_index;
      },
      steady::now() + catchup_deadline);
  BOOST_REQUIRE_MESSAGE(ok, "follower " << follower << " applied index " << applied
                                        << " did not reach the leader's commit index "
                                        << ls->raft_index << " within 30 s:\n"
                                        << c.describe());
}

// Every acknowledged write is on the follower (a member-local read), and the latest one is
// also what a linearizable read through the follower returns.
void check_follower_data(cluster& c, int follower, const std::vector<acked_write>& acked) {
  size_t wrong = 0;
  std::string first_wrong;
  for (const auto& w : acked) {
    const auto r = c.read(follower, w.key, true, steady::now() + 2s);
    if (r.value == w.value) continue;
    if (++wrong == 1)
      first_wrong = w.key + " reads " + (r.value ? "\"" + *r.value + "\"" : "nothing") +
                    " (status: " + r.status.error_message() + "), expected " + w.value;
  }
  BOOST_CHECK_MESSAGE(wrong == 0, "follower " << follower << " lacks " << wrong << " of "
                                              << acked.size()
                                              << " acknowledged writes; first: " << first_wrong);
  const auto& latest = acked.back();
  const auto r = c.read(follower, latest.key, false, steady::now() + 5s);
  BOOST_CHECK_MESSAGE(r.value == latest.value, "linearizable read of the latest key "
                                                   << latest.key << " on follower " << follower
                                                   << " returned " << r.value.value_or("nothing")
                                                   << " (" << r.status.error_message() << ")");
}

// Whether the leader compacted its log while the follower was down: the catch-up path under
// test (log entries or InstallSnapshot) depends on it. With threshold 200 and catch-up 50, a
// second snapshot (at index >= 400) drops every entry up to >= 350 from the leader's log, far
// past the follower, killed near index 50.
void check_leader_snapshots(cluster& c, int leader, bool expect_snapshots) {
  const auto taken = c.metric(leader, snapshots_metric);
  BOOST_REQUIRE_MESSAGE(taken, "leader " << leader << " serves no " << snapshots_metric);
  if (expect_snapshots)
    BOOST_REQUIRE_MESSAGE(*taken >= 2, "leader " << leader << " took " << *taken
                                                 << " snapshots while the follower was down: "
                                                 << "its log was not compacted past the follower");
  else
    BOOST_REQUIRE_MESSAGE(*taken == 0, "leader " << leader << " took " << *taken
                                                 << " snapshots with the default threshold");
}

void kill_restart_catch_up(cluster& c, size_t writes_while_down, bool expect_snapshots) {
  c.start_all();
  const auto leader_id = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(leader_id, "no leader after start:\n" << c.describe());
  const int leader = static_cast<int>(*leader_id);
  const int follower = leader % c.size() + 1;

  write_load load(c, "catchup", 1, [leader](int) { return leader; });
  wait_for_acks(c, load, writes_before_kill, "before the kill");
  c.kill(follower);
  wait_for_acks(c, load, load.acked() + writes_while_down, "while the follower was down");
  check_leader_snapshots(c, leader, expect_snapshots);
  c.restart(follower);
  wait_for_acks(c, load, load.acked() + writes_after_restart, "after the restart");
  load.stop();

  wait_for_catchup(c, leader, follower);
  if (expect_snapshots) {
    // The restarted follower (a fresh process: its counter starts at 0) caught up by
    // InstallSnapshot, not from the log.
    const auto installed = c.metric(follower, "aegis_snapshots_installed_total");
    BOOST_CHECK_MESSAGE(installed && *installed >= 1,
                        "follower " << follower << " installed no snapshot while catching up");
  }
  check_follower_data(c, follower, load.acked_by(0));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_killed_follower_catches_up_from_the_log) {
  cluster c({.name = "catchup-log", .nodes = 3});
  kill_restart_catch_up(c, 500, false);
}

BOOST_AUTO_TEST_CASE(a_killed_follower_behind_a_compacted_log_catches_up_by_snapshot) {
  auto raft = fast_raft();
  raft["snapshot_threshold_entries"] = "200";
  raft["snapshot_catchup_entries"] = "50";
  cluster c({.name = "catchup-snap", .nodes = 3, .raft = raft});
  // 1000 entries while it is down: the leader snapshots about five times and keeps only 50
  // entries behind each snapshot, so the follower's next entry is gone from the leader's log.
  kill_restart_catch_up(c, 1000, true);
}
