// See node_api.hpp.
#include "chaos/real/node_api.hpp"

#include <future>

namespace aegis::chaos::real {

void set_deadline(grpc::ClientContext& ctx, steady::time_point deadline, bool wait_for_ready) {
  ctx.set_wait_for_ready(wait_for_ready);
  // gRPC deadlines are system_clock time points; the runner thinks in steady time.
  const auto left = deadline - steady::now();
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(left));
}

namespace {

std::shared_ptr<grpc::Channel> loopback_channel(const std::string& addr) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // a proxy variable must not reroute loopback
  // Nodes are killed and restarted within seconds: reconnect quickly instead of backing off for
  // up to two minutes (gRPC's default).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
}

}  // namespace

std::shared_ptr<node_api::stubs> node_api::connect(const std::string& addr) {
  auto s = std::make_shared<stubs>();
  s->channel = loopback_channel(addr);
  s->kv = etcdserverpb::KV::NewStub(s->channel);
  s->lease = etcdserverpb::Lease::NewStub(s->channel);
  s->maintenance = etcdserverpb::Maintenance::NewStub(s->channel);
  s->admin = adminpb::Admin::NewStub(s->channel);
  return s;
}

node_api::node_api(const cluster_info& c) {
  for (const auto& m : c.members) {
    stubs_.push_back(connect(m.client_addr));
    addrs_.push_back(m.client_addr);
    members_.push_back(m.member_id);
  }
}

std::shared_ptr<node_api::stubs> node_api::at(uint32_t node) {
  std::lock_guard lock(mu_);
  return stubs_[node - 1];
}

std::shared_ptr<etcdserverpb::KV::Stub> node_api::kv(uint32_t node) {
  auto s = at(node);
  return {s, s->kv.get()};
}

std::shared_ptr<etcdserverpb::Lease::Stub> node_api::lease(uint32_t node) {
  auto s = at(node);
  return {s, s->lease.get()};
}

void node_api::reconnect(uint32_t node) {
  auto fresh = connect(addrs_[node - 1]);
  std::lock_guard lock(mu_);
  stubs_[node - 1] = std::move(fresh);
}

std::optional<node_view> node_api::status(uint32_t node, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  etcdserverpb::StatusResponse resp;
  auto st = at(node)->maintenance->Status(&ctx, etcdserverpb::StatusRequest{}, &resp);
  if (!st.ok()) return std::nullopt;
  return node_view{resp.header().member_id(), resp.leader(), resp.raftterm()};
}

std::vector<std::optional<node_view>> node_api::status_all(steady::time_point deadline) {
  // In parallel: a paused node must not delay the others' answers.
  std::vector<std::future<std::optional<node_view>>> answers;
  for (uint32_t k = 1; k <= nodes(); ++k)
    answers.push_back(
        std::async(std::launch::async, [this, k, deadline] { return status(k, deadline); }));
  std::vector<std::optional<node_view>> out;
  for (auto& a : answers)
    out.push_back(a.get());
  return out;
}

grpc::Status node_api::set_link(const link& l, const link_state& s, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  adminpb::LinkFaults req;
  req.set_peer(member_id(l.second));
  req.set_partitioned(s.partitioned);
  req.set_drop_percent(s.drop_percent);
  req.set_delay_ms(s.delay_ms);
  req.set_jitter_ms(s.jitter_ms);
  adminpb::FaultsReply resp;
  return at(l.first)->admin->SetLinkFaults(&ctx, req, &resp);
}

grpc::Status node_api::set_disk(uint32_t node, uint32_t extra_fsync_ms,
                                steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  adminpb::DiskFaults req;
  req.set_extra_fsync_ms(extra_fsync_ms);
  adminpb::FaultsReply resp;
  return at(node)->admin->SetDiskFaults(&ctx, req, &resp);
}

grpc::Status node_api::set_skew(uint32_t node, int64_t skew_ms, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  adminpb::ClockSkew req;
  req.set_skew_ms(skew_ms);
  adminpb::FaultsReply resp;
  return at(node)->admin->SetClockSkew(&ctx, req, &resp);
}

grpc::Status node_api::clear_faults(uint32_t node, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  adminpb::FaultsReply resp;
  return at(node)->admin->ClearFaults(&ctx, adminpb::ClearFaultsRequest{}, &resp);
}

}  // namespace aegis::chaos::real
