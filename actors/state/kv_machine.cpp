#include "actors/state/kv_machine.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include "protocol/command.pb.h"
#include "protocol/etcd/rpc.pb.h"

namespace aegis::state {

using node::call_code;
using node::call_result;

namespace {

// The end of etcd's "prefix" and "from key" ranges: range_end "\0" means no upper bound.
bool unbounded(const std::string& range_end) {
  return range_end == std::string(1, '\0');
}

// Calls fn(key, value) for every record in etcd's [key, range_end) (range_end empty: the key
// alone; "\0": no upper bound; key "\0" with it: everything), in key order.
void for_each_in_range(const persistence::kv_store& store, const std::string& key,
                       const std::string& range_end,
                       const std::function<bool(const std::string&, const std::string&)>& fn) {
  if (range_end.empty()) {
    if (auto v = store.get(key)) fn(key, *v);
    return;
  }
  const bool all = key == std::string(1, '\0');
  store.scan(all ? std::string() : key, unbounded(range_end) ? "" : range_end, fn);
}

call_result ok_response(const google::protobuf::Message& m) {
  call_result r;
  r.response = m.SerializeAsString();
  return r;
}

}  // namespace

void kv_machine::fill_header(etcdserverpb::ResponseHeader& h, uint64_t term) const {
  h.set_cluster_id(cluster_id_);
  h.set_member_id(member_id_);
  h.set_revision(revision_);
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
  if (cmd.has_put()) return apply_put(cmd.put(), term);
  if (cmd.has_delete_range()) return apply_delete(cmd.delete_range(), term);
  return call_result::error(call_code::internal, "aegis: unknown command in the log");
}

// A DeleteRange as etcd applies it: every key in the range goes in one new revision (none if
// nothing matched); a later put of a deleted key starts again at version 1.
call_result kv_machine::apply_delete(const etcdserverpb::DeleteRangeRequest& del, uint64_t term) {
  std::vector<mvccpb::KeyValue> gone;
  auto take = [&](const std::string&, const std::string& value) {
    if (!gone.emplace_back().ParseFromString(value)) gone.pop_back();
    return true;
  };
  for_each_in_range(store_, del.key(), del.range_end(), take);
  if (!gone.empty()) ++revision_;
  etcdserverpb::DeleteRangeResponse resp;
  for (auto& kv : gone) {
    store_.erase(kv.key());
    if (del.prev_kv()) *resp.add_prev_kvs() = std::move(kv);
  }
  fill_header(*resp.mutable_header(), term);
  resp.set_deleted(static_cast<int64_t>(gone.size()));
  return ok_response(resp);
}

// A Put as etcd applies it: one new revision; create_revision kept for an existing key; version
// counts puts since creation. Refusals change nothing, identically on every replica.
call_result kv_machine::apply_put(const etcdserverpb::PutRequest& put, uint64_t term) {
  mvccpb::KeyValue prev;
  const auto stored = store_.get(put.key());
  const bool exists = stored && prev.ParseFromString(*stored);
  if ((put.ignore_value() || put.ignore_lease()) && !exists)
    return call_result::error(call_code::invalid_argument, "etcdserver: key not found");
  if (put.lease() != 0 && !put.ignore_lease())
    return call_result::error(call_code::not_found, "etcdserver: requested lease not found");
  ++revision_;
  mvccpb::KeyValue kv;
  kv.set_key(put.key());
  kv.set_value(put.ignore_value() ? prev.value() : put.value());
  kv.set_create_revision(exists ? prev.create_revision() : revision_);
  kv.set_mod_revision(revision_);
  kv.set_version(exists ? prev.version() + 1 : 1);
  kv.set_lease(put.ignore_lease() ? prev.lease() : put.lease());
  store_.put(put.key(), kv.SerializeAsString());
  etcdserverpb::PutResponse resp;
  fill_header(*resp.mutable_header(), term);
  if (put.prev_kv() && exists) *resp.mutable_prev_kv() = std::move(prev);
  return ok_response(resp);
}

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
  if (r.sort_order() == RR::NONE) return;  // key order, as stored
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
    return r.sort_order() == RR::DESCEND ? field(b) < field(a) : field(a) < field(b);
  });
}

}  // namespace

call_result kv_machine::range(const etcdserverpb::RangeRequest& r, uint64_t term) const {
  if (r.revision() > revision_)
    return call_result::error(call_code::out_of_range,
                              "etcdserver: mvcc: required revision is a future revision");
  if (r.revision() > 0 && r.revision() < revision_)
    return call_result::error(call_code::out_of_range,
                              "etcdserver: mvcc: required revision has been compacted");
  std::vector<mvccpb::KeyValue> kvs;
  int64_t count = 0;
  auto take = [&](const std::string&, const std::string& value) {
    mvccpb::KeyValue kv;
    if (!kv.ParseFromString(value) || !passes_filters(r, kv)) return true;
    ++count;
    if (!r.count_only()) kvs.push_back(std::move(kv));
    return true;
  };
  for_each_in_range(store_, r.key(), r.range_end(), take);
  sort_kvs(r, kvs);
  etcdserverpb::RangeResponse resp;
  fill_header(*resp.mutable_header(), term);
  resp.set_count(count);
  const size_t limit = r.limit() > 0 ? static_cast<size_t>(r.limit()) : kvs.size();
  resp.set_more(kvs.size() > limit);
  for (size_t i = 0; i < kvs.size() && i < limit; ++i) {
    if (r.keys_only()) kvs[i].clear_value();
    *resp.add_kvs() = std::move(kvs[i]);
  }
  return ok_response(resp);
}

std::string kv_machine::snapshot_data() const {
  aegis::smpb::Snapshot snap;
  snap.set_revision(revision_);
  store_.scan("", "", [&](const std::string&, const std::string& value) {
    return snap.add_kvs()->ParseFromString(value);
  });
  return snap.SerializeAsString();
}

bool kv_machine::restore(const std::string& data) {
  aegis::smpb::Snapshot snap;
  if (!snap.ParseFromString(data)) return false;
  store_.erase_all();
  for (const auto& kv : snap.kvs())
    store_.put(kv.key(), kv.SerializeAsString());
  revision_ = snap.revision();
  return true;
}

}  // namespace aegis::state
