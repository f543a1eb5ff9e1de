// Handing a v3lock / v3election call to the lock manager and finishing it from its reply. Lock
// and Campaign may wait for a long time, so each call gets a node-unique id and a reactor that
// tells the lock manager when the client goes away (deadline, disconnect): a waiting call then
// withdraws its key instead of queueing a lock for no one.
//
// Lifetime: the reactor deletes itself in OnDone, which gRPC runs only after Finish; Finish is
// called once, from the reply slot (finish_into), so the slot never outlives its use of it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "actors/node/messages.hpp"
#include "gateway/reply.hpp"

namespace aegis::gateway {

// Ids of this process's lock-manager calls (unary and Observe), never 0.
inline uint64_t next_lock_call_id() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

class lock_reactor final : public grpc::ServerUnaryReactor {
 public:
  lock_reactor(node::lock_manager_actor locks, uint64_t call)
      : locks_(std::move(locks)), call_(call) {}

 private:
  void OnCancel() override { caf::anon_send(locks_, node::cancel_atom::value, call_); }
  void OnDone() override { delete this; }

  node::lock_manager_actor locks_;
  uint64_t call_;
};

// Sends `req` to the lock manager as operation `op`; the RPC finishes from its answer.
template <class Request, class Response>
grpc::ServerUnaryReactor* ask_lock_manager(const node::lock_manager_actor& locks, node::lock_op op,
                                           const Request& req, Response* resp) {
  const uint64_t call = next_lock_call_id();
  auto* reactor = new lock_reactor(locks, call);
  caf::anon_send(locks, node::lock_atom::value, node::lock_call{op, call, req.SerializeAsString()},
                 finish_into(reactor, resp));
  return reactor;
}

}  // namespace aegis::gateway
