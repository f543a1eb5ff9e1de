// A minimal etcd v3 client for the integration tests, on the generated gRPC stubs: Put, a
// single-key Range, prefix counts, leases (grant, keep-alive) and Maintenance Status/Hash against
// one node's client address. Thread-safe (the
// stubs are); every call takes a deadline so a dead node costs a bounded wait.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "protocol/admin.grpc.pb.h"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::it {

using steady = std::chrono::steady_clock;

// What Maintenance/Status reports.
struct node_status {
  uint64_t member_id = 0;
  uint64_t leader = 0;  // 0: no known leader
  uint64_t term = 0;
  uint64_t raft_index = 0;  // commit index
  uint64_t applied_index = 0;
};

struct read_result {
  grpc::Status status;
  std::optional<std::string> value;  // nullopt: key absent (or the call failed)
};

// A channel to a node on 127.0.0.1 that never goes through a proxy and reconnects quickly (nodes
// are killed and restarted within seconds), for any service on the node's client port.
std::shared_ptr<grpc::Channel> loopback_channel(const std::string& host_port);
// A call deadline in test time; the call waits for a connection until then (a node that is
// starting or restarting) instead of failing at once.
void set_deadline(grpc::ClientContext& ctx, steady::time_point deadline);

class etcd_client {
 public:
  explicit etcd_client(const std::string& host_port);

  grpc::Status put(const std::string& key, const std::string& value, steady::time_point deadline);
  // serializable=true: a member-local read; false: linearizable (ReadIndex).
  read_result get(const std::string& key, bool serializable, steady::time_point deadline);
  std::optional<node_status> status(steady::time_point deadline);

  grpc::Status put(const std::string& key, const std::string& value, int64_t lease,
                   steady::time_point deadline);
  // Keys under `prefix` (linearizable); nullopt if the call failed.
  std::optional<int64_t> count_prefix(const std::string& prefix, steady::time_point deadline);
  // A new lease's ID (the server picks it), or nullopt.
  std::optional<int64_t> lease_grant(int64_t ttl_s, steady::time_point deadline);
  // One keep-alive round on a fresh stream: the renewed TTL (<= 0: the lease is gone), or nullopt.
  std::optional<int64_t> lease_keepalive(int64_t id, steady::time_point deadline);
  // Txn: if key's value == expected then put value. `swapped` says whether the compare held.
  grpc::Status cas(const std::string& key, const std::string& expected, const std::string& value,
                   bool& swapped, steady::time_point deadline);
  // The AEGIS admin service's fault hooks (refused unless the node runs with fault injection).
  grpc::Status set_link_faults(uint64_t peer, bool partitioned, uint32_t drop_percent,
                               steady::time_point deadline);
  grpc::Status set_clock_skew(int64_t skew_ms, steady::time_point deadline);
  grpc::Status clear_faults(steady::time_point deadline);
  // Maintenance.Hash of this member's applied state, with the revision it was taken at.
  std::optional<std::pair<uint32_t, int64_t>> hash(steady::time_point deadline);

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<aegis::adminpb::Admin::Stub> admin_;
};

}  // namespace aegis::it
