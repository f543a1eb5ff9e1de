// Chaos-script language: every construct parses to the expected tree, every rule is reported at
// the right line:column, formatting round-trips, random damage never crashes the parser, and the
// bundled scripts stay valid.
#define BOOST_TEST_MODULE chaos_script
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "chaos/script.hpp"

#ifndef AEGIS_SCRIPTS_DIR
#define AEGIS_SCRIPTS_DIR "chaos/scripts"
#endif

using namespace aegis::chaos;
using nk = node_ref::kind;

namespace {

constexpr int64_t ms = 1000;
constexpr int64_t sec = 1'000'000;

script parse_ok(std::string_view text) {
  auto r = parse_script(text, "t.chaos");
  if (const auto* e = std::get_if<parse_error>(&r))
    BOOST_FAIL("unexpected error: " << e->to_string());
  return std::get<script>(std::move(r));
}

parse_error parse_bad(std::string_view text) {
  auto r = parse_script(text, "t.chaos");
  if (std::holds_alternative<script>(r)) BOOST_FAIL("expected an error for:\n" << text);
  return std::get<parse_error>(std::move(r));
}

// The error's place, and a fragment of its message (the exact wording may be polished).
void expect_error(std::string_view text, uint32_t line, uint32_t column,
                  std::string_view fragment) {
  const parse_error e = parse_bad(text);
  BOOST_TEST_CONTEXT(e.to_string()) {
    BOOST_TEST(e.file == "t.chaos");
    BOOST_TEST(e.pos.line == line);
    BOOST_TEST(e.pos.column == column);
    BOOST_TEST(e.message.find(fragment) != std::string::npos);
  }
}

// Field-by-field equality of everything format_script promises to preserve (not pos, not name).
bool same_node(const node_ref& a, const node_ref& b) {
  return a.k == b.k && a.id == b.id;
}

bool same_link(const std::optional<link_ref>& a, const std::optional<link_ref>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (same_node(a->from, b->from) && same_node(a->to, b->to));
}

bool same_fault(const fault& a, const fault& b) {
  return a.kind == b.kind && a.at_us == b.at_us && a.for_us == b.for_us &&
         same_node(a.target, b.target) && a.groups == b.groups && same_link(a.link, b.link) &&
         a.percent == b.percent && a.amount_us == b.amount_us && a.jitter_us == b.jitter_us;
}

bool same_load(const std::optional<load_spec>& a, const std::optional<load_spec>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->clients == b->clients && a->rate_per_s == b->rate_per_s && a->keys == b->keys &&
                a->mix_put == b->mix_put && a->mix_get == b->mix_get && a->mix_cas == b->mix_cas &&
                a->timeout_us == b->timeout_us);
}

bool same_script(const script& a, const script& b) {
  auto same_setting = [](const setting& x, const setting& y) {
    return x.key == y.key && x.value == y.value;
  };
  const network_spec &n = a.network, &m = b.network;
  return a.nodes == b.nodes && a.seed == b.seed && a.duration_us == b.duration_us &&
         std::equal(a.settings.begin(), a.settings.end(), b.settings.begin(), b.settings.end(),
                    same_setting) &&
         n.latency_min_us == m.latency_min_us && n.latency_max_us == m.latency_max_us &&
         n.drop_percent == m.drop_percent && n.duplicate_percent == m.duplicate_percent &&
         a.fsync_us == b.fsync_us && same_load(a.load, b.load) &&
         std::equal(a.faults.begin(), a.faults.end(), b.faults.begin(), b.faults.end(), same_fault);
}

// format → parse must give the same tree; reports both texts when it does not.
void check_round_trip(const script& s) {
  const std::string text = format_script(s);
  auto r = parse_script(text, "formatted");
  if (const auto* e = std::get_if<parse_error>(&r)) {
    BOOST_FAIL("formatted script does not parse: " << e->to_string() << "\n" << text);
  }
  const script& back = std::get<script>(r);
  BOOST_TEST(same_script(s, back), "round trip changed the script:\n" << text);
  BOOST_TEST(format_script(back) == text);  // the canonical form is a fixed point
}

// The example from the language reference, every construct once.
constexpr std::string_view kReference = R"(# demo: a leader dies, the network splits, a disk stalls
nodes 5                     # cluster size, 1..9 (default 5)
seed 42                     # default seed (the command line may override)
duration 30s                # virtual run length (required, > 0)
set election_timeout_ms_min=1000 election_timeout_ms_max=2000   # raft config overrides
network latency 1ms..5ms drop 0% duplicate 0%   # base network
fsync 2ms                   # base fsync latency per batch
load clients 4 rate 200/s keys 8 mix put=40 get=40 cas=20 timeout 2s

at 2s kill leader
at 4s restart all
at 6s for 3s partition 1,2 | 3,4,5      # 'for D' undoes the fault after D
at 10s for 2s isolate leader
at 12s drop 10% 1->2                   # one-way loss on link 1->2
at 13s delay 50ms jitter 20ms          # extra one-way delay on every link
at 14s duplicate 5%
at 15s slow-fsync 3 200ms              # fsync latency of node 3 becomes 200ms
at 16s skew 2 +500ms                   # node 2's clock runs 500ms ahead
at 17s transfer-leader 4               # ask the leader to hand leadership to node 4
at 18s heal                            # undo every network fault
)";

// A script with every field away from its default, for round trips.
constexpr std::string_view kRich = R"(
nodes 7
seed 18446744073709551615
duration 2m
set heartbeat_interval_ms=50 pre_vote=false
set snapshot_threshold_entries=100
network latency 250us..1.5ms drop 0.5% duplicate 12.25%
fsync 0.75ms
load clients 16 rate 1234.5/s keys 3 mix put=1 get=0 cas=7 timeout 750ms
at 0s kill 7
at 1s for 90s kill all
at 1s restart follower
at 2.5s for 1m partition 7 | 1,3,5 | 2,4
at 3s isolate follower
at 4s for 1ms drop 100% leader->follower
at 5s delay 0us
at 6s delay 1us jitter 999us 3->leader
at 7s for 2s duplicate 0.001% 6->5
at 8s slow-fsync leader 1.25s
at 9s skew follower -300ms
at 9s skew 1 +0us
at 10s transfer-leader follower
at 2m heal
)";

}  // namespace

// ---- constructs --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(reference_header) {
  const script s = parse_ok(kReference);
  BOOST_TEST(s.name == "t.chaos");
  BOOST_TEST(s.nodes == 5u);
  BOOST_TEST((s.seed == std::optional<uint64_t>(42)));
  BOOST_TEST(s.duration_us == 30 * sec);
  BOOST_REQUIRE(s.settings.size() == 2u);
  BOOST_TEST(s.settings[0].key == "election_timeout_ms_min");
  BOOST_TEST(s.settings[0].value == "1000");
  BOOST_TEST(s.settings[1].key == "election_timeout_ms_max");
  BOOST_TEST(s.settings[1].value == "2000");
  BOOST_TEST(s.settings[1].pos.line == 5u);
  BOOST_TEST(s.settings[1].pos.column == 34u);
  BOOST_TEST(s.network.latency_min_us == 1 * ms);
  BOOST_TEST(s.network.latency_max_us == 5 * ms);
  BOOST_TEST(s.network.drop_percent == 0.0);
  BOOST_TEST(s.network.duplicate_percent == 0.0);
  BOOST_TEST(s.fsync_us == 2 * ms);
  BOOST_REQUIRE(s.load.has_value());
  BOOST_TEST(s.load->clients == 4u);
  BOOST_TEST(s.load->rate_per_s == 200.0);
  BOOST_TEST(s.load->keys == 8u);
  BOOST_TEST(s.load->mix_put == 40u);
  BOOST_TEST(s.load->mix_get == 40u);
  BOOST_TEST(s.load->mix_cas == 20u);
  BOOST_TEST(s.load->timeout_us == 2 * sec);
}

BOOST_AUTO_TEST_CASE(reference_node_faults) {
  const script s = parse_ok(kReference);
  BOOST_REQUIRE(s.faults.size() == 11u);
  const fault& kill = s.faults[0];
  BOOST_TEST((kill.kind == fault_kind::kill));
  BOOST_TEST(kill.at_us == 2 * sec);
  BOOST_TEST(!kill.for_us.has_value());
  BOOST_TEST((kill.target.k == nk::leader));
  BOOST_TEST(kill.pos.line == 10u);
  BOOST_TEST(kill.pos.column == 1u);
  BOOST_TEST(kill.target.pos.column == 12u);
  const fault& restart = s.faults[1];
  BOOST_TEST((restart.kind == fault_kind::restart));
  BOOST_TEST((restart.target.k == nk::all));
  const fault& isolate = s.faults[3];
  BOOST_TEST((isolate.kind == fault_kind::isolate));
  BOOST_TEST(isolate.at_us == 10 * sec);
  BOOST_TEST((isolate.for_us == std::optional<int64_t>(2 * sec)));
  BOOST_TEST((isolate.target.k == nk::leader));
  const fault& slow = s.faults[7];
  BOOST_TEST((slow.kind == fault_kind::slow_fsync));
  BOOST_TEST((slow.target.k == nk::id));
  BOOST_TEST(slow.target.id == 3u);
  BOOST_TEST(slow.amount_us == 200 * ms);
  const fault& skew = s.faults[8];
  BOOST_TEST((skew.kind == fault_kind::skew));
  BOOST_TEST(skew.target.id == 2u);
  BOOST_TEST(skew.amount_us == 500 * ms);
  const fault& transfer = s.faults[9];
  BOOST_TEST((transfer.kind == fault_kind::transfer_leader));
  BOOST_TEST(transfer.target.id == 4u);
  const fault& heal = s.faults[10];
  BOOST_TEST((heal.kind == fault_kind::heal));
  BOOST_TEST(heal.at_us == 18 * sec);
}

BOOST_AUTO_TEST_CASE(reference_network_faults) {
  const script s = parse_ok(kReference);
  BOOST_REQUIRE(s.faults.size() == 11u);
  const fault& part = s.faults[2];
  BOOST_TEST((part.kind == fault_kind::partition));
  BOOST_TEST(part.at_us == 6 * sec);
  BOOST_TEST((part.for_us == std::optional<int64_t>(3 * sec)));
  BOOST_TEST((part.groups == std::vector<std::vector<uint32_t>>{{1, 2}, {3, 4, 5}}));
  const fault& drop = s.faults[4];
  BOOST_TEST((drop.kind == fault_kind::drop));
  BOOST_TEST(drop.percent == 10.0);
  BOOST_REQUIRE(drop.link.has_value());
  BOOST_TEST(drop.link->from.id == 1u);
  BOOST_TEST(drop.link->to.id == 2u);
  BOOST_TEST(drop.link->to.pos.column == 20u);
  const fault& delay = s.faults[5];
  BOOST_TEST((delay.kind == fault_kind::delay));
  BOOST_TEST(delay.amount_us == 50 * ms);
  BOOST_TEST(delay.jitter_us == 20 * ms);
  BOOST_TEST(!delay.link.has_value());
  const fault& dup = s.faults[6];
  BOOST_TEST((dup.kind == fault_kind::duplicate));
  BOOST_TEST(dup.percent == 5.0);
  BOOST_TEST(!dup.link.has_value());
}

BOOST_AUTO_TEST_CASE(defaults_when_directives_are_omitted) {
  const script s = parse_ok("duration 10s\n");
  BOOST_TEST(s.nodes == 5u);
  BOOST_TEST(!s.seed.has_value());
  BOOST_TEST(s.duration_us == 10 * sec);
  BOOST_TEST(s.settings.empty());
  BOOST_TEST(s.network.latency_min_us == 1 * ms);
  BOOST_TEST(s.network.latency_max_us == 5 * ms);
  BOOST_TEST(s.fsync_us == 1 * ms);
  BOOST_TEST(!s.load.has_value());
  BOOST_TEST(s.faults.empty());
}

BOOST_AUTO_TEST_CASE(durations_in_every_unit) {
  const script s = parse_ok(
      "duration 1000s\nat 500us heal\nat 150ms heal\nat 1.5s heal\nat 2m heal\n"
      "at 0.25ms heal\nat 0.5m heal\nat 007s heal\nat 1.000s heal\n");
  std::vector<int64_t> at;
  for (const fault& f : s.faults)
    at.push_back(f.at_us);
  BOOST_TEST((at == std::vector<int64_t>{250, 500, 150 * ms, 1 * sec, 1500 * ms, 7 * sec, 30 * sec,
                                         120 * sec}));
}

BOOST_AUTO_TEST_CASE(load_defaults_and_partial_mix) {
  const script a = parse_ok("duration 1s\nload clients 2 rate 50/s keys 3\n");
  BOOST_REQUIRE(a.load.has_value());
  BOOST_TEST(a.load->clients == 2u);
  BOOST_TEST(a.load->rate_per_s == 50.0);
  BOOST_TEST(a.load->keys == 3u);
  BOOST_TEST(a.load->mix_put == 40u);
  BOOST_TEST(a.load->mix_get == 40u);
  BOOST_TEST(a.load->mix_cas == 20u);
  BOOST_TEST(a.load->timeout_us == 2 * sec);
  // A bare `load` is the default load; a listed mix replaces the default (unlisted kinds: 0).
  const script b = parse_ok("duration 1s\nload timeout 1.5s mix cas=3 put=1\n");
  BOOST_REQUIRE(b.load.has_value());
  BOOST_TEST(b.load->clients == 4u);
  BOOST_TEST(b.load->mix_put == 1u);
  BOOST_TEST(b.load->mix_get == 0u);
  BOOST_TEST(b.load->mix_cas == 3u);
  BOOST_TEST(b.load->timeout_us == 1500 * ms);
  BOOST_TEST(parse_ok("duration 1s\nload\n").load.has_value());
}

BOOST_AUTO_TEST_CASE(node_targets_links_and_for) {
  const script s = parse_ok(
      "duration 1m\nat 1s kill follower\nat 2s kill all\nat 3s for 2s kill 3\n"
      "at 4s drop 1% leader->follower\nat 5s delay 5ms 2->1 jitter 1ms\nat 6s transfer-leader "
      "follower\nat 7s skew 5 -300ms\nat 8s partition 2\n");
  BOOST_REQUIRE(s.faults.size() == 8u);
  BOOST_TEST((s.faults[0].target.k == nk::follower));
  BOOST_TEST((s.faults[1].target.k == nk::all));
  BOOST_TEST((s.faults[2].for_us == std::optional<int64_t>(2 * sec)));
  BOOST_TEST(s.faults[2].target.id == 3u);
  BOOST_TEST((s.faults[3].link->from.k == nk::leader));
  BOOST_TEST((s.faults[3].link->to.k == nk::follower));
  BOOST_TEST(s.faults[4].link->from.id == 2u);
  BOOST_TEST(s.faults[4].jitter_us == 1 * ms);
  BOOST_TEST((s.faults[5].target.k == nk::follower));
  BOOST_TEST(s.faults[6].amount_us == -300 * ms);
  BOOST_TEST((s.faults[7].groups == std::vector<std::vector<uint32_t>>{{2}}));
}

BOOST_AUTO_TEST_CASE(partition_separators_need_no_spaces) {
  const script s = parse_ok("duration 1m\nat 1s partition 1,2|3 , 4|5\n");
  BOOST_TEST((s.faults[0].groups == std::vector<std::vector<uint32_t>>{{1, 2}, {3, 4}, {5}}));
}

BOOST_AUTO_TEST_CASE(faults_are_sorted_stably_by_time) {
  const script s = parse_ok(
      "duration 1m\nat 5s kill 1\nat 1s kill 2\nat 5s kill 3\nat 1s kill 4\nat 0s kill 5\n");
  std::vector<uint32_t> order;
  for (const fault& f : s.faults)
    order.push_back(f.target.id);
  BOOST_TEST((order == std::vector<uint32_t>{5, 2, 4, 1, 3}));
}

BOOST_AUTO_TEST_CASE(comments_blank_lines_crlf_and_tabs) {
  const script s = parse_ok(
      "# header\r\n\r\n  \t\r\nduration\t30s# no space needed\r\n#\n"
      "nodes 3 # trailing\r\n");
  BOOST_TEST(s.duration_us == 30 * sec);
  BOOST_TEST(s.nodes == 3u);
}

BOOST_AUTO_TEST_CASE(nodes_and_duration_may_follow_the_faults) {
  const script s = parse_ok("at 20s kill 7\nnodes 7\nduration 20s\n");
  BOOST_TEST(s.faults[0].target.id == 7u);
}

BOOST_AUTO_TEST_CASE(network_single_latency_and_any_order) {
  const script s = parse_ok("duration 1s\nnetwork duplicate 1% latency 3ms\n");
  BOOST_TEST(s.network.latency_min_us == 3 * ms);
  BOOST_TEST(s.network.latency_max_us == 3 * ms);
  BOOST_TEST(s.network.duplicate_percent == 1.0);
}

BOOST_AUTO_TEST_CASE(keywords_spell_fault_kinds) {
  BOOST_TEST(keyword(fault_kind::slow_fsync) == "slow-fsync");
  BOOST_TEST(keyword(fault_kind::transfer_leader) == "transfer-leader");
  BOOST_TEST(keyword(fault_kind::heal) == "heal");
}

// ---- errors, one rule each ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(error_unknown_keyword_lists_expected_ones) {
  expect_error("duration 1s\n  nodez 3\n", 2, 3, "unknown keyword 'nodez'");
  expect_error("duration 1s\nNODES 3\n", 2, 1, "expected nodes, seed, duration, set, network");
}

BOOST_AUTO_TEST_CASE(error_unknown_fault_lists_expected_ones) {
  expect_error("duration 1m\nat 1s for 2s explode 3\n", 2, 14, "unknown fault 'explode'");
  expect_error("duration 1m\nat 1s slow_fsync 3 1ms\n", 2, 7, "slow-fsync");
}

BOOST_AUTO_TEST_CASE(error_malformed_number) {
  expect_error("duration 1s\nnodes five\n", 2, 7, "expected a node count");
  expect_error("duration 1s\nseed -1\n", 2, 6, "seed");
  expect_error("duration 1s\nseed 99999999999999999999\n", 2, 6, "too large");
  expect_error("duration 1s\nload clients 2x\n", 2, 14, "client count");
}

BOOST_AUTO_TEST_CASE(error_malformed_duration) {
  expect_error("duration 30\n", 1, 10, "expected a duration");
  expect_error("duration 3h\n", 1, 10, "expected a duration");
  expect_error("duration 1.s\n", 1, 10, "expected a duration");
  expect_error("duration -5s\n", 1, 10, "expected a duration");  // only skew is signed
  expect_error("duration 1.5us\n", 1, 10, "whole number of microseconds");
  expect_error("duration 99999999999m\n", 1, 10, "too large");
  expect_error("duration 0s\n", 1, 10, "> 0");
  expect_error("duration 1m\nat 1s for 0ms kill 1\n", 2, 11, "> 0");
}

BOOST_AUTO_TEST_CASE(error_malformed_percent) {
  expect_error("duration 1m\nat 1s drop 10\n", 2, 12, "expected a percentage");
  expect_error("duration 1m\nat 1s duplicate 100.5%\n", 2, 17, "above 100%");
  expect_error("duration 1m\nnetwork drop -1%\n", 2, 14, "expected a percentage");
  expect_error("duration 1m\nnetwork drop 1e2%\n", 2, 14, "expected a percentage");
}

BOOST_AUTO_TEST_CASE(error_malformed_rate) {
  expect_error("duration 1m\nload rate 200\n", 2, 11, "expected a rate");
  expect_error("duration 1m\nload rate 0/s\n", 2, 11, "must be in");
}

BOOST_AUTO_TEST_CASE(error_node_id_outside_cluster) {
  expect_error("nodes 3\nduration 1m\nat 1s kill 4\n", 3, 12, "node '4' is outside 1..3");
  expect_error("duration 1m\nat 1s isolate 0\n", 2, 15, "outside 1..5");
  expect_error("duration 1m\nat 1s partition 1,2 | 3,6\n", 2, 25, "node '6'");
  expect_error("duration 1m\nat 1s drop 1% 2->9\n", 2, 18, "node '9'");  // inside the token
  // Checked after the whole file: a later `nodes` line decides, the error is at the id.
  expect_error("duration 1m\nat 1s kill 5\nnodes 4\n", 2, 12, "outside 1..4");
  expect_error("duration 1m\nnodes 10\n", 2, 7, "must be in 1..9");
}

BOOST_AUTO_TEST_CASE(error_fault_time_beyond_duration) {
  expect_error("duration 10s\nat 10s heal\nat 10.001s heal\n", 3, 4, "beyond the duration 10s");
  expect_error("at 2m heal\nduration 1m\n", 1, 4, "beyond");  // duration given later
}

BOOST_AUTO_TEST_CASE(error_duplicate_node_in_partition) {
  expect_error("duration 1m\nat 1s partition 1,2 | 3,2\n", 2, 25, "appears twice");
  expect_error("duration 1m\nat 1s partition 1,1\n", 2, 19, "appears twice");
}

BOOST_AUTO_TEST_CASE(error_all_where_not_allowed) {
  expect_error("duration 1m\nat 1s isolate all\n", 2, 15, "only allowed for kill and restart");
  expect_error("duration 1m\nat 1s drop 1% all->1\n", 2, 15, "only allowed");
  expect_error("duration 1m\nat 1s transfer-leader leader\n", 2, 23, "cannot target 'leader'");
}

BOOST_AUTO_TEST_CASE(error_latency_min_above_max) {
  expect_error("duration 1m\nnetwork drop 1% latency 5ms..1ms\n", 2, 25, "min above its max");
  expect_error("duration 1m\nnetwork latency 1ms..5xs\n", 2, 22, "expected a duration");
}

BOOST_AUTO_TEST_CASE(error_mix_sums_to_zero) {
  expect_error("duration 1m\nload clients 1 mix put=0 get=0\n", 2, 16, "sum to 0");
  expect_error("duration 1m\nload mix put=40 put=1\n", 2, 17, "given twice");
  expect_error("duration 1m\nload mix read=4\n", 2, 10, "unknown operation 'read'");
  expect_error("duration 1m\nload mix\n", 2, 9, "expected put=N");
}

BOOST_AUTO_TEST_CASE(error_missing_duration) {
  expect_error("nodes 3\nat 1s heal\n", 1, 1, "missing 'duration'");
  expect_error("", 1, 1, "missing 'duration'");
}

BOOST_AUTO_TEST_CASE(error_trailing_garbage) {
  expect_error("duration 1m 2m\n", 1, 13, "trailing '2m'");
  expect_error("duration 1m\nat 1s kill 1 2\n", 2, 14, "trailing '2'");
  expect_error("duration 1m\nat 1s heal now\n", 2, 12, "trailing 'now'");
  expect_error("duration 1m\nat 1s partition 1 2\n", 2, 19, "trailing '2'");
  expect_error("duration 1m\nat 1s delay 1ms jitter 1ms jitter 2ms\n", 2, 28, "trailing");
  expect_error("duration 1m\nat 1s drop 5% 1->2 x\n", 2, 20, "trailing 'x'");
}

BOOST_AUTO_TEST_CASE(error_for_on_heal_and_transfer_leader) {
  expect_error("duration 1m\nat 1s for 2s heal\n", 2, 7, "'for' is not allowed with 'heal'");
  expect_error("duration 1m\nat 1s for 2s transfer-leader 2\n", 2, 7, "transfer-leader");
}

BOOST_AUTO_TEST_CASE(error_missing_argument_points_past_the_line) {
  expect_error("duration 1m\nat 1s kill\n", 2, 11, "expected a node id, leader, follower or all");
  expect_error("duration 1m\nat 1s\n", 2, 6, "expected a fault");
  expect_error("duration 1m\nat 1s partition 1,\n", 2, 19, "expected a node id");
  expect_error("duration 1m\nat 1s skew 2\n", 2, 13, "clock offset");
  expect_error("duration 1m\nat 1s drop 5% 1->\n", 2, 18, "got nothing");
  expect_error("duration 1m\nnetwork latency 1ms..\n", 2, 22, "got nothing");
}

BOOST_AUTO_TEST_CASE(error_repeated_directive_and_clause) {
  expect_error("duration 1m\nnodes 3\nnodes 4\n", 3, 1, "given twice (first on line 2)");
  expect_error("duration 1m\nnetwork drop 1% drop 2%\n", 2, 17, "given twice");
  expect_error("duration 1m\nset a=1\nset b=2 a=3\n", 3, 9, "setting 'a' given twice");
}

BOOST_AUTO_TEST_CASE(error_malformed_setting_and_link) {
  expect_error("duration 1m\nset\n", 2, 4, "KEY=VALUE");
  expect_error("duration 1m\nset pre_vote=\n", 2, 5, "KEY=VALUE");
  expect_error("duration 1m\nset Key=1\n", 2, 5, "lower-case key");
  expect_error("duration 1m\nat 1s drop 1% 1-2\n", 2, 15, "expected a link like 1->2");
  expect_error("duration 1m\nat 1s drop 1% 3->3\n", 2, 15, "two different nodes");
}

BOOST_AUTO_TEST_CASE(error_to_string_and_binary_tokens) {
  const parse_error e = parse_bad("duration 1s\n\x01\xff\n");
  BOOST_TEST(e.to_string() ==
             "t.chaos:2:1: unknown keyword '\\x01\\xff' (expected nodes, seed, "
             "duration, set, network, fsync, load or at)");
}

BOOST_AUTO_TEST_CASE(load_script_reads_files_and_reports_missing_ones_at_0_0) {
  auto missing = load_script("/nonexistent/dir/x.chaos");
  BOOST_REQUIRE(std::holds_alternative<parse_error>(missing));
  const parse_error& e = std::get<parse_error>(missing);
  BOOST_TEST(e.pos.line == 0u);
  BOOST_TEST(e.pos.column == 0u);
  BOOST_TEST(e.file == "/nonexistent/dir/x.chaos");

  const auto path = std::filesystem::temp_directory_path() /
                    ("script_test_" + std::to_string(std::random_device{}()) + ".chaos");
  std::ofstream(path) << "duration 5s\nat 1s kill 9\n";
  auto bad = load_script(path.string());
  std::ofstream(path) << "duration 5s\nat 1s kill 2\n";
  auto good = load_script(path.string());
  std::filesystem::remove(path);
  BOOST_REQUIRE(std::holds_alternative<parse_error>(bad));
  BOOST_TEST(std::get<parse_error>(bad).to_string().find(":2:12: node '9'") != std::string::npos);
  BOOST_REQUIRE(std::holds_alternative<script>(good));
  BOOST_TEST(std::get<script>(good).name == path.string());
}

// ---- formatting --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(round_trip_rich_script) {
  const script s = parse_ok(kRich);
  BOOST_TEST(s.faults.size() == 14u);
  check_round_trip(s);
  check_round_trip(parse_ok(kReference));
}

BOOST_AUTO_TEST_CASE(round_trip_built_script) {
  script s;
  s.name = "<random>";
  s.nodes = 3;
  s.duration_us = 61 * sec + 1;
  s.network = {7, 7, 33.3, 0.1};
  s.fsync_us = 0;
  s.load = load_spec{};
  s.load->rate_per_s = 0.1;
  fault f;
  f.kind = fault_kind::skew;
  f.at_us = 60 * sec;
  f.for_us = 90 * ms;
  f.target = {nk::id, 3, {}};
  f.amount_us = -61 * sec;
  s.faults.push_back(f);
  check_round_trip(s);
}

BOOST_AUTO_TEST_CASE(format_is_canonical) {
  const script s = parse_ok("at 90s for 60s kill 1\nduration 120000ms\nnetwork latency 2000us\n");
  BOOST_TEST(format_script(s) ==
             "nodes 5\nduration 2m\nnetwork latency 2ms..2ms drop 0% duplicate 0%\nfsync 1ms\n"
             "\nat 90s for 1m kill 1\n");
}

// ---- robustness --------------------------------------------------------------------------

namespace {

// Words and bytes likely to confuse a parser: keywords in the wrong place, edge numbers,
// separators, control and non-ASCII bytes.
const std::vector<std::string> kVocabulary = {"at",
                                              "for",
                                              "kill",
                                              "restart",
                                              "partition",
                                              "isolate",
                                              "drop",
                                              "delay",
                                              "duplicate",
                                              "slow-fsync",
                                              "skew",
                                              "transfer-leader",
                                              "heal",
                                              "nodes",
                                              "seed",
                                              "duration",
                                              "set",
                                              "network",
                                              "fsync",
                                              "load",
                                              "latency",
                                              "jitter",
                                              "mix",
                                              "clients",
                                              "rate",
                                              "keys",
                                              "timeout",
                                              "leader",
                                              "follower",
                                              "all",
                                              "0",
                                              "1",
                                              "9",
                                              "10",
                                              "-1",
                                              "+",
                                              "18446744073709551616",
                                              "1.5s",
                                              "0us",
                                              "1.",
                                              ".5s",
                                              "100%",
                                              "101%",
                                              "%",
                                              "1->2",
                                              "1->1",
                                              "->",
                                              "leader->",
                                              "|",
                                              ",",
                                              "#",
                                              "..",
                                              "1ms..",
                                              "=",
                                              "put=0",
                                              "cas=99999",
                                              "/s",
                                              "0/s",
                                              "\t",
                                              "\r",
                                              "\n",
                                              "\n\n",
                                              std::string("\0", 1),
                                              "\xff\xfe",
                                              "99999999999m",
                                              "-0ms",
                                              "+1m",
                                              "a=b=c"};

std::string mutate(std::string text, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  switch (rng() % 5) {
    case 0:  // overwrite a byte with anything
      if (!text.empty()) text[pick(text.size())] = static_cast<char>(rng() & 0xff);
      break;
    case 1:  // delete a short range
      if (!text.empty()) text.erase(pick(text.size()), 1 + pick(8));
      break;
    case 2:  // insert a vocabulary word, sometimes glued to its neighbours
      text.insert(pick(text.size() + 1),
                  (rng() % 2 ? " " : "") + kVocabulary[pick(kVocabulary.size())]);
      break;
    case 3: {  // duplicate a chunk elsewhere (repeats lines and directives)
      size_t from = pick(text.size()), len = pick(40);
      text.insert(pick(text.size() + 1), text.substr(from, len));
      break;
    }
    default:  // replace a whitespace-delimited word
      if (size_t at = text.find(' ', pick(text.size())); at != std::string::npos) {
        size_t end = text.find_first_of(" \n", at + 1);
        text.replace(at + 1, (end == std::string::npos ? text.size() : end) - at - 1,
                     kVocabulary[pick(kVocabulary.size())]);
      }
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_mutations_never_crash) {
  std::mt19937_64 rng(20240611);
  size_t parsed = 0, rejected = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string text(i % 2 ? kReference : kRich);
    for (uint64_t n = 1 + rng() % 4; n > 0; --n)
      text = mutate(std::move(text), rng);
    auto r = parse_script(text, "fuzz");
    if (const auto* s = std::get_if<script>(&r)) {
      ++parsed;
      // Whatever parses must also survive the round trip.
      auto again = parse_script(format_script(*s), "fuzz");
      BOOST_TEST_REQUIRE(std::holds_alternative<script>(again), "case " << i << ":\n" << text);
      BOOST_TEST_REQUIRE(same_script(*s, std::get<script>(again)), "case " << i << ":\n" << text);
    } else {
      ++rejected;
      const parse_error& e = std::get<parse_error>(r);
      const auto lines = static_cast<uint32_t>(std::count(text.begin(), text.end(), '\n') + 1);
      BOOST_TEST_REQUIRE(e.pos.line >= 1u, "case " << i << ": " << e.to_string());
      BOOST_TEST_REQUIRE(e.pos.line <= lines, "case " << i << ": " << e.to_string());
      BOOST_TEST_REQUIRE(e.pos.column >= 1u, "case " << i << ": " << e.to_string());
      BOOST_TEST_REQUIRE(!e.message.empty());
      // Only grammar failures, never the catch-all for unexpected exceptions.
      BOOST_TEST_REQUIRE(e.message.rfind("cannot parse", 0) != 0u, e.to_string());
    }
  }
  BOOST_TEST_MESSAGE("mutations: " << parsed << " parsed, " << rejected << " rejected");
  BOOST_TEST(parsed > 0u);    // the mutations are mild enough to leave some scripts valid
  BOOST_TEST(rejected > 0u);  // and strong enough to break most
}

// ---- bundled scripts ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bundled_scripts_parse) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(AEGIS_SCRIPTS_DIR)) {
    if (entry.path().extension() != ".chaos") continue;
    auto r = load_script(entry.path().string());
    if (const auto* e = std::get_if<parse_error>(&r)) BOOST_ERROR(e->to_string());
    if (const auto* s = std::get_if<script>(&r)) {
      check_round_trip(*s);
      BOOST_TEST(s->load.has_value(), entry.path().filename() << " has a client load");
    }
    names.push_back(fs::relative(entry.path(), AEGIS_SCRIPTS_DIR).string());
  }
  std::sort(names.begin(), names.end());
  BOOST_TEST(names == (std::vector<std::string>{
                          "baseline.chaos", "clock_skew.chaos", "demo.chaos",
                          "election_storm.chaos", "fixtures/clock_skew.chaos",
                          "fixtures/election_storm.chaos", "fixtures/flaky_link.chaos",
                          "fixtures/healthy.chaos", "fixtures/leader_disk_stall.chaos",
                          "fixtures/lease_starvation.chaos", "fixtures/overload.chaos",
                          "fixtures/partition_stale_leader.chaos", "fixtures/slow_follower.chaos",
                          "flaky_link.chaos", "membership.chaos", "partition_stale_leader.chaos",
                          "slow_fsync_leader.chaos", "three_nodes.chaos", "wan_storm.chaos"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(membership_faults_name_a_fixed_node) {
  const script s = parse_ok("duration 10s\nat 1s remove-node 2\nat 2s add-node 2\n");
  BOOST_REQUIRE(s.faults.size() == 2u);
  BOOST_TEST((s.faults[0].kind == fault_kind::remove_node));
  BOOST_TEST(s.faults[0].target.id == 2u);
  BOOST_TEST((s.faults[1].kind == fault_kind::add_node));
  const script again = parse_ok(format_script(s));
  BOOST_TEST((again.faults[1].kind == fault_kind::add_node));
  BOOST_TEST(again.faults[1].target.id == 2u);
  BOOST_TEST((parse_ok("duration 10s\nat 1s remove-node leader\n").faults[0].target.k ==
              node_ref::kind::leader));
  expect_error("duration 10s\nat 1s add-node leader\n", 2, 16, "add-node");
  expect_error("duration 10s\nat 1s remove-node follower\n", 2, 19, "remove-node");
  expect_error("duration 10s\nat 1s for 2s add-node 3\n", 2, 7, "for");
  expect_error("duration 10s\nat 1s add-node 9\n", 2, 16, "9");
}
