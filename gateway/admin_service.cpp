#include "gateway/admin_service.hpp"

#include "gateway/reply.hpp"
#include "protocol/admin.grpc.pb.h"

namespace aegis::gateway {

namespace {

using namespace aegis::adminpb;

constexpr uint32_t max_fault_delay_ms = 60000;

class admin_service final : public Admin::CallbackService {
 public:
  admin_service(node::consensus_actor consensus, bool enabled, uint64_t member_id)
      : consensus_(std::move(consensus)), enabled_(enabled), member_id_(member_id) {}

  grpc::ServerUnaryReactor* SetLinkFaults(grpc::CallbackServerContext* ctx, const LinkFaults* req,
                                          FaultsReply* resp) override {
    if (auto* r = refused(ctx)) return r;
    if (req->drop_percent() > 100)
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "drop_percent must be 0..100");
    if (req->delay_ms() > max_fault_delay_ms || req->jitter_ms() > max_fault_delay_ms)
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "delay and jitter must be <= 60 s");
    node::link_faults f{req->drop_percent(), req->delay_ms(), req->jitter_ms(), req->partitioned()};
    return send(ctx, resp, node::fault_atom::value, req->peer(), f);
  }

  grpc::ServerUnaryReactor* SetDiskFaults(grpc::CallbackServerContext* ctx, const DiskFaults* req,
                                          FaultsReply* resp) override {
    if (auto* r = refused(ctx)) return r;
    if (req->extra_fsync_ms() > max_fault_delay_ms)
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "extra_fsync_ms must be <= 60 s");
    return send(ctx, resp, node::fsync_atom::value, req->extra_fsync_ms());
  }

  grpc::ServerUnaryReactor* SetClockSkew(grpc::CallbackServerContext* ctx, const ClockSkew* req,
                                         FaultsReply* resp) override {
    if (auto* r = refused(ctx)) return r;
    if (req->skew_ms() > 3600000 || req->skew_ms() < -3600000)
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "skew_ms must be within one hour");
    return send(ctx, resp, node::skew_atom::value, int64_t{req->skew_ms()});
  }

  // Heals everything: each link, the disk and the clock (each is an ordinary fault setting).
  grpc::ServerUnaryReactor* ClearFaults(grpc::CallbackServerContext* ctx, const ClearFaultsRequest*,
                                        FaultsReply* resp) override {
    if (auto* r = refused(ctx)) return r;
    auto* reactor = ctx->DefaultReactor();
    caf::anon_send(consensus_, node::clear_atom::value, done(reactor, resp));
    return reactor;
  }

 private:
  grpc::ServerUnaryReactor* refused(grpc::CallbackServerContext* ctx) {
    if (enabled_) return nullptr;
    return refuse(ctx, grpc::StatusCode::FAILED_PRECONDITION,
                  "aegis: fault injection is disabled on this node (start it with "
                  "node.fault_injection=true)");
  }

  // The reactor comes from the handler: DefaultReactor() may be called only once per call.
  node::reply_ptr done(grpc::ServerUnaryReactor* reactor, FaultsReply* resp) {
    resp->set_member_id(member_id_);
    return std::make_shared<node::reply_slot>([reactor](node::call_result r) {
      reactor->Finish(r.code == node::call_code::ok
                          ? grpc::Status::OK
                          : grpc::Status(static_cast<grpc::StatusCode>(r.code), r.message));
    });
  }

  template <class... Ts>
  grpc::ServerUnaryReactor* send(grpc::CallbackServerContext* ctx, FaultsReply* resp, Ts... xs) {
    auto* reactor = ctx->DefaultReactor();
    caf::anon_send(consensus_, xs..., done(reactor, resp));
    return reactor;
  }

  node::consensus_actor consensus_;
  bool enabled_;
  uint64_t member_id_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_admin_service(node::consensus_actor consensus,
                                                  bool fault_injection, uint64_t member_id) {
  return std::make_unique<admin_service>(std::move(consensus), fault_injection, member_id);
}

}  // namespace aegis::gateway
