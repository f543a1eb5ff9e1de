// Every safety checker must be able to fail: each test feeds a hand-made violation and expects
// the checker to report it, next to the legal case that must pass.
#define BOOST_TEST_MODULE invariant_checkers
#include <boost/test/unit_test.hpp>

#include "chaos/sim/checkers.hpp"

using namespace aegis;
using namespace aegis::chaos::sim;
using raft::entry;
using raft::entry_type;

namespace {
entry cmd(raft::term_t t, raft::index_t i, std::string data) {
  return {t, i, entry_type::command, std::move(data)};
}
bool mentions(const invariant_checker& c, const std::string& what) {
  for (const auto& v : c.violations())
    if (v.find(what) != std::string::npos) return true;
  return false;
}
}  // namespace

BOOST_AUTO_TEST_CASE(election_safety_two_leaders_in_one_term_fail) {
  invariant_checker c;
  c.leader_elected(1, 3, 0);
  c.leader_elected(1, 3, 10);  // the same leader observed twice is fine
  c.leader_elected(2, 4, 20);
  BOOST_TEST(c.ok());
  c.leader_elected(3, 4, 30);
  BOOST_TEST(!c.ok());
  BOOST_TEST(mentions(c, "election safety"));
}

BOOST_AUTO_TEST_CASE(log_matching_same_index_and_term_different_command_fails) {
  invariant_checker c;
  c.entries_written(1, 0, {cmd(1, 1, "a"), cmd(1, 2, "b")});
  c.entries_written(2, 0, {cmd(1, 1, "a"), cmd(1, 2, "b")});
  BOOST_TEST(c.ok());
  c.entries_written(3, 1, {cmd(1, 2, "X")});
  BOOST_TEST(!c.ok());
  BOOST_TEST(mentions(c, "log matching"));
}

BOOST_AUTO_TEST_CASE(log_matching_same_entry_different_predecessor_term_fails) {
  invariant_checker c;
  c.entries_written(1, 1, {cmd(2, 5, "a")});
  c.entries_written(2, 2, {cmd(2, 5, "a")});  // same (index, term, command) after another term
  BOOST_TEST(!c.ok());
  BOOST_TEST(mentions(c, "preceding terms"));
}

BOOST_AUTO_TEST_CASE(state_machine_safety_different_applies_at_one_index_fail) {
  invariant_checker c;
  c.entry_applied(1, cmd(1, 1, "a"));
  c.entry_applied(2, cmd(1, 1, "a"));
  BOOST_TEST(c.ok());
  c.entry_applied(3, cmd(2, 1, "b"));
  BOOST_TEST(!c.ok());
  BOOST_TEST(mentions(c, "state machine safety"));
}

BOOST_AUTO_TEST_CASE(leader_completeness_missing_committed_entry_fails) {
  invariant_checker c;
  c.entry_applied(1, cmd(1, 1, "a"));
  c.entry_applied(1, cmd(2, 2, "b"));
  raft::raft_log good;
  good.reset({}, {cmd(1, 1, "a"), cmd(2, 2, "b"), cmd(3, 3, "c")}, true);
  c.leader_log(1, 3, good);
  BOOST_TEST(c.ok());
  raft::raft_log stale;  // holds index 2 from another term: it lost a committed entry
  stale.reset({}, {cmd(1, 1, "a"), cmd(1, 2, "z")}, true);
  c.leader_log(2, 4, stale);
  BOOST_TEST(!c.ok());
  BOOST_TEST(mentions(c, "leader completeness"));
}

BOOST_AUTO_TEST_CASE(leader_completeness_short_log_fails_but_snapshot_covers) {
  invariant_checker c;
  c.entry_applied(1, cmd(1, 1, "a"));
  c.entry_applied(1, cmd(1, 2, "b"));
  raft::raft_log compacted;  // everything committed lies inside its snapshot
  compacted.reset({2, 1}, {}, true);
  c.leader_log(1, 2, compacted);
  BOOST_TEST(c.ok());
  raft::raft_log short_log;
  short_log.reset({}, {cmd(1, 1, "a")}, true);
  c.leader_log(2, 3, short_log);
  BOOST_TEST(!c.ok());
}
