// v3electionpb.Election: Campaign, Proclaim, Leader, Observe and Resign, served by the lock
// manager (actors/node/lock_manager.hpp). This file only checks requests and hands them over.
// Campaign may wait for a long time and withdraws its key if its client goes away first
// (lock_call.hpp); Observe streams the lock manager's answers through a bounded outbox.
#include "gateway/bidi_stream.hpp"
#include "gateway/lock_call.hpp"
#include "gateway/services.hpp"
#include "protocol/etcd/v3election.grpc.pb.h"

namespace aegis::gateway {

namespace {

using v3electionpb::LeaderResponse;

// Bytes of leader answers one Observe stream may have waiting for its client.
constexpr size_t observe_queue_bytes = 1 << 20;

// The lock manager's end of an Observe stream.
class outbox_leader_sink final : public node::leader_sink {
 public:
  explicit outbox_leader_sink(std::shared_ptr<outbox<LeaderResponse>> box) : box_(std::move(box)) {}
  bool offer(const LeaderResponse& resp) override { return box_->send(resp, false); }
  void end(const node::call_result& why) override {
    box_->finish(grpc::Status(static_cast<grpc::StatusCode>(why.code), why.message));
  }

 private:
  std::shared_ptr<outbox<LeaderResponse>> box_;
};

// One Observe stream. gRPC deletes nothing: the reactor deletes itself in OnDone, which follows
// Finish, which only the outbox calls (once, with no write in flight). The lock manager holds the
// outbox, never the reactor, and the outbox refuses everything once finishing has begun.
class observe_stream final : public grpc::ServerWriteReactor<LeaderResponse> {
 public:
  observe_stream(node::lock_manager_actor locks, const std::string& name)
      : locks_(std::move(locks)),
        call_(next_lock_call_id()),
        box_(std::make_shared<outbox<LeaderResponse>>(
            observe_queue_bytes, [this](const LeaderResponse* r) { StartWrite(r); },
            [this](const grpc::Status& s) { Finish(s); })) {
    caf::anon_send(locks_, node::observe_atom::value,
                   node::observe_call{call_, name, std::make_shared<outbox_leader_sink>(box_)});
  }

 private:
  void OnWriteDone(bool ok) override { box_->write_done(ok); }
  void OnCancel() override {
    box_->finish(grpc::Status(grpc::StatusCode::CANCELLED, "aegis: the client went away"));
    caf::anon_send(locks_, node::cancel_atom::value, call_);
  }
  void OnDone() override {
    caf::anon_send(locks_, node::cancel_atom::value, call_);  // ended by us: the manager forgets it
    delete this;
  }

  node::lock_manager_actor locks_;
  uint64_t call_;
  std::shared_ptr<outbox<LeaderResponse>> box_;
};

// An Observe call refused before it started.
class refused_stream final : public grpc::ServerWriteReactor<LeaderResponse> {
 public:
  explicit refused_stream(const grpc::Status& why) { Finish(why); }

 private:
  void OnDone() override { delete this; }
};

const grpc::Status empty_name(grpc::StatusCode::INVALID_ARGUMENT, "aegis: election name is empty");
// etcd's message (with INVALID_ARGUMENT where etcd answers UNKNOWN).
const grpc::Status no_leader_field(grpc::StatusCode::INVALID_ARGUMENT,
                                   "\"leader\" field must be provided");

// What Proclaim and Resign need of the LeaderKey they are given.
template <class Request>
grpc::Status check_leader(const Request& r) {
  if (!r.has_leader()) return no_leader_field;
  if (r.leader().key().empty())
    return {grpc::StatusCode::INVALID_ARGUMENT, "aegis: leader key is empty"};
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* refuse(grpc::CallbackServerContext* ctx, const grpc::Status& why) {
  return gateway::refuse(ctx, why.error_code(), why.error_message());
}

class election_service final : public v3electionpb::Election::CallbackService {
 public:
  explicit election_service(node::lock_manager_actor locks) : locks_(std::move(locks)) {}

  // Lease 0: the campaign gets a lease of its own (60 s, not kept alive), as in etcd.
  grpc::ServerUnaryReactor* Campaign(grpc::CallbackServerContext* ctx,
                                     const v3electionpb::CampaignRequest* req,
                                     v3electionpb::CampaignResponse* resp) override {
    if (req->name().empty()) return refuse(ctx, empty_name);
    if (req->lease() < 0)
      return gateway::refuse(ctx, grpc::StatusCode::INVALID_ARGUMENT,
                             "aegis: lease ID must be >= 0");
    return ask_lock_manager(locks_, node::lock_op::campaign, *req, resp);
  }

  grpc::ServerUnaryReactor* Proclaim(grpc::CallbackServerContext* ctx,
                                     const v3electionpb::ProclaimRequest* req,
                                     v3electionpb::ProclaimResponse* resp) override {
    if (auto bad = check_leader(*req); !bad.ok()) return refuse(ctx, bad);
    return ask_lock_manager(locks_, node::lock_op::proclaim, *req, resp);
  }

  grpc::ServerUnaryReactor* Leader(grpc::CallbackServerContext* ctx,
                                   const v3electionpb::LeaderRequest* req,
                                   LeaderResponse* resp) override {
    if (req->name().empty()) return refuse(ctx, empty_name);
    return ask_lock_manager(locks_, node::lock_op::leader, *req, resp);
  }

  grpc::ServerWriteReactor<LeaderResponse>* Observe(
      grpc::CallbackServerContext*, const v3electionpb::LeaderRequest* req) override {
    if (req->name().empty()) return new refused_stream(empty_name);
    return new observe_stream(locks_, req->name());
  }

  grpc::ServerUnaryReactor* Resign(grpc::CallbackServerContext* ctx,
                                   const v3electionpb::ResignRequest* req,
                                   v3electionpb::ResignResponse* resp) override {
    if (auto bad = check_leader(*req); !bad.ok()) return refuse(ctx, bad);
    return ask_lock_manager(locks_, node::lock_op::resign, *req, resp);
  }

 private:
  node::lock_manager_actor locks_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_election_service(node::lock_manager_actor locks) {
  return std::make_unique<election_service>(std::move(locks));
}

}  // namespace aegis::gateway
