// The simulator's building blocks: the KV envelope, the network's fault rules, and the
// in-memory storage's crash semantics (a write not yet synced is lost on crash).
#define BOOST_TEST_MODULE sim_parts
#include <boost/test/unit_test.hpp>

#include "chaos/sim/kv.hpp"
#include "chaos/sim/network.hpp"
#include "config/schema.hpp"
#include "persistence/mem_storage.hpp"

using namespace aegis;
using namespace aegis::chaos;
using namespace aegis::chaos::sim;

BOOST_AUTO_TEST_CASE(kv_command_round_trips_and_garbage_is_refused) {
  kv_command c{.stamp_ms = 1234,
               .op_id = 7,
               .kind = op_kind::cas,
               .key = "k1",
               .value = "v2",
               .expected = "v1"};
  auto d = decode(encode(c));
  BOOST_REQUIRE(d);
  BOOST_TEST(d->stamp_ms == 1234);
  BOOST_TEST(d->op_id == 7u);
  BOOST_TEST((d->kind == op_kind::cas));
  BOOST_TEST(d->expected == "v1");
  BOOST_TEST(!decode("not a command"));
  BOOST_TEST(!decode(""));
}

BOOST_AUTO_TEST_CASE(kv_store_cas_and_snapshot_restore) {
  kv_store s;
  s.apply({.kind = op_kind::put, .key = "a", .value = "1"});
  BOOST_TEST(!s.apply({.kind = op_kind::cas, .key = "a", .value = "2", .expected = "0"}).cas_ok);
  BOOST_TEST(s.apply({.kind = op_kind::cas, .key = "a", .value = "2", .expected = "1"}).cas_ok);
  kv_store t;
  BOOST_REQUIRE(t.restore(s.serialize()));
  BOOST_TEST(t.get("a") == "2");
  BOOST_TEST(t.digest() == s.digest());
}

BOOST_AUTO_TEST_CASE(network_partition_blocks_across_groups_only) {
  network net(5, network_spec{});
  raft::prng rng(1);
  const uint64_t h = net.partition({{1, 2}, {3, 4, 5}});
  BOOST_TEST(net.connected(1, 2));
  BOOST_TEST(!net.connected(1, 3));
  BOOST_TEST(net.transit(2, 4, rng).empty());
  net.undo(h);
  BOOST_TEST(net.connected(1, 3));
  net.isolate(3);
  BOOST_TEST(!net.connected(3, 1));
  BOOST_TEST(net.connected(1, 2));
  net.heal();
  BOOST_TEST(net.connected(3, 1));
}

BOOST_AUTO_TEST_CASE(network_one_way_drop_and_delay) {
  network net(3, network_spec{.latency_min_us = 1000, .latency_max_us = 1000});
  raft::prng rng(2);
  net.drop(std::make_pair(1u, 2u), 100);
  BOOST_TEST(!net.connected(1, 2));
  BOOST_TEST(net.connected(2, 1));  // one-way
  net.delay(std::nullopt, 50'000, 0);
  auto t = net.transit(2, 1, rng);
  BOOST_REQUIRE(t.size() == 1u);
  BOOST_TEST(t[0] == 51'000);
}

BOOST_AUTO_TEST_CASE(mem_storage_loses_unsynced_writes_on_crash) {
  persistence::mem_storage st;
  raft::persist_batch b1;
  b1.seq = 1;
  b1.hs = raft::hard_state{2, 1, 0};
  b1.log.truncate_from = 1;
  b1.log.entries = {{1, 1, raft::entry_type::noop, {}}};
  st.write(b1);
  const raft::durable d = st.sync();
  BOOST_TEST(d.seq() == 1u);
  raft::persist_batch b2;
  b2.seq = 2;
  b2.hs = raft::hard_state{3, 2, 0};
  b2.log.truncate_from = 2;
  b2.log.entries = {{3, 2, raft::entry_type::noop, {}}};
  st.write(b2);
  st.crash();  // b2 was never synced
  auto rs = st.restore();
  BOOST_TEST(rs.hs.term == 2u);
  BOOST_TEST(rs.entries.size() == 1u);
}

BOOST_AUTO_TEST_CASE(mem_storage_truncates_and_compacts) {
  persistence::mem_storage st;
  raft::persist_batch b;
  b.seq = 1;
  b.log.truncate_from = 1;
  for (raft::index_t i = 1; i <= 5; ++i)
    b.log.entries.push_back({1, i, raft::entry_type::noop, {}});
  st.write(b);
  raft::persist_batch c;
  c.seq = 2;
  c.log.truncate_from = 4;  // a new leader overwrote 4 and 5
  c.log.entries = {{2, 4, raft::entry_type::noop, {}}};
  c.compact_to = raft::log_offset{2, 1};
  st.write(c);
  st.sync();
  const auto& img = st.synced();
  BOOST_TEST(img.offset.index == 2u);
  BOOST_REQUIRE(img.entries.size() == 2u);
  BOOST_TEST(img.entries[0].index == 3u);
  BOOST_TEST(img.entries[1].term == 2u);
}

BOOST_AUTO_TEST_CASE(config_schema_sets_fields_and_names_bad_keys) {
  config::raft_config c;
  BOOST_TEST(!config::set_field(c, "heartbeat_interval_ms", "50ms"));
  BOOST_TEST(c.heartbeat_interval_ms == 50u);
  BOOST_TEST(!config::set_field(c, "pre_vote", "false"));
  BOOST_TEST(!c.pre_vote);
  auto err = config::set_field(c, "no_such_key", "1");
  BOOST_REQUIRE(err);
  BOOST_TEST(err->find("no_such_key") != std::string::npos);
  BOOST_TEST(config::set_field(c, "max_append_bytes", "lots").has_value());
  BOOST_TEST(config::set_field(c, "pre_vote", "maybe").has_value());
  c.election_timeout_ms_min = 10;
  auto errs = config::validate(c);
  BOOST_REQUIRE(!errs.empty());
  BOOST_TEST(errs.front().key == "election_timeout_ms_min");
}
