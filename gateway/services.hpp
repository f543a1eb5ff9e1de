// The etcd v3 gRPC services a node serves, each built over the node's consensus actor (reads,
// writes and watch commands all enter the node through it), except Lock and Election, which are
// built over the lock manager.
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
// v3lockpb.Lock (Lock, Unlock) and v3electionpb.Election (Campaign, Proclaim, Leader, Observe,
// Resign): thin fronts of the lock manager, which runs them through consensus.
std::unique_ptr<grpc::Service> make_lock_service(node::lock_manager_actor locks);
std::unique_ptr<grpc::Service> make_election_service(node::lock_manager_actor locks);

}  // namespace aegis::gateway
