// The etcd v3 gRPC services a node serves, each built over the node's consensus actor (the one
// handle the gateway holds: reads, writes and watch commands all enter the node through it).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "actors/node/messages.hpp"
#include "config/node_config.hpp"

namespace aegis::gateway {

// KV: Range, Put, DeleteRange, Txn, Compact.
std::unique_ptr<grpc::Service> make_kv_service(node::consensus_actor consensus,
                                               const config::node_config& cfg);
// Watch: the multiplexed watch stream.
std::unique_ptr<grpc::Service> make_watch_service(node::consensus_actor consensus);
// Lease: Grant, Revoke, KeepAlive (stream), TimeToLive, Leases.
std::unique_ptr<grpc::Service> make_lease_service(node::consensus_actor consensus);
// Cluster.MemberList and Maintenance (Status, Hash, HashKV, Alarm).
std::unique_ptr<grpc::Service> make_cluster_service(node::consensus_actor consensus);
std::unique_ptr<grpc::Service> make_maintenance_service(node::consensus_actor consensus);

}  // namespace aegis::gateway
