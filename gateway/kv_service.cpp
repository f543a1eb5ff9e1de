// etcdserverpb.KV: requests are checked here the way etcd checks them (same codes and messages),
// so a bad request is refused before it reaches the log and changes nothing.
#include <set>

#include "gateway/reply.hpp"
#include "gateway/services.hpp"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::gateway {

namespace {

using grpc::StatusCode;

// etcd's default --max-txn-ops.
constexpr int max_txn_ops = 128;

struct refusal {
  StatusCode code = StatusCode::OK;
  std::string message;
  bool ok() const { return code == StatusCode::OK; }
};

refusal invalid(std::string m) {
  return {StatusCode::INVALID_ARGUMENT, std::move(m)};
}

refusal check_put(const etcdserverpb::PutRequest& r) {
  if (r.key().empty()) return invalid("etcdserver: key is not provided");
  if (r.ignore_value() && !r.value().empty()) return invalid("etcdserver: value is provided");
  if (r.ignore_lease() && r.lease() != 0) return invalid("etcdserver: lease is provided");
  return {};
}

refusal check_key(const std::string& key) {
  if (key.empty()) return invalid("etcdserver: key is not provided");
  return {};
}

// The keys a branch writes: puts must not repeat a key or fall in a range the branch deletes
// (etcd: "duplicate key given in txn request").
struct branch_writes {
  std::set<std::string> puts;
  std::vector<std::pair<std::string, std::string>> deletes;  // key, range_end
};

bool in_delete(const branch_writes& w, const std::string& key) {
  for (const auto& [k, end] : w.deletes) {
    if (end.empty() ? key == k : (key >= k && (end == std::string(1, '\0') || key < end)))
      return true;
  }
  return false;
}

refusal check_txn(const etcdserverpb::TxnRequest& t, branch_writes* outer);

refusal check_branch(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops,
                     branch_writes& w) {
  for (const auto& op : ops) {
    refusal bad;
    if (op.has_request_range()) bad = check_key(op.request_range().key());
    if (op.has_request_delete_range()) {
      bad = check_key(op.request_delete_range().key());
      w.deletes.emplace_back(op.request_delete_range().key(),
                             op.request_delete_range().range_end());
    }
    if (op.has_request_put()) {
      bad = check_put(op.request_put());
      if (bad.ok() && !w.puts.insert(op.request_put().key()).second)
        bad = invalid("etcdserver: duplicate key given in txn request");
    }
    if (op.has_request_txn()) bad = check_txn(op.request_txn(), &w);
    if (!bad.ok()) return bad;
  }
  for (const auto& key : w.puts)
    if (in_delete(w, key)) return invalid("etcdserver: duplicate key given in txn request");
  return {};
}

refusal check_txn(const etcdserverpb::TxnRequest& t, branch_writes* outer) {
  if (t.compare_size() > max_txn_ops || t.success_size() > max_txn_ops ||
      t.failure_size() > max_txn_ops)
    return invalid("etcdserver: too many operations in txn request");
  for (const auto& c : t.compare())
    if (auto bad = check_key(c.key()); !bad.ok()) return bad;
  for (const auto* branch : {&t.success(), &t.failure()}) {
    branch_writes w = outer ? *outer : branch_writes{};
    if (auto bad = check_branch(*branch, w); !bad.ok()) return bad;
  }
  return {};
}

// etcd serves a transaction that writes nothing as a read; it is serializable when every range
// in it is.
bool writes(const etcdserverpb::TxnRequest& t, bool& serializable) {
  for (const auto* branch : {&t.success(), &t.failure()})
    for (const auto& op : *branch) {
      if (op.has_request_put() || op.has_request_delete_range()) return true;
      if (op.has_request_range() && !op.request_range().serializable()) serializable = false;
      if (op.has_request_txn() && writes(op.request_txn(), serializable)) return true;
    }
  return false;
}

class kv_service final : public etcdserverpb::KV::CallbackService {
 public:
  kv_service(node::consensus_actor consensus, uint32_t max_request_bytes)
      : consensus_(std::move(consensus)), max_request_bytes_(max_request_bytes) {}

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::PutRequest* req,
                                etcdserverpb::PutResponse* resp) override {
    aegis::smpb::Command cmd;
    *cmd.mutable_put() = *req;
    return write(ctx, check_put(*req), cmd, resp);
  }

  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::DeleteRangeRequest* req,
                                        etcdserverpb::DeleteRangeResponse* resp) override {
    aegis::smpb::Command cmd;
    *cmd.mutable_delete_range() = *req;
    return write(ctx, check_key(req->key()), cmd, resp);
  }

  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::TxnRequest* req,
                                etcdserverpb::TxnResponse* resp) override {
    const refusal bad = check_txn(*req, nullptr);
    bool serializable = true;
    if (bad.ok() && !writes(*req, serializable))
      return read(ctx, consensus_, node::read_kind::txn, serializable, *req, resp);
    aegis::smpb::Command cmd;
    *cmd.mutable_txn() = *req;
    return write(ctx, bad, cmd, resp);
  }

  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* ctx,
                                    const etcdserverpb::CompactionRequest* req,
                                    etcdserverpb::CompactionResponse* resp) override {
    aegis::smpb::Command cmd;
    *cmd.mutable_compaction() = *req;
    return write(ctx, {}, cmd, resp);
  }

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::RangeRequest* req,
                                  etcdserverpb::RangeResponse* resp) override {
    if (auto bad = check_key(req->key()); !bad.ok()) return refuse(ctx, bad.code, bad.message);
    return read(ctx, consensus_, node::read_kind::range, req->serializable(), *req, resp);
  }

 private:
  template <class Response>
  grpc::ServerUnaryReactor* write(grpc::CallbackServerContext* ctx, const refusal& bad,
                                  const aegis::smpb::Command& cmd, Response* resp) {
    if (!bad.ok()) return refuse(ctx, bad.code, bad.message);
    if (cmd.ByteSizeLong() > max_request_bytes_)
      return refuse(ctx, StatusCode::INVALID_ARGUMENT, "etcdserver: request is too large");
    return propose(ctx, consensus_, cmd, resp);
  }

  node::consensus_actor consensus_;
  uint32_t max_request_bytes_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_kv_service(node::consensus_actor consensus,
                                               const config::node_config& cfg) {
  return std::make_unique<kv_service>(std::move(consensus), cfg.max_request_bytes);
}

}  // namespace aegis::gateway
