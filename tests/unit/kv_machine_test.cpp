// The KV state machine answers as etcd v3 does (revisions, versions, prev_kv, ranges) and keeps
// its state and applied index together across a restart and through a snapshot.
#define BOOST_TEST_MODULE kv_machine
#include <boost/test/unit_test.hpp>

#include "actors/state/kv_machine.hpp"
#include "protocol/command.pb.h"
#include "protocol/etcd/rpc.pb.h"
#include "tests/unit/temp_dir.hpp"

using namespace aegis;
using node::call_code;
using persistence::kv_store;
using persistence::rocks_storage;

namespace {

using test::temp_dir;

raft::entry put_entry(raft::index_t index, const std::string& key, const std::string& value,
                      bool prev_kv = false, bool ignore_value = false, int64_t lease = 0) {
  aegis::smpb::Command cmd;
  auto* put = cmd.mutable_put();
  put->set_key(key);
  put->set_value(value);
  put->set_prev_kv(prev_kv);
  put->set_ignore_value(ignore_value);
  put->set_lease(lease);
  aegis::smpb::Envelope env;
  env.set_stamp_unix_ms(1000 + index);
  env.set_command(cmd.SerializeAsString());
  return raft::entry{2, index, raft::entry_type::command, env.SerializeAsString()};
}

raft::entry delete_entry(raft::index_t index, const std::string& key, const std::string& end,
                         bool prev_kv = false) {
  aegis::smpb::Command cmd;
  auto* del = cmd.mutable_delete_range();
  del->set_key(key);
  del->set_range_end(end);
  del->set_prev_kv(prev_kv);
  aegis::smpb::Envelope env;
  env.set_command(cmd.SerializeAsString());
  return raft::entry{2, index, raft::entry_type::command, env.SerializeAsString()};
}

etcdserverpb::DeleteRangeResponse deleted(const node::call_result& r) {
  BOOST_REQUIRE_MESSAGE(r.code == call_code::ok, r.message);
  etcdserverpb::DeleteRangeResponse resp;
  BOOST_REQUIRE(resp.ParseFromString(r.response));
  return resp;
}

// A store and a machine over it, applying entries one batch at a time.
struct fixture {
  temp_dir dir;
  std::unique_ptr<kv_store> store;
  std::unique_ptr<state::kv_machine> machine;
  raft::index_t next = 1;

  fixture() { open(rocks_storage::mode::create); }
  void open(rocks_storage::mode m) {
    machine.reset();
    store.reset();
    auto opened = kv_store::open(dir.path + "/state", m);
    BOOST_REQUIRE(std::holds_alternative<std::unique_ptr<kv_store>>(opened));
    store = std::move(std::get<std::unique_ptr<kv_store>>(opened));
    machine = std::make_unique<state::kv_machine>(*store, 77, 3);
  }
  node::call_result apply(const raft::entry& e) {
    auto r = machine->apply(e, 2);
    machine->commit_batch(e.index);
    return r;
  }
  etcdserverpb::PutResponse put(const std::string& k, const std::string& v, bool prev = false) {
    auto r = apply(put_entry(next++, k, v, prev));
    BOOST_REQUIRE(r.code == call_code::ok);
    etcdserverpb::PutResponse resp;
    BOOST_REQUIRE(resp.ParseFromString(r.response));
    return resp;
  }
  etcdserverpb::RangeResponse range(etcdserverpb::RangeRequest req) {
    auto r = machine->range(req, 2);
    BOOST_REQUIRE_MESSAGE(r.code == call_code::ok, r.message);
    etcdserverpb::RangeResponse resp;
    BOOST_REQUIRE(resp.ParseFromString(r.response));
    return resp;
  }
  etcdserverpb::RangeResponse get(const std::string& k) {
    etcdserverpb::RangeRequest req;
    req.set_key(k);
    return range(req);
  }
};

std::vector<std::string> keys_of(const etcdserverpb::RangeResponse& r) {
  std::vector<std::string> out;
  for (const auto& kv : r.kvs())
    out.push_back(kv.key());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(put_creates_then_modifies_with_etcd_revisions_and_versions) {
  fixture f;
  auto first = f.put("a", "1");
  BOOST_TEST(first.header().revision() == 2);  // a new store is at 1, as etcd's
  BOOST_TEST(first.header().cluster_id() == 77u);
  BOOST_TEST(first.header().member_id() == 3u);
  BOOST_TEST(first.header().raft_term() == 2u);
  auto second = f.put("a", "2", true);
  BOOST_TEST(second.header().revision() == 3);
  BOOST_TEST(second.prev_kv().value() == "1");
  BOOST_TEST(second.prev_kv().mod_revision() == 2);
  const auto kv = f.get("a").kvs(0);
  BOOST_TEST(kv.value() == "2");
  BOOST_TEST(kv.create_revision() == 2);
  BOOST_TEST(kv.mod_revision() == 3);
  BOOST_TEST(kv.version() == 2);
}

BOOST_AUTO_TEST_CASE(refused_puts_change_nothing) {
  fixture f;
  f.put("a", "1");
  auto missing = f.apply(put_entry(f.next++, "b", "", false, true));
  BOOST_TEST((missing.code == call_code::invalid_argument));
  BOOST_TEST(missing.message == "etcdserver: key not found");
  auto lease = f.apply(put_entry(f.next++, "c", "x", false, false, 42));
  BOOST_TEST((lease.code == call_code::not_found));
  BOOST_TEST(f.machine->revision() == 2);  // only the first put's (a new store is at 1)
  BOOST_TEST(f.get("b").count() == 0);
  // ignore_value on an existing key keeps its value and still makes a revision.
  BOOST_TEST((f.apply(put_entry(f.next++, "a", "", false, true)).code == call_code::ok));
  BOOST_TEST(f.get("a").kvs(0).value() == "1");
  BOOST_TEST(f.machine->revision() == 3);
}

BOOST_AUTO_TEST_CASE(noops_and_configuration_entries_move_only_the_applied_index) {
  fixture f;
  f.apply(raft::entry{2, 1, raft::entry_type::noop, ""});
  BOOST_TEST(f.machine->revision() == 1);  // a new store's
  BOOST_TEST(f.machine->applied_index() == 1u);
}

BOOST_AUTO_TEST_CASE(ranges_prefix_from_key_limit_count_keys_only_and_sort) {
  fixture f;
  for (const auto* k : {"a", "b/1", "b/2", "b/3", "c"})
    f.put(k, std::string("v-") + k);
  etcdserverpb::RangeRequest prefix;
  prefix.set_key("b/");
  prefix.set_range_end("b0");  // "b/" + 1
  BOOST_TEST(keys_of(f.range(prefix)) == (std::vector<std::string>{"b/1", "b/2", "b/3"}),
             boost::test_tools::per_element());
  etcdserverpb::RangeRequest from_key;
  from_key.set_key("b/3");
  from_key.set_range_end(std::string(1, '\0'));
  BOOST_TEST(keys_of(f.range(from_key)) == (std::vector<std::string>{"b/3", "c"}),
             boost::test_tools::per_element());
  etcdserverpb::RangeRequest all = from_key;
  all.set_key(std::string(1, '\0'));
  all.set_limit(2);
  auto limited = f.range(all);
  BOOST_TEST(limited.kvs_size() == 2);
  BOOST_TEST(limited.more());
  BOOST_TEST(limited.count() == 5);
  all.set_limit(0);
  all.set_keys_only(true);
  all.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  auto sorted = f.range(all);
  BOOST_TEST(keys_of(sorted).front() == "c");
  BOOST_TEST(sorted.kvs(0).value().empty());
  all.set_count_only(true);
  auto counted = f.range(all);
  BOOST_TEST(counted.kvs_size() == 0);
  BOOST_TEST(counted.count() == 5);
}

BOOST_AUTO_TEST_CASE(a_range_at_a_past_revision_sees_the_keys_as_they_were_then) {
  fixture f;
  f.put("a", "1");                           // rev 2 (a new store is at 1)
  f.put("a", "2");                           // rev 3
  f.put("b", "x");                           // rev 4
  f.apply(delete_entry(f.next++, "a", ""));  // rev 5
  etcdserverpb::RangeRequest old;
  old.set_key("a");
  old.set_revision(1);
  BOOST_TEST(f.range(old).count() == 0);  // before the first write
  old.set_revision(2);
  BOOST_TEST(f.range(old).kvs(0).value() == "1");
  old.set_revision(3);
  BOOST_TEST(f.range(old).kvs(0).version() == 2);
  old.set_revision(5);
  BOOST_TEST(f.range(old).count() == 0);  // deleted at 5
  etcdserverpb::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));
  all.set_revision(1);
  BOOST_TEST(f.range(all).count() == 0);
  all.set_revision(3);
  BOOST_TEST(keys_of(f.range(all)) == (std::vector<std::string>{"a"}),
             boost::test_tools::per_element());
  all.set_revision(4);
  BOOST_TEST(keys_of(f.range(all)) == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  old.set_revision(9);
  auto r = f.machine->range(old, 2);
  BOOST_TEST((r.code == call_code::out_of_range));
  BOOST_TEST(r.message == "etcdserver: mvcc: required revision is a future revision");
}

BOOST_AUTO_TEST_CASE(a_restart_finds_state_applied_index_and_revision_together) {
  fixture f;
  f.put("a", "1");
  f.put("b", "2");
  f.open(rocks_storage::mode::existing);
  BOOST_TEST(f.machine->applied_index() == 2u);
  BOOST_TEST(f.machine->revision() == 3);  // two puts on a new store (at 1)
  BOOST_TEST(f.get("b").kvs(0).value() == "2");
}

BOOST_AUTO_TEST_CASE(a_snapshot_restores_the_same_state_elsewhere) {
  fixture a, b;
  a.put("x", "1");
  a.put("y", "2");
  a.put("x", "3");
  b.put("stale", "gone");
  BOOST_REQUIRE(b.machine->restore(a.machine->snapshot_data()));
  b.machine->commit_batch(3);
  BOOST_TEST(b.get("stale").count() == 0);
  BOOST_TEST(b.get("x").kvs(0).version() == 2);
  BOOST_TEST(b.machine->revision() == 4);  // a's: three puts on a new store (at 1)
  BOOST_TEST(b.machine->applied_index() == 3u);
}

BOOST_AUTO_TEST_CASE(a_store_is_created_once_and_never_silently_recreated) {
  temp_dir dir;
  BOOST_TEST(std::holds_alternative<persistence::storage_error>(
      kv_store::open(dir.path + "/state", rocks_storage::mode::existing)));
  BOOST_REQUIRE(std::holds_alternative<std::unique_ptr<kv_store>>(
      kv_store::open(dir.path + "/state", rocks_storage::mode::create)));
  BOOST_TEST(std::holds_alternative<persistence::storage_error>(
      kv_store::open(dir.path + "/state", rocks_storage::mode::create)));
}

BOOST_AUTO_TEST_CASE(delete_range_removes_keys_in_one_revision_and_resets_versions) {
  fixture f;
  for (const auto* k : {"a", "p/1", "p/2", "z"})
    f.put(k, "v");
  BOOST_TEST(f.machine->revision() == 5);  // revs 2..5 (a new store is at 1)
  auto resp = deleted(f.apply(delete_entry(f.next++, "p/", "p0", true)));
  BOOST_TEST(resp.deleted() == 2);
  BOOST_TEST(resp.prev_kvs_size() == 2);
  BOOST_TEST(resp.header().revision() == 6);
  BOOST_TEST(f.get("p/1").count() == 0);
  BOOST_TEST(f.get("a").count() == 1);
  // Nothing matched: no new revision.
  BOOST_TEST(deleted(f.apply(delete_entry(f.next++, "nope", ""))).deleted() == 0);
  BOOST_TEST(f.machine->revision() == 6);
  // A deleted key starts over: version 1, a new create revision.
  f.put("p/1", "again");
  const auto kv = f.get("p/1").kvs(0);
  BOOST_TEST(kv.version() == 1);
  BOOST_TEST(kv.create_revision() == 7);
}

BOOST_AUTO_TEST_CASE(a_range_delete_sees_puts_earlier_in_the_same_batch) {
  fixture f;
  f.put("k/old", "1");
  // One batch: a put, then a delete of the whole prefix, committed together.
  BOOST_TEST((f.machine->apply(put_entry(f.next++, "k/new", "2"), 2).code == call_code::ok));
  auto resp = deleted(f.machine->apply(delete_entry(f.next++, "k/", "k0"), 2));
  f.machine->commit_batch(f.next - 1);
  BOOST_TEST(resp.deleted() == 2);
  etcdserverpb::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));
  BOOST_TEST(f.range(all).count() == 0);
}
