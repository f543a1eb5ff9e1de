#include "gateway/etcd_server.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include "gateway/admin_service.hpp"
#include "gateway/services.hpp"

namespace aegis::gateway {

std::variant<std::unique_ptr<etcd_server>, std::string> etcd_server::start(
    const config::node_config& cfg, node::consensus_actor consensus,
    node::lock_manager_actor locks) {
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
