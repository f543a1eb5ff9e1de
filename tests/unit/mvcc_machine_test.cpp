// The MVCC state machine against etcd's v3 API contract: Txn compares and branches, Compact,
// leases on leader-stamped time, per-revision events, HashKV/Hash, snapshots, and binary keys.
// Each case cites the sentence of etcd's documentation it checks (api/etcdserverpb/rpc.proto,
// "etcd API guarantees", or etcd's server code where the docs are silent).
#define BOOST_TEST_MODULE mvcc_machine
#include <boost/test/unit_test.hpp>
#include <functional>

#include "actors/state/kv_machine.hpp"
#include "protocol/command.pb.h"
#include "protocol/etcd/rpc.pb.h"
#include "tests/unit/temp_dir.hpp"

using namespace aegis;
using node::call_code;
using node::call_result;
using persistence::kv_store;
using persistence::rocks_storage;
using C = etcdserverpb::Compare;

namespace {

constexpr uint64_t t0 = 1'700'000'000'000;  // a leader stamp, unix ms
constexpr uint64_t term = 2;
const std::string compacted_msg = "etcdserver: mvcc: required revision has been compacted";
const std::string future_msg = "etcdserver: mvcc: required revision is a future revision";
const std::string no_lease_msg = "etcdserver: requested lease not found";

using test::temp_dir;

// ---- commands --------------------------------------------------------------------------------

smpb::Command put_cmd(const std::string& key, const std::string& value, int64_t lease = 0) {
  smpb::Command c;
  c.mutable_put()->set_key(key);
  c.mutable_put()->set_value(value);
  c.mutable_put()->set_lease(lease);
  return c;
}

smpb::Command del_cmd(const std::string& key, const std::string& end = {}) {
  smpb::Command c;
  c.mutable_delete_range()->set_key(key);
  c.mutable_delete_range()->set_range_end(end);
  return c;
}

smpb::Command txn_cmd(const etcdserverpb::TxnRequest& t) {
  smpb::Command c;
  *c.mutable_txn() = t;
  return c;
}

smpb::Command compact_cmd(int64_t rev) {
  smpb::Command c;
  c.mutable_compaction()->set_revision(rev);
  return c;
}

smpb::Command grant_cmd(int64_t id, int64_t ttl) {
  smpb::Command c;
  c.mutable_lease_grant()->set_id(id);
  c.mutable_lease_grant()->set_ttl(ttl);
  return c;
}

smpb::Command revoke_cmd(int64_t id) {
  smpb::Command c;
  c.mutable_lease_revoke()->set_id(id);
  return c;
}

smpb::Command renew_cmd(std::vector<int64_t> ids) {
  smpb::Command c;
  for (auto id : ids)
    c.mutable_lease_renew()->add_ids(id);
  return c;
}

smpb::Command expire_cmd(std::vector<int64_t> ids) {
  smpb::Command c;
  for (auto id : ids)
    c.mutable_lease_expire()->add_ids(id);
  return c;
}

smpb::Command promote_cmd(uint64_t gap_ms) {
  smpb::Command c;
  c.mutable_lease_promote()->set_gap_ms(gap_ms);
  return c;
}

raft::entry entry_of(raft::index_t index, const smpb::Command& cmd, uint64_t stamp_ms) {
  smpb::Envelope env;
  env.set_stamp_unix_ms(stamp_ms);
  env.set_command(cmd.SerializeAsString());
  return raft::entry{term, index, raft::entry_type::command, env.SerializeAsString()};
}

// ---- transactions ----------------------------------------------------------------------------

C cmp(const std::string& key, C::CompareTarget target, C::CompareResult result, int64_t n,
      const std::string& value = {}, const std::string& range_end = {}) {
  C c;
  c.set_key(key);
  c.set_range_end(range_end);
  c.set_target(target);
  c.set_result(result);
  switch (target) {
    case C::VERSION:
      c.set_version(n);
      break;
    case C::CREATE:
      c.set_create_revision(n);
      break;
    case C::MOD:
      c.set_mod_revision(n);
      break;
    case C::LEASE:
      c.set_lease(n);
      break;
    default:
      c.set_value(value);
  }
  return c;
}

C cmp_value(const std::string& key, C::CompareResult result, const std::string& value,
            const std::string& range_end = {}) {
  return cmp(key, C::VALUE, result, 0, value, range_end);
}

etcdserverpb::RequestOp op_put(const std::string& key, const std::string& value,
                               int64_t lease = 0) {
  etcdserverpb::RequestOp op;
  op.mutable_request_put()->set_key(key);
  op.mutable_request_put()->set_value(value);
  op.mutable_request_put()->set_lease(lease);
  return op;
}

etcdserverpb::RequestOp op_del(const std::string& key, const std::string& end = {}) {
  etcdserverpb::RequestOp op;
  op.mutable_request_delete_range()->set_key(key);
  op.mutable_request_delete_range()->set_range_end(end);
  return op;
}

etcdserverpb::RequestOp op_range(const std::string& key, const std::string& end = {},
                                 int64_t rev = 0) {
  etcdserverpb::RequestOp op;
  op.mutable_request_range()->set_key(key);
  op.mutable_request_range()->set_range_end(end);
  op.mutable_request_range()->set_revision(rev);
  return op;
}

etcdserverpb::RequestOp op_txn(const etcdserverpb::TxnRequest& t) {
  etcdserverpb::RequestOp op;
  *op.mutable_request_txn() = t;
  return op;
}

etcdserverpb::TxnRequest txn(std::vector<C> compares, std::vector<etcdserverpb::RequestOp> success,
                             std::vector<etcdserverpb::RequestOp> failure = {}) {
  etcdserverpb::TxnRequest t;
  for (auto& c : compares)
    *t.add_compare() = std::move(c);
  for (auto& op : success)
    *t.add_success() = std::move(op);
  for (auto& op : failure)
    *t.add_failure() = std::move(op);
  return t;
}

// ---- results ---------------------------------------------------------------------------------

template <class M>
M parse(const call_result& r) {
  BOOST_REQUIRE_MESSAGE(r.code == call_code::ok, r.message);
  M m;
  BOOST_REQUIRE(m.ParseFromString(r.response));
  return m;
}

void expect_error(const call_result& r, call_code code, const std::string& message) {
  BOOST_TEST(static_cast<int>(r.code) == static_cast<int>(code));
  BOOST_TEST(r.message == message);
}

std::vector<std::string> keys_of(const etcdserverpb::RangeResponse& r) {
  std::vector<std::string> out;
  for (const auto& kv : r.kvs())
    out.push_back(kv.key());
  return out;
}

using strings = std::vector<std::string>;
const std::string nul(1, '\0');

// A store and a machine over it; every entry is applied and committed on its own, stamped with
// `now` unless a stamp is given.
struct fixture {
  temp_dir dir;
  int64_t min_ttl;
  std::unique_ptr<kv_store> store;
  std::unique_ptr<state::kv_machine> machine;
  raft::index_t next = 1;
  uint64_t now = t0;

  explicit fixture(int64_t min_ttl_s = 1) : min_ttl(min_ttl_s) {
    open(rocks_storage::mode::create);
  }
  void open(rocks_storage::mode m) {
    machine.reset();
    store.reset();
    auto opened = kv_store::open(dir.path + "/state", m);
    BOOST_REQUIRE(std::holds_alternative<std::unique_ptr<kv_store>>(opened));
    store = std::move(std::get<std::unique_ptr<kv_store>>(opened));
    machine = std::make_unique<state::kv_machine>(*store, 77, 3, min_ttl);
  }
  void reopen() { open(rocks_storage::mode::existing); }

  call_result run(const smpb::Command& cmd) { return run_at(cmd, now); }
  call_result run_at(const smpb::Command& cmd, uint64_t stamp) {
    const raft::index_t i = next++;
    auto r = machine->apply(entry_of(i, cmd, stamp), term);
    machine->commit_batch(i);
    return r;
  }
  etcdserverpb::PutResponse put(const std::string& k, const std::string& v, int64_t lease = 0) {
    return parse<etcdserverpb::PutResponse>(run(put_cmd(k, v, lease)));
  }
  etcdserverpb::DeleteRangeResponse del(const std::string& k, const std::string& end = {}) {
    return parse<etcdserverpb::DeleteRangeResponse>(run(del_cmd(k, end)));
  }
  etcdserverpb::TxnResponse txn_ok(const etcdserverpb::TxnRequest& t) {
    return parse<etcdserverpb::TxnResponse>(run(txn_cmd(t)));
  }
  // Whether a txn of the given compares takes its success branch (and it changes nothing).
  bool holds(std::vector<C> compares) {
    const int64_t before = machine->revision();
    const bool ok = txn_ok(txn(std::move(compares), {})).succeeded();
    BOOST_TEST(machine->revision() == before);
    return ok;
  }
  etcdserverpb::LeaseGrantResponse grant(int64_t id, int64_t ttl) {
    return parse<etcdserverpb::LeaseGrantResponse>(run(grant_cmd(id, ttl)));
  }

  call_result range_result(const std::string& key, const std::string& end = {}, int64_t rev = 0) {
    etcdserverpb::RangeRequest req;
    req.set_key(key);
    req.set_range_end(end);
    req.set_revision(rev);
    return machine->range(req, term);
  }
  etcdserverpb::RangeResponse range(const std::string& key, const std::string& end = {},
                                    int64_t rev = 0) {
    return parse<etcdserverpb::RangeResponse>(range_result(key, end, rev));
  }
  strings all_keys(int64_t rev = 0) { return keys_of(range(nul, nul, rev)); }
  // The value of `key` at `rev` ("<none>" when absent).
  std::string value_at(const std::string& key, int64_t rev = 0) {
    auto r = range(key, {}, rev);
    return r.kvs_size() == 0 ? "<none>" : r.kvs(0).value();
  }

  call_result ttl_result(int64_t id, uint64_t at_ms, bool keys = true) {
    etcdserverpb::LeaseTimeToLiveRequest req;
    req.set_id(id);
    req.set_keys(keys);
    return machine->lease_time_to_live(req, at_ms, term);
  }
  etcdserverpb::LeaseTimeToLiveResponse ttl(int64_t id, uint64_t at_ms, bool keys = true) {
    return parse<etcdserverpb::LeaseTimeToLiveResponse>(ttl_result(id, at_ms, keys));
  }
  strings lease_keys(int64_t id) {
    auto r = ttl(id, now);
    return strings(r.keys().begin(), r.keys().end());
  }
  std::vector<int64_t> lease_ids() {
    auto r = parse<etcdserverpb::LeaseLeasesResponse>(machine->lease_leases(term));
    std::vector<int64_t> out;
    for (const auto& l : r.leases())
      out.push_back(l.id());
    return out;
  }
  uint32_t hash() { return parse<etcdserverpb::HashResponse>(machine->hash(term)).hash(); }
  uint32_t hash_kv(int64_t rev) {
    return parse<etcdserverpb::HashKVResponse>(machine->hash_kv(rev, term)).hash();
  }
  std::vector<int64_t> stored_event_revisions(int64_t from) {
    std::vector<int64_t> revs;
    machine->store_view().events_since(from, [&](const smpb::RevisionEvents& e) {
      revs.push_back(e.revision());
      return true;
    });
    return revs;
  }
};

// A history touching every kind of record: keys, history, events, leases, a compaction.
std::vector<smpb::Command> a_history() {
  return {grant_cmd(1, 30),
          put_cmd("a", "1"),
          put_cmd("b", "1", 1),
          put_cmd("a", "2"),
          txn_cmd(txn({cmp_value("a", C::EQUAL, "2")}, {op_put("c", "1"), op_del("b")})),
          del_cmd("c"),
          put_cmd(std::string("n\0ul", 4), "x"),
          compact_cmd(3),  // the second write's revision (a new store is at 1)
          renew_cmd({1}),
          put_cmd("d", "1", 1)};
}

void apply_all(fixture& f, const std::vector<smpb::Command>& cmds) {
  uint64_t stamp = t0;
  for (const auto& c : cmds)
    f.run_at(c, stamp += 250);
}

}  // namespace

// ==== Txn =====================================================================================

BOOST_AUTO_TEST_SUITE(txn_semantics)

// rpc.proto Compare: "version is the version of the given key", "create_revision is the
// creation revision of the given key", "mod_revision is the last modified revision of the given
// key", "value is the value of the given key, in bytes", "lease is the lease id of the given
// key"; CompareResult EQUAL, GREATER, LESS, NOT_EQUAL.
BOOST_AUTO_TEST_CASE(every_compare_target_with_every_result) {
  fixture f;
  f.grant(100, 60);
  f.put("k", "m");       // rev 2 (a new store is at 1)
  f.put("k", "n", 100);  // rev 3: k is version 2, create 2, mod 3, value "n", lease 100
  f.put("other", "x");   // rev 4
  BOOST_REQUIRE(f.machine->revision() == 4);
  struct row {
    C::CompareTarget target;
    C::CompareResult result;
    int64_t n;
    std::string value;
    bool expected;
  };
  const std::vector<row> rows = {
      {C::VERSION, C::EQUAL, 2, {}, true},
      {C::VERSION, C::EQUAL, 1, {}, false},
      {C::VERSION, C::NOT_EQUAL, 1, {}, true},
      {C::VERSION, C::NOT_EQUAL, 2, {}, false},
      {C::VERSION, C::GREATER, 1, {}, true},
      {C::VERSION, C::GREATER, 2, {}, false},
      {C::VERSION, C::LESS, 3, {}, true},
      {C::VERSION, C::LESS, 2, {}, false},
      {C::CREATE, C::EQUAL, 2, {}, true},
      {C::CREATE, C::EQUAL, 3, {}, false},
      {C::CREATE, C::NOT_EQUAL, 2, {}, false},
      {C::CREATE, C::NOT_EQUAL, 4, {}, true},
      {C::CREATE, C::GREATER, 0, {}, true},
      {C::CREATE, C::GREATER, 1, {}, true},
      {C::CREATE, C::GREATER, 2, {}, false},
      {C::CREATE, C::LESS, 3, {}, true},
      {C::CREATE, C::LESS, 2, {}, false},
      {C::MOD, C::EQUAL, 3, {}, true},
      {C::MOD, C::EQUAL, 2, {}, false},
      {C::MOD, C::NOT_EQUAL, 4, {}, true},
      {C::MOD, C::NOT_EQUAL, 3, {}, false},
      {C::MOD, C::GREATER, 2, {}, true},
      {C::MOD, C::GREATER, 3, {}, false},
      {C::MOD, C::LESS, 4, {}, true},
      {C::MOD, C::LESS, 3, {}, false},
      {C::VALUE, C::EQUAL, 0, "n", true},
      {C::VALUE, C::EQUAL, 0, "m", false},
      {C::VALUE, C::NOT_EQUAL, 0, "m", true},
      {C::VALUE, C::NOT_EQUAL, 0, "n", false},
      {C::VALUE, C::GREATER, 0, "m", true},
      {C::VALUE, C::GREATER, 0, "n", false},
      {C::VALUE, C::LESS, 0, "o", true},
      {C::VALUE, C::LESS, 0, "n", false},
      {C::VALUE, C::LESS, 0, "\xff", true},  // bytes compare unsigned: 'n' < 0xff
      {C::VALUE, C::GREATER, 0, "n\x80", false},
      {C::VALUE, C::LESS, 0, "n\x80", true},
      {C::LEASE, C::EQUAL, 100, {}, true},
      {C::LEASE, C::EQUAL, 0, {}, false},
      {C::LEASE, C::NOT_EQUAL, 0, {}, true},
      {C::LEASE, C::NOT_EQUAL, 100, {}, false},
      {C::LEASE, C::GREATER, 99, {}, true},
      {C::LEASE, C::GREATER, 100, {}, false},
      {C::LEASE, C::LESS, 101, {}, true},
      {C::LEASE, C::LESS, 100, {}, false},
  };
  for (const auto& r : rows) {
    BOOST_TEST_CONTEXT("target " << C::CompareTarget_Name(r.target) << " result "
                                 << C::CompareResult_Name(r.result) << " operand " << r.n << "/"
                                 << r.value) {
      BOOST_TEST(f.holds({cmp("k", r.target, r.result, r.n, r.value)}) == r.expected);
    }
  }
  // "compare is a list of predicates representing a conjunction of terms".
  BOOST_TEST(f.holds({cmp("k", C::VERSION, C::EQUAL, 2), cmp_value("other", C::EQUAL, "x")}));
  BOOST_TEST(!f.holds({cmp("k", C::VERSION, C::EQUAL, 2), cmp_value("other", C::EQUAL, "y")}));
  BOOST_TEST(f.machine->revision() == 4);  // read-only txns made no revision
}

// etcd applyCompare: "if len(rr.KVs) == 0 { if c.Target == pb.Compare_VALUE { return false };
// return compareKV(c, mvccpb.KeyValue{}) }" — a missing key has version/create/mod/lease 0 and
// never matches on its value, whatever the result asked.
BOOST_AUTO_TEST_CASE(a_missing_key_compares_as_zero_and_never_matches_on_value) {
  fixture f;
  f.put("gone", "v");
  f.del("gone");  // a deleted key is missing too
  for (const std::string key : {"never", "gone"}) {
    BOOST_TEST_CONTEXT("key " << key) {
      BOOST_TEST(f.holds({cmp(key, C::VERSION, C::EQUAL, 0)}));
      BOOST_TEST(f.holds({cmp(key, C::CREATE, C::EQUAL, 0)}));
      BOOST_TEST(f.holds({cmp(key, C::MOD, C::EQUAL, 0)}));
      BOOST_TEST(f.holds({cmp(key, C::LEASE, C::EQUAL, 0)}));
      BOOST_TEST(f.holds({cmp(key, C::VERSION, C::LESS, 1)}));
      BOOST_TEST(!f.holds({cmp(key, C::VERSION, C::GREATER, 0)}));
      BOOST_TEST(!f.holds({cmp(key, C::MOD, C::NOT_EQUAL, 0)}));
      BOOST_TEST(!f.holds({cmp_value(key, C::EQUAL, "")}));
      BOOST_TEST(!f.holds({cmp_value(key, C::NOT_EQUAL, "x")}));
      BOOST_TEST(!f.holds({cmp_value(key, C::LESS, "zzz")}));
      BOOST_TEST(!f.holds({cmp_value(key, C::GREATER, "")}));
    }
  }
}

// rpc.proto Compare.range_end: "range_end compares the given target to all keys in the range
// [key, range_end)."
BOOST_AUTO_TEST_CASE(a_compare_over_a_range_must_hold_for_every_key_in_it) {
  fixture f;
  f.put("p/1", "a");
  f.put("p/2", "b");
  f.put("p/2", "b");  // p/2 is version 2
  f.put("q", "z");
  const std::string end = "p0";
  BOOST_TEST(f.holds({cmp("p/", C::VERSION, C::GREATER, 0, {}, end)}));
  BOOST_TEST(f.holds({cmp("p/", C::VERSION, C::LESS, 3, {}, end)}));
  BOOST_TEST(!f.holds({cmp("p/", C::VERSION, C::EQUAL, 2, {}, end)}));  // p/1 is version 1
  BOOST_TEST(!f.holds({cmp("p/", C::VERSION, C::EQUAL, 1, {}, end)}));  // p/2 is version 2
  BOOST_TEST(f.holds({cmp_value("p/", C::LESS, "c", end)}));
  BOOST_TEST(!f.holds({cmp_value("p/", C::EQUAL, "a", end)}));
  BOOST_TEST(!f.holds({cmp("p/", C::MOD, C::GREATER, 2, {}, end)}));  // p/1 has mod 2
  // "\0" as range_end: every key >= key (q included, whose value "z" is not < "c").
  BOOST_TEST(!f.holds({cmp_value("p/", C::LESS, "c", nul)}));
  // An empty range compares as one missing key.
  BOOST_TEST(f.holds({cmp("x/", C::VERSION, C::EQUAL, 0, {}, "x0")}));
  BOOST_TEST(!f.holds({cmp_value("x/", C::NOT_EQUAL, "v", "x0")}));
}

// rpc.proto TxnRequest: "If the comparisons succeed, then the success requests will be processed
// in order ... If the comparisons fail, then the failure requests will be processed in order";
// TxnResponse.succeeded: "set to true if the compare evaluated to true or false otherwise".
BOOST_AUTO_TEST_CASE(success_and_failure_branches) {
  fixture f;
  f.put("lock", "free");
  const auto t =
      txn({cmp_value("lock", C::EQUAL, "free")}, {op_put("lock", "mine"), op_put("owner", "me")},
          {op_range("lock"), op_put("loser", "me")});
  auto won = f.txn_ok(t);
  BOOST_TEST(won.succeeded());
  BOOST_TEST(won.responses_size() == 2);
  BOOST_TEST(won.responses(0).has_response_put());
  BOOST_TEST(f.value_at("lock") == "mine");
  BOOST_TEST(f.value_at("owner") == "me");
  BOOST_TEST(f.value_at("loser") == "<none>");
  // The same txn again: the compare now fails and only the failure branch runs.
  auto lost = f.txn_ok(t);
  BOOST_TEST(!lost.succeeded());
  BOOST_TEST(lost.responses_size() == 2);
  BOOST_TEST(lost.responses(0).response_range().kvs(0).value() == "mine");
  BOOST_TEST(lost.responses(1).has_response_put());
  BOOST_TEST(f.value_at("loser") == "me");
  BOOST_TEST(f.range("owner").kvs(0).version() == 1);  // success branch did not run again
}

// rpc.proto KV.Txn: "A txn request increments the revision of the key-value store and generates
// events with the same revision for every completed request." API guarantees: "A transaction
// operation might modify the key value store multiple times, but only one revision is assigned."
BOOST_AUTO_TEST_CASE(all_writes_of_a_txn_share_one_revision_and_a_read_only_txn_makes_none) {
  fixture f;
  f.put("c", "old");  // rev 2 (a new store is at 1)
  f.put("d", "old");  // rev 3
  auto resp =
      f.txn_ok(txn({}, {op_put("b", "1"), op_put("a", "1"), op_del("c"), op_put("d", "2")}));
  BOOST_TEST(resp.header().revision() == 4);
  BOOST_TEST(f.machine->revision() == 4);
  for (const auto& k : {"a", "b", "d"})
    BOOST_TEST(f.range(k).kvs(0).mod_revision() == 4);
  BOOST_TEST(f.range("a").kvs(0).create_revision() == 4);
  BOOST_TEST(f.range("d").kvs(0).create_revision() == 3);
  BOOST_TEST(f.range("d").kvs(0).version() == 2);
  BOOST_TEST(f.value_at("c", 3) == "old");
  BOOST_TEST(f.value_at("c", 4) == "<none>");
  // Read-only: ranges and a delete that matches nothing make no revision.
  auto ro = f.txn_ok(txn({}, {op_range("a"), op_del("nothing"), op_range(nul, nul)}));
  BOOST_TEST(ro.header().revision() == 4);
  BOOST_TEST(f.machine->revision() == 4);
  BOOST_TEST(ro.responses(2).response_range().count() == 3);
}

// etcd serves a transaction without writes as a read (no log entry): the answer must be the one
// applying it would give.
BOOST_AUTO_TEST_CASE(a_read_only_txn_served_as_a_read_answers_as_applying_it_would) {
  fixture f;
  f.put("a", "1");
  f.put("b", "2");
  auto t =
      txn({cmp_value("a", C::EQUAL, "1")}, {op_range("a"), op_range(nul, nul)}, {op_range("b")});
  auto read = f.machine->read_txn(t, term);
  BOOST_REQUIRE(read.code == call_code::ok);
  BOOST_TEST(read.response == f.run(txn_cmd(t)).response);
  auto miss = txn({cmp_value("a", C::EQUAL, "x")}, {op_range("a")}, {op_range("b")});
  etcdserverpb::TxnResponse resp;
  BOOST_REQUIRE(resp.ParseFromString(f.machine->read_txn(miss, term).response));
  BOOST_TEST(!resp.succeeded());
  BOOST_TEST(resp.responses(0).response_range().kvs(0).value() == "2");
  BOOST_TEST(f.machine->revision() == 3);  // two puts on a new store (at 1)
}

// API guarantees: KV operations are atomic; etcd's storeTxnWrite.Range reads at beginRev+1 once
// the txn has changes, so a read later in a txn sees the txn's earlier writes.
BOOST_AUTO_TEST_CASE(a_range_later_in_a_txn_sees_earlier_writes_of_the_same_txn) {
  fixture f;
  f.put("x", "old");  // rev 2 (a new store is at 1)
  f.put("y", "old");  // rev 3
  auto resp = f.txn_ok(txn({}, {op_range("x"), op_put("x", "new"), op_range("x"), op_del("y"),
                                op_range("y"), op_range(nul, nul)}));
  BOOST_TEST(resp.responses(0).response_range().kvs(0).value() == "old");
  const auto& seen = resp.responses(2).response_range().kvs(0);
  BOOST_TEST(seen.value() == "new");
  BOOST_TEST(seen.mod_revision() == 4);
  BOOST_TEST(seen.version() == 2);
  BOOST_TEST(resp.responses(4).response_range().count() == 0);
  BOOST_TEST(keys_of(resp.responses(5).response_range()) == strings{"x"},
             boost::test_tools::per_element());
}

// rpc.proto RangeRequest.revision: "revision is the point-in-time of the key-value store to use
// for the range." etcd's rangeKeys reads at ro.Rev when it is set, so a Range inside a txn that
// names the revision the txn started from sees that revision, not the txn's own writes.
BOOST_AUTO_TEST_CASE(a_range_in_a_txn_at_an_explicit_revision_reads_that_revision) {
  fixture f;
  f.put("x", "old");  // rev 2 (a new store is at 1)
  f.put("z", "z1");   // rev 3
  auto resp = f.txn_ok(txn({}, {op_put("x", "new"), op_put("w", "w1"), op_range("x", {}, 3),
                                op_range(nul, nul, 3), op_range("x", {}, 2)}));
  BOOST_TEST(resp.header().revision() == 4);
  const auto& at3 = resp.responses(2).response_range();
  BOOST_REQUIRE(at3.kvs_size() == 1);
  BOOST_TEST(at3.kvs(0).value() == "old");
  BOOST_TEST(at3.kvs(0).mod_revision() == 2);
  BOOST_TEST(keys_of(resp.responses(3).response_range()) == (strings{"x", "z"}),
             boost::test_tools::per_element());
  BOOST_TEST(resp.responses(4).response_range().kvs(0).value() == "old");
  // A Range past the store's revision is a future revision (checked against the state before).
  auto future = f.run(txn_cmd(txn({}, {op_put("x", "newer"), op_range("x", {}, 5)})));
  expect_error(future, call_code::out_of_range, future_msg);
  BOOST_TEST(f.machine->revision() == 4);
  BOOST_TEST(f.value_at("x") == "new");
}

// etcd applyTxn: "txnPath := compareToPath(txn, rt)" runs before any operation, so every compare,
// nested ones included, sees the state from before the outer txn; rpc.proto RequestOp
// request_txn nests a transaction.
BOOST_AUTO_TEST_CASE(a_nested_txn_chooses_its_branch_against_the_state_before_the_outer_txn) {
  fixture f;
  f.put("seen", "0");  // rev 2 (a new store is at 1)
  const auto inner = txn({cmp("n", C::VERSION, C::EQUAL, 0)}, {op_put("inner", "saw-missing")},
                         {op_put("inner", "saw-put")});
  auto resp = f.txn_ok(txn({cmp_value("seen", C::EQUAL, "0")},
                           {op_put("n", "1"), op_txn(inner), op_range("inner")}));
  BOOST_TEST(resp.succeeded());
  BOOST_TEST(f.value_at("inner") == "saw-missing");
  const auto& nested = resp.responses(1).response_txn();
  BOOST_TEST(nested.succeeded());
  BOOST_TEST(nested.responses_size() == 1);
  BOOST_TEST(resp.responses(2).response_range().kvs(0).value() == "saw-missing");
  BOOST_TEST(f.machine->revision() == 3);  // outer and nested writes: one revision
  BOOST_TEST(f.range("n").kvs(0).mod_revision() == f.range("inner").kvs(0).mod_revision());
  // A nested txn in the failure branch, taking its own failure branch.
  auto resp2 = f.txn_ok(
      txn({cmp_value("seen", C::EQUAL, "1")}, {},
          {op_put("n", "2"), op_txn(txn({cmp_value("n", C::EQUAL, "2")}, {op_put("inner", "x")},
                                        {op_put("inner", "before-was-1")}))}));
  BOOST_TEST(!resp2.succeeded());
  BOOST_TEST(!resp2.responses(1).response_txn().succeeded());
  BOOST_TEST(f.value_at("inner") == "before-was-1");
}

// rpc.proto PutRequest.lease: "lease is the lease ID to associate with the key"; etcd's
// checkRequestPut refuses a txn whose chosen branch puts with an unknown lease
// (ErrLeaseNotFound: "etcdserver: requested lease not found") before it applies anything.
BOOST_AUTO_TEST_CASE(a_txn_putting_with_a_missing_lease_is_refused_and_changes_nothing) {
  fixture f;
  f.grant(5, 60);
  f.put("a", "1");  // rev 2 (a new store is at 1)
  f.machine->take_events();
  const uint32_t hash_before = f.hash();
  auto refused = f.run(txn_cmd(txn({cmp_value("a", C::EQUAL, "1")},
                                   {op_put("b", "2"), op_del("a"), op_put("c", "3", 999)})));
  expect_error(refused, call_code::not_found, no_lease_msg);
  BOOST_TEST(f.machine->revision() == 2);
  BOOST_TEST(f.value_at("b") == "<none>");
  BOOST_TEST(f.value_at("a") == "1");
  BOOST_TEST(f.machine->take_events().empty());
  BOOST_TEST(f.hash() == hash_before);
  // Also when the bad put sits in a nested txn on the chosen path.
  auto nested =
      f.run(txn_cmd(txn({}, {op_put("b", "2"), op_txn(txn({}, {op_put("c", "3", 999)}))})));
  expect_error(nested, call_code::not_found, no_lease_msg);
  BOOST_TEST(f.machine->revision() == 2);
  BOOST_TEST(f.value_at("b") == "<none>");
  // The branch not taken is not checked: the same bad put in the failure branch is harmless.
  auto fine = f.txn_ok(
      txn({cmp_value("a", C::EQUAL, "1")}, {op_put("b", "2", 5)}, {op_put("c", "3", 999)}));
  BOOST_TEST(fine.succeeded());
  BOOST_TEST(f.machine->revision() == 3);
  BOOST_TEST(f.lease_keys(5) == strings{"b"}, boost::test_tools::per_element());
}

// rpc.proto ResponseHeader.revision: "revision is the key-value store revision when the request
// was applied" — every response inside a txn answer, nested ones included, carries the txn's; as
// etcd's, inner headers carry only the revision, the outer one the whole header.
BOOST_AUTO_TEST_CASE(headers_of_nested_responses_carry_the_txn_revision) {
  fixture f;
  f.put("a", "1");  // rev 2 (a new store is at 1)
  f.put("b", "1");  // rev 3
  auto resp = f.txn_ok(
      txn({}, {op_range("a"), op_put("a", "2"), op_del("b"),
               op_txn(txn({}, {op_range("a"), op_put("c", "1"),
                               op_txn(txn({}, {op_put("d", "1"), op_range("nothing")}))}))}));
  BOOST_TEST(f.machine->revision() == 4);
  std::function<void(const etcdserverpb::TxnResponse&)> check =
      [&](const etcdserverpb::TxnResponse& t) {
        BOOST_TEST(t.header().revision() == 4);
        const bool outer = &t == &resp;
        BOOST_TEST(t.header().cluster_id() == (outer ? 77u : 0u));
        BOOST_TEST(t.header().member_id() == (outer ? 3u : 0u));
        BOOST_TEST(t.header().raft_term() == (outer ? term : 0u));
        for (const auto& op : t.responses()) {
          if (op.has_response_range()) BOOST_TEST(op.response_range().header().revision() == 4);
          if (op.has_response_put()) BOOST_TEST(op.response_put().header().revision() == 4);
          if (op.has_response_delete_range())
            BOOST_TEST(op.response_delete_range().header().revision() == 4);
          if (op.has_response_txn()) check(op.response_txn());
        }
      };
  check(resp);
  BOOST_TEST(resp.responses(3).response_txn().responses(2).response_txn().responses_size() == 2);
  BOOST_TEST(resp.responses(2).response_delete_range().deleted() == 1);
}

BOOST_AUTO_TEST_SUITE_END()

// ==== Compact =================================================================================

BOOST_AUTO_TEST_SUITE(compaction)

// rpc.proto RangeRequest.revision: "If the revision has been compacted, ErrCompacted is returned
// as a response." CompactionRequest: "All superseded keys with a revision less than the
// compaction revision will be removed."
BOOST_AUTO_TEST_CASE(range_at_the_compact_revision_works_and_below_it_is_compacted) {
  fixture f;
  f.put("a", "a1");  // 2 (a new store is at 1)
  f.put("a", "a2");  // 3
  f.put("b", "b1");  // 4
  f.put("a", "a3");  // 5
  auto resp = parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(4)));
  BOOST_TEST(resp.header().revision() == 5);
  BOOST_TEST(f.machine->store_view().compact_revision() == 4);
  BOOST_TEST(f.machine->revision() == 5);  // a compaction makes no revision
  BOOST_TEST(f.value_at("a", 4) == "a2");
  BOOST_TEST(f.range("a", {}, 4).kvs(0).mod_revision() == 3);
  BOOST_TEST(f.all_keys(4) == (strings{"a", "b"}), boost::test_tools::per_element());
  BOOST_TEST(f.value_at("a", 5) == "a3");
  BOOST_TEST(f.value_at("a") == "a3");
  for (int64_t rev : {1, 2, 3}) {
    expect_error(f.range_result("a", {}, rev), call_code::out_of_range, compacted_msg);
    expect_error(f.range_result(nul, nul, rev), call_code::out_of_range, compacted_msg);
  }
  // A Range inside a txn at a compacted revision refuses the whole txn.
  expect_error(f.run(txn_cmd(txn({}, {op_put("z", "1"), op_range("a", {}, 3)}))),
               call_code::out_of_range, compacted_msg);
  BOOST_TEST(f.machine->revision() == 5);
}

// etcd's store.updateCompactRev refuses rev <= compactMainRev with ErrCompacted and
// rev > currentRev with ErrFutureRev.
BOOST_AUTO_TEST_CASE(compacting_at_or_below_the_compacted_revision_or_in_the_future_is_refused) {
  fixture f;
  for (int i = 0; i < 5; ++i)
    f.put("k", std::to_string(i));  // revs 2..6 (a new store is at 1)
  expect_error(f.run(compact_cmd(7)), call_code::out_of_range, future_msg);
  expect_error(f.run(compact_cmd(-1)), call_code::out_of_range, compacted_msg);
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(0)));  // never compacted: a no-op
  BOOST_TEST(f.machine->store_view().compact_revision() == 0);
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(4)));
  expect_error(f.run(compact_cmd(4)), call_code::out_of_range, compacted_msg);
  expect_error(f.run(compact_cmd(3)), call_code::out_of_range, compacted_msg);
  BOOST_TEST(f.machine->store_view().compact_revision() == 4);
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(6)));  // the current revision
  BOOST_TEST(f.machine->store_view().compact_revision() == 6);
  BOOST_TEST(f.value_at("k", 6) == "4");
  BOOST_TEST(f.machine->take_events().size() == 5u);  // compactions added none
}

// rpc.proto CompactionRequest: "All superseded keys with a revision less than the compaction
// revision will be removed" — a key's newest version at or below R stays readable at R if it is
// live there; a key deleted at or before R is gone.
BOOST_AUTO_TEST_CASE(compaction_keeps_each_live_keys_newest_version_at_r) {
  fixture f;
  f.put("k", "k1");  // 2 (a new store is at 1)
  f.put("d", "d1");  // 3
  f.del("d");        // 4: d deleted before R
  f.put("k", "k2");  // 5
  f.put("e", "e1");  // 6
  f.del("e");        // 7: e deleted after R
  f.put("g", "g1");  // 8
  f.del("g");        // 9
  f.put("g", "g2");  // 10: g re-created after R
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(6)));
  BOOST_TEST(f.all_keys(6) == (strings{"e", "k"}), boost::test_tools::per_element());
  BOOST_TEST(f.value_at("k", 6) == "k2");
  BOOST_TEST(f.value_at("e", 6) == "e1");
  BOOST_TEST(f.value_at("d", 6) == "<none>");
  BOOST_TEST(f.all_keys(7) == (strings{"k"}), boost::test_tools::per_element());
  BOOST_TEST(f.all_keys(8) == (strings{"g", "k"}), boost::test_tools::per_element());
  BOOST_TEST(f.all_keys(9) == (strings{"k"}), boost::test_tools::per_element());
  BOOST_TEST(f.value_at("g") == "g2");
  BOOST_TEST(f.range("g").kvs(0).create_revision() == 10);
  BOOST_TEST(f.range("k").kvs(0).version() == 2);  // versions survive compaction
  // Compacting again drops the rest of e's history (its delete is at 7 <= 8).
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(8)));
  BOOST_TEST(f.all_keys(8) == (strings{"g", "k"}), boost::test_tools::per_element());
  BOOST_TEST(f.value_at("e", 8) == "<none>");
}

// rpc.proto Watch: "The entire event history can be watched starting from the last compaction
// revision." — events below it are gone, events at and after it stay.
BOOST_AUTO_TEST_CASE(events_below_the_compact_revision_are_dropped) {
  fixture f;
  for (int i = 1; i <= 6; ++i)
    f.put("k" + std::to_string(i % 2), std::to_string(i));  // revs 2..7 (a new store is at 1)
  BOOST_TEST(f.stored_event_revisions(0) == (std::vector<int64_t>{2, 3, 4, 5, 6, 7}),
             boost::test_tools::per_element());
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(5)));
  BOOST_TEST(f.stored_event_revisions(0) == (std::vector<int64_t>{5, 6, 7}),
             boost::test_tools::per_element());
  BOOST_TEST(f.stored_event_revisions(5) == (std::vector<int64_t>{5, 6, 7}),
             boost::test_tools::per_element());
  BOOST_TEST(f.stored_event_revisions(7) == (std::vector<int64_t>{7}),
             boost::test_tools::per_element());
  BOOST_TEST(f.stored_event_revisions(8).empty());
}

// API guarantees, Durability: "Any completed operations are durable." — the compaction too.
BOOST_AUTO_TEST_CASE(the_compact_revision_survives_a_restart) {
  fixture f;
  f.put("a", "1");  // rev 2 (a new store is at 1)
  f.put("a", "2");  // rev 3
  f.put("b", "1");  // rev 4
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(3)));
  const uint32_t hkv = f.hash_kv(0);
  f.reopen();
  BOOST_TEST(f.machine->store_view().compact_revision() == 3);
  BOOST_TEST(f.machine->revision() == 4);
  expect_error(f.range_result("a", {}, 2), call_code::out_of_range, compacted_msg);
  BOOST_TEST(f.value_at("a", 3) == "2");
  expect_error(f.run(compact_cmd(3)), call_code::out_of_range, compacted_msg);
  auto hk = parse<etcdserverpb::HashKVResponse>(f.machine->hash_kv(0, term));
  BOOST_TEST(hk.compact_revision() == 3);
  BOOST_TEST(hk.hash() == hkv);
  BOOST_TEST(f.stored_event_revisions(0) == (std::vector<int64_t>{3, 4}),
             boost::test_tools::per_element());
}

// etcd's store starts at revision 1 with no keys (a Range on a new cluster answers header
// revision 1; the first write is revision 2), and compacting to 1 is allowed once.
BOOST_AUTO_TEST_CASE(a_new_store_is_at_revision_1_holding_nothing_and_can_be_compacted_to_it) {
  fixture f;
  BOOST_TEST(f.machine->revision() == 1);
  BOOST_TEST(f.machine->store_view().compact_revision() == 0);
  BOOST_TEST(f.range(nul, nul).header().revision() == 1);
  BOOST_TEST(f.range(nul, nul, 1).count() == 0);
  expect_error(f.range_result(nul, nul, 2), call_code::out_of_range, future_msg);
  BOOST_TEST(f.stored_event_revisions(0).empty());
  const uint32_t empty_hash = f.hash_kv(0);
  BOOST_TEST(f.hash_kv(1) == empty_hash);
  auto resp = parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(1)));
  BOOST_TEST(resp.header().revision() == 1);
  BOOST_TEST(f.machine->store_view().compact_revision() == 1);
  BOOST_TEST(f.machine->revision() == 1);  // a compaction makes no revision
  expect_error(f.run(compact_cmd(1)), call_code::out_of_range, compacted_msg);
  BOOST_TEST(f.put("a", "1").header().revision() == 2);
  BOOST_TEST(f.range("a").kvs(0).create_revision() == 2);
  BOOST_TEST(f.range(nul, nul, 1).count() == 0);  // at the compact revision: readable, empty
  BOOST_TEST(f.value_at("a", 2) == "1");
  BOOST_TEST(f.stored_event_revisions(0) == std::vector<int64_t>{2},
             boost::test_tools::per_element());
  f.reopen();
  BOOST_TEST(f.machine->revision() == 2);
  BOOST_TEST(f.machine->store_view().compact_revision() == 1);
}

BOOST_AUTO_TEST_SUITE_END()

// ==== Leases ==================================================================================

BOOST_AUTO_TEST_SUITE(leases)

// rpc.proto LeaseGrantResponse: "TTL is the server chosen lease time-to-live in seconds"; etcd's
// lessor.Grant: "if l.ttl < le.minLeaseTTL { l.ttl = le.minLeaseTTL }".
BOOST_AUTO_TEST_CASE(a_grant_below_the_minimum_ttl_is_raised_to_it) {
  fixture f(5);
  auto low = f.grant(1, 2);
  BOOST_TEST(low.id() == 1);
  BOOST_TEST(low.ttl() == 5);
  BOOST_TEST(low.header().revision() == 1);    // a new store's
  BOOST_TEST(f.ttl(1, t0).ttl() == 5);         // expiry: stamp + 5 s
  BOOST_TEST(f.ttl(1, t0).grantedttl() == 5);  // etcd: GrantedTTL is l.TTL(), the raised one
  BOOST_TEST(f.ttl(1, t0 + 2000).ttl() == 3);
  BOOST_TEST(f.ttl(1, t0 + 5000).ttl() == 0);
  auto high = f.grant(2, 30);
  BOOST_TEST(high.ttl() == 30);
  BOOST_TEST(f.ttl(2, t0 + 10'000).ttl() == 20);
  BOOST_TEST(f.machine->leases().find(1)->expiry_ms == t0 + 5000);
  BOOST_TEST(f.machine->revision() == 1);  // grants make no revision (a new store is at 1)
}

// etcd lease errors: ErrLeaseExists "etcdserver: lease already exists" (FailedPrecondition),
// ErrGRPCLeaseTTLTooLarge "etcdserver: too large lease TTL" (OutOfRange), MaxLeaseTTL = 9000000000.
BOOST_AUTO_TEST_CASE(a_duplicate_id_or_a_too_large_ttl_is_refused) {
  fixture f;
  f.now = t0;
  f.grant(7, 10);
  f.now = t0 + 3000;
  expect_error(f.run(grant_cmd(7, 100)), call_code::failed_precondition,
               "etcdserver: lease already exists");
  BOOST_TEST(f.ttl(7, t0).ttl() == 10);  // unchanged: neither TTL nor expiry moved
  expect_error(f.run(grant_cmd(8, 9'000'000'001)), call_code::out_of_range,
               "etcdserver: too large lease TTL");
  // lessor.Grant checks "ttl > MaxLeaseTTL" before "le.leaseMap[id]": a taken ID with a too
  // large TTL is refused for its TTL.
  expect_error(f.run(grant_cmd(7, 9'000'000'001)), call_code::out_of_range,
               "etcdserver: too large lease TTL");
  BOOST_TEST(f.lease_ids() == std::vector<int64_t>{7}, boost::test_tools::per_element());
  BOOST_TEST(f.grant(8, 9'000'000'000).ttl() == 9'000'000'000);  // the maximum itself is fine
}

// rpc.proto LeaseTimeToLiveRequest.keys: "keys is true to query all the keys attached to this
// lease."; PutRequest.lease: "lease is the lease ID to associate with the key".
BOOST_AUTO_TEST_CASE(a_put_with_a_lease_attaches_the_key) {
  fixture f;
  f.grant(9, 60);
  auto put = f.put("s/b", "1", 9);
  BOOST_TEST(put.header().revision() == 2);  // a new store is at 1
  f.put("s/a", "1", 9);
  f.put("free", "1");
  BOOST_TEST(f.range("s/a").kvs(0).lease() == 9);
  BOOST_TEST(f.lease_keys(9) == (strings{"s/a", "s/b"}), boost::test_tools::per_element());
  auto no_keys = f.ttl(9, t0, false);
  BOOST_TEST(no_keys.keys_size() == 0);
  BOOST_TEST(no_keys.id() == 9);
  BOOST_TEST(no_keys.grantedttl() == 60);
  // rpc.proto LeaseTimeToLiveResponse.TTL: "Expired lease will return -1." (an unknown one too).
  BOOST_TEST(f.ttl(10, t0).ttl() == -1);
  BOOST_TEST(f.ttl(10, t0).keys_size() == 0);
  // A put with a lease that does not exist is refused.
  expect_error(f.run(put_cmd("x", "1", 10)), call_code::not_found, no_lease_msg);
  BOOST_TEST(f.machine->revision() == 4);
}

// rpc.proto LeaseRevoke: "LeaseRevoke revokes a lease. All keys attached to the lease will expire
// and be deleted."; etcd's lessor.Revoke deletes them (sorted) in one txn: one revision.
BOOST_AUTO_TEST_CASE(revoke_deletes_every_attached_key_in_one_revision) {
  fixture f;
  f.grant(1, 60);
  f.grant(2, 60);
  f.put("l/c", "1", 1);
  f.put("l/a", "1", 1);
  f.put("l/b", "1", 1);
  f.put("other", "1", 2);
  f.put("free", "1");  // rev 6 (a new store is at 1)
  f.machine->take_events();
  auto resp = parse<etcdserverpb::LeaseRevokeResponse>(f.run(revoke_cmd(1)));
  BOOST_TEST(resp.header().revision() == 7);
  BOOST_TEST(f.machine->revision() == 7);
  BOOST_TEST(f.all_keys() == (strings{"free", "other"}), boost::test_tools::per_element());
  BOOST_TEST(f.all_keys(6).size() == 5u);
  BOOST_TEST(f.ttl(1, t0).ttl() == -1);
  BOOST_TEST(f.lease_ids() == std::vector<int64_t>{2}, boost::test_tools::per_element());
  auto events = f.machine->take_events();
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST(events[0].revision() == 7);
  strings deleted;
  for (const auto& e : events[0].events()) {
    BOOST_TEST(e.type() == mvccpb::Event::DELETE);
    BOOST_TEST(e.kv().mod_revision() == 7);
    BOOST_TEST(e.prev_kv().lease() == 1);
    deleted.push_back(e.kv().key());
  }
  BOOST_TEST(deleted == (strings{"l/a", "l/b", "l/c"}), boost::test_tools::per_element());
  // Unknown lease: NOT_FOUND, nothing changes.
  expect_error(f.run(revoke_cmd(1)), call_code::not_found, no_lease_msg);
  expect_error(f.run(revoke_cmd(42)), call_code::not_found, no_lease_msg);
  BOOST_TEST(f.machine->revision() == 7);
  // A lease without keys: revoked without a revision.
  f.grant(3, 60);
  parse<etcdserverpb::LeaseRevokeResponse>(f.run(revoke_cmd(3)));
  BOOST_TEST(f.machine->revision() == 7);
  BOOST_TEST(f.lease_ids() == std::vector<int64_t>{2}, boost::test_tools::per_element());
}

// rpc.proto LeaseKeepAlive: "keeps the lease alive"; LeaseKeepAliveResponse.TTL: "the new
// time-to-live for the lease" (0 / absent lease: etcd answers TTL 0 for a lease not found).
BOOST_AUTO_TEST_CASE(renew_sets_the_expiry_to_the_stamp_plus_the_ttl) {
  fixture f(5);
  f.grant(1, 10);  // expiry t0 + 10 s
  f.grant(2, 1);   // raised to 5 s
  auto resp = parse<smpb::LeaseRenewResponse>(f.run_at(renew_cmd({1, 404, 2}), t0 + 4000));
  BOOST_TEST(resp.ttls() == (std::vector<int64_t>{10, 0, 5}), boost::test_tools::per_element());
  BOOST_TEST(f.machine->leases().find(1)->expiry_ms == t0 + 14'000);
  BOOST_TEST(f.machine->leases().find(2)->expiry_ms == t0 + 9000);
  BOOST_TEST(f.ttl(1, t0 + 4000).ttl() == 10);
  BOOST_TEST(f.ttl(1, t0 + 12'000).ttl() == 2);
  BOOST_TEST(f.ttl(2, t0 + 8000).ttl() == 1);
  BOOST_TEST(!f.machine->leases().find(404));  // renewing an unknown id creates nothing
  BOOST_TEST(f.machine->revision() == 1);      // a new store's: no revision made
  // A renewal whose stamp is behind an earlier entry's still counts from the newest stamp.
  parse<smpb::LeaseRenewResponse>(f.run_at(renew_cmd({1}), t0 + 1000));
  BOOST_TEST(f.machine->leases().find(1)->expiry_ms == t0 + 14'000);
}

// rpc.proto LeaseGrant: "creates a lease which expires if the server does not receive a keepAlive
// within a given time to live period. All keys attached to the lease will be expired and deleted
// if the lease expires. Each expired key generates a delete event in the event history."
BOOST_AUTO_TEST_CASE(expire_revokes_only_leases_whose_expiry_has_passed_at_the_stamp) {
  fixture f;
  f.grant(1, 5);  // expiry t0 + 5 s
  f.grant(2, 5);
  f.grant(3, 5);
  f.put("a", "1", 1);  // rev 2 (a new store is at 1)
  f.put("b", "1", 2);  // rev 3
  f.put("c", "1", 3);  // rev 4
  parse<smpb::LeaseRenewResponse>(f.run_at(renew_cmd({2}), t0 + 3000));  // 2: t0 + 8 s
  f.machine->take_events();
  // Before anything is due, nothing goes.
  BOOST_TEST((f.run_at(expire_cmd({1, 2, 3}), t0 + 4999).code == call_code::ok));
  BOOST_TEST(f.lease_ids() == (std::vector<int64_t>{1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(f.machine->revision() == 4);
  // At t0 + 5 s (expiry <= stamp): 1 and 3 go, each in its own revision; 2 was renewed.
  BOOST_TEST((f.run_at(expire_cmd({1, 2, 404, 3}), t0 + 5000).code == call_code::ok));
  BOOST_TEST(f.lease_ids() == std::vector<int64_t>{2}, boost::test_tools::per_element());
  BOOST_TEST(f.all_keys() == strings{"b"}, boost::test_tools::per_element());
  BOOST_TEST(f.machine->revision() == 6);
  auto events = f.machine->take_events();
  BOOST_REQUIRE(events.size() == 2u);
  BOOST_TEST(events[0].events(0).kv().key() == "a");
  BOOST_TEST(events[0].events(0).type() == mvccpb::Event::DELETE);
  BOOST_TEST(events[1].events(0).kv().key() == "c");
  BOOST_TEST(events[1].revision() == 6);
  BOOST_TEST((f.run_at(expire_cmd({2}), t0 + 8000).code == call_code::ok));
  BOOST_TEST(f.lease_ids().empty());
  BOOST_TEST(f.all_keys().empty());
}

// etcd's lessor.Promote: "Newly promoted lessor renew the TTL of all lease to extend + previous
// TTL." AEGIS's LeasePromote{gap_ms}: every expiry becomes max(expiry, stamp) + gap.
BOOST_AUTO_TEST_CASE(promote_moves_every_expiry_past_the_leaderless_gap) {
  fixture f;
  f.grant(1, 5);   // t0 + 5 s
  f.grant(2, 20);  // t0 + 20 s
  f.put("k", "v", 1);
  BOOST_TEST((f.run_at(promote_cmd(3000), t0 + 10'000).code == call_code::ok));
  BOOST_TEST(f.machine->leases().find(1)->expiry_ms == t0 + 13'000);  // already due: stamp + gap
  BOOST_TEST(f.machine->leases().find(2)->expiry_ms == t0 + 23'000);  // expiry + gap
  BOOST_TEST(f.ttl(1, t0 + 10'000).ttl() == 3);
  BOOST_TEST(f.ttl(2, t0 + 10'000).ttl() == 13);
  BOOST_TEST(f.machine->revision() == 2);  // the one put (a new store is at 1)
  f.run_at(expire_cmd({1}), t0 + 12'999);
  BOOST_TEST(f.value_at("k") == "v");
  f.run_at(expire_cmd({1}), t0 + 13'000);
  BOOST_TEST(f.value_at("k") == "<none>");
}

// etcd's storeTxnWrite.put: "if oldLease != lease.NoLease { ... Detach(oldLease ...) }; if
// leaseID != lease.NoLease { ... Attach(leaseID ...) }" — a key belongs to the lease of its
// latest put only; a delete detaches it.
BOOST_AUTO_TEST_CASE(re_putting_a_key_with_another_lease_moves_the_attachment) {
  fixture f;
  f.grant(1, 60);
  f.grant(2, 60);
  f.put("k", "1", 1);
  f.put("k", "2", 2);
  BOOST_TEST(f.lease_keys(1).empty());
  BOOST_TEST(f.lease_keys(2) == strings{"k"}, boost::test_tools::per_element());
  parse<etcdserverpb::LeaseRevokeResponse>(f.run(revoke_cmd(1)));
  BOOST_TEST(f.value_at("k") == "2");
  BOOST_TEST(f.machine->revision() == 3);  // the two puts (a new store is at 1)
  // A put without a lease detaches; a delete detaches.
  f.put("k", "3");
  BOOST_TEST(f.lease_keys(2).empty());
  f.put("k", "4", 2);
  f.put("j", "1", 2);
  f.del("j");
  BOOST_TEST(f.lease_keys(2) == strings{"k"}, boost::test_tools::per_element());
  // A txn put moves it too.
  f.grant(3, 60);
  f.txn_ok(txn({}, {op_put("k", "5", 3)}));
  BOOST_TEST(f.lease_keys(2).empty());
  BOOST_TEST(f.lease_keys(3) == strings{"k"}, boost::test_tools::per_element());
  const int64_t rev = f.machine->revision();
  parse<etcdserverpb::LeaseRevokeResponse>(f.run(revoke_cmd(2)));
  BOOST_TEST(f.machine->revision() == rev);  // nothing attached any more
  parse<etcdserverpb::LeaseRevokeResponse>(f.run(revoke_cmd(3)));
  BOOST_TEST(f.value_at("k") == "<none>");
  BOOST_TEST(f.machine->revision() == rev + 1);
}

// API guarantees, Durability: "Any completed operations are durable." — leases, their expiries
// and their keys come back after a restart.
BOOST_AUTO_TEST_CASE(a_restart_reloads_leases_and_key_attachments) {
  fixture f(5);
  f.grant(1, 2);  // raised to 5
  f.grant(2, 60);
  f.put("a", "1", 1);
  f.put("b", "1", 2);
  f.put("c", "1", 2);
  f.run_at(renew_cmd({2}), t0 + 7000);  // 2: t0 + 67 s
  f.reopen();
  BOOST_TEST(f.lease_ids() == (std::vector<int64_t>{1, 2}), boost::test_tools::per_element());
  BOOST_TEST(f.lease_keys(1) == strings{"a"}, boost::test_tools::per_element());
  BOOST_TEST(f.lease_keys(2) == (strings{"b", "c"}), boost::test_tools::per_element());
  BOOST_TEST(f.machine->leases().find(1)->ttl_s == 5);
  BOOST_TEST(f.machine->leases().find(1)->expiry_ms == t0 + 5000);
  BOOST_TEST(f.machine->leases().find(2)->expiry_ms == t0 + 67'000);
  BOOST_TEST(f.ttl(2, t0 + 7000).grantedttl() == 60);
  BOOST_TEST(f.machine->store_view().last_stamp_ms() == t0 + 7000);
  // The timer hears of every loaded lease.
  auto changes = f.machine->take_lease_changes();
  BOOST_REQUIRE(changes.size() == 2u);
  BOOST_TEST(changes[0].id == 1);
  BOOST_TEST(changes[0].expiry_ms == t0 + 5000);
  BOOST_TEST(changes[1].expiry_ms == t0 + 67'000);
  // Expiring and revoking after the restart still deletes the attached keys.
  f.run_at(expire_cmd({1, 2}), t0 + 7000);
  BOOST_TEST(f.all_keys() == (strings{"b", "c"}), boost::test_tools::per_element());
  parse<etcdserverpb::LeaseRevokeResponse>(f.run_at(revoke_cmd(2), t0 + 7000));
  BOOST_TEST(f.all_keys().empty());
}

// AEGIS's lease timer contract (lease_table.hpp): "Changes since the last call, for the lease
// timer (in the order made)"; expiry 0: the lease no longer exists.
BOOST_AUTO_TEST_CASE(lease_changes_report_grants_renewals_and_removals) {
  fixture f;
  f.machine->take_lease_changes();
  f.grant(1, 10);
  f.grant(2, 10);
  f.run_at(renew_cmd({1, 404}), t0 + 2000);
  parse<etcdserverpb::LeaseRevokeResponse>(f.run_at(revoke_cmd(2), t0 + 2000));
  f.run_at(expire_cmd({1}), t0 + 9000);  // not due yet (t0 + 12 s): no change
  f.run_at(promote_cmd(1000), t0 + 9000);
  f.run_at(expire_cmd({1}), t0 + 13'000);
  auto changes = f.machine->take_lease_changes();
  std::vector<std::pair<int64_t, uint64_t>> got;
  for (const auto& c : changes)
    got.emplace_back(c.id, c.expiry_ms);
  const std::vector<std::pair<int64_t, uint64_t>> want = {
      {1, t0 + 10'000}, {2, t0 + 10'000}, {1, t0 + 12'000}, {2, 0}, {1, t0 + 13'000}, {1, 0}};
  BOOST_REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST(got[i].first == want[i].first);
    BOOST_TEST(got[i].second == want[i].second);
  }
  BOOST_TEST(f.machine->take_lease_changes().empty());
  // Refused grants report nothing.
  f.grant(3, 10);
  f.machine->take_lease_changes();
  f.run(grant_cmd(3, 10));
  f.run(grant_cmd(4, state::max_lease_ttl_s + 1));
  BOOST_TEST(f.machine->take_lease_changes().empty());
}

BOOST_AUTO_TEST_SUITE_END()

// ==== Events ==================================================================================

BOOST_AUTO_TEST_SUITE(events)

// rpc.proto KV.Put: "generates one event in the event history"; KV.DeleteRange: "generates a
// delete event in the event history for every deleted key"; mvccpb.Event.prev_kv: "the
// key-value pair before the event happens"; a delete's kv carries the key and the revision of the
// delete (etcd's watchable store sets "evs[i].Kv.ModRevision = rev" on a tombstone).
BOOST_AUTO_TEST_CASE(one_revision_events_entry_per_revision_with_prev_kv_and_tombstones) {
  fixture f;
  f.put("a", "1");              // 2 (a new store is at 1): create, no prev_kv
  f.put("a", "2");              // 3: prev_kv a=1
  f.put("b", "1");              // 4
  f.run(put_cmd("x", "", 99));  // refused: no event
  f.del("nothing");             // matches nothing: no event
  f.del("a", "c");              // 5: deletes a and b
  f.run(compact_cmd(2));        // no event
  f.put("a", "again");          // 6: re-created, no prev_kv
  auto evs = f.machine->take_events();
  BOOST_REQUIRE(evs.size() == 5u);
  for (size_t i = 0; i < evs.size(); ++i)
    BOOST_TEST(evs[i].revision() == static_cast<int64_t>(i + 2));
  const auto& created = evs[0].events(0);
  BOOST_TEST(created.type() == mvccpb::Event::PUT);
  BOOST_TEST(created.kv().value() == "1");
  BOOST_TEST(created.kv().version() == 1);
  BOOST_TEST(!created.has_prev_kv());
  const auto& updated = evs[1].events(0);
  BOOST_TEST(updated.kv().mod_revision() == 3);
  BOOST_TEST(updated.kv().create_revision() == 2);
  BOOST_REQUIRE(updated.has_prev_kv());
  BOOST_TEST(updated.prev_kv().value() == "1");
  BOOST_TEST(updated.prev_kv().mod_revision() == 2);
  BOOST_REQUIRE(evs[3].events_size() == 2);
  for (int i = 0; i < 2; ++i) {
    const auto& d = evs[3].events(i);
    BOOST_TEST(d.type() == mvccpb::Event::DELETE);
    BOOST_TEST(d.kv().key() == (i == 0 ? "a" : "b"));
    BOOST_TEST(d.kv().mod_revision() == 5);
    BOOST_TEST(d.kv().value().empty());
    BOOST_TEST(d.kv().version() == 0);
    BOOST_TEST(d.kv().create_revision() == 0);
    BOOST_TEST(d.prev_kv().key() == d.kv().key());
  }
  BOOST_TEST(evs[3].events(0).prev_kv().value() == "2");
  BOOST_TEST(!evs[4].events(0).has_prev_kv());
  BOOST_TEST(evs[4].events(0).kv().create_revision() == 6);
  BOOST_TEST(f.machine->take_events().empty());
  // The stored history holds the same events (for watchers starting in the past).
  std::vector<smpb::RevisionEvents> stored;
  f.machine->store_view().events_since(3, [&](const smpb::RevisionEvents& e) {
    stored.push_back(e);
    return true;
  });
  BOOST_REQUIRE(stored.size() == 4u);
  for (size_t i = 0; i < stored.size(); ++i)
    BOOST_TEST(stored[i].SerializeAsString() == evs[i + 1].SerializeAsString());
}

// rpc.proto KV.Txn: "generates events with the same revision for every completed request";
// TxnRequest: "the success requests will be processed in order".
BOOST_AUTO_TEST_CASE(a_txns_events_come_in_op_order_in_one_revision) {
  fixture f;
  f.put("t/c", "1");
  f.machine->take_events();
  f.txn_ok(txn({}, {op_put("t/b", "1"), op_put("t/a", "1"), op_range("t/"), op_del("t/c"),
                    op_txn(txn({}, {op_put("t/0", "1")})), op_put("t/b", "2")}));
  auto evs = f.machine->take_events();
  BOOST_REQUIRE(evs.size() == 1u);
  BOOST_TEST(evs[0].revision() == 3);  // t/c was 2 (a new store is at 1)
  strings order;
  for (const auto& e : evs[0].events()) {
    order.push_back((e.type() == mvccpb::Event::PUT ? "put " : "del ") + e.kv().key());
    BOOST_TEST(e.kv().mod_revision() == 3);
  }
  BOOST_TEST(order == (strings{"put t/b", "put t/a", "del t/c", "put t/0", "put t/b"}),
             boost::test_tools::per_element());
  BOOST_TEST(evs[0].events(4).kv().version() == 2);
  BOOST_TEST(evs[0].events(4).prev_kv().value() == "1");  // prev_kv: t/b from earlier in the txn
  // A read-only txn adds none.
  f.txn_ok(txn({}, {op_range("t/", "t0")}));
  BOOST_TEST(f.machine->take_events().empty());
}

// rpc.proto LeaseGrant: "Each expired key generates a delete event in the event history."
BOOST_AUTO_TEST_CASE(a_lease_revoke_produces_delete_events) {
  fixture f;
  f.grant(1, 60);
  f.put("k2", "v", 1);
  f.put("k1", "v", 1);
  f.machine->take_events();
  parse<etcdserverpb::LeaseRevokeResponse>(f.run(revoke_cmd(1)));
  auto evs = f.machine->take_events();
  BOOST_REQUIRE(evs.size() == 1u);
  BOOST_REQUIRE(evs[0].events_size() == 2);
  BOOST_TEST(evs[0].events(0).kv().key() == "k1");
  BOOST_TEST(evs[0].events(1).kv().key() == "k2");
  for (const auto& e : evs[0].events()) {
    BOOST_TEST(e.type() == mvccpb::Event::DELETE);
    BOOST_TEST(e.kv().mod_revision() == 4);  // after the puts at 2 and 3 (a new store is at 1)
    BOOST_TEST(e.prev_kv().value() == "v");
  }
}

BOOST_AUTO_TEST_SUITE_END()

// ==== Hashes ==================================================================================

BOOST_AUTO_TEST_SUITE(hashes)

// rpc.proto HashKV: "HashKV computes the hash of all MVCC keys up to a given revision." — members
// that applied the same log agree on it (etcd's corruption check compares it across members).
BOOST_AUTO_TEST_CASE(replicas_applying_the_same_entries_agree_and_one_different_entry_differs) {
  fixture a, b;
  apply_all(a, a_history());
  apply_all(b, a_history());
  BOOST_TEST(a.machine->revision() == b.machine->revision());
  BOOST_TEST(a.hash() == b.hash());
  BOOST_TEST(a.hash_kv(0) == b.hash_kv(0));
  for (int64_t rev = 3; rev <= a.machine->revision(); ++rev)  // from a_history's compaction
    BOOST_TEST(a.hash_kv(rev) == b.hash_kv(rev));
  auto hk = parse<etcdserverpb::HashKVResponse>(a.machine->hash_kv(0, term));
  BOOST_TEST(hk.compact_revision() == 3);
  BOOST_TEST(hk.header().revision() == a.machine->revision());
  // One more entry, different on each side.
  a.run_at(put_cmd("e", "1"), t0 + 10'000);
  b.run_at(put_cmd("e", "2"), t0 + 10'000);
  BOOST_TEST(a.hash() != b.hash());
  BOOST_TEST(a.hash_kv(0) != b.hash_kv(0));
  // A difference only in the lease table shows in Hash (the whole backend), not in HashKV.
  fixture c, d;
  apply_all(c, a_history());
  apply_all(d, a_history());
  c.run_at(grant_cmd(5, 10), t0 + 10'000);
  d.run_at(grant_cmd(5, 20), t0 + 10'000);
  BOOST_TEST(c.hash() != d.hash());
  BOOST_TEST(c.hash_kv(0) == d.hash_kv(0));
}

// rpc.proto HashKVRequest: "revision is the key-value store revision for the hash operation."
// — the hash up to an old revision does not change when later revisions are written.
BOOST_AUTO_TEST_CASE(hash_kv_of_an_older_revision_is_stable_after_more_writes) {
  fixture f;
  f.put("a", "1");  // rev 2 (a new store is at 1)
  f.put("b", "1");  // rev 3
  f.put("a", "2");  // rev 4
  const uint32_t at4 = f.hash_kv(4);
  const uint32_t at3 = f.hash_kv(3);
  BOOST_TEST(at4 != at3);
  BOOST_TEST(f.hash_kv(0) == at4);
  f.put("a", "3");
  f.del("b");
  f.txn_ok(txn({}, {op_put("c", "1"), op_put("a", "4")}));
  BOOST_TEST(f.hash_kv(4) == at4);
  BOOST_TEST(f.hash_kv(3) == at3);
  BOOST_TEST(f.hash_kv(0) != at4);
  expect_error(f.machine->hash_kv(8, term), call_code::out_of_range, future_msg);
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(4)));
  expect_error(f.machine->hash_kv(3, term), call_code::out_of_range, compacted_msg);
}

BOOST_AUTO_TEST_SUITE_END()

// ==== Snapshots ===============================================================================

BOOST_AUTO_TEST_SUITE(snapshots)

// rpc.proto Maintenance.Snapshot: "sends a snapshot of the entire backend"; a member restored
// from it holds the same history window, compaction point, leases and hash.
BOOST_AUTO_TEST_CASE(a_restored_snapshot_reproduces_history_compaction_leases_and_hash) {
  fixture a(5), b(5);
  apply_all(a, a_history());
  a.put("e", "1", 1);
  a.put("a", "3");
  b.grant(77, 60);  // replaced by the snapshot
  b.put("stale", "x", 77);
  b.machine->take_lease_changes();
  BOOST_REQUIRE(b.machine->restore(a.machine->snapshot_data()));
  b.machine->commit_batch(a.machine->applied_index());
  BOOST_TEST(b.machine->applied_index() == a.machine->applied_index());
  BOOST_TEST(b.machine->revision() == a.machine->revision());
  BOOST_TEST(b.machine->store_view().compact_revision() == 3);  // a_history's compaction
  BOOST_TEST(b.machine->store_view().last_stamp_ms() == a.machine->store_view().last_stamp_ms());
  BOOST_TEST(b.hash() == a.hash());
  BOOST_TEST(b.hash_kv(0) == a.hash_kv(0));
  for (int64_t rev = 3; rev <= a.machine->revision(); ++rev) {
    BOOST_TEST_CONTEXT("revision " << rev) {
      BOOST_TEST(b.range(nul, nul, rev).SerializeAsString() ==
                 a.range(nul, nul, rev).SerializeAsString());
    }
  }
  for (int64_t rev : {1, 2})
    expect_error(b.range_result("a", {}, rev), call_code::out_of_range, compacted_msg);
  BOOST_TEST(b.value_at("stale") == "<none>");
  BOOST_TEST(b.lease_ids() == std::vector<int64_t>{1}, boost::test_tools::per_element());
  BOOST_TEST(b.lease_keys(1) == (strings{"d", "e"}), boost::test_tools::per_element());
  BOOST_TEST(b.machine->leases().find(1)->expiry_ms == a.machine->leases().find(1)->expiry_ms);
  BOOST_TEST(b.machine->take_events().empty());
  // The lease timer hears that 77 is gone and 1 exists.
  bool dropped_77 = false, loaded_1 = false;
  for (const auto& c : b.machine->take_lease_changes()) {
    if (c.id == 77 && c.expiry_ms == 0) dropped_77 = true;
    if (c.id == 1 && c.expiry_ms != 0) loaded_1 = true;
  }
  BOOST_TEST(dropped_77);
  BOOST_TEST(loaded_1);
  // Both go on identically: the same entry gives the same state, a revoke deletes the keys.
  a.run_at(revoke_cmd(1), t0 + 20'000);
  b.run_at(revoke_cmd(1), t0 + 20'000);
  BOOST_TEST(b.all_keys() == a.all_keys(), boost::test_tools::per_element());
  BOOST_TEST(b.all_keys() == (strings{"a", std::string("n\0ul", 4)}),
             boost::test_tools::per_element());
  BOOST_TEST(b.hash() == a.hash());
  // And the restored state is durable.
  b.reopen();
  BOOST_TEST(b.hash() == a.hash());
  BOOST_TEST(b.machine->store_view().compact_revision() == 3);
}

BOOST_AUTO_TEST_SUITE_END()

// ==== Binary keys =============================================================================

BOOST_AUTO_TEST_SUITE(binary_keys)

// rpc.proto PutRequest.key: "key is the key, in bytes"; RangeRequest.range_end: "If range_end is
// key plus one (e.g., "aa"+1 == "ab", "a\xff"+1 == "b"), then the range request gets all keys
// prefixed with key." — keys with NUL bytes that are prefixes of each other stay separate.
BOOST_AUTO_TEST_CASE(keys_with_nul_bytes_and_shared_prefixes_keep_separate_histories) {
  fixture f;
  const std::string a = "a", a0 = std::string("a\0", 2), a0b = std::string("a\0b", 3), ab = "ab";
  f.put(a0b, "a0b@2");  // 2 (a new store is at 1)
  f.put(a, "a@3");      // 3
  f.put(ab, "ab@4");    // 4
  f.put(a0, "a0@5");    // 5
  f.put(a, "a@6");      // 6
  f.put(a0b, "a0b@7");  // 7
  f.del(a0);            // 8
  f.put(a0, "a0@9");    // 9
  f.del(ab);            // 10
  const std::vector<std::pair<int64_t, strings>> expected = {
      // revision -> values of a, a0, a0b, ab
      {1, {"<none>", "<none>", "<none>", "<none>"}}, {2, {"<none>", "<none>", "a0b@2", "<none>"}},
      {3, {"a@3", "<none>", "a0b@2", "<none>"}},     {4, {"a@3", "<none>", "a0b@2", "ab@4"}},
      {5, {"a@3", "a0@5", "a0b@2", "ab@4"}},         {6, {"a@6", "a0@5", "a0b@2", "ab@4"}},
      {7, {"a@6", "a0@5", "a0b@7", "ab@4"}},         {8, {"a@6", "<none>", "a0b@7", "ab@4"}},
      {9, {"a@6", "a0@9", "a0b@7", "ab@4"}},         {10, {"a@6", "a0@9", "a0b@7", "<none>"}},
  };
  auto check_history = [&](int64_t from) {
    for (const auto& [rev, values] : expected) {
      if (rev < from) continue;
      BOOST_TEST_CONTEXT("revision " << rev) {
        BOOST_TEST(f.value_at(a, rev) == values[0]);
        BOOST_TEST(f.value_at(a0, rev) == values[1]);
        BOOST_TEST(f.value_at(a0b, rev) == values[2]);
        BOOST_TEST(f.value_at(ab, rev) == values[3]);
        strings live;
        for (const auto& v : values)
          if (v != "<none>") live.push_back(v);
        strings got;
        const auto all = f.range(nul, nul, rev);
        for (const auto& kv : all.kvs())
          got.push_back(kv.value());
        BOOST_TEST(got == live, boost::test_tools::per_element());  // key order: a, a\0, a\0b, ab
      }
    }
  };
  check_history(1);
  BOOST_TEST(f.range(a0).kvs(0).version() == 1);  // re-created at 9
  BOOST_TEST(f.range(a0b).kvs(0).version() == 2);
  BOOST_TEST(f.range(a).kvs(0).version() == 2);
  // Prefix "a\0" (range_end "a\x01"): a\0 and a\0b, not a or ab, now and in the past.
  const std::string a0_end = std::string("a\x01", 2);
  BOOST_TEST(keys_of(f.range(a0, a0_end)) == (strings{a0, a0b}), boost::test_tools::per_element());
  BOOST_TEST(keys_of(f.range(a0, a0_end, 4)) == strings{a0b}, boost::test_tools::per_element());
  BOOST_TEST(keys_of(f.range(a0, a0_end, 8)) == strings{a0b}, boost::test_tools::per_element());
  BOOST_TEST(keys_of(f.range(a0, a0_end, 7)) == (strings{a0, a0b}),
             boost::test_tools::per_element());
  // Prefix "a" (range_end "b"): all four; [a, a\0) holds only a.
  BOOST_TEST(keys_of(f.range(a, "b", 5)) == (strings{a, a0, a0b, ab}),
             boost::test_tools::per_element());
  BOOST_TEST(keys_of(f.range(a, a0, 7)) == strings{a}, boost::test_tools::per_element());
  BOOST_TEST(keys_of(f.range(a, a0)) == strings{a}, boost::test_tools::per_element());
  // Compares and deletes address the exact key.
  BOOST_TEST(f.holds({cmp(a0, C::VERSION, C::EQUAL, 1)}));
  BOOST_TEST(f.holds({cmp(std::string("a\0\0", 3), C::VERSION, C::EQUAL, 0)}));
  // Compaction keeps each key's own newest version.
  parse<etcdserverpb::CompactionResponse>(f.run(compact_cmd(7)));
  check_history(7);
  f.del(a0, a0_end);  // 11: a\0 and a\0b
  BOOST_TEST(f.all_keys() == strings{a}, boost::test_tools::per_element());
  BOOST_TEST(f.all_keys(10) == (strings{a, a0, a0b}), boost::test_tools::per_element());
  f.reopen();
  check_history(7);
}

BOOST_AUTO_TEST_SUITE_END()
