// etcdserverpb.Cluster (MemberList) and etcdserverpb.Maintenance (Status, Hash, HashKV).
#include "gateway/reply.hpp"
#include "gateway/services.hpp"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::gateway {

namespace {

class cluster_service final : public etcdserverpb::Cluster::CallbackService {
 public:
  explicit cluster_service(node::consensus_actor consensus) : consensus_(std::move(consensus)) {}

  // Membership is the configured one (no runtime member changes yet): a local answer, as etcd
  // 3.4 gives.
  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::MemberListRequest* req,
                                       etcdserverpb::MemberListResponse* resp) override {
    return read(ctx, consensus_, node::read_kind::members, true, *req, resp);
  }

 private:
  node::consensus_actor consensus_;
};

class maintenance_service final : public etcdserverpb::Maintenance::CallbackService {
 public:
  explicit maintenance_service(node::consensus_actor consensus)
      : consensus_(std::move(consensus)) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const etcdserverpb::StatusRequest*,
                                   etcdserverpb::StatusResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    caf::anon_send(consensus_, node::status_atom::value, finish_into(reactor, resp));
    return reactor;
  }

  // Hashes of this member's state as applied so far (a local read, as etcd's): members that
  // applied the same entries give the same hash.
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* ctx,
                                 const etcdserverpb::HashRequest* req,
                                 etcdserverpb::HashResponse* resp) override {
    return read(ctx, consensus_, node::read_kind::hash, true, *req, resp);
  }

  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* ctx,
                                   const etcdserverpb::HashKVRequest* req,
                                   etcdserverpb::HashKVResponse* resp) override {
    return read(ctx, consensus_, node::read_kind::hash_kv, true, *req, resp);
  }

 private:
  node::consensus_actor consensus_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_cluster_service(node::consensus_actor consensus) {
  return std::make_unique<cluster_service>(std::move(consensus));
}

std::unique_ptr<grpc::Service> make_maintenance_service(node::consensus_actor consensus) {
  return std::make_unique<maintenance_service>(std::move(consensus));
}

}  // namespace aegis::gateway
