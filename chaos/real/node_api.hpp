// gRPC access to the nodes of a real cluster: one loopback channel per node, shared by the load,
// the lease holders and the fault calls (channels and stubs are thread-safe). Every call takes
// a deadline, so a killed or paused node costs a bounded wait.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chaos/real/cluster_dir.hpp"
#include "chaos/real/link_model.hpp"
#include "protocol/admin.grpc.pb.h"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::chaos::real {

using steady = std::chrono::steady_clock;

// What Maintenance/Status says about a node's view of the cluster.
struct node_view {
  uint64_t member_id = 0;
  uint64_t leader = 0;  // member id; 0: none known
  uint64_t term = 0;
};

// Sets a call's deadline from a steady-clock time point. wait_for_ready: wait for a connection
// until then (a restarting node) instead of failing at once with UNAVAILABLE.
void set_deadline(grpc::ClientContext& ctx, steady::time_point deadline, bool wait_for_ready);

class node_api {
 public:
  explicit node_api(const cluster_info& c);

  uint32_t nodes() const { return static_cast<uint32_t>(members_.size()); }
  uint64_t member_id(uint32_t node) const { return members_[node - 1]; }
  // A stub keeps its node's channel alive while the caller holds it, across reconnect().
  std::shared_ptr<etcdserverpb::KV::Stub> kv(uint32_t node);
  std::shared_ptr<etcdserverpb::Lease::Stub> lease(uint32_t node);

  // A fresh channel to a node whose process was restarted: an old channel that saw the node
  // refuse connections can stay in failure after it listens again, so calls made after this
  // go through a new one (calls in flight finish on the old one).
  void reconnect(uint32_t node);

  std::optional<node_view> status(uint32_t node, steady::time_point deadline);
  // Asks every node at once; views[k-1] is node k's answer (nullopt: no answer by the deadline).
  std::vector<std::optional<node_view>> status_all(steady::time_point deadline);

  // The admin fault API (admin.proto); each replaces that fault's whole state on the node.
  grpc::Status set_link(const link& l, const link_state& s, steady::time_point deadline);
  grpc::Status set_disk(uint32_t node, uint32_t extra_fsync_ms, steady::time_point deadline);
  grpc::Status set_skew(uint32_t node, int64_t skew_ms, steady::time_point deadline);
  grpc::Status clear_faults(uint32_t node, steady::time_point deadline);

 private:
  struct stubs {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
    std::unique_ptr<adminpb::Admin::Stub> admin;
  };
  std::shared_ptr<stubs> at(uint32_t node);
  static std::shared_ptr<stubs> connect(const std::string& addr);

  std::mutex mu_;                              // guards stubs_ (reconnect swaps an entry)
  std::vector<std::shared_ptr<stubs>> stubs_;  // node k at k-1
  std::vector<std::string> addrs_;             // client address of node k at k-1
  std::vector<uint64_t> members_;              // member id of node k at k-1
};

}  // namespace aegis::chaos::real
