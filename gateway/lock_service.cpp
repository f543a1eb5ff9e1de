// v3lockpb.Lock: Lock and Unlock, served by the lock manager (actors/node/lock_manager.hpp).
// This file only checks requests and hands them over; a Lock call may wait for a long time and
// withdraws its key if its client goes away first (lock_call.hpp).
#include "gateway/lock_call.hpp"
#include "gateway/services.hpp"
#include "protocol/etcd/v3lock.grpc.pb.h"

namespace aegis::gateway {

namespace {

class lock_service final : public v3lockpb::Lock::CallbackService {
 public:
  explicit lock_service(node::lock_manager_actor locks) : locks_(std::move(locks)) {}

  // etcd would take an empty name (the keys then start with "/"); AEGIS refuses it as a mistake.
  // Lease 0: the lock gets a lease of its own (60 s, not kept alive), as in etcd.
  grpc::ServerUnaryReactor* Lock(grpc::CallbackServerContext* ctx, const v3lockpb::LockRequest* req,
                                 v3lockpb::LockResponse* resp) override {
    if (req->name().empty())
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "aegis: lock name is empty");
    if (req->lease() < 0)
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "aegis: lease ID must be >= 0");
    return ask_lock_manager(locks_, node::lock_op::lock, *req, resp);
  }

  grpc::ServerUnaryReactor* Unlock(grpc::CallbackServerContext* ctx,
                                   const v3lockpb::UnlockRequest* req,
                                   v3lockpb::UnlockResponse* resp) override {
    if (req->key().empty())
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: key is not provided");
    return ask_lock_manager(locks_, node::lock_op::unlock, *req, resp);
  }

 private:
  node::lock_manager_actor locks_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_lock_service(node::lock_manager_actor locks) {
  return std::make_unique<lock_service>(std::move(locks));
}

}  // namespace aegis::gateway
