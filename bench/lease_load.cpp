// etcd-lease-load: lease keep-alive load against etcd or AEGIS over the etcd v3 API. First
// (unmeasured) it grants --leases leases of --ttl-s seconds, --grant-concurrency LeaseGrant calls
// in flight. Then --streams LeaseKeepAlive bidi streams, round-robin over the endpoints (one
// connection per endpoint by default), each keep one keep-alive outstanding (closed loop): stream
// i renews leases i, i + streams, i + 2 streams, ... cycling. Reports keep-alives answered per
// second and their latency (request written -> answer read); an answer with TTL <= 0 (lease gone)
// counts as a miss. etcd answers a keep-alive from the leader's memory; AEGIS answers it once the
// renewal has applied through Raft. Prints one `RESULT ...` line and one human line.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "bench/load_common.hpp"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace {

using namespace aegis::bench;
using etcdserverpb::Lease;

struct options {
  common_options common;
  int leases = 10000;
  int64_t ttl_s = 60;
  int streams = 64;
  int grant_concurrency = 64;
  int threads = 2;
};

// ------------------------------------------------------------------------------------ granting
struct grant_call {
  Lease::Stub* stub = nullptr;
  std::string endpoint;
  std::unique_ptr<grpc::ClientContext> ctx;
  etcdserverpb::LeaseGrantResponse resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::LeaseGrantResponse>> call;
};

void start_grant(grant_call& g, const options& o, grpc::CompletionQueue& cq) {
  etcdserverpb::LeaseGrantRequest req;
  req.set_ttl(o.ttl_s);
  g.ctx = std::make_unique<grpc::ClientContext>();
  g.ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(o.common.timeout_ms));
  g.call = g.stub->AsyncLeaseGrant(g.ctx.get(), req, &cq);
  g.call->Finish(&g.resp, &g.status, &g);
}

// Grants o.leases leases (each attempted once); returns the IDs granted.
std::vector<int64_t> grant_all(const options& o, std::vector<std::unique_ptr<Lease::Stub>>& stubs,
                               const channel_pool& pool, tally& t, error_log& log) {
  std::vector<grant_call> calls(static_cast<size_t>(std::min(o.grant_concurrency, o.leases)));
  grpc::CompletionQueue cq;
  int issued = 0;
  for (size_t i = 0; i < calls.size(); ++i, ++issued) {
    calls[i].stub = stubs[i % stubs.size()].get();
    calls[i].endpoint = pool.endpoint(i);
    start_grant(calls[i], o, cq);
  }
  std::vector<int64_t> ids;
  void* tag = nullptr;
  bool ok = false;
  for (int done = 0; done < issued && cq.Next(&tag, &ok); ++done) {
    auto* g = static_cast<grant_call*>(tag);
    if (ok && g->status.ok() && g->resp.id() != 0 && g->resp.error().empty()) {
      ids.push_back(g->resp.id());
    } else {
      ++t.errors;
      log.add(g->endpoint, ok ? g->status : grpc::Status(grpc::StatusCode::UNKNOWN, "cq not ok"));
    }
    if (issued < o.leases) {
      start_grant(*g, o, cq);
      ++issued;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return ids;
}

// --------------------------------------------------------------------------------- keep-alives
struct keepalive_stream {
  enum class step { start, write, read, writes_done, finish };
  Lease::Stub* stub = nullptr;
  std::string endpoint;
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<etcdserverpb::LeaseKeepAliveRequest,
                                                etcdserverpb::LeaseKeepAliveResponse>>
      rw;
  step at = step::start;
  bool failed = false;
  etcdserverpb::LeaseKeepAliveRequest req;
  etcdserverpb::LeaseKeepAliveResponse resp;
  grpc::Status status;
  size_t next = 0;  // index into the lease IDs of the next keep-alive
  size_t stride = 1;
  steady::time_point sent;
};

// After the stream started or an answer came: the next keep-alive, or the end of the stream.
void send_next(keepalive_stream& s, const std::vector<int64_t>& ids, const window& win) {
  using step = keepalive_stream::step;
  if (steady::now() >= win.end) {
    s.at = step::writes_done;
    s.rw->WritesDone(&s);
    return;
  }
  s.req.set_id(ids[s.next % ids.size()]);
  s.next += s.stride;
  s.at = step::write;
  s.sent = steady::now();
  s.rw->Write(s.req, &s);
}

void record(const keepalive_stream& s, const window& win, tally& t) {
  auto now = steady::now();
  if (!win.contains(now)) return;
  t.latencies_us.push_back(
      std::chrono::duration_cast<std::chrono::microseconds>(now - s.sent).count());
  if (s.resp.ttl() <= 0) ++t.misses;
  t.last_done = now;
}

// Moves one stream on after a completion; true once the stream has finished.
bool advance(keepalive_stream& s, bool ok, const std::vector<int64_t>& ids, const window& win,
             tally& t, error_log& log) {
  using step = keepalive_stream::step;
  if (s.at == step::finish) {
    if (!s.failed && !s.status.ok()) ++t.errors;
    if (s.failed || !s.status.ok()) log.add(s.endpoint, s.status);
    return true;
  }
  if (!ok) {  // the stream broke: Finish tells why
    ++t.errors;
    s.failed = true;
    s.at = step::finish;
    s.rw->Finish(&s.status, &s);
    return false;
  }
  switch (s.at) {
    case step::read:
      record(s, win, t);
      send_next(s, ids, win);
      break;
    case step::start:
      send_next(s, ids, win);
      break;
    case step::write:
      s.at = step::read;
      s.rw->Read(&s.resp, &s);
      break;
    default:  // writes_done
      s.at = step::finish;
      s.rw->Finish(&s.status, &s);
  }
  return false;
}

void drive(const std::vector<keepalive_stream*>& mine, const std::vector<int64_t>& ids,
           const window& win, int timeout_ms, tally& t, error_log& log) {
  grpc::CompletionQueue cq;
  for (auto* s : mine) {
    s->ctx.set_deadline(std::chrono::system_clock::time_point(
        std::chrono::system_clock::now() + (win.end - steady::now()) +
        std::chrono::milliseconds(timeout_ms)));
    s->rw = s->stub->PrepareAsyncLeaseKeepAlive(&s->ctx, &cq);
    s->rw->StartCall(s);
  }
  size_t live = mine.size();
  void* tag = nullptr;
  bool ok = false;
  while (live > 0 && cq.Next(&tag, &ok))
    if (advance(*static_cast<keepalive_stream*>(tag), ok, ids, win, t, log)) --live;
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

tally keep_alive(const options& o, std::vector<std::unique_ptr<Lease::Stub>>& stubs,
                 const channel_pool& pool, const std::vector<int64_t>& ids, const window& win,
                 error_log& log) {
  std::vector<std::unique_ptr<keepalive_stream>> streams;
  for (size_t i = 0; i < static_cast<size_t>(o.streams); ++i) {
    streams.push_back(std::make_unique<keepalive_stream>());
    streams.back()->stub = stubs[i % stubs.size()].get();
    streams.back()->endpoint = pool.endpoint(i);
    streams.back()->next = i;
    streams.back()->stride = static_cast<size_t>(o.streams);
  }
  int n = std::clamp(o.threads, 1, o.streams);
  std::vector<tally> tallies(static_cast<size_t>(n));
  on_threads(n, streams.size(), [&](int t, const std::vector<size_t>& idx) {
    std::vector<keepalive_stream*> mine;
    for (auto i : idx)
      mine.push_back(streams[i].get());
    drive(mine, ids, win, o.common.timeout_ms, tallies[static_cast<size_t>(t)], log);
  });
  tally all;
  for (const auto& t : tallies)
    all.merge(t);
  return all;
}

// ------------------------------------------------------------------------------------- report
void report(const options& o, const tally& ka, const window& win, size_t granted, double grant_s,
            const tally& grants, int endpoints, const error_log& log) {
  auto s = summarize(ka.latencies_us);
  double w = win.seconds();
  double tput = w > 0 ? static_cast<double>(s.count) / w : 0.0;
  std::printf("RESULT label=%s leases=%d ttl_s=%" PRId64
              " streams=%d endpoints=%d granted=%zu"
              " grant_s=%.3f grant_errors=%" PRId64 " keepalives=%zu errors=%" PRId64
              " misses=%" PRId64
              " window_s=%.3f tput=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
              " mean_ms=%.3f\n",
              o.common.label.empty() ? "-" : o.common.label.c_str(), o.leases, o.ttl_s, o.streams,
              endpoints, granted, grant_s, grants.errors, s.count, ka.errors, ka.misses, w, tput,
              s.p50_ms, s.p99_ms, s.max_ms, s.mean_ms);
  std::printf(
      "%d stream(s) on %d endpoint(s) over %zu leases: %zu keep-alives in %.2f s = %.0f/s;"
      " latency p50 %.3f ms, p99 %.3f ms, max %.3f ms; %" PRId64 " error(s)\n",
      o.streams, endpoints, granted, s.count, w, tput, s.p50_ms, s.p99_ms, s.max_ms, ka.errors);
  log.print("etcd-lease-load");
  if (grants.errors > 0)
    std::printf("WARNING: %" PRId64 " of %d grants failed\n", grants.errors, o.leases);
  if (ka.errors > 0) std::printf("WARNING: this run had %" PRId64 " stream error(s)\n", ka.errors);
  if (ka.misses > 0)
    std::printf("WARNING: %" PRId64 " keep-alive(s) answered TTL <= 0 (lease gone)\n", ka.misses);
}

int run(const options& o) {
  auto targets = resolve_targets(o.common, "etcd-lease-load");
  if (targets.empty()) return 1;
  channel_pool pool(targets, o.common.conns_per_endpoint);
  std::vector<std::unique_ptr<Lease::Stub>> stubs;
  for (size_t i = 0; i < targets.size() * static_cast<size_t>(o.common.conns_per_endpoint); ++i)
    stubs.push_back(Lease::NewStub(pool.at(i)));
  error_log log;
  tally grants;
  auto t0 = steady::now();
  auto ids = grant_all(o, stubs, pool, grants, log);
  double grant_s = std::chrono::duration<double>(steady::now() - t0).count();
  if (ids.empty()) {
    std::fprintf(stderr, "etcd-lease-load: no lease granted\n");
    log.print("etcd-lease-load");
    return 1;
  }
  auto win = window::starting_now(o.common.warmup_s, o.common.duration_s);
  auto ka = keep_alive(o, stubs, pool, ids, win, log);
  report(o, ka, win, ids.size(), grant_s, grants, static_cast<int>(targets.size()), log);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"etcd-lease-load: lease keep-alive streams against etcd or AEGIS"};
  app.option_defaults()->always_capture_default();
  add_common_options(app, o.common);
  app.add_option("--leases", o.leases, "leases granted first (unmeasured)")
      ->check(CLI::PositiveNumber);
  app.add_option("--ttl-s", o.ttl_s, "their TTL, seconds")->check(CLI::PositiveNumber);
  app.add_option("--streams", o.streams, "keep-alive streams, one request outstanding each")
      ->check(CLI::PositiveNumber);
  app.add_option("--grant-concurrency", o.grant_concurrency, "LeaseGrant calls in flight")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", o.threads, "completion-queue threads")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
