// Finishing a gRPC callback-API call from the reply slot the actors complete: an ok result's
// bytes are parsed into the response, an error becomes a gRPC status with its message.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "actors/node/call.hpp"
#include "actors/node/messages.hpp"
#include "protocol/command.pb.h"

namespace aegis::gateway {

template <class Response>
node::reply_ptr finish_into(grpc::ServerUnaryReactor* reactor, Response* response) {
  return std::make_shared<node::reply_slot>([reactor, response](node::call_result r) {
    if (r.code != node::call_code::ok) {
      reactor->Finish(grpc::Status(static_cast<grpc::StatusCode>(r.code), r.message));
    } else if (response->ParseFromString(r.response)) {
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL, "aegis: malformed response"));
    }
  });
}

inline grpc::ServerUnaryReactor* refuse(grpc::CallbackServerContext* ctx, grpc::StatusCode code,
                                        const std::string& message) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status(code, message));
  return reactor;
}

// A write: one proposal to consensus, answered when the entry applies.
template <class Response>
grpc::ServerUnaryReactor* propose(grpc::CallbackServerContext* ctx,
                                  const node::consensus_actor& consensus,
                                  const aegis::smpb::Command& cmd, Response* resp) {
  auto* reactor = ctx->DefaultReactor();
  caf::anon_send(consensus, node::propose_atom::value, cmd.SerializeAsString(),
                 finish_into(reactor, resp));
  return reactor;
}

// A read the state machine answers (after a ReadIndex round unless serializable).
template <class Request, class Response>
grpc::ServerUnaryReactor* read(grpc::CallbackServerContext* ctx,
                               const node::consensus_actor& consensus, node::read_kind kind,
                               bool serializable, const Request& req, Response* resp) {
  auto* reactor = ctx->DefaultReactor();
  node::read_query q{kind, req.SerializeAsString(), 0};
  caf::anon_send(consensus, node::read_atom::value, serializable, std::move(q),
                 finish_into(reactor, resp));
  return reactor;
}

}  // namespace aegis::gateway
