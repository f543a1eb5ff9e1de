// The client-facing gRPC server: etcd v3 services (package etcdserverpb) that turn each RPC into
// one message to the consensus actor (v3lock and v3election: to the lock manager) and finish the
// RPC from the reply slot the actors complete.
// Uses gRPC's callback API, so no thread waits on a pending write or read.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "actors/node/messages.hpp"
#include "actors/node/metrics.hpp"
#include "config/node_config.hpp"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace aegis::gateway {

class etcd_server {
 public:
  // Binds cfg.client_listen and starts serving; the error names the address on failure. With
  // `metrics`, every call is counted and timed (grpc_metrics.hpp).
  static std::variant<std::unique_ptr<etcd_server>, std::string> start(
      const config::node_config& cfg, node::consensus_actor consensus,
      node::lock_manager_actor locks, std::shared_ptr<node::node_metrics> metrics = nullptr);
  ~etcd_server();
  int port() const { return port_; }
  // Stops accepting calls and cancels those in flight.
  void shutdown();

 private:
  etcd_server() = default;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace aegis::gateway
