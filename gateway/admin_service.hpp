// The AEGIS admin service (protocol/admin.proto): fault hooks for chaos runs. Every call is
// refused with FAILED_PRECONDITION unless the node was started with fault injection enabled.
#pragma once

#include <memory>

#include "actors/node/messages.hpp"

namespace grpc {
class Service;
}

namespace aegis::gateway {

std::unique_ptr<grpc::Service> make_admin_service(node::consensus_actor consensus,
                                                  bool fault_injection, uint64_t member_id);

}  // namespace aegis::gateway
