// etcdserverpb.Watch: one bidirectional stream carries many watches. Requests go to the state
// machine's watch hub (through consensus); the hub writes responses straight into the stream's
// bounded outbox, which refuses what a slow client has not read (the hub then cancels that watch
// with a reason).
#include <atomic>

#include "gateway/bidi_stream.hpp"
#include "gateway/services.hpp"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::gateway {

namespace {

// Bytes of responses one stream may have waiting for the client.
constexpr size_t watch_queue_bytes = 8 << 20;

using watch_outbox = outbox<etcdserverpb::WatchResponse>;

class outbox_sink final : public state::watch_sink {
 public:
  explicit outbox_sink(std::shared_ptr<watch_outbox> box) : box_(std::move(box)) {}
  bool offer(etcdserverpb::WatchResponse resp, bool force) override {
    return box_->send(std::move(resp), force);
  }

 private:
  std::shared_ptr<watch_outbox> box_;
};

std::atomic<uint64_t> next_stream{1};

class watch_stream final
    : public bidi_stream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse> {
 public:
  explicit watch_stream(node::consensus_actor consensus)
      : bidi_stream(watch_queue_bytes),
        consensus_(std::move(consensus)),
        id_(next_stream.fetch_add(1)),
        sink_(std::make_shared<outbox_sink>(out())) {
    start();
  }

 private:
  void command(node::watch_command::kind what, std::string request = {}) {
    caf::anon_send(consensus_, node::watch_atom::value,
                   node::watch_command{what, id_, std::move(request), sink_});
  }

  void on_request(etcdserverpb::WatchRequest& req) override {
    using K = node::watch_command::kind;
    if (req.has_create_request())
      command(K::create, req.create_request().SerializeAsString());
    else if (req.has_cancel_request())
      command(K::cancel, req.cancel_request().SerializeAsString());
    else if (req.has_progress_request())
      command(K::progress);
  }

  void on_reads_done() override {
    command(node::watch_command::kind::close);
    out()->finish(grpc::Status::OK);
  }

  void on_done() override { command(node::watch_command::kind::close); }

  node::consensus_actor consensus_;
  uint64_t id_;
  state::watch_sink_ptr sink_;
};

class watch_service final : public etcdserverpb::Watch::CallbackService {
 public:
  explicit watch_service(node::consensus_actor consensus) : consensus_(std::move(consensus)) {}

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext*) override {
    return new watch_stream(consensus_);
  }

 private:
  node::consensus_actor consensus_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_watch_service(node::consensus_actor consensus) {
  return std::make_unique<watch_service>(std::move(consensus));
}

}  // namespace aegis::gateway
