// aegis_grpc_requests_total{method,code} and aegis_grpc_request_duration_seconds{method} for every
// call the node's gRPC server takes, from one server interceptor (gRPC's experimental interceptor
// API, which 1.51 also runs for callback-API services), so no service or reply path has to
// remember to count. `method` is the short method name ("Put", "LeaseGrant"), `code` the gRPC
// status name ("OK", "UNAVAILABLE").
//
// Unary calls are timed from the call's arrival to its status being sent. Streams (Watch,
// LeaseKeepAlive, Observe) are counted once, with their final status, when they end, and stay out
// of the duration histogram: their length is the client's choice, not the server's latency.
//
// Cost per call: gRPC allocates the call's interceptor (plus its rpc info) once; the series are
// looked up in a table built at start and their pointers cached on first use, so a call takes no
// lock after the first of its (method, code).
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <vector>

#include "actors/node/metrics.hpp"

namespace aegis::gateway {

// `services`: the full names of the services served ("etcdserverpb.KV"); their methods are read
// from the generated protobuf descriptors.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_metrics_interceptor(
    std::shared_ptr<node::node_metrics> metrics, const std::vector<std::string>& services);

}  // namespace aegis::gateway
