// etcdserverpb.Lease. Grants, revokes and keep-alives are log entries (all lease time is leader
// stamps, DESIGN.md); TimeToLive and Leases are reads. A keep-alive is answered once its renewal
// has applied, so an answered keep-alive is one every replica knows of; keep-alives from all
// streams share LeaseRenew entries (renew_batcher.hpp).
#include <memory>
#include <mutex>
#include <random>

#include "gateway/bidi_stream.hpp"
#include "gateway/renew_batcher.hpp"
#include "gateway/reply.hpp"
#include "gateway/services.hpp"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::gateway {

namespace {

// Keep-alive answers a stream may have queued (each is a few dozen bytes).
constexpr size_t keepalive_queue_bytes = 1 << 20;

// A lease ID the client left to the server: random, positive, never 0 (etcd picks IDs too; a
// clash with a live lease is refused by the state machine and the client may retry).
int64_t pick_lease_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t id = 0;
  while (id <= 0)
    id = static_cast<int64_t>(rng() >> 1);
  return id;
}

// Every keep-alive the client sent before closing its side is answered before the stream ends
// (as etcd, which renews and answers each request before it reads the next): a client may send
// one request and half-close at once (python-etcd3's Lease.refresh does).
class keepalive_stream final : public bidi_stream<etcdserverpb::LeaseKeepAliveRequest,
                                                  etcdserverpb::LeaseKeepAliveResponse> {
 public:
  explicit keepalive_stream(std::shared_ptr<renew_batcher> renewals)
      : bidi_stream(keepalive_queue_bytes), renewals_(std::move(renewals)) {
    start();
  }

 private:
  // Renewals proposed and not yet answered, and whether the client closed its side.
  struct pending {
    std::mutex mu;
    int unanswered = 0;
    bool reads_done = false;
  };

  void on_request(etcdserverpb::LeaseKeepAliveRequest& req) override {
    auto box = out();
    auto pend = pending_;
    const int64_t id = req.id();
    {
      std::lock_guard<std::mutex> lock(pend->mu);
      ++pend->unanswered;
    }
    renewals_->renew(id, [box, pend, id](const node::call_result& r, int64_t ttl_s,
                                         const etcdserverpb::ResponseHeader& header) {
      if (r.code != node::call_code::ok) {
        box->finish(grpc::Status(static_cast<grpc::StatusCode>(r.code), r.message));
        return;
      }
      etcdserverpb::LeaseKeepAliveResponse resp;
      *resp.mutable_header() = header;
      resp.set_ttl(ttl_s);
      resp.set_id(id);
      box->send(resp, false);  // over the bound: the client is not reading; it will retry
      bool last = false;
      {
        std::lock_guard<std::mutex> lock(pend->mu);
        last = --pend->unanswered == 0 && pend->reads_done;
      }
      if (last) box->finish(grpc::Status::OK);
    });
  }

  void on_reads_done() override {
    bool now = false;
    {
      std::lock_guard<std::mutex> lock(pending_->mu);
      pending_->reads_done = true;
      now = pending_->unanswered == 0;
    }
    if (now) out()->finish(grpc::Status::OK);
  }

  std::shared_ptr<renew_batcher> renewals_;
  std::shared_ptr<pending> pending_ = std::make_shared<pending>();
};

class lease_service final : public etcdserverpb::Lease::CallbackService {
 public:
  explicit lease_service(node::consensus_actor consensus)
      : consensus_(consensus), renewals_(std::make_shared<renew_batcher>(std::move(consensus))) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* ctx,
                                       const etcdserverpb::LeaseGrantRequest* req,
                                       etcdserverpb::LeaseGrantResponse* resp) override {
    aegis::smpb::Command cmd;
    *cmd.mutable_lease_grant() = *req;
    if (req->id() < 0)
      return refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT, "aegis: lease ID must be >= 0");
    if (req->id() == 0) cmd.mutable_lease_grant()->set_id(pick_lease_id());
    return propose(ctx, consensus_, cmd, resp);
  }

  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseRevokeRequest* req,
                                        etcdserverpb::LeaseRevokeResponse* resp) override {
    aegis::smpb::Command cmd;
    *cmd.mutable_lease_revoke() = *req;
    return propose(ctx, consensus_, cmd, resp);
  }

  grpc::ServerBidiReactor<etcdserverpb::LeaseKeepAliveRequest,
                          etcdserverpb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext*) override {
    return new keepalive_stream(renewals_);
  }

  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* ctx,
                                            const etcdserverpb::LeaseTimeToLiveRequest* req,
                                            etcdserverpb::LeaseTimeToLiveResponse* resp) override {
    return read(ctx, consensus_, node::read_kind::lease_ttl, false, *req, resp);
  }

  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* ctx,
                                        const etcdserverpb::LeaseLeasesRequest* req,
                                        etcdserverpb::LeaseLeasesResponse* resp) override {
    return read(ctx, consensus_, node::read_kind::lease_list, false, *req, resp);
  }

 private:
  node::consensus_actor consensus_;
  std::shared_ptr<renew_batcher> renewals_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_lease_service(node::consensus_actor consensus) {
  return std::make_unique<lease_service>(std::move(consensus));
}

}  // namespace aegis::gateway
