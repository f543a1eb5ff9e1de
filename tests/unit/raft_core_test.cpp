// The pure Raft core against the sentences of the Raft paper (Ongaro & Ousterhout, "In Search of
// an Understandable Consensus Algorithm", §5-§7) and of Ongaro's thesis (pre-vote §9.6,
// check-quorum and the leader lease §6.2/§4.2.3, ReadIndex §6.4, leadership transfer §3.10,
// membership changes §4). Every test quotes the sentence it checks. The harness
// (raft_harness.hpp) checks each node's invariants after every input and Election Safety, Log
// Matching, Leader Completeness and State Machine Safety throughout.
#define BOOST_TEST_MODULE raft_core
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <random>
#include <set>
#include <type_traits>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/raft_harness.hpp"

using namespace aegis;
using namespace aegis::raft;
using namespace aegis::raft::test;

namespace {

void step(cluster& cl, node_id id, const message& m) {
  cl.with(id, [&](core& c) {
    c.step(m);
    return 0;
  });
}

std::vector<message> sent(const cluster& cl, msg_type t, node_id from, node_id to = no_node) {
  std::vector<message> out;
  for (const message& m : cl.sent())
    if (m.type == t && m.from == from && (to == no_node || m.to == to)) out.push_back(m);
  return out;
}

// Ticks (every node, or only `only`) in 10 ms steps until `done` holds; returns the time it took
// or UINT64_MAX if it never did within max_ms.
template <class P>
uint64_t tick_until(cluster& cl, P done, uint64_t max_ms, node_id only = no_node) {
  for (uint64_t t = 0; t <= max_ms; t += 10) {
    if (done()) return t;
    if (only == no_node)
      cl.tick_all(10);
    else
      cl.tick(only, 10);
  }
  return UINT64_MAX;
}

entry cmd(term_t t, index_t i, std::string data = "") {
  if (data.empty()) data = std::to_string(i) + "@" + std::to_string(t);
  return {t, i, entry_type::command, data};
}

bool applied_data(const cluster::node& n, const std::string& data) {
  for (const entry& e : n.applied)
    if (e.data == data) return true;
  return false;
}

// Runs `body` in a child process, so that an AEGIS_ASSERT abort inside the code under test fails
// this one check instead of killing the whole suite. Returns the child's exit status: 0 when the
// body returned true, 1 when it returned false, -signal when it died of a signal.
// quiet: the child's stderr goes to /dev/null (for an abort the test expects).
template <class F>
int in_child(F body, bool quiet = false) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);  // undo Boost.Test's handler: die like the real process would
    if (quiet) std::freopen("/dev/null", "w", stderr);
    _exit(body() ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace

// =============================================================================================
// §5.1 Terms

// §5.1: "Current terms are exchanged whenever servers communicate; if one server's current term
// is smaller than the other's, then it updates its current term to the larger value. If a
// candidate or leader discovers that its term is out of date, it immediately reverts to follower
// state."
BOOST_AUTO_TEST_CASE(s5_1_leader_seeing_higher_term_steps_down_and_adopts_it) {
  cluster cl(3);
  cl.elect(1);
  const term_t t = cl[1].term();
  step(cl, 1, {.type = msg_type::heartbeat_response, .from = 2, .to = 1, .term = t + 3});
  BOOST_TEST(cl[1].current_role() == role::follower);
  BOOST_TEST(cl[1].term() == t + 3);
  BOOST_TEST(cl[1].vote() == no_node);
  cl.drop_if = [](const message&) { return true; };
  cl.deliver_all();
  BOOST_TEST(cl.at(1).storage.synced().hs.term == t + 3);
}

// §5.1 (same sentence), for a candidate: "If a candidate or leader discovers that its term is out
// of date, it immediately reverts to follower state."; §5.2: "If the leader's term (included in
// its RPC) is at least as large as the candidate's current term, then the candidate recognizes
// the leader as legitimate and returns to follower state."
BOOST_AUTO_TEST_CASE(s5_1_candidate_seeing_leader_of_higher_or_equal_term_steps_down) {
  auto cfg = test_config();
  cfg.pre_vote = false;
  cluster cl(3, cfg);
  cl.isolate(1);
  BOOST_REQUIRE(tick_until(
                    cl, [&] { return cl[1].current_role() == role::candidate; }, 5000, 1) !=
                UINT64_MAX);
  const term_t t = cl[1].term();
  // A leader of the candidate's own term.
  step(cl, 1, {.type = msg_type::heartbeat, .from = 2, .to = 1, .term = t, .commit = 1});
  BOOST_TEST(cl[1].current_role() == role::follower);
  BOOST_TEST(cl[1].term() == t);
  BOOST_TEST(cl[1].leader() == 2u);
  // Candidate again, then an append from a leader of a higher term.
  BOOST_REQUIRE(tick_until(
                    cl, [&] { return cl[1].current_role() == role::candidate; }, 5000, 1) !=
                UINT64_MAX);
  const term_t t2 = cl[1].term();
  step(cl, 1,
       {.type = msg_type::append, .from = 3, .to = 1, .term = t2 + 2, .index = 1, .log_term = 1});
  BOOST_TEST(cl[1].current_role() == role::follower);
  BOOST_TEST(cl[1].term() == t2 + 2);
  BOOST_TEST(cl[1].leader() == 3u);
}

// §5.1: "If a server receives a request with a stale term number, it rejects the request."
BOOST_AUTO_TEST_CASE(s5_1_stale_term_requests_are_rejected) {
  cluster cl(3);
  cl.elect(1);
  const term_t t = cl[2].term();
  BOOST_REQUIRE(t >= 2);
  const index_t last = cl[2].log().last_index();
  const index_t commit = cl[2].commit();
  cl.clear_sent();
  cl.drop_if = [](const message&) { return true; };
  // An append from a deposed leader of term t-1.
  step(cl, 2,
       {.type = msg_type::append,
        .from = 3,
        .to = 2,
        .term = t - 1,
        .index = last,
        .log_term = cl[2].log().last_term(),
        .entries = {cmd(t - 1, last + 1, "stale")},
        .commit = last + 1});
  // A vote request of term t-1 from a candidate with a longer log.
  step(cl, 2,
       {.type = msg_type::vote,
        .from = 3,
        .to = 2,
        .term = t - 1,
        .index = last + 10,
        .log_term = t - 1});
  cl.deliver_all();
  BOOST_TEST(cl[2].log().last_index() == last);
  BOOST_TEST(cl[2].commit() == commit);
  BOOST_TEST(cl[2].term() == t);
  BOOST_TEST(cl[2].vote() == 1u);
  BOOST_TEST(cl[2].leader() == 1u);
  BOOST_TEST(sent(cl, msg_type::vote_response, 2).empty());
  // The stale leader is told the current term, so it steps down.
  auto answers = sent(cl, msg_type::append_response, 2, 3);
  BOOST_REQUIRE(answers.size() == 1u);
  BOOST_TEST(answers[0].term == t);
}

// =============================================================================================
// §5.2 Leader election

// §5.2: "If a follower receives no communication over a period of time called the election
// timeout, then it assumes there is no viable leader and begins an election to choose a new
// leader." Thesis §9.6: "a candidate only increments its term if it first learns from a majority
// of the cluster that they would be willing to grant the candidate their votes".
BOOST_AUTO_TEST_CASE(s5_2_follower_times_out_and_prevotes_before_raising_its_term) {
  cluster cl(3);
  cl.deliver_all();
  const term_t t0 = cl[1].term();
  cl.isolate(1);
  const uint64_t waited = tick_until(
      cl, [&] { return cl[1].current_role() != role::follower; }, 5000, 1);
  BOOST_TEST(cl[1].current_role() == role::pre_candidate);
  BOOST_TEST(waited >= cl.cfg().election_timeout_ms_min);
  BOOST_TEST(waited <= cl.cfg().election_timeout_ms_max + 10);
  BOOST_TEST(cl[1].term() == t0);  // the pre-vote round does not raise the term
  auto pre = sent(cl, msg_type::pre_vote, 1);
  BOOST_REQUIRE(pre.size() == 2u);
  for (const message& m : pre) {
    BOOST_TEST(m.term == t0 + 1);
    BOOST_TEST(m.index == cl[1].log().last_index());
    BOOST_TEST(m.log_term == cl[1].log().last_term());
  }
  BOOST_TEST(sent(cl, msg_type::vote, 1).empty());

  cl.heal();
  BOOST_REQUIRE(tick_until(
                    cl, [&] { return cl.is_leader(1); }, 5000, 1) != UINT64_MAX);
  BOOST_TEST(cl[1].term() == t0 + 1);
  // The real vote went out only after a quorum granted the pre-vote.
  const auto& all = cl.sent();
  size_t first_vote = all.size(), granted = 0;
  for (size_t k = 0; k < all.size(); ++k) {
    if (all[k].type == msg_type::vote && all[k].from == 1) {
      first_vote = k;
      break;
    }
    if (all[k].type == msg_type::pre_vote_response && all[k].to == 1 && !all[k].reject) ++granted;
  }
  BOOST_REQUIRE(first_vote < all.size());
  BOOST_TEST(all[first_vote].term == t0 + 1);
  BOOST_TEST(granted >= 1u);  // with its own, a quorum of 2 out of 3
}

// §5.2: "A candidate wins an election if it receives votes from a majority of the servers in the
// full cluster for the same term."
BOOST_AUTO_TEST_CASE(s5_2_candidate_with_votes_from_a_majority_becomes_leader) {
  cluster cl(5);
  cl.deliver_all();
  cl.crash(4);
  cl.crash(5);
  cl.elect(1);  // 1, 2 and 3: three of five
  BOOST_TEST(cl[1].term() == 2u);
  BOOST_TEST(cl[2].leader() == 1u);
  BOOST_TEST(cl[3].leader() == 1u);
  BOOST_TEST(cl[2].vote() == 1u);
}

// §5.2 (same sentence), the converse: two of five can never form a majority. With pre-vote the
// minority does not even raise its term (thesis §9.6).
BOOST_AUTO_TEST_CASE(s5_2_minority_never_elects_a_leader) {
  for (bool pre_vote : {false, true}) {
    auto cfg = test_config();
    cfg.pre_vote = pre_vote;
    cluster cl(5, cfg);
    cl.deliver_all();
    for (node_id id : {3, 4, 5})
      cl.crash(id);
    cl.tick_all(20000);
    BOOST_TEST(!cl.leader().has_value());
    if (pre_vote) {
      BOOST_TEST(cl[1].term() == 1u);
      BOOST_TEST(cl[2].term() == 1u);
    } else {
      BOOST_TEST(cl[1].term() + cl[2].term() > 4u);  // they kept trying
    }
  }
}

// §5.2: "Each server will vote for at most one candidate in a given term, on a
// first-come-first-served basis". Figure 2: votedFor is "Persistent state on all servers (Updated
// on stable storage before responding to RPCs)".
BOOST_AUTO_TEST_CASE(s5_2_at_most_one_vote_per_term_even_across_a_crash) {
  auto cfg = test_config();
  cfg.pre_vote = false;
  cluster cl(3, cfg);
  cl.deliver_all();
  cl.drop_if = [](const message&) { return true; };
  step(cl, 3, {.type = msg_type::vote, .from = 1, .to = 3, .term = 2, .index = 1, .log_term = 1});
  cl.deliver_all();
  BOOST_TEST(cl[3].vote() == 1u);
  BOOST_TEST(cl.at(3).storage.synced().hs.vote == 1u);
  BOOST_TEST(cl.at(3).storage.synced().hs.term == 2u);
  auto granted = sent(cl, msg_type::vote_response, 3, 1);
  BOOST_REQUIRE(granted.size() == 1u);
  BOOST_TEST(!granted[0].reject);

  // A second candidate of the same term, before a crash ...
  step(cl, 3, {.type = msg_type::vote, .from = 2, .to = 3, .term = 2, .index = 1, .log_term = 1});
  cl.deliver_all();
  // ... and after one.
  cl.crash(3);
  cl.restart(3);
  BOOST_TEST(cl[3].term() == 2u);
  BOOST_TEST(cl[3].vote() == 1u);
  step(cl, 3, {.type = msg_type::vote, .from = 2, .to = 3, .term = 2, .index = 1, .log_term = 1});
  cl.deliver_all();
  auto to2 = sent(cl, msg_type::vote_response, 3, 2);
  BOOST_REQUIRE(to2.size() == 2u);
  BOOST_TEST(to2[0].reject);
  BOOST_TEST(to2[1].reject);
  BOOST_TEST(cl[3].vote() == 1u);
  // A retransmitted request from the candidate it voted for is granted again.
  step(cl, 3, {.type = msg_type::vote, .from = 1, .to = 3, .term = 2, .index = 1, .log_term = 1});
  cl.deliver_all();
  auto to1 = sent(cl, msg_type::vote_response, 3, 1);
  BOOST_REQUIRE(to1.size() == 2u);
  BOOST_TEST(!to1[1].reject);
}

// §5.2: "Raft uses randomized election timeouts to ensure that split votes are rare ... election
// timeouts are chosen randomly from a fixed interval (e.g., 150-300ms)."
BOOST_AUTO_TEST_CASE(s5_2_randomized_timeouts_fall_in_range_and_differ) {
  const auto cfg = test_config();
  std::set<uint64_t> seen;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    cluster cl(3, cfg, seed);
    cl.isolate(1);
    const uint64_t t = tick_until(
        cl, [&] { return cl[1].current_role() != role::follower; }, 3000, 1);
    BOOST_TEST(t >= cfg.election_timeout_ms_min);
    BOOST_TEST(t <= cfg.election_timeout_ms_max + 10);
    seen.insert(t);
  }
  BOOST_TEST(seen.size() >= 15u);

  // Nodes of one cluster draw different timeouts too, and every redraw stays in range.
  cluster cl(5, cfg, 42);
  cl.partition({{1}, {2}, {3}, {4}, {5}});
  std::map<node_id, std::vector<uint64_t>> fires;  // times of each pre-vote round
  for (uint64_t t = 1; t <= 10000; ++t) {
    cl.tick_all(1, 1);
    for (node_id id = 1; id <= 5; ++id) {
      auto pv = sent(cl, msg_type::pre_vote, id);
      if (pv.size() / 4 > fires[id].size()) fires[id].push_back(t);
    }
  }
  std::set<uint64_t> firsts;
  for (auto& [id, ts] : fires) {
    BOOST_REQUIRE(ts.size() >= 4u);
    firsts.insert(ts[0]);
    BOOST_TEST(ts[0] >= cfg.election_timeout_ms_min);
    BOOST_TEST(ts[0] <= cfg.election_timeout_ms_max);
    for (size_t k = 1; k < ts.size(); ++k) {
      BOOST_TEST(ts[k] - ts[k - 1] >= cfg.election_timeout_ms_min);
      BOOST_TEST(ts[k] - ts[k - 1] <= cfg.election_timeout_ms_max);
    }
  }
  BOOST_TEST(firsts.size() >= 4u);
}

// §5.2: "When servers start up, they begin as followers. A server remains in follower state as
// long as it receives valid RPCs from a leader or candidate." and "If a follower receives no
// communication over a period of time called the election timeout, then it assumes there is no
// viable leader". A node (re)started while its host's clock reads T has heard nothing for 0 ms,
// not for T ms: it must wait a full randomized timeout, like the simulator's restarted nodes
// (chaos/sim/engine.cpp ticks a new core with the global clock at once).
BOOST_AUTO_TEST_CASE(s5_2_node_started_late_waits_a_full_election_timeout) {
  const auto cfg = test_config();
  const uint64_t t0 = 50'000;  // the host's clock when the process starts
  core c(1, cfg, 5, restore_state::bootstrap(voters_conf(3)));
  c.tick(t0);
  BOOST_TEST(c.current_role() == role::follower);
  c.tick(t0 + cfg.election_timeout_ms_min - 1);
  BOOST_TEST(c.current_role() == role::follower);
  c.tick(t0 + cfg.election_timeout_ms_max);
  BOOST_TEST(c.current_role() == role::pre_candidate);
}

// =============================================================================================
// §5.4.1 Election restriction

// §5.4.1: "Raft determines which of two logs is more up-to-date by comparing the index and term
// of the last entries in the logs. If the logs have last entries with different terms, then the
// log with the later term is more up-to-date. If the logs end with the same term, then whichever
// log is longer is more up-to-date." and "The RequestVote RPC implements this restriction: ... the
// voter denies its vote if its own log is more up-to-date than that of the candidate."
BOOST_AUTO_TEST_CASE(s5_4_1_candidate_with_stale_log_loses) {
  const conf_state c3 = voters_conf(3);
  struct variant {
    const char* name;
    std::vector<term_t> stale, fresh;
  };
  const std::vector<variant> variants = {
      {"lower last term", {2, 2, 2, 2, 2}, {2, 3}},  // longer, but older
      {"same last term, shorter", {2, 2}, {2, 2, 2}},
  };
  for (const variant& v : variants) {
    for (bool pre_vote : {true, false}) {
      BOOST_TEST_CONTEXT(v.name << (pre_vote ? " (pre-vote)" : " (no pre-vote)")) {
        auto cfg = test_config();
        cfg.pre_vote = pre_vote;
        const term_t t = v.fresh.back();
        cluster cl({hand_state(c3, v.stale.back(), no_node, 1, v.stale),
                    hand_state(c3, t, no_node, 1, v.fresh), hand_state(c3, t, no_node, 1, v.fresh)},
                   cfg);
        cl.deliver_all();
        // Node 1 may only talk to 2 and 3, and only node 1 ticks: it campaigns again and again.
        cl.drop_link(2, 3);
        cl.drop_link(3, 2);
        cl.tick(1, 20000);
        BOOST_TEST(!cl.is_leader(1));
        BOOST_TEST(cl[2].vote() != 1u);
        BOOST_TEST(cl[3].vote() != 1u);
        BOOST_TEST(sent(cl, msg_type::vote_response, 2).size() +
                       sent(cl, msg_type::pre_vote_response, 2).size() >
                   0u);
        for (msg_type ty : {msg_type::vote_response, msg_type::pre_vote_response})
          for (node_id voter : {2, 3})
            for (const message& m : sent(cl, ty, voter, 1))
              BOOST_TEST(m.reject);
        if (pre_vote) BOOST_TEST(cl[1].term() <= t + 1);  // it learns the term, never raises it
        // The node with the up-to-date log can win, and repairs node 1's log.
        cl.heal();
        cl.elect(2);
        BOOST_TEST(cl.log_of(1) == cl.log_of(2));
      }
    }
  }
  // The rule itself, on the log.
  raft_log l;
  l.reset({}, {cmd(1, 1), cmd(2, 2), cmd(2, 3)}, true);
  BOOST_TEST(l.is_up_to_date(3, 2));
  BOOST_TEST(l.is_up_to_date(1, 3));
  BOOST_TEST(!l.is_up_to_date(2, 2));
  BOOST_TEST(!l.is_up_to_date(9, 1));
}

// =============================================================================================
// §5.3 Log replication

// §5.3: "the leader appends the command to its log as a new entry, then issues AppendEntries
// RPCs in parallel to each of the other servers to replicate the entry. When the entry has been
// safely replicated ... the leader applies the entry to its state machine".
BOOST_AUTO_TEST_CASE(s5_3_entries_replicate_commit_and_apply_everywhere) {
  cluster cl(3);
  cl.elect(1);
  for (int k = 0; k < 5; ++k)
    BOOST_TEST(cl.propose(1, "v" + std::to_string(k)).ok());
  cl.deliver_all();
  cl.tick_all(200);  // a heartbeat carries the final commit index to the followers
  for (node_id id : {1, 2, 3}) {
    BOOST_TEST(cl.log_of(id) == cl.log_of(1));
    BOOST_TEST(cl[id].commit() == cl[1].log().last_index());
    BOOST_TEST(cl.sm_index(id) == cl[1].log().last_index());
    BOOST_TEST(applied_data(cl.at(id), "v4"));
  }
}

// Figure 2, AppendEntries receiver implementation: "2. Reply false if log doesn't contain an
// entry at prevLogIndex whose term matches prevLogTerm"; "3. If an existing entry conflicts with a
// new one (same index but different terms), delete the existing entry and all that follow it";
// "4. Append any new entries not already in the log"; "5. If leaderCommit > commitIndex, set
// commitIndex = min(leaderCommit, index of last new entry)".
BOOST_AUTO_TEST_CASE(s5_3_follower_checks_prev_truncates_conflicts_and_appends) {
  const conf_state c3 = voters_conf(3);
  cluster cl({hand_state(c3, 2, no_node, 1, {}), hand_state(c3, 2, no_node, 1, {2, 2, 2}),
              hand_state(c3, 2, no_node, 1, {})});
  cl.drop_if = [](const message&) { return true; };
  cl.deliver_all();
  auto last_answer = [&] {
    auto a = sent(cl, msg_type::append_response, 2, 1);
    BOOST_REQUIRE(!a.empty());
    return a.back();
  };

  // prev (4, 3) does not match (entry 4 has term 2): rejected, log untouched.
  step(cl, 2,
       {.type = msg_type::append,
        .from = 1,
        .to = 2,
        .term = 3,
        .index = 4,
        .log_term = 3,
        .entries = {cmd(3, 5)},
        .commit = 5});
  cl.deliver_all();
  message a = last_answer();
  BOOST_TEST(a.reject);
  BOOST_TEST(a.index == 4u);
  BOOST_TEST(a.hint_term == 2u);    // the conflicting term ...
  BOOST_TEST(a.reject_hint == 2u);  // ... and the first index it stores for that term
  BOOST_TEST(cl[2].log().last_index() == 4u);
  BOOST_TEST(cl[2].commit() == 1u);

  // prev beyond the end of the log: rejected, hint = one past the end.
  step(cl, 2,
       {.type = msg_type::append,
        .from = 1,
        .to = 2,
        .term = 3,
        .index = 7,
        .log_term = 3,
        .commit = 1});
  cl.deliver_all();
  a = last_answer();
  BOOST_TEST(a.reject);
  BOOST_TEST(a.reject_hint == 5u);
  BOOST_TEST(a.hint_term == 0u);

  // prev (3, 2) matches; entry 4 conflicts: it goes, 4 and 5 of term 3 come in.
  step(cl, 2,
       {.type = msg_type::append,
        .from = 1,
        .to = 2,
        .term = 3,
        .index = 3,
        .log_term = 2,
        .entries = {cmd(3, 4), cmd(3, 5)},
        .commit = 9});
  cl.deliver_all();
  a = last_answer();
  BOOST_TEST(!a.reject);
  BOOST_TEST(a.index == 5u);
  BOOST_TEST(cl[2].log().last_index() == 5u);
  BOOST_TEST(*cl[2].log().term_at(4) == 3u);
  BOOST_TEST(*cl[2].log().term_at(3) == 2u);
  BOOST_TEST(cl[2].commit() == 5u);  // min(leaderCommit 9, last new entry 5)
  // The answer left only once the entries were durable.
  BOOST_TEST(cl.at(2).storage.synced().entries.size() == 5u);
  BOOST_TEST(cl.at(2).storage.synced().entries.back() == cmd(3, 5));

  // A delayed, shorter copy of the same append must not truncate the matching suffix.
  step(cl, 2,
       {.type = msg_type::append,
        .from = 1,
        .to = 2,
        .term = 3,
        .index = 3,
        .log_term = 2,
        .entries = {cmd(3, 4)},
        .commit = 4});
  cl.deliver_all();
  a = last_answer();
  BOOST_TEST(!a.reject);
  BOOST_TEST(a.index >= 4u);  // (the core answers with its commit index, 5: also matching)
  BOOST_TEST(cl[2].log().last_index() == 5u);
  BOOST_TEST(*cl[2].log().term_at(5) == 3u);
  BOOST_TEST(cl[2].commit() == 5u);  // never decreases
}

// §5.3: "the follower can include the term of the conflicting entry and the first index it stores
// for that term. With this information, the leader can decrement nextIndex to bypass all of the
// conflicting entries in that term; one AppendEntries RPC will be required for each term with
// conflicting entries, rather than one RPC per entry."
BOOST_AUTO_TEST_CASE(s5_3_fast_backoff_skips_a_term_per_round_trip) {
  const conf_state c3 = voters_conf(3);
  // Leader-to-be: 2..4 of term 2, 5..30 of term 5. Follower 2: the same 2..4, then a divergent
  // tail of 10 entries of term 3 and 10 of term 4, which no other node holds.
  std::vector<term_t> leader_terms = {2, 2, 2};
  leader_terms.insert(leader_terms.end(), 26, 5);
  std::vector<term_t> tail_terms = {2, 2, 2};
  tail_terms.insert(tail_terms.end(), 10, 3);
  tail_terms.insert(tail_terms.end(), 10, 4);
  cluster cl({hand_state(c3, 5, no_node, 1, leader_terms),
              hand_state(c3, 4, no_node, 1, tail_terms),
              hand_state(c3, 5, no_node, 1, leader_terms)});
  cl.deliver_all();
  cl.elect(1);
  cl.tick_all(200);
  BOOST_TEST(cl.log_of(2) == cl.log_of(1));
  const size_t rejects = std::count_if(cl.sent().begin(), cl.sent().end(), [](const message& m) {
    return m.type == msg_type::append_response && m.from == 2 && m.reject;
  });
  // One round trip for the log length, one per conflicting term (3 and 4): not one per entry.
  BOOST_TEST(rejects <= 3u);
  BOOST_TEST(rejects >= 1u);
  BOOST_TEST(*cl[2].log().term_at(5) == 5u);
}

// =============================================================================================
// §5.4.2 Committing entries from previous terms (Figure 8)

namespace {

// Figure 8 up to (c): "(a) S1 is leader and partially replicates the log entry at index 2" (to
// S2, in term 2); "S1 crashes; S5 is elected leader for term 3 with votes from S3, S4, and itself,
// and accepts a different entry at log index 2"; "S5 crashes; S1 restarts, is elected leader, and
// continues replication. At this point, the log entry from term 2 has been replicated on a
// majority of the servers, but it is not committed." Entries of term 4 (S1's own) are held back
// from the followers until `release` is set.
struct figure8 {
  std::shared_ptr<bool> release = std::make_shared<bool>(false);
  cluster cl;

  static config::raft_config cfg() {
    auto c = test_config();
    c.max_append_bytes = 1;  // one entry per append, so index 2 travels without index 3
    return c;
  }

  figure8()
      : cl({hand_state(voters_conf(5), 2, 1, 1, {2}), hand_state(voters_conf(5), 2, 1, 1, {2}),
            hand_state(voters_conf(5), 3, 5, 1, {}), hand_state(voters_conf(5), 3, 5, 1, {}),
            hand_state(voters_conf(5), 3, 5, 1, {3})},
           cfg()) {
    cl.deliver_all();
    cl.crash(5);
    // Hold back every append that would put S1's term-4 entry into a follower's log.
    cl.drop_if = [this, rel = release](const message& m) {
      if (*rel || m.type != msg_type::append || m.from != 1 || !cl.up(m.to)) return false;
      const bool carries_t4 = std::any_of(m.entries.begin(), m.entries.end(),
                                          [](const entry& e) { return e.term == 4; });
      return carries_t4 && cl[m.to].log().matches(m.index, m.log_term);
    };
    cl.elect(1);
  }
};

}  // namespace

// §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log
// entries from the leader's current term are committed by counting replicas; once an entry from
// the current term has been committed in this way, then all prior entries are committed
// indirectly because of the Log Matching Property." Figure 8 (c)/(d).
BOOST_AUTO_TEST_CASE(s5_4_2_figure8_previous_term_entry_is_not_committed_by_counting) {
  figure8 f;
  cluster& cl = f.cl;
  BOOST_REQUIRE(cl[1].term() == 4u);
  BOOST_REQUIRE(*cl[1].log().term_at(3) == 4u);  // S1's own no-op
  cl.tick_all(3000);                             // many heartbeat rounds
  BOOST_REQUIRE(cl.is_leader(1));
  // Index 2 (term 2) is on S1, S2, S3 and S4: a majority of five. S1 knows of S1, S3 and S4
  // (S2 already had it, so S1's probes to S2 carry the held-back entry 3), a majority too.
  for (node_id id : {2, 3, 4}) {
    BOOST_TEST(cl[id].log().last_index() == 2u);
    BOOST_TEST(*cl[id].log().term_at(2) == 2u);
  }
  size_t known = 1;  // S1 itself
  for (const auto& [id, pr] : cl[1].peers())
    known += pr.match >= 2;
  BOOST_TEST(known >= 3u);
  // ... and yet it is not committed: not by S1, and nobody applied it.
  BOOST_TEST(cl[1].commit() == 1u);
  for (node_id id : {1, 2, 3, 4})
    BOOST_TEST(cl.sm_index(id) == 1u);
  BOOST_TEST(cl.max_committed() == 1u);

  // Figure 8 (d): "If S1 crashes as in (d), S5 could be elected leader (with votes from S2, S3,
  // and S4) and overwrite the entry with its own entry from term 3." That is only safe because
  // index 2 was never committed.
  cl.crash(1);
  cl.restart(5);
  cl.elect(5);
  cl.tick_all(300);
  for (node_id id : {2, 3, 4})
    BOOST_TEST(*cl[id].log().term_at(2) == 3u);
  BOOST_TEST(cl.committed().at(2).term == 3u);
}

// §5.4.2 (same sentence), Figure 8 (e): "if S1 replicates an entry from its current term on a
// majority of the servers before crashing, as in (e), then this entry is committed (S5 cannot win
// an election). At this point all preceding entries in the log are committed as well."
BOOST_AUTO_TEST_CASE(s5_4_2_figure8_current_term_entry_commits_the_prefix) {
  figure8 f;
  cluster& cl = f.cl;
  BOOST_REQUIRE(cl[1].commit() == 1u);
  *f.release = true;
  cl.tick_all(300);
  BOOST_TEST(cl[1].commit() == 3u);
  BOOST_TEST(cl.committed().at(2).term == 2u);
  BOOST_TEST(cl.committed().at(3).term == 4u);
  // S5 can no longer win: its log (last term 3) is behind the majority's (last term 4).
  cl.crash(1);
  cl.restart(5);
  cl.drop_if = nullptr;
  cl.tick_all(20000);
  BOOST_TEST(!cl.is_leader(5));
  BOOST_TEST(cl.leader().has_value());
  BOOST_TEST(*cl[5].log().term_at(2) == 2u);  // S5's own entry was overwritten
}

// =============================================================================================
// §5.4 Safety under random faults

namespace {

// One random run: proposals, reads, crashes (also between write and sync), restarts, partitions,
// dropped links and compactions; with `membership`, also single-server changes (learners added
// and promoted, voters and leaders removed); with `chaos`, late syncs and a network that
// duplicates, reorders and delays. The harness checks Election Safety, Log Matching, Leader
// Completeness and State Machine Safety after every input; this checks that every successful
// read returns a read index covering everything committed before the read was asked (§6.4) and
// that the healed cluster converges.
void random_run(uint64_t seed, bool chaos, bool membership) {
  auto cfg = test_config();
  cfg.snapshot_catchup_entries = 2;
  cfg.snapshot_chunk_bytes = 8;
  cfg.max_append_bytes = 64;
  cfg.learner_catchup_entries = 1;
  cluster cl(membership ? 3 : 5, cfg, seed);
  if (membership)
    for (node_id id = 4; id <= 6; ++id)
      cl.add_node(id);
  if (chaos) cl.set_chaos({.async_disk = true, .dup = 0.05, .reorder = 0.3, .delay = 0.05}, seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](const std::vector<node_id>& v) { return v[rng() % v.size()]; };
  int proposals = 0, changes = 0;
  uint64_t next_ctx = 1;
  std::map<uint64_t, index_t> asked;     // read context -> committed index when asked
  std::map<node_id, size_t> reads_seen;  // per node: read_states already checked
  size_t reads_ok = 0;
  auto check_reads = [&] {
    for (node_id id : cl.ids()) {
      const auto& rs = cl.at(id).reads;
      for (size_t k = reads_seen[id]; k < rs.size(); ++k) {
        if (!rs[k].ok) continue;
        ++reads_ok;
        BOOST_TEST(rs[k].index >= asked.at(rs[k].context), "stale read " << rs[k].context);
      }
      reads_seen[id] = rs.size();
    }
  };
  for (int step_no = 0; step_no < 300; ++step_no) {
    std::vector<node_id> up, down;
    for (node_id id : cl.ids())
      (cl.up(id) ? up : down).push_back(id);
    const auto l = cl.leader();
    switch (rng() % 14) {
      case 0:
      case 1:
      case 2:
        if (l) cl.propose(*l, "s" + std::to_string(seed) + "-" + std::to_string(proposals++));
        break;
      case 3: {
        const uint64_t ctx = next_ctx++;
        asked[ctx] = cl.max_committed();
        cl.with(pick(up), [&](core& c) { return c.read_index(ctx); });
        break;
      }
      case 4:
        if (membership && l)
          changes += cl.with(*l, [&](core& c) { return c.add_learner(pick(cl.ids())); }).ok();
        else if (down.size() < 2)
          cl.crash(pick(up));
        break;
      case 5:
        if (membership && l && cl[*l].conf().voters.size() > 2)
          changes +=
              cl.with(*l, [&](core& c) { return c.remove_node(pick(cl[*l].conf().voters)); }).ok();
        else if (down.size() < 2)
          cl.crash(pick(up));
        break;
      case 6:
        if (down.size() < 2) cl.crash_mid_ready(pick(up));
        break;
      case 7:
      case 8:
        if (!down.empty()) cl.restart(pick(down));
        break;
      case 9: {
        std::set<node_id> a, b;
        for (node_id id : cl.ids())
          (rng() % 3 ? a : b).insert(id);
        cl.partition({a, b});
        break;
      }
      case 10:
        cl.heal();
        break;
      case 11:
        cl.drop_link(pick(cl.ids()), pick(cl.ids()));
        break;
      case 12:
      case 13: {
        const node_id id = pick(up);
        const index_t at = cl[id].applied();
        if (at > cl[id].log().offset().index)
          cl.with(id, [&](core& c) {
            c.compact(at, "snap@" + std::to_string(at));
            return 0;
          });
        break;
      }
    }
    cl.tick_all(10 + rng() % 400);
    check_reads();
  }
  if (membership) BOOST_TEST(changes > 0);
  // Heal everything: the cluster converges and every voter applies every committed entry.
  cl.calm();
  cl.heal();
  for (node_id id : cl.ids())
    if (!cl.up(id)) cl.restart(id);
  BOOST_REQUIRE(tick_until(
                    cl, [&] { return cl.leader().has_value(); }, 60000) != UINT64_MAX);
  BOOST_REQUIRE(cl.propose(*cl.leader(), "final").ok());
  const uint64_t ctx = next_ctx++;
  asked[ctx] = cl.max_committed();
  cl.with(*cl.leader(), [&](core& c) { return c.read_index(ctx); });
  cl.tick_all(3000);
  check_reads();
  BOOST_TEST(reads_ok > 0u);
  const node_id l = *cl.leader();
  // (A learner promotion may commit after it.)
  BOOST_TEST(std::any_of(cl.committed().begin(), cl.committed().end(),
                         [](const auto& ie) { return ie.second.data == "final"; }));
  BOOST_TEST(cl.max_committed() == cl[l].commit());
  for (node_id id : cl[l].conf().voters) {
    BOOST_TEST(cl.sm_index(id) == cl[l].commit());
    BOOST_TEST(cl[id].commit() == cl[l].log().last_index());
  }
}

}  // namespace

// §5.4: "the leader for any given term contains all of the entries committed in previous terms
// (the Leader Completeness Property)"; Figure 3: Election Safety, Log Matching, State Machine
// Safety. The harness checks all four after every input; this drives random crashes (also in the
// middle of a ready), restarts, partitions, proposals and compactions.
BOOST_AUTO_TEST_CASE(s5_4_leader_completeness_under_random_faults) {
  for (uint64_t seed = 1; seed <= 8; ++seed)
    BOOST_TEST_CONTEXT("seed " << seed) {
      random_run(seed, false, false);
    }
}

// The same properties when the disk syncs late (the node keeps working with a ready outstanding)
// and the network duplicates, reorders and delays messages. §5.5: "If a server crashes after
// completing an RPC but before responding, then it will receive the same RPC again after it
// restarts. Raft RPCs are idempotent, so this causes no harm."; Figure 3's properties hold
// regardless.
BOOST_AUTO_TEST_CASE(s5_4_safety_with_late_syncs_duplicates_reordering_and_delays) {
  for (uint64_t seed = 1; seed <= 8; ++seed)
    BOOST_TEST_CONTEXT("seed " << seed) {
      random_run(seed, true, false);
    }
}

// Thesis §4.1 (single-server changes): adding or removing one server at a time, any majority of
// the old configuration overlaps any majority of the new one, so the cluster cannot split into
// two independent majorities. Random single-server changes (learners added and promoted, voters
// and leaders removed) mixed with all of the above keep every property.
BOOST_AUTO_TEST_CASE(s4_1_safety_under_random_membership_changes) {
  for (uint64_t seed = 1; seed <= 8; ++seed)
    BOOST_TEST_CONTEXT("seed " << seed) {
      random_run(seed, seed % 2 == 0, true);
    }
}

// =============================================================================================
// Persist before send (Figure 2, ready.hpp)

// Figure 2: "Persistent state on all servers: (Updated on stable storage before responding to
// RPCs)". A vote whose hard state was written but not synced must die with the node: the response
// is sealed until the sync's receipt opens it.
BOOST_AUTO_TEST_CASE(fig2_vote_is_durable_before_its_response_leaves) {
  auto cfg = test_config();
  cfg.pre_vote = false;
  cluster cl(3, cfg);
  cl.deliver_all();
  step(cl, 2, {.type = msg_type::vote, .from = 1, .to = 2, .term = 2, .index = 1, .log_term = 1});
  cluster::node& n = cl.at(2);
  BOOST_REQUIRE(n.c->has_ready());
  ready r = n.c->take_ready();
  BOOST_REQUIRE(r.persist.hs.has_value());
  BOOST_TEST(r.persist.hs->vote == 1u);
  BOOST_TEST(r.persist.hs->term == 2u);
  BOOST_REQUIRE(r.messages.size() == 1u);  // inspectable, not releasable
  BOOST_TEST((r.messages.peek()[0].type == msg_type::vote_response));
  BOOST_TEST(!r.messages.peek()[0].reject);
  n.storage.write(r.persist);
  cl.crash(2);  // power loss before the sync
  cl.restart(2);
  BOOST_TEST(cl[2].term() == 1u);
  BOOST_TEST(cl[2].vote() == no_node);
  BOOST_TEST(sent(cl, msg_type::vote_response, 2).empty());
  // Having forgotten the vote, it may vote again in term 2, and this time the vote is durable
  // before the answer is released.
  step(cl, 2, {.type = msg_type::vote, .from = 3, .to = 2, .term = 2, .index = 1, .log_term = 1});
  cl.drop_if = [](const message&) { return true; };
  cl.deliver_all();
  BOOST_TEST(cl.at(2).storage.synced().hs.vote == 3u);
  BOOST_TEST(sent(cl, msg_type::vote_response, 2, 3).size() == 1u);
}

// Known trap "Persist before you answer": "an append acknowledgement is sent only for entries
// already fsynced". A follower that crashes between writing and syncing acknowledges nothing, and
// the leader does not count it.
BOOST_AUTO_TEST_CASE(fig2_append_ack_only_for_synced_entries) {
  cluster cl(3);
  cl.elect(1);
  std::vector<message> held;
  cl.drop_if = [&](const message& m) {
    if (m.type == msg_type::append && m.to == 2 && !m.entries.empty()) {
      held.push_back(m);
      return true;
    }
    return false;
  };
  const index_t idx = cl.propose(1, "x").index;
  cl.deliver_all();
  // (The commit broadcast's empty append revealed the gap, so the entry went out twice.)
  BOOST_REQUIRE(!held.empty());
  step(cl, 2, held[0]);
  cluster::node& n = cl.at(2);
  ready r = n.c->take_ready();
  BOOST_TEST(r.persist.log.entries.back().index == idx);
  BOOST_REQUIRE(r.messages.size() == 1u);
  BOOST_TEST(r.messages.peek()[0].index == idx);  // the ack that must not leave yet
  n.storage.write(r.persist);
  cl.crash(2);
  cl.restart(2);
  BOOST_TEST(cl[2].log().last_index() < idx);
  BOOST_TEST(cl[1].peers().at(2).match < idx);
  for (const message& m : sent(cl, msg_type::append_response, 2, 1))
    BOOST_TEST((m.reject || m.index < idx));
  cl.drop_if = nullptr;
  cl.tick_all(500);
  BOOST_TEST(cl[2].log().last_index() >= idx);
  BOOST_TEST(cl[1].peers().at(2).match >= idx);
}

// ready.hpp: "only with that receipt can the host open `messages` ... and `committed`". The rule
// is in the types: only a stable_storage makes receipts, and a batch opens only by move with a
// receipt at least as new as itself (an older one aborts the process).
BOOST_AUTO_TEST_CASE(ready_contract_is_enforced_by_types) {
  static_assert(!std::is_default_constructible_v<durable>);
  static_assert(!std::is_constructible_v<durable, uint64_t>);
  static_assert(!std::is_constructible_v<committed_entry, entry>);
  static_assert(
      !std::is_invocable_v<decltype(&sealed<message>::open), sealed<message>&, const durable&>);
  static_assert(
      std::is_invocable_v<decltype(&sealed<message>::open), sealed<message>&&, const durable&>);
  const int st = in_child(
      [] {
        persistence::mem_storage s;
        const durable old = s.sync();  // covers nothing yet (seq 0)
        sealed<message> batch({message{}}, 1);
        (void)std::move(batch).open(old);
        return true;
      },
      true);
  BOOST_TEST(st == -SIGABRT);
}

// =============================================================================================
// Pre-vote (thesis §9.6) and check-quorum (thesis §6.2, §4.2.3)

// Thesis §9.6: "While a server is partitioned, it won't be able to increment its term, since it
// can't receive permission from a majority of the cluster. Then, when it rejoins the cluster, it
// still won't be able to increment its term, since the other servers will have been receiving
// regular heartbeats from the leader. Once the server receives a heartbeat from the leader
// itself, it will return to the follower state (in the same term)."
BOOST_AUTO_TEST_CASE(s9_6_partitioned_follower_does_not_raise_term_or_disrupt) {
  cluster cl(3);
  cl.elect(1);
  const term_t t = cl[1].term();
  cl.isolate(3);
  cl.clear_sent();
  cl.tick_all(20000);
  BOOST_TEST(sent(cl, msg_type::pre_vote, 3).size() >= 2 * 8u);  // it timed out again and again
  BOOST_TEST(sent(cl, msg_type::vote, 3).empty());
  BOOST_TEST(cl[3].term() == t);
  BOOST_TEST(cl.is_leader(1));
  cl.heal();
  cl.tick_all(5000);
  BOOST_TEST(cl.is_leader(1));
  BOOST_TEST(cl[1].term() == t);
  BOOST_TEST(cl[3].term() == t);
  BOOST_TEST(cl[3].current_role() == role::follower);
  BOOST_TEST(cl[3].leader() == 1u);
}

// Thesis §9.6 with a one-way fault: node 3 hears nobody but everybody hears it, so it keeps
// asking. Known trap: "a node that heard from a live leader within the election timeout refuses
// (pre-)votes, so a rejoining partitioned node cannot depose a healthy leader."
BOOST_AUTO_TEST_CASE(s9_6_deaf_node_cannot_depose_a_healthy_leader) {
  cluster cl(3);
  cl.elect(1);
  const term_t t = cl[1].term();
  cl.drop_link(1, 3);
  cl.drop_link(2, 3);
  cl.clear_sent();
  cl.tick_all(20000);
  BOOST_TEST(sent(cl, msg_type::pre_vote, 3).size() >= 2 * 8u);
  BOOST_TEST(cl.is_leader(1));
  BOOST_TEST(cl[1].term() == t);
  BOOST_TEST(cl[2].term() == t);
  BOOST_TEST(cl[3].term() == t);
}

// Thesis §6.2: "the leader steps down if an election timeout elapses without a successful round
// of heartbeats to a majority of its cluster"; raft_config.hpp: "A leader that has not heard from
// a quorum within election_timeout_ms_min steps down". The followers answered the heartbeat just
// before the cut, so the leader must be gone about election_timeout_ms_min after it (one heartbeat
// interval of slack), whatever the phase of the cut. It must also never step down while it hears
// from a quorum.
BOOST_AUTO_TEST_CASE(s6_2_check_quorum_leader_cut_from_quorum_steps_down) {
  for (uint64_t phase : {0, 250, 500, 990}) {
    BOOST_TEST_CONTEXT("cut " << phase << " ms into the run") {
      cluster cl(3);
      cl.elect(1);
      cl.tick_all(phase);
      const term_t t = cl[1].term();
      cl.isolate(1);
      const uint64_t took = tick_until(
          cl, [&] { return !cl.is_leader(1); }, 10000);
      const auto& c = cl.cfg();
      BOOST_TEST(took <= 2 * c.election_timeout_ms_min + 10);  // it does step down ...
      BOOST_TEST(took <= c.election_timeout_ms_min + c.heartbeat_interval_ms + 10,
                 "... but " << took << " ms after the cut");  // ... in time
      BOOST_TEST(cl[1].current_role() == role::follower);
      BOOST_TEST(cl[1].term() == t);  // stepping down is not an election
      // Meanwhile the majority elects a new leader of a later term.
      BOOST_REQUIRE(tick_until(
                        cl, [&] { return cl.is_leader(2) || cl.is_leader(3); }, 10000) !=
                    UINT64_MAX);
      BOOST_TEST(!cl.is_leader(1));
      // A leader in contact with a quorum never steps down.
      cl.heal();
      const node_id l = *cl.leader();
      cl.tick_all(10000);
      BOOST_TEST(cl.is_leader(l));
    }
  }
}

// Thesis §4.2.3: "if a server receives a RequestVote request within the minimum election timeout
// of hearing from a current leader, it does not update its term or grant its vote." A leadership
// transfer's vote is the exception: the thesis has its RequestVote carry a special flag ("I have
// permission to disrupt the leader—it told me to!").
BOOST_AUTO_TEST_CASE(s4_2_3_node_in_leader_lease_ignores_higher_term_vote) {
  cluster cl(3);
  cl.elect(1);
  cl.tick_all(300);
  const term_t t = cl[2].term();
  const index_t last = cl[2].log().last_index();
  cl.clear_sent();
  for (msg_type ty : {msg_type::pre_vote, msg_type::vote}) {
    step(cl, 2, {.type = ty, .from = 3, .to = 2, .term = t + 1, .index = last + 5, .log_term = t});
    step(cl, 1, {.type = ty, .from = 3, .to = 1, .term = t + 1, .index = last + 5, .log_term = t});
  }
  cl.deliver_all();
  BOOST_TEST(cl[2].term() == t);
  BOOST_TEST(cl[2].vote() == 1u);
  BOOST_TEST(cl.is_leader(1));
  BOOST_TEST(cl[1].term() == t);
  BOOST_TEST(sent(cl, msg_type::vote_response, 2).empty());
  BOOST_TEST(sent(cl, msg_type::pre_vote_response, 2).empty());
  // With the transfer flag the same request is honoured.
  cl.drop_if = [](const message&) { return true; };
  step(cl, 2,
       {.type = msg_type::vote,
        .from = 3,
        .to = 2,
        .term = t + 1,
        .index = last + 5,
        .log_term = t,
        .transfer = true});
  cl.deliver_all();
  BOOST_TEST(cl[2].term() == t + 1);
  BOOST_TEST(cl[2].vote() == 3u);
}

// =============================================================================================
// Flow control

// raft_config: "at most this many append messages in flight to one follower". A follower that
// stops answering gets no more than max_inflight_appends appends carrying entries.
BOOST_AUTO_TEST_CASE(flow_control_max_inflight_appends) {
  auto cfg = test_config();
  cfg.max_inflight_appends = 2;
  cluster cl(3, cfg);
  cl.elect(1);
  cl.tick_all(300);
  cl.drop_link(2, 1);  // node 2 receives everything, answers nothing
  cl.clear_sent();
  for (int k = 0; k < 10; ++k) {
    BOOST_REQUIRE(cl.propose(1, "e" + std::to_string(k)).ok());
    cl.deliver_all();  // one ready, one append round per proposal
  }
  cl.tick_all(500);  // heartbeats do not open the window without answers
  auto with_entries = [&](node_id to) {
    size_t n = 0;
    for (const message& m : sent(cl, msg_type::append, 1, to))
      n += !m.entries.empty();
    return n;
  };
  BOOST_TEST(with_entries(2) <= 2u);
  BOOST_TEST(with_entries(2) >= 1u);
  BOOST_TEST(with_entries(3) >= 10u);  // the healthy follower is not held back
  BOOST_TEST(cl[1].commit() == cl[1].log().last_index());
  cl.heal();
  cl.tick_all(500);
  BOOST_TEST(cl.log_of(2) == cl.log_of(1));
}

// raft_config: "each carrying at most max_append_bytes of entry payload (at least one entry is
// always sent)".
BOOST_AUTO_TEST_CASE(flow_control_max_append_bytes) {
  auto cfg = test_config();
  cfg.max_append_bytes = 3 * (16 + 8);  // three 8-byte entries
  cluster cl(3, cfg);
  cl.elect(1);
  cl.crash(3);
  for (int k = 0; k < 10; ++k)
    BOOST_REQUIRE(cl.propose(1, "entry-0" + std::to_string(k)).ok());
  BOOST_REQUIRE(cl.propose(1, std::string(500, 'B')).ok());  // alone above the limit
  cl.deliver_all();
  cl.clear_sent();
  cl.restart(3);
  cl.tick_all(500);
  BOOST_TEST(cl.log_of(3) == cl.log_of(1));
  size_t appends = 0;
  bool big_alone = false;
  for (const message& m : sent(cl, msg_type::append, 1, 3)) {
    if (m.entries.empty()) continue;
    ++appends;
    uint64_t bytes = 0;
    for (const entry& e : m.entries)
      bytes += payload_bytes(e);
    if (m.entries.size() == 1 && m.entries[0].data.size() == 500)
      big_alone = true;
    else
      BOOST_TEST(bytes <= cfg.max_append_bytes);
  }
  BOOST_TEST(big_alone);
  BOOST_TEST(appends >= 5u);  // 10 small entries in threes, then the big one
}

// =============================================================================================
// §7 Log compaction and InstallSnapshot

namespace {

// Three nodes, node 3 down while the leader commits 20 entries and compacts its whole log.
struct lagging_follower {
  config::raft_config cfg = [] {
    auto c = test_config();
    c.snapshot_chunk_bytes = 10;
    c.snapshot_catchup_entries = 0;
    return c;
  }();
  cluster cl{3, cfg};
  std::string snap_data;
  index_t snap_index = 0;

  lagging_follower() {
    cl.elect(1);
    cl.crash(3);
    for (int k = 0; k < 20; ++k)
      BOOST_REQUIRE(cl.propose(1, "p" + std::to_string(k)).ok());
    cl.deliver_all();
    snap_index = cl[1].applied();
    BOOST_REQUIRE(snap_index == cl[1].log().last_index());
    for (int k = 0; k < 95; ++k)
      snap_data.push_back(char('a' + k % 26));
    cl.with(1, [&](core& c) {
      c.compact(snap_index, snap_data);
      return 0;
    });
    cl.deliver_all();
    BOOST_REQUIRE(cl[1].log().offset().index == snap_index);
    // Two more entries after the snapshot, which node 3 must get from the log.
    BOOST_REQUIRE(cl.propose(1, "after-1").ok());
    BOOST_REQUIRE(cl.propose(1, "after-2").ok());
    cl.deliver_all();
    cl.clear_sent();
  }
};

}  // namespace

// §7: "the leader must occasionally send snapshots to followers that lag behind. ... The leader
// uses a new RPC called InstallSnapshot to send snapshots to followers that are too far behind";
// Figure 13: "Invoked by leader to send chunks of a snapshot to a follower. Leaders always send
// chunks in order." Then the follower continues from the log.
BOOST_AUTO_TEST_CASE(s7_lagging_follower_installs_chunked_snapshot_then_catches_up) {
  lagging_follower f;
  cluster& cl = f.cl;
  cl.restart(3);
  cl.tick_all(500);
  auto chunks = sent(cl, msg_type::snapshot_chunk, 1, 3);
  BOOST_TEST(chunks.size() == 10u);  // 95 bytes in chunks of 10
  uint64_t expect_off = 0;
  for (const message& m : chunks) {
    BOOST_TEST(m.snap_offset == expect_off);  // in order
    BOOST_TEST(m.snap_data.size() <= 10u);
    BOOST_TEST(m.snap_meta.index == f.snap_index);
    expect_off += m.snap_data.size();
  }
  BOOST_TEST(chunks.back().snap_done);
  BOOST_REQUIRE(cl.at(3).restores.size() == 1u);
  BOOST_TEST(cl.at(3).restores[0].data == f.snap_data);
  BOOST_TEST(cl.at(3).restores[0].meta.index == f.snap_index);
  BOOST_TEST((cl.at(3).restores[0].meta.conf == voters_conf(3)));
  BOOST_TEST(cl[3].log().offset().index == f.snap_index);
  BOOST_TEST(cl.log_of(3) == cl.log_of(1));  // the two later entries came from the log
  BOOST_TEST(cl.sm_index(3) == cl[1].commit());
  BOOST_TEST(applied_data(cl.at(3), "after-2"));
  BOOST_REQUIRE(cl.at(3).storage.synced().snap.has_value());
  BOOST_TEST(cl.at(3).storage.synced().snap->data == f.snap_data);
  // It restarts from the snapshot.
  cl.crash(3);
  cl.restart(3);
  cl.tick_all(300);
  BOOST_TEST(cl.sm_index(3) == cl[1].commit());
  BOOST_TEST(cl.at(3).sm_base == f.snap_index);
}

// Figure 13, InstallSnapshot: "Invoked by leader to send chunks of a snapshot to a follower.
// Leaders always send chunks in order." A chunk lost on the way is sent again (the next heartbeat
// answer prompts the resend), and the snapshot arrives intact.
BOOST_AUTO_TEST_CASE(s7_lost_snapshot_chunk_is_resent) {
  lagging_follower f;
  cluster& cl = f.cl;
  bool dropped_one = false;
  cl.drop_if = [&](const message& m) {
    if (m.type == msg_type::snapshot_chunk && m.snap_offset == 30 && !dropped_one) {
      dropped_one = true;
      return true;
    }
    return false;
  };
  cl.restart(3);
  cl.tick_all(150);  // first heartbeat: the transfer starts, the 4th chunk is lost
  BOOST_REQUIRE(dropped_one);
  cl.tick_all(500);  // more heartbeats
  BOOST_REQUIRE(cl.at(3).restores.size() == 1u);
  BOOST_TEST(cl.at(3).restores[0].data == f.snap_data);
  BOOST_TEST(cl.log_of(3) == cl.log_of(1));
  BOOST_TEST(sent(cl, msg_type::snapshot_chunk, 1, 3).size() >= 11u);
}

// progress.hpp: "snapshot: ... one snapshot chunk at a time". When a chunk was only slow (not
// lost) and the heartbeat answer prompts a resend, the duplicate must not start a second stream
// of chunks running alongside the first for the rest of the transfer.
BOOST_AUTO_TEST_CASE(s7_duplicate_chunk_does_not_double_the_transfer) {
  lagging_follower f;
  cluster& cl = f.cl;
  bool hold = true;
  std::vector<message> held;
  cl.drop_if = [&](const message& m) {
    if (hold && m.type == msg_type::snapshot_chunk) {
      held.push_back(m);
      return true;
    }
    return false;
  };
  cl.restart(3);
  cl.tick_all(150);  // the first chunk goes out and is held (slow link)
  cl.tick_all(100);  // a heartbeat answer prompts a resend of the same chunk
  BOOST_REQUIRE(held.size() >= 2u);
  BOOST_REQUIRE(held[0].snap_offset == 0u);
  hold = false;
  cl.clear_sent();
  for (const message& m : held)
    cl.inject(m);
  cl.deliver_all();
  BOOST_REQUIRE(cl.at(3).restores.size() == 1u);
  // 10 chunks in all, 9 after the first: allow one stray duplicate, not a second stream.
  BOOST_TEST(sent(cl, msg_type::snapshot_chunk, 1, 3).size() <= 9u + 1u);
}

// §7: "If instead the follower receives a snapshot that describes a prefix of its log (due to
// retransmission or by mistake), then log entries covered by the snapshot are deleted but entries
// following the snapshot are still valid and must be retained." and "Usually the snapshot will
// contain new information not already in the recipient's log. In this case, the follower discards
// its entire log".
BOOST_AUTO_TEST_CASE(s7_follower_keeps_matching_suffix_and_discards_conflicting_log) {
  const conf_state c3 = voters_conf(3);
  for (bool matching : {true, false}) {
    BOOST_TEST_CONTEXT((matching ? "matching" : "conflicting")) {
      cluster cl({hand_state(c3, 2, no_node, 1, {}),
                  hand_state(c3, 2, no_node, 1, {2, 2, 2, 2, 2, 2, 2, 2, 2}),
                  hand_state(c3, 2, no_node, 1, {})});
      cl.drop_if = [](const message&) { return true; };
      cl.deliver_all();
      const snapshot_meta meta{6, matching ? term_t{2} : term_t{3}, c3};
      step(cl, 2,
           {.type = msg_type::snapshot_chunk,
            .from = 1,
            .to = 2,
            .term = 3,
            .snap_meta = meta,
            .snap_offset = 0,
            .snap_data = "state@6",
            .snap_done = true});
      cl.deliver_all();
      BOOST_REQUIRE(cl.at(2).restores.size() == 1u);
      BOOST_TEST(cl.at(2).restores[0].data == "state@6");
      BOOST_TEST(cl[2].log().offset().index == 6u);
      BOOST_TEST(cl[2].commit() == 6u);
      BOOST_TEST(cl.sm_index(2) == 6u);
      auto ans = sent(cl, msg_type::snapshot_response, 2, 1);
      BOOST_REQUIRE(ans.size() == 1u);
      BOOST_TEST(ans[0].snap_done);
      BOOST_TEST(ans[0].index == 6u);
      const auto& img = cl.at(2).storage.synced();
      BOOST_TEST(img.offset.index == 6u);
      if (matching) {
        BOOST_TEST(cl[2].log().last_index() == 10u);  // 7..10 kept
        BOOST_TEST(cl[2].log().at(10) == cmd(2, 10));
        BOOST_TEST(img.entries.size() == 4u);
      } else {
        BOOST_TEST(cl[2].log().last_index() == 6u);  // all discarded
        BOOST_TEST(img.entries.empty());
      }
      // And a restart finds the same.
      const index_t last = cl[2].log().last_index();
      cl.crash(2);
      cl.restart(2);
      BOOST_TEST(cl[2].log().last_index() == last);
      BOOST_TEST(cl[2].log().offset().index == 6u);
    }
  }
}

// persist_batch (ready.hpp): "in this order: the snapshot, the compaction offset (drop entries <=
// it; it becomes the log's offset), the log write (drop entries >= truncate_from, append)". A
// follower that, in one round, replaces a conflicting suffix and then installs a snapshot inside
// the new entries emits a log write whose truncate_from lies below the new offset: every stored
// entry after the offset must go. (Run in a child process: the storage asserts on the mismatch.)
BOOST_AUTO_TEST_CASE(s7_append_then_snapshot_in_one_round_persists_correctly) {
  const int st = in_child([] {
    const conf_state c3 = voters_conf(3);
    config::raft_config cfg = test_config();
    persistence::mem_storage storage;
    core c(2, cfg, 7, hand_state(c3, 2, no_node, 1, std::vector<term_t>(11, 2)));  // 2..12: t2
    auto run = [&] {
      ready r = c.take_ready();
      storage.write(r.persist);
      const durable d = storage.sync();
      (void)std::move(r.messages).open(d);
      (void)std::move(r.committed).open(d);
      c.advance(d);
    };
    run();
    // Term-3 leader: entries 5..10 of term 3 replace 5..12 of term 2 ...
    message app{.type = msg_type::append,
                .from = 3,
                .to = 2,
                .term = 3,
                .index = 4,
                .log_term = 2,
                .commit = 4};
    for (index_t i = 5; i <= 10; ++i)
      app.entries.push_back(cmd(3, i));
    c.step(app);
    // ... and in the same round a snapshot at 8, which matches the new entries.
    c.step({.type = msg_type::snapshot_chunk,
            .from = 3,
            .to = 2,
            .term = 3,
            .snap_meta = {8, 3, c3},
            .snap_offset = 0,
            .snap_data = "s8",
            .snap_done = true});
    run();
    const auto& img = storage.synced();
    if (img.offset.index != 8 || img.entries.size() != 2) return false;
    return img.entries[0] == cmd(3, 9) && img.entries[1] == cmd(3, 10);
  });
  BOOST_TEST(st == 0, "child status " << st << " (0 = storage holds 9..10 of term 3 after 8)");
}

// =============================================================================================
// ReadIndex (thesis §6.4)

// Thesis §6.4: "The leader needs to make sure it hasn't been superseded by a newer leader of which
// it is unaware. It issues a new round of heartbeats and waits for their acknowledgments from a
// majority of the cluster. Once these acknowledgments are received, the leader knows that there
// could not have existed a leader for a greater term at the moment it sent the heartbeats."
BOOST_AUTO_TEST_CASE(s6_4_read_index_waits_for_a_quorum_heartbeat_round) {
  cluster cl(3);
  cl.elect(1);
  BOOST_REQUIRE(cl.propose(1, "x").ok());
  cl.deliver_all();
  const index_t commit = cl[1].commit();
  cl.isolate(1);
  BOOST_TEST(cl.with(1, [](core& c) { return c.read_index(7); }).ok());
  cl.tick_all(500);  // heartbeats go out, no answer comes back
  BOOST_TEST(cl.at(1).reads.empty());
  cl.heal();
  cl.tick_all(150);
  BOOST_REQUIRE(cl.at(1).reads.size() == 1u);
  BOOST_TEST(cl.at(1).reads[0].context == 7u);
  BOOST_TEST(cl.at(1).reads[0].index == commit);
  BOOST_TEST(cl.at(1).reads[0].ok);
  // Without a partition the round completes in one exchange.
  BOOST_TEST(cl.with(1, [](core& c) { return c.read_index(8); }).ok());
  cl.deliver_all();
  BOOST_REQUIRE(cl.at(1).reads.size() == 2u);
  BOOST_TEST(cl.at(1).reads[1].context == 8u);
}

// Thesis §6.4: "If the leader has not yet marked an entry from its current term committed, it
// waits until it has done so. The Leader Completeness Property guarantees that a leader has all
// committed entries, but at the start of its term, it may not know which those are."
BOOST_AUTO_TEST_CASE(s6_4_new_leader_answers_no_read_before_its_noop_commits) {
  cluster cl(3);
  cl.deliver_all();
  cl.drop_if = [](const message& m) { return m.type == msg_type::append; };
  cl.elect(1);
  BOOST_REQUIRE(!cl[1].committed_in_term());
  BOOST_TEST(cl.with(1, [](core& c) { return c.read_index(11); }).ok());
  cl.tick_all(300);
  BOOST_TEST(cl.at(1).reads.empty());
  cl.drop_if = nullptr;
  cl.tick_all(300);
  BOOST_REQUIRE(cl[1].committed_in_term());
  BOOST_REQUIRE(cl.at(1).reads.size() == 1u);
  BOOST_TEST(cl.at(1).reads[0].context == 11u);
  BOOST_TEST(cl.at(1).reads[0].ok);
  BOOST_TEST(cl.at(1).reads[0].index >= 2u);  // at least the no-op
}

// Thesis §6.4 (reads at followers, paraphrased): a follower asks the leader for the current read
// index; the leader runs the ReadIndex steps (its own no-op committed, a quorum heartbeat round)
// and answers with its commit index, which the follower then waits to apply.
BOOST_AUTO_TEST_CASE(s6_4_follower_read_is_forwarded_and_answered_with_leader_commit) {
  cluster cl(3);
  cl.elect(1);
  BOOST_REQUIRE(cl.propose(1, "y").ok());
  cl.deliver_all();
  const index_t commit = cl[1].commit();
  const result r = cl.with(2, [](core& c) { return c.read_index(21); });
  BOOST_TEST(r.ok());
  BOOST_TEST(r.leader_hint == 1u);
  cl.deliver_all();
  BOOST_TEST(sent(cl, msg_type::read_index, 2, 1).size() == 1u);
  BOOST_REQUIRE(cl.at(2).reads.size() == 1u);
  BOOST_TEST(cl.at(2).reads[0].context == 21u);
  BOOST_TEST(cl.at(2).reads[0].index == commit);
  BOOST_TEST(cl.at(2).reads[0].ok);
  // A node that knows no leader refuses at once.
  cluster fresh(3);
  BOOST_TEST(
      (fresh.with(2, [](core& c) { return c.read_index(1); }).code == status_code::not_leader));
}

// ready.hpp read_state: "ok=false: the read failed (leadership lost, no leader); retry
// elsewhere." A leader that steps down cannot confirm its pending reads any more.
BOOST_AUTO_TEST_CASE(s6_4_leader_stepping_down_fails_pending_reads) {
  cluster cl(3);
  cl.elect(1);
  const term_t t = cl[1].term();
  cl.drop_if = [](const message& m) { return m.type == msg_type::heartbeat && m.from == 1; };
  BOOST_TEST(cl.with(1, [](core& c) { return c.read_index(31); }).ok());
  BOOST_TEST(cl.with(2, [](core& c) { return c.read_index(32); }).ok());
  cl.deliver_all();
  BOOST_REQUIRE(cl.at(1).reads.empty());
  BOOST_REQUIRE(cl.at(2).reads.empty());
  step(cl, 1, {.type = msg_type::heartbeat_response, .from = 3, .to = 1, .term = t + 1});
  cl.deliver_all();
  BOOST_REQUIRE(cl.at(1).reads.size() == 1u);
  BOOST_TEST(cl.at(1).reads[0].context == 31u);
  BOOST_TEST(!cl.at(1).reads[0].ok);
  BOOST_REQUIRE(cl.at(2).reads.size() == 1u);
  BOOST_TEST(cl.at(2).reads[0].context == 32u);
  BOOST_TEST(!cl.at(2).reads[0].ok);
}

// =============================================================================================
// Leadership transfer (thesis §3.10)

// Thesis §3.10: "1. The prior leader stops accepting new client requests. 2. The prior leader
// fully updates the target server's log to match its own ... 3. The prior leader sends a
// TimeoutNow request to the target server. This request has the same effect as the target
// server's election timer firing: the target server starts a new election (incrementing its term
// and becoming a candidate)."
BOOST_AUTO_TEST_CASE(s3_10_transfer_makes_target_leader_of_next_term) {
  cluster cl(3);
  cl.elect(1);
  cl.tick_all(300);
  const term_t t = cl[1].term();
  cl.clear_sent();
  BOOST_TEST(cl.with(1, [](core& c) { return c.transfer_leadership(2); }).ok());
  cl.deliver_all();
  BOOST_TEST(cl.is_leader(2));
  BOOST_TEST(cl[2].term() == t + 1);
  BOOST_TEST(cl[1].current_role() == role::follower);
  BOOST_TEST(cl[1].leader() == 2u);
  BOOST_TEST(sent(cl, msg_type::timeout_now, 1, 2).size() == 1u);
  BOOST_TEST(sent(cl, msg_type::pre_vote, 2).empty());  // no pre-vote round on a transfer
  // Unknown targets are refused.
  BOOST_TEST((cl.with(2, [](core& c) { return c.transfer_leadership(9); }).code ==
              status_code::unknown_node));
}

// Thesis §3.10: "The prior leader stops accepting new client requests." and "If the transfer does
// not complete within an election timeout, the prior leader aborts the transfer and resumes
// accepting client requests."
BOOST_AUTO_TEST_CASE(s3_10_proposals_refused_during_transfer) {
  cluster cl(3);
  cl.elect(1);
  cl.drop_if = [](const message& m) { return m.type == msg_type::timeout_now; };
  BOOST_TEST(cl.with(1, [](core& c) { return c.transfer_leadership(3); }).ok());
  cl.deliver_all();
  const result r = cl.propose(1, "during");
  BOOST_TEST((r.code == status_code::transfer_in_progress));
  BOOST_TEST((cl.with(1, [](core& c) { return c.add_learner(4); }).code ==
              status_code::transfer_in_progress));
  cl.tick_all(cl.cfg().election_timeout_ms_min + 100);
  BOOST_TEST(cl.is_leader(1));
  BOOST_TEST(cl[1].transfer_target() == no_node);
  BOOST_TEST(cl.propose(1, "after").ok());
}

// Thesis §3.10: "2. The prior leader fully updates the target server's log to match its own,
// using the normal log replication mechanism."
BOOST_AUTO_TEST_CASE(s3_10_transfer_to_lagging_target_catches_it_up_first) {
  cluster cl(3);
  cl.elect(1);
  cl.drop_if = [](const message& m) { return m.type == msg_type::append && m.to == 3; };
  for (int k = 0; k < 5; ++k)
    BOOST_REQUIRE(cl.propose(1, "lag" + std::to_string(k)).ok());
  cl.deliver_all();
  const index_t last = cl[1].log().last_index();
  BOOST_REQUIRE(cl[3].log().last_index() < last);
  const term_t t = cl[1].term();
  cl.drop_if = nullptr;
  cl.clear_sent();
  BOOST_TEST(cl.with(1, [](core& c) { return c.transfer_leadership(3); }).ok());
  cl.deliver_all();
  BOOST_TEST(cl.is_leader(3));
  BOOST_TEST(cl[3].term() == t + 1);
  // TimeoutNow only after the target acknowledged the leader's last entry.
  const auto& all = cl.sent();
  size_t tn = all.size(), caught_up = all.size();
  for (size_t k = 0; k < all.size(); ++k) {
    if (all[k].type == msg_type::append_response && all[k].from == 3 && !all[k].reject &&
        all[k].index == last && caught_up == all.size())
      caught_up = k;
    if (all[k].type == msg_type::timeout_now && tn == all.size()) tn = k;
  }
  BOOST_REQUIRE(tn < all.size());
  BOOST_TEST(caught_up < tn);
  BOOST_TEST(applied_data(cl.at(3), "lag4"));
}

// =============================================================================================
// Membership changes (thesis §4)

// Thesis §4.2.1: "a new server joins the cluster as a non-voting member. The leader replicates log
// entries to it, but it is not yet counted towards majorities for voting or commitment purposes."
BOOST_AUTO_TEST_CASE(s4_2_1_learner_gets_the_log_but_neither_votes_nor_counts) {
  auto cfg = test_config();
  cfg.learner_catchup_entries = 0;  // promotion only for a learner holding the whole log
  cluster cl(2, cfg);
  cl.elect(1);
  cl.add_node(3);
  cl.partition({{1, 3}, {2}});
  const result r = cl.with(1, [](core& c) { return c.add_learner(3); });
  BOOST_REQUIRE(r.ok());
  cl.tick_all(200);
  BOOST_TEST(cl[3].log().last_index() == cl[1].log().last_index());  // it has the log ...
  BOOST_TEST(cl[1].peers().at(3).match == r.index);
  BOOST_TEST(cl[1].commit() < r.index);  // ... but its copy does not commit the entry
  BOOST_TEST(cl[3].conf().is_learner(3));
  BOOST_TEST(cl[1].conf().is_learner(3));
  // Nor does its liveness keep the cut-off leader in office (check-quorum counts voters).
  cl.tick_all(2 * cl.cfg().election_timeout_ms_min + 20);
  BOOST_TEST(!cl.is_leader(1));
  // A learner never campaigns, however long it hears nothing.
  const term_t t3 = cl[3].term();
  cl.isolate(3);
  cl.clear_sent();
  cl.tick_all(20000);
  BOOST_REQUIRE(cl[3].conf().is_learner(3));
  BOOST_TEST(cl[3].current_role() == role::follower);
  BOOST_TEST(cl[3].term() == t3);
  BOOST_TEST(sent(cl, msg_type::pre_vote, 3).empty());
  BOOST_TEST(sent(cl, msg_type::vote, 3).empty());
  // And a pre-candidate does not count a learner's grant.
  cl.partition({{1}, {2}, {3}});
  BOOST_REQUIRE(cl[1].conf().is_learner(3));
  BOOST_REQUIRE(tick_until(
                    cl, [&] { return cl[1].current_role() == role::pre_candidate; }, 5000) !=
                UINT64_MAX);
  step(cl, 1, {.type = msg_type::pre_vote_response, .from = 3, .to = 1, .term = cl[1].term() + 1});
  BOOST_TEST(cl[1].current_role() == role::pre_candidate);
}

// Thesis §4.2.1: "Once the new server has caught up with the rest of the cluster, the
// reconfiguration can proceed"; raft_config: "A learner is promoted to voter once its match index
// is within this many entries of the leader's last index."
BOOST_AUTO_TEST_CASE(s4_2_1_learner_is_promoted_once_caught_up) {
  auto cfg = test_config();
  cfg.learner_catchup_entries = 0;
  cluster cl(3, cfg);
  cl.elect(1);
  for (int k = 0; k < 5; ++k)
    BOOST_REQUIRE(cl.propose(1, "z" + std::to_string(k)).ok());
  cl.deliver_all();
  cl.add_node(4);
  const result r = cl.with(1, [](core& c) { return c.add_learner(4); });
  BOOST_REQUIRE(r.ok());
  cl.tick_all(300);
  conf_state want = voters_conf(4);
  for (node_id id : {1, 2, 3, 4})
    BOOST_TEST((cl[id].conf() == want));
  // Two configuration entries: first as learner, then as voter; both committed.
  std::vector<conf_state> confs;
  for (const entry& e : cl.log_of(1))
    if (e.type == entry_type::conf_change && e.index > 1) {
      conf_state c;
      BOOST_REQUIRE(decode_conf(e.data, c));
      confs.push_back(c);
      BOOST_TEST(e.index <= cl[1].commit());
    }
  BOOST_REQUIRE(confs.size() == 2u);
  BOOST_TEST(confs[0].is_learner(4));
  BOOST_TEST(confs[1].is_voter(4));
  // The new voter now counts: with two of four down nothing commits.
  cl.crash(2);
  cl.crash(3);
  const index_t x = cl.propose(1, "needs-three").index;
  cl.tick_all(500);
  BOOST_TEST(cl[1].commit() < x);
}

// Thesis §4.2.1: "When a server is added to the cluster, it typically will not store any log
// entries. If it is added to the cluster in this state, its log could take quite a while to catch
// up to the leader's, and during this time, the cluster is more vulnerable to unavailability. For
// example, a three-server cluster can normally tolerate one failure with no loss in availability.
// However, if a fourth server with an empty log is added to the same cluster and one of the
// original three servers fails, the cluster will be temporarily unable to commit new entries".
// Learners exist to prevent exactly this: one that never answered is not "caught up".
BOOST_AUTO_TEST_CASE(s4_2_1_learner_that_never_answered_is_not_promoted) {
  cluster cl(3);  // default learner_catchup_entries
  cl.elect(1);
  cl.crash(3);
  // Node 4 does not even exist yet (its machine is still being provisioned).
  const result r = cl.with(1, [](core& c) { return c.add_learner(4); });
  BOOST_REQUIRE(r.ok());
  cl.tick_all(300);
  BOOST_REQUIRE(cl[1].commit() >= r.index);
  BOOST_TEST(cl[1].peers().at(4).match == 0u);
  BOOST_TEST(cl[1].conf().is_learner(4));
  BOOST_TEST(!cl[1].conf().is_voter(4));
  // The cluster must stay available with two of its three voters.
  const result p = cl.propose(1, "still-available");
  BOOST_REQUIRE(p.ok());
  cl.tick_all(500);
  BOOST_TEST(cl[1].commit() >= p.index);
}

// Thesis §4.1 (paraphrased): one server is added or removed at a time, and a leader starts a new
// configuration change only once the previous one has committed (a new leader counts its no-op
// too: an uncommitted change from an earlier term may still sit in its log).
BOOST_AUTO_TEST_CASE(s4_1_one_membership_change_at_a_time) {
  cluster cl(3);
  cl.deliver_all();
  cl.drop_if = [](const message& m) { return m.type == msg_type::append_response; };
  cl.elect(1);
  // The no-op (and whatever configuration precedes it) is not committed yet.
  BOOST_TEST((cl.with(1, [](core& c) { return c.add_learner(4); }).code ==
              status_code::conf_change_in_progress));
  cl.drop_if = nullptr;
  cl.tick_all(300);
  cl.drop_if = [](const message& m) { return m.type == msg_type::append_response; };
  const result first = cl.with(1, [](core& c) { return c.add_learner(4); });
  BOOST_REQUIRE(first.ok());
  cl.deliver_all();
  BOOST_TEST((cl.with(1, [](core& c) { return c.remove_node(3); }).code ==
              status_code::conf_change_in_progress));
  BOOST_TEST((cl.with(1, [](core& c) { return c.add_learner(5); }).code ==
              status_code::conf_change_in_progress));
  cl.drop_if = nullptr;
  cl.tick_all(300);
  BOOST_REQUIRE(cl[1].commit() >= first.index);
  BOOST_TEST(cl.with(1, [](core& c) { return c.remove_node(4); }).ok());
  // Invalid requests.
  BOOST_TEST(
      (cl.with(1, [](core& c) { return c.add_learner(2); }).code == status_code::unknown_node));
  cluster one(1);
  one.elect(1);
  BOOST_TEST((one.with(1, [](core& c) { return c.remove_node(1); }).code == status_code::invalid));
}

// Thesis §4.2.2: "the leader steps down (returns to follower state) once it has committed the
// Cnew log entry" and "the leader ... manages a cluster that does not include itself ... it
// replicates log entries but does not count itself in majorities".
BOOST_AUTO_TEST_CASE(s4_2_2_removed_leader_steps_down_after_removal_commits) {
  cluster cl(3);
  cl.elect(1);
  const term_t t = cl[1].term();
  cl.drop_if = [](const message& m) { return m.type == msg_type::append_response; };
  const result r = cl.with(1, [](core& c) { return c.remove_node(1); });
  BOOST_REQUIRE(r.ok());
  cl.tick_all(300);
  BOOST_TEST(cl.is_leader(1));  // not committed yet: still leading
  BOOST_TEST(!cl[1].conf().is_member(1));
  BOOST_TEST(cl[1].commit() < r.index);
  cl.drop_if = nullptr;
  cl.tick_all(200);
  BOOST_TEST(!cl.is_leader(1));
  BOOST_TEST(cl[1].commit() >= r.index);
  cl.clear_sent();
  // The rest elect a leader among themselves; the removed node stays quiet.
  BOOST_REQUIRE(tick_until(
                    cl, [&] { return cl.is_leader(2) || cl.is_leader(3); }, 10000) != UINT64_MAX);
  const node_id l = cl.is_leader(2) ? 2 : 3;
  BOOST_TEST(cl[l].term() > t);
  BOOST_TEST((cl[l].conf().voters == std::vector<node_id>{2, 3}));
  const result p = cl.propose(l, "without-1");
  BOOST_REQUIRE(p.ok());
  cl.tick_all(300);
  BOOST_TEST(cl[l].commit() >= p.index);
  BOOST_TEST(sent(cl, msg_type::pre_vote, 1).empty());
  BOOST_TEST(sent(cl, msg_type::vote, 1).empty());
}

// Thesis §4.1: "a server always uses the latest configuration in its log, regardless of whether
// the entry is committed" and "a log entry for a configuration change can be removed (if
// leadership changes); in this case, a server must be prepared to fall back to the previous
// configuration in its log."
BOOST_AUTO_TEST_CASE(s4_1_config_used_when_in_log_and_reverted_on_truncation) {
  const conf_state c3 = voters_conf(3);
  cluster cl({hand_state(c3, 2, no_node, 1, {}), hand_state(c3, 2, no_node, 1, {}),
              hand_state(c3, 2, no_node, 1, {})});
  cl.drop_if = [](const message&) { return true; };
  cl.deliver_all();
  conf_state with4 = c3;
  with4.learners = {4};
  step(cl, 2,
       {.type = msg_type::append,
        .from = 1,
        .to = 2,
        .term = 2,
        .index = 1,
        .log_term = 1,
        .entries = {{2, 2, entry_type::conf_change, encode_conf(with4)}},
        .commit = 1});
  cl.deliver_all();
  BOOST_TEST(cl[2].commit() == 1u);
  BOOST_TEST((cl[2].conf() == with4));  // in force although uncommitted
  // A leader of term 3 never had it: its entry 2 replaces the configuration entry.
  step(cl, 2,
       {.type = msg_type::append,
        .from = 3,
        .to = 2,
        .term = 3,
        .index = 1,
        .log_term = 1,
        .entries = {{3, 2, entry_type::noop, ""}},
        .commit = 1});
  cl.deliver_all();
  BOOST_TEST((cl[2].conf() == c3));
  // And a restart rebuilds the configuration from the log.
  cl.crash(2);
  cl.restart(2);
  BOOST_TEST((cl[2].conf() == c3));
  // The leader side: in force as soon as appended.
  cluster cl2(3);
  cl2.elect(1);
  cl2.isolate(1);
  BOOST_REQUIRE(cl2.with(1, [](core& c) { return c.add_learner(4); }).ok());
  BOOST_TEST(cl2[1].conf().is_learner(4));
  BOOST_TEST(cl2[1].peers().count(4) == 1u);
}

// raft_config: "A leader refuses proposals while its uncommitted tail exceeds this many bytes"
// and "At most this many ReadIndex requests wait at the leader; more are refused." (DESIGN.md:
// RESOURCE_EXHAUSTED, never a silent drop.)
BOOST_AUTO_TEST_CASE(bad_input_backlogs_are_bounded) {
  auto cfg = test_config();
  cfg.max_uncommitted_bytes = 100;  // each 10-byte proposal counts 26 bytes
  cfg.max_pending_reads = 2;
  cluster cl(3, cfg);
  cl.elect(1);
  cl.isolate(1);
  int accepted = 0;
  result r;
  while ((r = cl.propose(1, "0123456789")).ok())
    ++accepted;
  BOOST_TEST((r.code == status_code::backlog_full));
  BOOST_TEST(accepted == 4);
  BOOST_TEST(cl.with(1, [](core& c) { return c.read_index(1); }).ok());
  BOOST_TEST(cl.with(1, [](core& c) { return c.read_index(2); }).ok());
  BOOST_TEST(
      (cl.with(1, [](core& c) { return c.read_index(3); }).code == status_code::backlog_full));
  cl.heal();
  cl.tick_all(300);
  BOOST_REQUIRE(cl.is_leader(1));
  BOOST_TEST(cl[1].commit() == cl[1].log().last_index());
  BOOST_TEST(cl.at(1).reads.size() == 2u);
  BOOST_TEST(cl.propose(1, "0123456789").ok());  // room again once the tail committed
}

// =============================================================================================
// Bad input

// DESIGN.md: "Bad input gets a gRPC status with a clear message (... RESOURCE_EXHAUSTED for size
// limits, UNAVAILABLE/NOT_LEADER with the leader's address), never a crash or a silent drop."
BOOST_AUTO_TEST_CASE(bad_input_oversized_proposal_is_refused) {
  auto cfg = test_config();
  cfg.max_proposal_bytes = 100;
  cluster cl(3, cfg);
  cl.elect(1);
  const index_t last = cl[1].log().last_index();
  const result r = cl.propose(1, std::string(101, 'x'));
  BOOST_TEST((r.code == status_code::too_large));
  BOOST_TEST(cl[1].log().last_index() == last);
  BOOST_TEST(cl.propose(1, std::string(100, 'x')).ok());
}

// §8: "If the client contacts a follower, the follower will reject the client's request and
// supply information about the most recent leader it has heard from".
BOOST_AUTO_TEST_CASE(bad_input_propose_on_follower_gets_not_leader_with_hint) {
  cluster cl(3);
  cl.elect(1);
  const result r = cl.propose(2, "misdirected");
  BOOST_TEST((r.code == status_code::not_leader));
  BOOST_TEST(r.leader_hint == 1u);
  BOOST_TEST(cl[2].log().last_index() == cl[1].log().last_index());
  cluster fresh(3);
  const result r2 = fresh.propose(1, "nobody leads");
  BOOST_TEST((r2.code == status_code::not_leader));
  BOOST_TEST(r2.leader_hint == no_node);
}

// ---------------------------------------------------------------------------------------------
// The host contract around snapshots and removed servers.

namespace {
message snapshot_from(node_id leader, term_t term, index_t index, const conf_state& conf) {
  message m{.type = msg_type::snapshot_chunk, .from = leader, .to = 1, .term = term};
  m.snap_meta = {index, term, conf};
  m.snap_data = "state at " + std::to_string(index);
  m.snap_done = true;
  return m;
}
}  // namespace

// "the state machine is restored from the snapshot" (§7): applied() is the host's promise that a
// read at that index sees the state, so it must not reach the snapshot index before the ready
// that carries the snapshot to restore has been advanced, even when the last chunk arrives while
// an earlier ready is still being persisted.
BOOST_AUTO_TEST_CASE(s7_applied_reaches_snapshot_index_only_after_restore_is_advanced) {
  const conf_state conf{{1, 2, 3}, {}};
  persistence::mem_storage st;
  core c(1, test_config(), 7, restore_state::bootstrap(conf));
  c.tick(0);
  ready r1 = c.take_ready();  // the bootstrap write, still in flight
  st.write(std::move(r1.persist));
  c.step(snapshot_from(2, 2, 50, conf));
  const durable d1 = st.sync();
  c.advance(d1);
  BOOST_TEST(c.applied() < 50u);  // the host has not restored anything yet
  BOOST_REQUIRE(c.has_ready());
  ready r2 = c.take_ready();
  BOOST_REQUIRE(r2.restore.has_value());
  BOOST_TEST(r2.restore->meta.index == 50u);
  st.write(std::move(r2.persist));
  c.advance(st.sync());
  BOOST_TEST(c.applied() == 50u);
  c.check_invariants();
}

// §4.2.3: "removed servers (those not in Cnew) can disrupt the cluster ... they will time out and
// start new elections". Requests from outside the configuration whose log is behind ours (a
// removed server's falls behind with the first entry after its removal) are ignored, so the term
// does not move; a member's request at a higher term still does.
BOOST_AUTO_TEST_CASE(s4_2_3_removed_server_cannot_raise_the_term) {
  config::raft_config cfg = test_config();
  cfg.pre_vote = false;
  cfg.check_quorum = false;
  core c(1, cfg, 7, restore_state::bootstrap(conf_state{{1, 2, 3}, {}}));
  c.tick(0);
  message v{.type = msg_type::vote, .from = 9, .to = 1, .term = 5, .index = 0, .log_term = 0};
  c.step(v);
  BOOST_TEST(c.term() == 1u);
  v.from = 3;
  v.index = 100;
  v.log_term = 4;
  c.step(v);
  BOOST_TEST(c.term() == 5u);
  BOOST_TEST(c.vote() == 3u);
}

// Thesis §4.1: a server uses the newest configuration in its log, so a lagging voter may not know
// a member that later entries added. Such a candidate with a log at least as up-to-date must be
// heard: ignoring it can leave no electable quorum (found by the random membership run).
BOOST_AUTO_TEST_CASE(s4_1_a_member_we_have_not_heard_of_yet_can_win_our_vote) {
  config::raft_config cfg = test_config();
  core c(1, cfg, 7, restore_state::bootstrap(conf_state{{1, 2, 3}, {}}));
  c.tick(0);
  c.tick(10 * cfg.election_timeout_ms_max);  // no leader heard: no lease
  message v{.type = msg_type::vote, .from = 6, .to = 1, .term = 5, .index = 20, .log_term = 4};
  c.step(v);
  BOOST_TEST(c.term() == 5u);
  BOOST_TEST(c.vote() == 6u);
}
