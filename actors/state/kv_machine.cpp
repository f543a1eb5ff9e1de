#include "actors/state/kv_machine.hpp"

#include <algorithm>
#include <vector>

#include "protocol/command.pb.h"
#include "protocol/etcd/rpc.pb.h"

namespace aegis::state {

using node::call_code;
using node::call_result;

namespace {

call_result ok_response(const google::protobuf::Message& m) {
  call_result r;
  r.response = m.SerializeAsString();
  return r;
}

call_result lease_not_found() {
  return call_result::error(call_code::not_found, "etcdserver: requested lease not found");
}

call_result compacted() {
  return call_result::error(call_code::out_of_range,
                            "etcdserver: mvcc: required revision has been compacted");
}

call_result future_revision() {
  return call_result::error(call_code::out_of_range,
                            "etcdserver: mvcc: required revision is a future revision");
}

}  // namespace

// Which branch each transaction (and each nested one, in pre-order) takes. As etcd does, every
// branch is chosen against the state before the transaction runs.
struct kv_machine::txn_path {
  std::vector<bool> succeeded;
  size_t next = 0;
};

kv_machine::kv_machine(persistence::kv_store& store, uint64_t cluster_id, uint64_t member_id,
                       int64_t min_lease_ttl_s)
    : store_(store),
      kv_(store),
      leases_(store, kv_),
      cluster_id_(cluster_id),
      member_id_(member_id),
      min_lease_ttl_s_(min_lease_ttl_s) {}

void kv_machine::fill_header(etcdserverpb::ResponseHeader& h, uint64_t term) const {
  h.set_cluster_id(cluster_id_);
  h.set_member_id(member_id_);
  h.set_revision(kv_.revision());
  h.set_raft_term(term);
}

call_result kv_machine::apply(const raft::entry& e, uint64_t term) {
  if (e.type != raft::entry_type::command) return {};
  return apply_command(e.data, term);
}

call_result kv_machine::apply_command(const std::string& envelope, uint64_t term) {
  aegis::smpb::Envelope env;
  aegis::smpb::Command cmd;
  if (!env.ParseFromString(envelope) || !cmd.ParseFromString(env.command()))
    return call_result::error(call_code::internal, "aegis: undecodable command in the log");
  stamp_ms_ = std::max(kv_.last_stamp_ms(), env.stamp_unix_ms());
  kv_.set_last_stamp_ms(stamp_ms_);
  using C = aegis::smpb::Command;
  switch (cmd.op_case()) {
    case C::kPut:
      return apply_put(cmd.put(), term);
    case C::kDeleteRange:
      return apply_delete(cmd.delete_range(), term);
    case C::kTxn:
      return apply_txn(cmd.txn(), term);
    case C::kCompaction:
      return apply_compact(cmd.compaction(), term);
    case C::kLeaseGrant:
      return apply_lease_grant(cmd.lease_grant(), term);
    case C::kLeaseRevoke:
      return apply_lease_revoke(cmd.lease_revoke(), term);
    case C::kLeaseRenew:
      return apply_lease_renew(cmd.lease_renew(), term);
    case C::kLeaseExpire:
      return apply_lease_expire(cmd.lease_expire(), term);
    case C::kLeasePromote:
      leases_.extend_all(stamp_ms_, cmd.lease_promote().gap_ms());
      return {};
    default:
      return call_result::error(call_code::internal, "aegis: unknown command in the log");
  }
}

void kv_machine::end_command() {
  auto evs = kv_.end_command();
  if (evs.events_size() > 0) events_.push_back(std::move(evs));
}

std::vector<aegis::smpb::RevisionEvents> kv_machine::take_events() {
  std::vector<aegis::smpb::RevisionEvents> out;
  out.swap(events_);
  return out;
}

// ---- Put, DeleteRange ------------------------------------------------------------------------

call_result kv_machine::check_put(const etcdserverpb::PutRequest& put) const {
  if ((put.ignore_value() || put.ignore_lease()) && !kv_.get(put.key()))
    return call_result::error(call_code::invalid_argument, "etcdserver: key not found");
  if (put.lease() != 0 && !put.ignore_lease() && !leases_.find(put.lease()))
    return lease_not_found();
  return {};
}

void kv_machine::do_put(const etcdserverpb::PutRequest& put, etcdserverpb::PutResponse& resp) {
  auto prev = kv_.get(put.key());
  const int64_t old_lease = prev ? prev->lease() : 0;
  const int64_t lease = put.ignore_lease() ? old_lease : put.lease();
  kv_.put(put.key(), put.ignore_value() && prev ? prev->value() : put.value(), lease);
  leases_.attach(put.key(), old_lease, lease);
  if (put.prev_kv() && prev) *resp.mutable_prev_kv() = std::move(*prev);
}

// A Put as etcd applies it: one new revision; create_revision kept for an existing key; version
// counts puts since creation. Refusals change nothing, identically on every replica.
call_result kv_machine::apply_put(const etcdserverpb::PutRequest& put, uint64_t term) {
  if (auto bad = check_put(put); bad.code != call_code::ok) return bad;
  etcdserverpb::PutResponse resp;
  do_put(put, resp);
  end_command();
  fill_header(*resp.mutable_header(), term);
  return ok_response(resp);
}

void kv_machine::remove_key(const std::string& key) {
  if (auto prev = kv_.remove(key)) leases_.detach(key, prev->lease());
}

void kv_machine::do_delete(const etcdserverpb::DeleteRangeRequest& del,
                           etcdserverpb::DeleteRangeResponse& resp) {
  std::vector<mvccpb::KeyValue> gone;
  kv_.for_each(key_range{del.key(), del.range_end()}, 0, [&](const mvccpb::KeyValue& kv) {
    gone.push_back(kv);
    return true;
  });
  for (auto& kv : gone) {
    remove_key(kv.key());
    if (del.prev_kv()) *resp.add_prev_kvs() = std::move(kv);
  }
  resp.set_deleted(static_cast<int64_t>(gone.size()));
}

// Every key in the range goes in one new revision (none if nothing matched); a later put of a
// deleted key starts again at version 1.
call_result kv_machine::apply_delete(const etcdserverpb::DeleteRangeRequest& del, uint64_t term) {
  etcdserverpb::DeleteRangeResponse resp;
  do_delete(del, resp);
  end_command();
  fill_header(*resp.mutable_header(), term);
  return ok_response(resp);
}

// ---- Range -----------------------------------------------------------------------------------

namespace {

bool passes_filters(const etcdserverpb::RangeRequest& r, const mvccpb::KeyValue& kv) {
  if (r.min_mod_revision() > 0 && kv.mod_revision() < r.min_mod_revision()) return false;
  if (r.max_mod_revision() > 0 && kv.mod_revision() > r.max_mod_revision()) return false;
  if (r.min_create_revision() > 0 && kv.create_revision() < r.min_create_revision()) return false;
  if (r.max_create_revision() > 0 && kv.create_revision() > r.max_create_revision()) return false;
  return true;
}

void sort_kvs(const etcdserverpb::RangeRequest& r, std::vector<mvccpb::KeyValue>& kvs) {
  using RR = etcdserverpb::RangeRequest;
  // etcd: a sort target other than KEY with no order given sorts ascending.
  auto order = r.sort_order();
  if (order == RR::NONE && r.sort_target() != RR::KEY) order = RR::ASCEND;
  if (order == RR::NONE || (order == RR::ASCEND && r.sort_target() == RR::KEY)) return;
  auto field = [&](const mvccpb::KeyValue& kv) -> std::pair<int64_t, std::string> {
    switch (r.sort_target()) {
      case RR::VERSION:
        return {kv.version(), {}};
      case RR::CREATE:
        return {kv.create_revision(), {}};
      case RR::MOD:
        return {kv.mod_revision(), {}};
      case RR::VALUE:
        return {0, kv.value()};
      default:
        return {0, kv.key()};
    }
  };
  std::stable_sort(kvs.begin(), kvs.end(), [&](const auto& a, const auto& b) {
    return order == RR::DESCEND ? field(b) < field(a) : field(a) < field(b);
  });
}

}  // namespace

call_result kv_machine::check_range(const etcdserverpb::RangeRequest& r) const {
  if (r.revision() > kv_.revision()) return future_revision();
  if (r.revision() > 0 && r.revision() < kv_.compact_revision()) return compacted();
  return {};
}

void kv_machine::range_into(const etcdserverpb::RangeRequest& r,
                            etcdserverpb::RangeResponse& resp) const {
  std::vector<mvccpb::KeyValue> kvs;
  int64_t count = 0;
  kv_.for_each(key_range{r.key(), r.range_end()}, r.revision(), [&](const mvccpb::KeyValue& kv) {
    if (!passes_filters(r, kv)) return true;
    ++count;
    if (!r.count_only()) kvs.push_back(kv);
    return true;
  });
  sort_kvs(r, kvs);
  resp.set_count(count);
  const size_t limit = r.limit() > 0 ? static_cast<size_t>(r.limit()) : kvs.size();
  resp.set_more(kvs.size() > limit);
  for (size_t i = 0; i < kvs.size() && i < limit; ++i) {
    if (r.keys_only()) kvs[i].clear_value();
    *resp.add_kvs() = std::move(kvs[i]);
  }
}

call_result kv_machine::range(const etcdserverpb::RangeRequest& r, uint64_t term) const {
  if (auto bad = check_range(r); bad.code != call_code::ok) return bad;
  etcdserverpb::RangeResponse resp;
  range_into(r, resp);
  fill_header(*resp.mutable_header(), term);
  return ok_response(resp);
}

// ---- Txn -------------------------------------------------------------------------------------

namespace {

template <class T>
bool compare_values(etcdserverpb::Compare::CompareResult op, const T& have, const T& want) {
  using C = etcdserverpb::Compare;
  switch (op) {
    case C::EQUAL:
      return have == want;
    case C::NOT_EQUAL:
      return have != want;
    case C::GREATER:
      return have > want;
    case C::LESS:
      return have < want;
    default:
      return false;
  }
}

// One compare against one key's record (a missing key compares as an empty record, except on
// its value, which a missing key never matches: etcd's rule).
bool compare_kv(const etcdserverpb::Compare& c, const mvccpb::KeyValue& kv) {
  using C = etcdserverpb::Compare;
  switch (c.target()) {
    case C::VERSION:
      return compare_values(c.result(), kv.version(), c.version());
    case C::CREATE:
      return compare_values(c.result(), kv.create_revision(), c.create_revision());
    case C::MOD:
      return compare_values(c.result(), kv.mod_revision(), c.mod_revision());
    case C::VALUE:
      return compare_values(c.result(), kv.value(), c.value());
    case C::LEASE:
      return compare_values(c.result(), kv.lease(), c.lease());
    default:
      return false;
  }
}

}  // namespace

bool kv_machine::compares_hold(const etcdserverpb::TxnRequest& txn) const {
  for (const auto& c : txn.compare()) {
    std::vector<mvccpb::KeyValue> kvs;
    kv_.for_each(key_range{c.key(), c.range_end()}, 0, [&](const mvccpb::KeyValue& kv) {
      kvs.push_back(kv);
      return true;
    });
    if (kvs.empty()) {
      if (c.target() == etcdserverpb::Compare::VALUE || !compare_kv(c, mvccpb::KeyValue{}))
        return false;
      continue;
    }
    for (const auto& kv : kvs)
      if (!compare_kv(c, kv)) return false;
  }
  return true;
}

void kv_machine::choose_path(const etcdserverpb::TxnRequest& txn, txn_path& path) const {
  const bool ok = compares_hold(txn);
  path.succeeded.push_back(ok);
  for (const auto& op : ok ? txn.success() : txn.failure())
    if (op.has_request_txn()) choose_path(op.request_txn(), path);
}

call_result kv_machine::check_txn(const etcdserverpb::TxnRequest& txn, txn_path& path) const {
  const bool ok = path.succeeded[path.next++];
  for (const auto& op : ok ? txn.success() : txn.failure()) {
    call_result bad;
    if (op.has_request_put()) bad = check_put(op.request_put());
    if (op.has_request_range()) bad = check_range(op.request_range());
    if (op.has_request_txn()) bad = check_txn(op.request_txn(), path);
    if (bad.code != call_code::ok) return bad;
  }
  return {};
}

void kv_machine::do_txn(const etcdserverpb::TxnRequest& txn, txn_path& path,
                        etcdserverpb::TxnResponse& resp, uint64_t term) {
  const bool ok = path.succeeded[path.next++];
  resp.set_succeeded(ok);
  for (const auto& op : ok ? txn.success() : txn.failure()) {
    auto* out = resp.add_responses();
    if (op.has_request_range()) {
      range_into(op.request_range(), *out->mutable_response_range());
    } else if (op.has_request_put()) {
      do_put(op.request_put(), *out->mutable_response_put());
    } else if (op.has_request_delete_range()) {
      do_delete(op.request_delete_range(), *out->mutable_response_delete_range());
    } else if (op.has_request_txn()) {
      do_txn(op.request_txn(), path, *out->mutable_response_txn(), term);
    }
  }
}

namespace {

// Sets the headers of a transaction's answer once its revision is known: the full header on the
// outer response, and (as etcd) only the revision on the responses inside it.
void fill_headers(etcdserverpb::TxnResponse& resp, const etcdserverpb::ResponseHeader& h,
                  bool outer = true) {
  if (outer)
    *resp.mutable_header() = h;
  else
    resp.mutable_header()->set_revision(h.revision());
  for (auto& op : *resp.mutable_responses()) {
    if (op.has_response_range())
      op.mutable_response_range()->mutable_header()->set_revision(h.revision());
    if (op.has_response_put())
      op.mutable_response_put()->mutable_header()->set_revision(h.revision());
    if (op.has_response_delete_range())
      op.mutable_response_delete_range()->mutable_header()->set_revision(h.revision());
    if (op.has_response_txn()) fill_headers(*op.mutable_response_txn(), h, false);
  }
}

}  // namespace

// A transaction as etcd applies it: branches chosen first, the whole chosen path checked, then
// run in order; all its writes share one new revision (none if it wrote nothing), and its reads
// see its earlier writes.
call_result kv_machine::apply_txn(const etcdserverpb::TxnRequest& txn, uint64_t term) {
  txn_path path;
  choose_path(txn, path);
  if (auto bad = check_txn(txn, path); bad.code != call_code::ok) return bad;
  path.next = 0;
  etcdserverpb::TxnResponse resp;
  do_txn(txn, path, resp, term);
  end_command();
  etcdserverpb::ResponseHeader h;
  fill_header(h, term);
  fill_headers(resp, h);
  return ok_response(resp);
}

void kv_machine::read_txn_into(const etcdserverpb::TxnRequest& txn, txn_path& path,
                               etcdserverpb::TxnResponse& resp) const {
  const bool ok = path.succeeded[path.next++];
  resp.set_succeeded(ok);
  for (const auto& op : ok ? txn.success() : txn.failure()) {
    auto* out = resp.add_responses();
    if (op.has_request_range()) range_into(op.request_range(), *out->mutable_response_range());
    if (op.has_request_txn()) read_txn_into(op.request_txn(), path, *out->mutable_response_txn());
  }
}

call_result kv_machine::read_txn(const etcdserverpb::TxnRequest& txn, uint64_t term) const {
  txn_path path;
  choose_path(txn, path);
  if (auto bad = check_txn(txn, path); bad.code != call_code::ok) return bad;
  path.next = 0;
  etcdserverpb::TxnResponse resp;
  read_txn_into(txn, path, resp);
  etcdserverpb::ResponseHeader h;
  fill_header(h, term);
  fill_headers(resp, h);
  return ok_response(resp);
}

// ---- Compact, hashes -------------------------------------------------------------------------

call_result kv_machine::apply_compact(const etcdserverpb::CompactionRequest& c, uint64_t term) {
  // etcd's compactMainRev starts at -1: on a store never compacted, compacting to 0 is a no-op.
  const int64_t compacted_to = kv_.compact_revision() == 0 ? -1 : kv_.compact_revision();
  if (c.revision() <= compacted_to) return compacted();
  if (c.revision() > kv_.revision()) return future_revision();
  kv_.compact(c.revision());
  etcdserverpb::CompactionResponse resp;
  fill_header(*resp.mutable_header(), term);
  return ok_response(resp);
}

call_result kv_machine::hash_kv(int64_t rev, uint64_t term) const {
  if (rev > kv_.revision()) return future_revision();
  if (rev > 0 && rev < kv_.compact_revision()) return compacted();
  etcdserverpb::HashKVResponse resp;
  fill_header(*resp.mutable_header(), term);
  resp.set_hash(kv_.hash_kv(rev));
  resp.set_compact_revision(kv_.compact_revision() == 0 ? -1 : kv_.compact_revision());  // etcd
  return ok_response(resp);
}

call_result kv_machine::hash(uint64_t term) const {
  etcdserverpb::HashResponse resp;
  fill_header(*resp.mutable_header(), term);
  resp.set_hash(kv_.hash_all());
  return ok_response(resp);
}

// ---- Leases ----------------------------------------------------------------------------------

call_result kv_machine::apply_lease_grant(const etcdserverpb::LeaseGrantRequest& g, uint64_t term) {
  if (g.id() <= 0)
    return call_result::error(call_code::internal, "aegis: lease grant without an id in the log");
  // etcd's lessor.Grant checks the TTL before the ID, so a too large TTL wins over a taken ID.
  if (g.ttl() > max_lease_ttl_s)
    return call_result::error(call_code::out_of_range, "etcdserver: too large lease TTL");
  if (leases_.find(g.id()))
    return call_result::error(call_code::failed_precondition, "etcdserver: lease already exists");
  const int64_t ttl = std::max(g.ttl(), min_lease_ttl_s_);
  leases_.grant(g.id(), ttl, g.ttl(), stamp_ms_ + static_cast<uint64_t>(ttl) * 1000);
  ++stats_.leases_granted;
  etcdserverpb::LeaseGrantResponse resp;
  fill_header(*resp.mutable_header(), term);
  resp.set_id(g.id());
  resp.set_ttl(ttl);
  return ok_response(resp);
}

// Deletes the lease's keys in one revision (none if it had no keys), then the lease.
void kv_machine::revoke(int64_t id) {
  for (const auto& key : leases_.remove(id))
    kv_.remove(key);
  end_command();
}

call_result kv_machine::apply_lease_revoke(const etcdserverpb::LeaseRevokeRequest& r,
                                           uint64_t term) {
  if (!leases_.find(r.id())) return lease_not_found();
  revoke(r.id());
  etcdserverpb::LeaseRevokeResponse resp;
  fill_header(*resp.mutable_header(), term);
  return ok_response(resp);
}

call_result kv_machine::apply_lease_renew(const aegis::smpb::LeaseRenew& r, uint64_t term) {
  aegis::smpb::LeaseRenewResponse resp;
  fill_header(*resp.mutable_header(), term);
  for (int64_t id : r.ids()) {
    // As etcd: a lease already past its expiry cannot be renewed (its LeaseExpire is on its way).
    const lease* l = leases_.find(id);
    const bool live = l && l->expiry_ms > stamp_ms_;
    resp.add_ttls(live ? l->ttl_s : 0);
    if (live) leases_.set_expiry(id, stamp_ms_ + static_cast<uint64_t>(l->ttl_s) * 1000);
  }
  return ok_response(resp);
}

// Each lease is revoked in its own revision, as etcd's lessor revokes them one by one.
call_result kv_machine::apply_lease_expire(const aegis::smpb::LeaseExpire& x, uint64_t) {
  for (int64_t id : x.ids()) {
    const lease* l = leases_.find(id);
    if (l && l->expiry_ms <= stamp_ms_) {
      revoke(id);
      ++stats_.leases_expired;
    }
  }
  return {};
}

// etcd answers for a lease that is gone (expired or never granted) with TTL -1, not an error.
call_result kv_machine::lease_time_to_live(const etcdserverpb::LeaseTimeToLiveRequest& r,
                                           uint64_t now_ms, uint64_t term) const {
  etcdserverpb::LeaseTimeToLiveResponse resp;
  fill_header(*resp.mutable_header(), term);
  resp.set_id(r.id());
  const lease* l = leases_.find(r.id());
  if (!l) {
    resp.set_ttl(-1);
    return ok_response(resp);
  }
  const uint64_t left_ms = l->expiry_ms > now_ms ? l->expiry_ms - now_ms : 0;
  resp.set_ttl(static_cast<int64_t>(left_ms / 1000));  // whole seconds left, as etcd truncates
  resp.set_grantedttl(l->ttl_s);  // as etcd: the TTL in force, after raising to the minimum
  if (r.keys())
    for (const auto& k : l->keys)
      resp.add_keys(k);
  return ok_response(resp);
}

call_result kv_machine::lease_leases(uint64_t term) const {
  etcdserverpb::LeaseLeasesResponse resp;
  fill_header(*resp.mutable_header(), term);
  for (const auto& [id, l] : leases_.all())
    resp.add_leases()->set_id(id);
  return ok_response(resp);
}

// ---- Snapshots -------------------------------------------------------------------------------

std::string kv_machine::snapshot_data() const {
  aegis::smpb::Snapshot snap;
  kv_.snapshot_into(snap);
  return snap.SerializeAsString();
}

bool kv_machine::restore(const std::string& data) {
  aegis::smpb::Snapshot snap;
  if (!snap.ParseFromString(data)) return false;
  kv_.restore(snap);
  leases_.reload(kv_);
  events_.clear();
  return true;
}

}  // namespace aegis::state
