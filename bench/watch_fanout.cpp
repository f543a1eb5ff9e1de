// etcd-watch-fanout: watch fan-out against etcd or AEGIS over the etcd v3 API. --watchers watches
// on one prefix, spread evenly over --streams Watch streams (one bidi stream carries many
// watches, as etcd's clientv3 does), the streams round-robin over the endpoints (one connection
// per endpoint by default). Once every watch is acknowledged (created=true), one writer on the
// leader puts keys PREFIXNNNNNNNNNN (cycling over --key-space keys), one Put outstanding: closed
// loop, or paced to at most --rate puts/s. Every value starts with the writer's steady-clock time
// before the Put, so a watcher (same process) knows each event's delivery delay: put issued ->
// event read by the client. Reports events delivered per second (all watchers together, received
// inside the measured window), delivery delay percentiles, and the watches the server cancelled,
// with its reason. After the writer stops it waits (up to --drain-s) until every watcher has
// every event of every Put answered OK, and warns of events that never arrived or arrived twice.
// Prints one machine-readable `RESULT ...` line and one human line.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <thread>

#include "bench/load_common.hpp"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace {

using namespace aegis::bench;
using etcdserverpb::WatchRequest;
using etcdserverpb::WatchResponse;

struct options {
  common_options common;
  int watchers = 1000;
  int streams = 10;
  double rate = 0;  // puts/s; 0: closed loop
  int64_t key_space = 1000;
  int value_bytes = 256;
  std::string prefix = "fanout/";
  double create_timeout_s = 30;
  double drain_s = 10;
};

constexpr size_t stamp_digits = 20;  // the value's first bytes: steady-clock ns, zero-padded

// State the readers and the writer share.
struct shared_state {
  window win;
  std::atomic<bool> started{false};  // win is set: the writer runs
  std::atomic<bool> stopping{false};
  std::atomic<int> created{0};
  std::atomic<int64_t> events_all{0};  // every event received, inside the window or not
  std::atomic<int64_t> puts_ok{0};     // every Put answered OK
  error_log log;
};

// One Watch stream with its watches; its reader thread fills `counts` (latencies = delays).
struct watch_stream {
  std::string endpoint;
  std::unique_ptr<etcdserverpb::Watch::Stub> stub;
  grpc::ClientContext ctx;
  int watches = 0;
  tally counts;  // misses: watches the server cancelled
  std::string cancel_reason;
};

std::string prefix_end(std::string p) {
  while (!p.empty() && static_cast<unsigned char>(p.back()) == 0xff)
    p.pop_back();
  if (!p.empty()) p.back() = static_cast<char>(p.back() + 1);
  return p;
}

void count_events(watch_stream& s, const WatchResponse& r, steady::time_point now,
                  shared_state& sh) {
  sh.events_all += r.events_size();
  if (!sh.started || !sh.win.contains(now)) return;
  int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  for (const auto& ev : r.events()) {
    const auto& v = ev.kv().value();
    int64_t put_ns = std::strtoll(v.substr(0, stamp_digits).c_str(), nullptr, 10);
    s.counts.latencies_us.push_back((now_ns - put_ns) / 1000);
  }
  s.counts.last_done = now;
}

// Reader thread: opens the stream, creates its watches, then reads until cancelled.
void read_stream(watch_stream& s, const options& o, shared_state& sh) {
  auto rw = s.stub->Watch(&s.ctx);
  WatchRequest create;
  create.mutable_create_request()->set_key(o.prefix);
  create.mutable_create_request()->set_range_end(prefix_end(o.prefix));
  for (int i = 0; i < s.watches; ++i)
    if (!rw->Write(create)) break;
  WatchResponse r;
  while (rw->Read(&r)) {
    auto now = steady::now();
    if (r.created()) ++sh.created;
    if (r.canceled()) {
      ++s.counts.misses;
      if (s.cancel_reason.empty()) s.cancel_reason = r.cancel_reason();
    }
    count_events(s, r, now, sh);
  }
  auto status = rw->Finish();
  if (!sh.stopping) {  // the stream ended before the run did
    ++s.counts.errors;
    sh.log.add(s.endpoint,
               status.ok() ? grpc::Status(grpc::StatusCode::UNKNOWN, "stream ended") : status);
  }
}

std::string stamped_value(steady::time_point t, const std::string& filler) {
  char stamp[stamp_digits + 1];
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::snprintf(stamp, sizeof stamp, "%0*" PRId64, static_cast<int>(stamp_digits), ns);
  return stamp + filler;
}

// The writer: one Put at a time on the leader until the window ends; returns the counts of Puts
// completed inside the window (latencies = Put latency).
tally write_loop(const options& o, const std::string& leader, shared_state& sh) {
  auto stub = etcdserverpb::KV::NewStub(open_channel(leader));
  auto filler = random_value(std::max<int>(0, o.value_bytes - static_cast<int>(stamp_digits)));
  tally t;
  auto next = steady::now();
  for (int64_t seq = 0; steady::now() < sh.win.end; ++seq) {
    if (o.rate > 0) {
      std::this_thread::sleep_until(next);
      next += to_duration(1.0 / o.rate);
    }
    etcdserverpb::PutRequest req;
    req.set_key(key_name(o.prefix, seq % o.key_space));
    auto started = steady::now();
    req.set_value(stamped_value(started, filler));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(o.common.timeout_ms));
    etcdserverpb::PutResponse resp;
    auto status = stub->Put(&ctx, req, &resp);
    auto done = steady::now();
    if (!status.ok()) {
      ++t.errors;
      sh.log.add(leader, status);
      continue;
    }
    ++sh.puts_ok;
    if (sh.win.contains(done)) {
      t.latencies_us.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(done - started).count());
    }
  }
  return t;
}

// After the writer: until every watcher has every event of every Put answered OK, or drain_s.
void wait_drained(const options& o, const shared_state& sh) {
  auto deadline = steady::now() + to_duration(o.drain_s);
  while (sh.events_all < sh.puts_ok * o.watchers && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
}

bool wait_created(const options& o, const shared_state& sh) {
  auto deadline = steady::now() + to_duration(o.create_timeout_s);
  while (sh.created < o.watchers && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // poll interval
  return sh.created >= o.watchers;
}

void report(const options& o, const tally& events, const tally& puts, const shared_state& sh,
            int endpoints, const std::string& reason) {
  auto d = summarize(events.latencies_us);
  auto p = summarize(puts.latencies_us);
  double w = sh.win.seconds();
  double eps = w > 0 ? static_cast<double>(d.count) / w : 0.0;
  double pps = w > 0 ? static_cast<double>(p.count) / w : 0.0;
  double per_put = p.count > 0 ? static_cast<double>(d.count) / static_cast<double>(p.count) : 0;
  std::printf(
      "RESULT label=%s watchers=%d streams=%d endpoints=%d rate=%.1f value_bytes=%d"
      " key_space=%" PRId64
      " created=%d events=%zu puts=%zu window_s=%.3f tput=%.1f"
      " puts_per_s=%.1f events_per_put=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
      " put_p50_ms=%.3f cancelled=%" PRId64 " errors=%" PRId64 " events_all=%" PRId64
      " expected_all=%" PRId64 "\n",
      o.common.label.empty() ? "-" : o.common.label.c_str(), o.watchers, o.streams, endpoints,
      o.rate, o.value_bytes, o.key_space, sh.created.load(), d.count, p.count, w, eps, pps, per_put,
      d.p50_ms, d.p99_ms, d.max_ms, p.p50_ms, events.misses, events.errors + puts.errors,
      sh.events_all.load(), sh.puts_ok * o.watchers);
  std::printf(
      "%d watchers on %d stream(s): %.0f events/s delivered, writer %.0f puts/s;"
      " delivery delay p50 %.3f ms, p99 %.3f ms, max %.3f ms; %" PRId64 " cancelled, %" PRId64
      " error(s)\n",
      o.watchers, o.streams, eps, pps, d.p50_ms, d.p99_ms, d.max_ms, events.misses,
      events.errors + puts.errors);
  int64_t lost = sh.puts_ok * o.watchers - sh.events_all;
  if (lost != 0)
    std::printf("WARNING: %" PRId64 " event(s) %s (%" PRId64 " received for %" PRId64
                " Puts x %d watchers; waited up to %.0f s)\n",
                lost > 0 ? lost : -lost, lost > 0 ? "never arrived" : "arrived twice or unasked",
                sh.events_all.load(), sh.puts_ok.load(), o.watchers, o.drain_s);
  if (events.misses > 0)
    std::printf("WARNING: the server cancelled %" PRId64 " watch(es): %s\n", events.misses,
                reason.c_str());
  sh.log.print("etcd-watch-fanout");
}

int run(const options& o) {
  auto targets = resolve_targets(o.common, "etcd-watch-fanout");
  if (targets.empty()) return 1;
  auto leader = o.common.leader_only ? targets[0] : find_leader(targets);
  if (leader.empty()) {
    std::fprintf(stderr, "etcd-watch-fanout: no leader found\n");
    return 1;
  }
  channel_pool pool(targets, o.common.conns_per_endpoint);
  std::vector<std::unique_ptr<watch_stream>> streams;
  for (int i = 0; i < o.streams; ++i) {
    auto s = std::make_unique<watch_stream>();
    s->endpoint = pool.endpoint(static_cast<size_t>(i));
    s->stub = etcdserverpb::Watch::NewStub(pool.at(static_cast<size_t>(i)));
    s->watches = o.watchers / o.streams + (i < o.watchers % o.streams ? 1 : 0);
    streams.push_back(std::move(s));
  }
  shared_state sh;
  std::vector<std::thread> readers;
  for (auto& s : streams)
    readers.emplace_back(read_stream, std::ref(*s), std::cref(o), std::ref(sh));
  tally puts;
  bool ready = wait_created(o, sh);
  if (ready) {
    sh.win = window::starting_now(o.common.warmup_s, o.common.duration_s);
    sh.started = true;
    puts = write_loop(o, leader, sh);
    wait_drained(o, sh);
  } else {
    std::fprintf(stderr, "etcd-watch-fanout: only %d of %d watches created within %.0f s\n",
                 sh.created.load(), o.watchers, o.create_timeout_s);
  }
  sh.stopping = true;
  for (auto& s : streams)
    s->ctx.TryCancel();
  for (auto& th : readers)
    th.join();
  tally events;
  std::string reason;
  for (const auto& s : streams) {
    events.merge(s->counts);
    if (reason.empty()) reason = s->cancel_reason;
  }
  report(o, events, puts, sh, static_cast<int>(targets.size()), reason);
  return ready ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"etcd-watch-fanout: many watchers on one prefix, one writer, against etcd or AEGIS"};
  app.option_defaults()->always_capture_default();
  add_common_options(app, o.common);
  app.add_option("--watchers", o.watchers, "watches on the prefix")->check(CLI::PositiveNumber);
  app.add_option("--streams", o.streams, "Watch streams the watches are spread over")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate", o.rate, "writer puts/s; 0: closed loop")->check(CLI::NonNegativeNumber);
  app.add_option("--key-space", o.key_space, "the writer cycles over this many keys")
      ->check(CLI::PositiveNumber);
  app.add_option("--value-bytes", o.value_bytes, "value size (the first 20 bytes are a stamp)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--prefix", o.prefix, "the watched prefix");
  app.add_option("--create-timeout-s", o.create_timeout_s, "deadline for every watch's ack");
  app.add_option("--drain-s", o.drain_s, "after the run, wait this long at most for late events");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
