#include "gateway/etcd_server.hpp"

#include <grpcpp/grpcpp.h>

#include "gateway/admin_service.hpp"
#include "gateway/reply.hpp"
#include "protocol/command.pb.h"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::gateway {

namespace {

using node::call_code;
using node::call_result;
using node::consensus_actor;
using node::reply_ptr;

class kv_service final : public etcdserverpb::KV::CallbackService {
 public:
  explicit kv_service(consensus_actor consensus) : consensus_(std::move(consensus)) {}

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx,
                                const etcdserverpb::PutRequest* req,
                                etcdserverpb::PutResponse* resp) override {
    if (req->key().empty())
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided");
    if (req->ignore_value() && !req->value().empty())
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: value is provided");
    if (req->ignore_lease() && req->lease() != 0)
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: lease is provided");
    aegis::smpb::Command cmd;
    *cmd.mutable_put() = *req;
    return propose(ctx, cmd, resp);
  }

  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::DeleteRangeRequest* req,
                                        etcdserverpb::DeleteRangeResponse* resp) override {
    if (req->key().empty())
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided");
    aegis::smpb::Command cmd;
    *cmd.mutable_delete_range() = *req;
    return propose(ctx, cmd, resp);
  }

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx,
                                  const etcdserverpb::RangeRequest* req,
                                  etcdserverpb::RangeResponse* resp) override {
    if (req->key().empty())
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided");
    auto* reactor = ctx->DefaultReactor();
    caf::anon_send(consensus_, node::read_atom::value, req->serializable(),
                   req->SerializeAsString(), finish_into(reactor, resp));
    return reactor;
  }

 private:
  // A write: one proposal to consensus, answered when the entry applies.
  template <class Response>
  grpc::ServerUnaryReactor* propose(grpc::CallbackServerContext* ctx,
                                    const aegis::smpb::Command& cmd, Response* resp) {
    auto* reactor = ctx->DefaultReactor();
    caf::anon_send(consensus_, node::propose_atom::value, cmd.SerializeAsString(),
                   finish_into(reactor, resp));
    return reactor;
  }

  consensus_actor consensus_;
};

class maintenance_service final : public etcdserverpb::Maintenance::CallbackService {
 public:
  explicit maintenance_service(consensus_actor consensus) : consensus_(std::move(consensus)) {}

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* ctx,
                                   const etcdserverpb::StatusRequest*,
                                   etcdserverpb::StatusResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    caf::anon_send(consensus_, node::status_atom::value, finish_into(reactor, resp));
    return reactor;
  }

 private:
  consensus_actor consensus_;
};

}  // namespace

std::variant<std::unique_ptr<etcd_server>, std::string> etcd_server::start(
    const config::node_config& cfg, consensus_actor consensus) {
  std::unique_ptr<etcd_server> s(new etcd_server());
  s->services_.push_back(std::make_unique<kv_service>(consensus));
  s->services_.push_back(std::make_unique<maintenance_service>(consensus));
  s->services_.push_back(make_admin_service(consensus, cfg.fault_injection, cfg.node_id));
  grpc::ServerBuilder b;
  b.AddListeningPort(cfg.client_listen.str(), grpc::InsecureServerCredentials(), &s->port_);
  // etcd's rule: requests up to max_request_bytes, plus room for the gRPC framing.
  b.SetMaxReceiveMessageSize(static_cast<int>(cfg.max_request_bytes) + 512 * 1024);
  for (auto& svc : s->services_)
    b.RegisterService(svc.get());
  s->server_ = b.BuildAndStart();
  if (!s->server_ || s->port_ == 0)
    return "cannot serve clients on " + cfg.client_listen.str() + " (address in use?)";
  return s;
}

void etcd_server::shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

etcd_server::~etcd_server() {
  shutdown();
}

}  // namespace aegis::gateway
