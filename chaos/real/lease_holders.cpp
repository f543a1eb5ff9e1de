// See lease_holders.hpp.
#include "chaos/real/lease_holders.hpp"

#include <algorithm>

namespace aegis::chaos::real {

using stream_t = grpc::ClientReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                          etcdserverpb::LeaseKeepAliveResponse>;

struct lease_holders::holder {
  uint32_t index = 0;
  uint32_t node = 1;
  int64_t lease_id = 0;  // 0: none held
  bool key_put = false;  // lease/<index> is attached to lease_id
  bool failing = false;  // keep-alives failed since the last answer: check the lease on the next
  steady::time_point next_round = steady::now();
  // The open keep-alive stream. `mu` guards ctx against the watchdog, which cancels a round that
  // got no answer by round_deadline.
  std::mutex mu;
  std::shared_ptr<etcdserverpb::Lease::Stub> stub;  // keeps the stream's channel alive: first
  std::unique_ptr<grpc::ClientContext> ctx;         // declared, destroyed last
  std::unique_ptr<stream_t> stream;
  steady::time_point round_deadline = steady::time_point::max();
};

namespace {

constexpr auto kRetry = std::chrono::milliseconds(250);  // after a failed call

// Ends a holder's stream: cancelled first, so Finish cannot wait on a node that is not running.
void close_stream(std::mutex& mu, std::unique_ptr<grpc::ClientContext>& ctx,
                  std::unique_ptr<stream_t>& stream) {
  std::lock_guard lock(mu);
  if (ctx) ctx->TryCancel();
  if (stream) stream->Finish();
  stream.reset();
  ctx.reset();
}

}  // namespace

lease_holders::lease_holders(uint32_t holders, int64_t ttl_us, node_api& api,
                             std::chrono::milliseconds round_timeout)
    : count_(holders),
      ttl_s_(std::max<int64_t>(1, ttl_us / 1'000'000)),
      api_(api),
      round_timeout_(round_timeout) {
  for (uint32_t i = 0; i < count_; ++i) {
    auto h = std::make_unique<holder>();
    h->index = i;
    h->node = i % api_.nodes() + 1;
    holders_.push_back(std::move(h));
  }
}

lease_holders::~lease_holders() {
  stop();
}

void lease_holders::start() {
  if (count_ == 0) return;
  for (uint32_t k = 1; k <= std::min(count_, api_.nodes()); ++k)
    threads_.emplace_back([this, k] { work(k); });
  threads_.emplace_back([this] { watchdog(); });
}

void lease_holders::stop() {
  stop_ = true;
  for (auto& h : holders_) {
    std::lock_guard lock(h->mu);
    if (h->ctx) h->ctx->TryCancel();  // unblocks a worker waiting on a silent node
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

lease_stats lease_holders::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void lease_holders::watchdog() {
  while (!stop_) {
    const auto now = steady::now();
    for (auto& h : holders_) {
      std::lock_guard lock(h->mu);
      if (h->ctx && now > h->round_deadline) h->ctx->TryCancel();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void lease_holders::work(uint32_t node) {
  while (!stop_) {
    auto next = steady::now() + std::chrono::milliseconds(50);
    for (auto& h : holders_) {
      if (h->node != node || stop_) continue;
      if (steady::now() >= h->next_round) serve(*h);
      next = std::min(next, h->next_round);
    }
    std::this_thread::sleep_until(next);
  }
  for (auto& h : holders_) {
    if (h->node != node) continue;
    close_stream(h->mu, h->ctx, h->stream);
    revoke(*h);
  }
}

// A holder that ends cleanly gives its lease back, as an application closing its session does,
// so the run leaves no leases to expire during whatever runs next. Best effort, bounded.
void lease_holders::revoke(holder& h) {
  if (h.lease_id == 0) return;
  grpc::ClientContext ctx;
  set_deadline(ctx, steady::now() + round_timeout_, false);
  etcdserverpb::LeaseRevokeRequest req;
  req.set_id(h.lease_id);
  etcdserverpb::LeaseRevokeResponse resp;
  if (api_.lease(h.node)->LeaseRevoke(&ctx, req, &resp).ok()) h.lease_id = 0;
}

void lease_holders::serve(holder& h) {
  if (h.lease_id == 0 && !grant(h)) return;
  if (!h.key_put) {
    grpc::ClientContext ctx;
    set_deadline(ctx, steady::now() + 2 * round_timeout_, false);
    etcdserverpb::PutRequest req;
    req.set_key("lease/" + std::to_string(h.index));
    req.set_value("holder-" + std::to_string(h.index));
    req.set_lease(h.lease_id);
    etcdserverpb::PutResponse resp;
    h.key_put = api_.kv(h.node)->Put(&ctx, req, &resp).ok();
    if (!h.key_put) {
      h.next_round = steady::now() + kRetry;
      return;
    }
  }
  keep_alive(h);
}

bool lease_holders::grant(holder& h) {
  grpc::ClientContext ctx;
  set_deadline(ctx, steady::now() + 2 * round_timeout_, false);
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(ttl_s_);
  etcdserverpb::LeaseGrantResponse resp;
  if (!api_.lease(h.node)->LeaseGrant(&ctx, req, &resp).ok() || resp.id() == 0) {
    h.next_round = steady::now() + kRetry;
    return false;
  }
  h.lease_id = resp.id();
  h.key_put = false;
  std::lock_guard lock(stats_mu_);
  ++stats_.grants;
  return true;
}

bool lease_holders::key_present(holder& h) {
  grpc::ClientContext ctx;
  set_deadline(ctx, steady::now() + round_timeout_, false);
  etcdserverpb::RangeRequest req;
  req.set_key("lease/" + std::to_string(h.index));
  etcdserverpb::RangeResponse resp;
  auto st = api_.kv(h.node)->Range(&ctx, req, &resp);
  return !st.ok() || resp.kvs_size() > 0;  // unknown counts as present: check again later
}

// One keep-alive round on the holder's stream (opened if needed).
void lease_holders::keep_alive(holder& h) {
  {
    std::lock_guard lock(h.mu);
    if (stop_) return;  // stop() has cancelled every open stream; open no new one
    if (!h.stream) {
      h.ctx = std::make_unique<grpc::ClientContext>();
      h.stub = api_.lease(h.node);
      h.stream = h.stub->LeaseKeepAlive(h.ctx.get());
    }
    h.round_deadline = steady::now() + round_timeout_;
  }
  etcdserverpb::LeaseKeepAliveRequest req;
  req.set_id(h.lease_id);
  etcdserverpb::LeaseKeepAliveResponse resp;
  const bool answered = h.stream->Write(req) && h.stream->Read(&resp);
  {
    std::lock_guard lock(h.mu);
    h.round_deadline = steady::time_point::max();
  }
  if (!answered) {
    close_stream(h.mu, h.ctx, h.stream);
    h.failing = true;
    h.next_round = steady::now() + kRetry;
    std::lock_guard lock(stats_mu_);
    ++stats_.keepalive_failures;
    return;
  }
  // TTL 0: the cluster expired the lease. After an outage, the key tells too.
  const bool lost = resp.ttl() <= 0 || (h.failing && !key_present(h));
  h.failing = false;
  h.next_round = steady::now() + std::chrono::milliseconds(ttl_s_ * 1000) / 3;  // as etcd clients
  if (!lost) return;
  h.lease_id = 0;
  h.key_put = false;
  h.next_round = steady::now();
  std::lock_guard lock(stats_mu_);
  ++stats_.leases_lost;
}

}  // namespace aegis::chaos::real
