#include "gateway/etcd_server.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "gateway/admin_service.hpp"
#include "gateway/grpc_metrics.hpp"
#include "gateway/services.hpp"
#include "protocol/admin.grpc.pb.h"
#include "protocol/etcd/rpc.grpc.pb.h"
#include "protocol/etcd/v3election.grpc.pb.h"
#include "protocol/etcd/v3lock.grpc.pb.h"

namespace aegis::gateway {

namespace {

// The services start() registers, by full name, for the metrics interceptor's method table.
std::vector<std::string> served_service_names() {
  return {
      etcdserverpb::KV::service_full_name(),          etcdserverpb::Watch::service_full_name(),
      etcdserverpb::Lease::service_full_name(),       etcdserverpb::Cluster::service_full_name(),
      etcdserverpb::Maintenance::service_full_name(), v3lockpb::Lock::service_full_name(),
      v3electionpb::Election::service_full_name(),    aegis::adminpb::Admin::service_full_name()};
}

}  // namespace

std::variant<std::unique_ptr<etcd_server>, std::string> etcd_server::start(
    const config::node_config& cfg, node::consensus_actor consensus, node::lock_manager_actor locks,
    std::shared_ptr<node::node_metrics> metrics) {
  std::unique_ptr<etcd_server> s(new etcd_server());
  s->services_.push_back(make_kv_service(consensus, cfg));
  s->services_.push_back(make_watch_service(consensus));
  s->services_.push_back(make_lease_service(consensus));
  s->services_.push_back(make_cluster_service(consensus));
  s->services_.push_back(make_maintenance_service(consensus));
  s->services_.push_back(make_lock_service(locks));
  s->services_.push_back(make_election_service(locks));
  s->services_.push_back(make_admin_service(consensus, cfg.fault_injection, cfg.node_id));
  grpc::ServerBuilder b;
  b.AddListeningPort(cfg.client_listen.str(), grpc::InsecureServerCredentials(), &s->port_);
  // etcd's rule: requests up to max_request_bytes, plus room for the gRPC framing.
  b.SetMaxReceiveMessageSize(static_cast<int>(cfg.max_request_bytes) + 512 * 1024);
  for (auto& svc : s->services_)
    b.RegisterService(svc.get());
  if (metrics) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> icpt;
    icpt.push_back(make_metrics_interceptor(std::move(metrics), served_service_names()));
    b.experimental().SetInterceptorCreators(std::move(icpt));
  }
  s->server_ = b.BuildAndStart();
  if (!s->server_ || s->port_ == 0)
    return "cannot serve clients on " + cfg.client_listen.str() + " (address in use?)";
  return s;
}

void etcd_server::shutdown() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
}

etcd_server::~etcd_server() {
  shutdown();
}

}  // namespace aegis::gateway
