// Finishing a gRPC callback-API call from the reply slot the actors complete: an ok result's
// bytes are parsed into the response, an error becomes a gRPC status with its message.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "actors/node/call.hpp"

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

}  // namespace aegis::gateway
