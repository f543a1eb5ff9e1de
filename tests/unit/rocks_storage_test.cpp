// The RocksDB store keeps the twin's contract: staged writes become durable only at sync(), one
// batch at a time; a restart finds exactly what was synced; and a data dir that is missing,
// wiped, foreign or corrupt makes the node refuse to start with a message that says why.
#define BOOST_TEST_MODULE rocks_storage
#include <rocksdb/db.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>

#include "persistence/rocks_storage.hpp"

using namespace aegis;
using namespace aegis::persistence;
using raft::entry;
using raft::entry_type;

namespace {

// A fresh directory under the system temp dir, removed at the end of the test.
struct temp_dir {
  std::string path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "aegis-rocks-XXXXXX").string();
    path = mkdtemp(tmpl.data());
    path += "/data";
  }
  ~temp_dir() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }
};

std::unique_ptr<rocks_storage> open_ok(const std::string& dir, raft::node_id id,
                                       rocks_storage::mode m) {
  auto r = rocks_storage::open(dir, id, m);
  if (auto* e = std::get_if<storage_error>(&r)) BOOST_FAIL(e->message);
  return std::move(std::get<std::unique_ptr<rocks_storage>>(r));
}

raft::restore_state restore_ok(const rocks_storage& s) {
  auto r = s.restore();
  if (auto* e = std::get_if<storage_error>(&r)) BOOST_FAIL(e->message);
  return std::get<raft::restore_state>(std::move(r));
}

raft::persist_batch batch(uint64_t seq, raft::index_t from, std::vector<entry> es,
                          raft::hard_state hs) {
  raft::persist_batch b;
  b.seq = seq;
  b.log.truncate_from = from;
  b.log.entries = std::move(es);
  b.hs = hs;
  return b;
}

std::string error_of(const std::string& dir, raft::node_id id, rocks_storage::mode m) {
  auto r = rocks_storage::open(dir, id, m);
  BOOST_REQUIRE(std::holds_alternative<storage_error>(r));
  return std::get<storage_error>(r).message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(synced_batches_survive_a_restart_unsynced_ones_do_not) {
  temp_dir d;
  {
    auto s = open_ok(d.path, 1, rocks_storage::mode::create);
    s->write(
        batch(1, 1, {{1, 1, entry_type::noop, {}}, {1, 2, entry_type::command, "a"}}, {1, 1, 1}));
    BOOST_TEST(s->sync().seq() == 1u);
    s->write(batch(2, 3, {{2, 3, entry_type::command, "b"}}, {2, 2, 2}));
    // the process dies here: batch 2 was staged, never synced
  }
  auto s = open_ok(d.path, 1, rocks_storage::mode::existing);
  const auto rs = restore_ok(*s);
  BOOST_TEST(rs.hs.term == 1u);
  BOOST_TEST(rs.hs.commit == 1u);
  BOOST_REQUIRE(rs.entries.size() == 2u);
  BOOST_TEST(rs.entries[1].data == "a");
}

BOOST_AUTO_TEST_CASE(truncation_compaction_and_snapshot_round_trip) {
  temp_dir d;
  {
    auto s = open_ok(d.path, 7, rocks_storage::mode::create);
    std::vector<entry> es;
    for (raft::index_t i = 1; i <= 6; ++i)
      es.push_back({1, i, entry_type::command, "v"});
    s->write(batch(1, 1, es, {1, 0, 4}));
    // A new leader overwrites 5 and 6; then a snapshot at 4 compacts up to 3.
    s->write(batch(2, 5, {{2, 5, entry_type::command, "w"}}, {2, 0, 4}));
    raft::persist_batch c;
    c.seq = 3;
    c.snap = raft::snapshot{{4, 1, raft::conf_state{{1, 2, 7}, {}}}, "state@4"};
    c.compact_to = raft::log_offset{3, 1};
    s->write(c);
    s->sync();
  }
  auto s = open_ok(d.path, 7, rocks_storage::mode::existing);
  const auto rs = restore_ok(*s);
  BOOST_TEST(rs.offset.index == 3u);
  BOOST_REQUIRE(rs.entries.size() == 2u);  // 4 and the new 5
  BOOST_TEST(rs.entries[0].index == 4u);
  BOOST_TEST(rs.entries[1].term == 2u);
  BOOST_REQUIRE(rs.snap.has_value());
  BOOST_TEST(rs.snap->data == "state@4");
  BOOST_TEST(rs.snap->meta.conf.is_voter(7));
  BOOST_TEST(rs.applied == 4u);
  // The core accepts what the store returns.
  raft::core c(7, config::raft_config{}, 1, rs);
  c.check_invariants();
  BOOST_TEST(c.log().last_index() == 5u);
}

BOOST_AUTO_TEST_CASE(a_missing_or_wiped_dir_is_refused_under_the_old_identity) {
  temp_dir d;
  const std::string msg = error_of(d.path, 3, rocks_storage::mode::existing);
  BOOST_TEST(msg.find("holds no AEGIS data") != std::string::npos);
  BOOST_TEST(msg.find(d.path) != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(d.path));  // refusing created nothing
}

BOOST_AUTO_TEST_CASE(another_nodes_dir_is_refused) {
  temp_dir d;
  open_ok(d.path, 1, rocks_storage::mode::create);
  BOOST_TEST(error_of(d.path, 2, rocks_storage::mode::existing).find("another node") !=
             std::string::npos);
  BOOST_TEST(error_of(d.path, 1, rocks_storage::mode::create).find("already holds") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(corrupt_values_are_refused_naming_the_key) {
  temp_dir d;
  {
    auto s = open_ok(d.path, 1, rocks_storage::mode::create);
    s->write(
        batch(1, 1, {{1, 1, entry_type::noop, {}}, {1, 2, entry_type::command, "a"}}, {1, 1, 1}));
    s->sync();
  }
  {
    // Damage the hard state behind the store's back.
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(rocksdb::Options(), d.path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    BOOST_REQUIRE(db->Put(rocksdb::WriteOptions(), "m:hs", "xx").ok());
  }
  auto s = open_ok(d.path, 1, rocks_storage::mode::existing);
  auto r = s->restore();
  BOOST_REQUIRE(std::holds_alternative<storage_error>(r));
  BOOST_TEST(std::get<storage_error>(r).message.find("m:hs") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_gap_in_the_log_is_refused) {
  temp_dir d;
  {
    auto s = open_ok(d.path, 1, rocks_storage::mode::create);
    s->write(batch(1, 1,
                   {{1, 1, entry_type::noop, {}},
                    {1, 2, entry_type::command, "a"},
                    {1, 3, entry_type::command, "b"}},
                   {1, 1, 1}));
    s->sync();
  }
  {
    rocksdb::DB* raw = nullptr;
    BOOST_REQUIRE(rocksdb::DB::Open(rocksdb::Options(), d.path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key = "e:";
    for (int i = 0; i < 7; ++i)
      key.push_back('\0');
    key.push_back('\2');
    BOOST_REQUIRE(db->Delete(rocksdb::WriteOptions(), key).ok());
  }
  auto s = open_ok(d.path, 1, rocks_storage::mode::existing);
  auto r = s->restore();
  BOOST_REQUIRE(std::holds_alternative<storage_error>(r));
  BOOST_TEST(std::get<storage_error>(r).message.find("entry 2") != std::string::npos);
}
