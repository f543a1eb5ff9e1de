// See etcd_client.hpp.
#include "tests/integration/etcd_client.hpp"

namespace aegis::it {

// gRPC deadlines are system_clock time points; tests think in steady_clock.
void set_deadline(grpc::ClientContext& ctx, steady::time_point deadline) {
  // Wait for a connection until the deadline instead of failing at once while the channel is in
  // TRANSIENT_FAILURE (a node that is starting or restarting).
  ctx.set_wait_for_ready(true);
  const auto left = deadline - steady::now();
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(left));
}

std::shared_ptr<grpc::Channel> loopback_channel(const std::string& host_port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // a stray proxy variable must not reroute loopback
  // Nodes are killed and restarted within seconds: reconnect quickly instead of backing off
  // for up to two minutes (gRPC's default). (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: despite its
  // name it bounds the connect attempt, and a short one aborts handshakes with a starting node.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  return grpc::CreateCustomChannel(host_port, grpc::InsecureChannelCredentials(), args);
}

etcd_client::etcd_client(const std::string& host_port)
    : channel_(loopback_channel(host_port)),
      kv_(etcdserverpb::KV::NewStub(channel_)),
      maintenance_(etcdserverpb::Maintenance::NewStub(channel_)),
      lease_(etcdserverpb::Lease::NewStub(channel_)),
      admin_(aegis::adminpb::Admin::NewStub(channel_)) {}

grpc::Status etcd_client::put(const std::string& key, const std::string& value,
                              steady::time_point deadline) {
  return put(key, value, 0, deadline);
}

grpc::Status etcd_client::put(const std::string& key, const std::string& value, int64_t lease,
                              steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  etcdserverpb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  etcdserverpb::PutResponse resp;
  return kv_->Put(&ctx, req, &resp);
}

std::optional<int64_t> etcd_client::count_prefix(const std::string& prefix,
                                                 steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  etcdserverpb::RangeRequest req;
  req.set_key(prefix);
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);
  req.set_range_end(end);
  req.set_count_only(true);
  etcdserverpb::RangeResponse resp;
  if (!kv_->Range(&ctx, req, &resp).ok()) return std::nullopt;
  return resp.count();
}

std::optional<int64_t> etcd_client::lease_grant(int64_t ttl_s, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_s);
  etcdserverpb::LeaseGrantResponse resp;
  if (!lease_->LeaseGrant(&ctx, req, &resp).ok()) return std::nullopt;
  return resp.id();
}

std::optional<int64_t> etcd_client::lease_keepalive(int64_t id, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  auto stream = lease_->LeaseKeepAlive(&ctx);
  etcdserverpb::LeaseKeepAliveRequest req;
  req.set_id(id);
  etcdserverpb::LeaseKeepAliveResponse resp;
  const bool ok = stream->Write(req) && stream->Read(&resp);
  stream->WritesDone();
  stream->Finish();
  if (!ok) return std::nullopt;
  return resp.ttl();
}

grpc::Status etcd_client::cas(const std::string& key, const std::string& expected,
                              const std::string& value, bool& swapped,
                              steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  etcdserverpb::TxnRequest req;
  auto* cmp = req.add_compare();
  cmp->set_key(key);
  cmp->set_target(etcdserverpb::Compare::VALUE);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  cmp->set_value(expected);
  auto* put = req.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  etcdserverpb::TxnResponse resp;
  auto st = kv_->Txn(&ctx, req, &resp);
  swapped = st.ok() && resp.succeeded();
  return st;
}

grpc::Status etcd_client::set_link_faults(uint64_t peer, bool partitioned, uint32_t drop_percent,
                                          steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  aegis::adminpb::LinkFaults req;
  req.set_peer(peer);
  req.set_partitioned(partitioned);
  req.set_drop_percent(drop_percent);
  aegis::adminpb::FaultsReply resp;
  return admin_->SetLinkFaults(&ctx, req, &resp);
}

grpc::Status etcd_client::set_clock_skew(int64_t skew_ms, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  aegis::adminpb::ClockSkew req;
  req.set_skew_ms(skew_ms);
  aegis::adminpb::FaultsReply resp;
  return admin_->SetClockSkew(&ctx, req, &resp);
}

grpc::Status etcd_client::clear_faults(steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  aegis::adminpb::FaultsReply resp;
  return admin_->ClearFaults(&ctx, aegis::adminpb::ClearFaultsRequest{}, &resp);
}

std::optional<std::pair<uint32_t, int64_t>> etcd_client::hash(steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  etcdserverpb::HashResponse resp;
  if (!maintenance_->Hash(&ctx, etcdserverpb::HashRequest{}, &resp).ok()) return std::nullopt;
  return std::pair{resp.hash(), resp.header().revision()};
}

read_result etcd_client::get(const std::string& key, bool serializable,
                             steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  etcdserverpb::RangeRequest req;
  req.set_key(key);
  req.set_serializable(serializable);
  etcdserverpb::RangeResponse resp;
  read_result r;
  r.status = kv_->Range(&ctx, req, &resp);
  if (r.status.ok() && resp.kvs_size() > 0) r.value = resp.kvs(0).value();
  return r;
}

std::optional<node_status> etcd_client::status(steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  etcdserverpb::StatusResponse resp;
  if (!maintenance_->Status(&ctx, etcdserverpb::StatusRequest{}, &resp).ok()) return std::nullopt;
  return node_status{.member_id = resp.header().member_id(),
                     .leader = resp.leader(),
                     .term = resp.raftterm(),
                     .raft_index = resp.raftindex(),
                     .applied_index = resp.raftappliedindex()};
}

}  // namespace aegis::it
