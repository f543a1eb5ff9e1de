// etcd-load: a closed-loop write load generator for the etcd v3 API (etcdserverpb.KV/Put). It is
// pointed, unchanged, at etcd and at AEGIS so bench/cluster_bench.sh can compare the two on the
// same machine. Every client keeps exactly one Put outstanding; the clients are driven by gRPC's
// async CompletionQueue API from a few threads, so 64 clients do not need 64 threads on 2 cores.
// Prints one machine-readable `RESULT ...` line and one human line.
//
// Connections: one gRPC channel (one HTTP/2 connection) per endpoint by default, shared by every
// client that targets that endpoint -- the way etcd's own `benchmark` tool shares a few
// connections. `--conns-per-endpoint` raises it. Both servers get exactly the same treatment.
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protocol/etcd/rpc.grpc.pb.h"

namespace {

using steady = std::chrono::steady_clock;
using etcdserverpb::KV;

struct options {
  std::vector<std::string> endpoints;
  int clients = 1;
  double duration_s = 10.0;
  int64_t ops = 0;  // > 0: stop after this many measured ops instead of after duration_s
  int64_t key_space = 10000;
  int value_bytes = 256;
  double warmup_s = 1.0;
  bool leader_only = false;
  int threads = 2;
  int conns_per_endpoint = 1;
  int timeout_ms = 5000;
  std::string label;
};

// Shared by all worker threads; written before they start, read-only afterwards except the atomics.
struct run_plan {
  steady::time_point warm_end;
  steady::time_point end;  // duration mode only
  bool ops_mode = false;
  std::atomic<int64_t> ops_left{0};  // ops mode: measured ops still to issue
  std::string value;
  int64_t key_space = 1;
  int timeout_ms = 5000;
};

struct tally {
  std::vector<int64_t> latencies_us;
  int64_t errors = 0;
  steady::time_point last_done{};
};

// First few RPC errors, printed at the end so a failing run says why.
struct error_log {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(const std::string& endpoint, const grpc::Status& s) {
    std::lock_guard lock(mu);
    if (lines.size() >= 5) return;
    lines.push_back(endpoint + ": code " + std::to_string(s.error_code()) + " " +
                    s.error_message());
  }
};

struct client {
  KV::Stub* stub = nullptr;
  std::string endpoint;
  std::mt19937_64 rng;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> call;
  etcdserverpb::PutRequest req;
  etcdserverpb::PutResponse resp;
  grpc::Status status;
  steady::time_point started;
};

std::string strip_scheme(const std::string& endpoint) {
  auto pos = endpoint.find("://");
  return pos == std::string::npos ? endpoint : endpoint.substr(pos + 3);
}

std::shared_ptr<grpc::Channel> open_channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // loopback must never go through a proxy
  // Without a local pool, channels with equal arguments to one target share a TCP connection;
  // with it, each channel is its own connection, so --conns-per-endpoint means what it says.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

std::string random_value(int bytes) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string v(static_cast<size_t>(bytes), 'x');
  for (auto& c : v)
    c = static_cast<char>(letter(rng));
  return v;
}

// Asks Maintenance/Status on every endpoint until one says it is the leader (deadline 10 s).
std::string find_leader(const std::vector<std::string>& endpoints) {
  auto deadline = steady::now() + std::chrono::seconds(10);
  while (steady::now() < deadline) {
    for (const auto& ep : endpoints) {
      auto stub = etcdserverpb::Maintenance::NewStub(open_channel(ep));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      etcdserverpb::StatusResponse resp;
      auto s = stub->Status(&ctx, etcdserverpb::StatusRequest{}, &resp);
      if (s.ok() && resp.leader() != 0 && resp.leader() == resp.header().member_id()) return ep;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // poll interval, not a wait
  }
  return {};
}

void start_put(client& c, run_plan& plan, grpc::CompletionQueue& cq) {
  char key[32];
  std::uniform_int_distribution<int64_t> pick(0, plan.key_space - 1);
  std::snprintf(key, sizeof key, "bench/%010" PRId64, pick(c.rng));
  c.req.set_key(key);
  c.ctx = std::make_unique<grpc::ClientContext>();
  c.ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(plan.timeout_ms));
  c.started = steady::now();
  c.call = c.stub->PrepareAsyncPut(c.ctx.get(), c.req, &cq);
  c.call->StartCall();
  c.call->Finish(&c.resp, &c.status, &c);
}

// Counts one finished Put. Duration mode measures what completes inside [warm_end, end]; ops mode
// measures every op issued after warm_end.
void record(const client& c, bool ok, const run_plan& plan, tally& t, error_log& log) {
  auto done = steady::now();
  if (!ok || !c.status.ok()) {
    ++t.errors;
    log.add(c.endpoint, ok ? c.status : grpc::Status(grpc::StatusCode::UNKNOWN, "cq not ok"));
    return;
  }
  bool measured =
      plan.ops_mode ? c.started >= plan.warm_end : done >= plan.warm_end && done <= plan.end;
  if (!measured) return;
  t.latencies_us.push_back(
      std::chrono::duration_cast<std::chrono::microseconds>(done - c.started).count());
  t.last_done = done;
}

bool may_issue(run_plan& plan) {
  auto now = steady::now();
  if (!plan.ops_mode) return now < plan.end;
  if (now < plan.warm_end) return true;
  return plan.ops_left.fetch_sub(1) > 0;
}

// One worker thread: drives its share of the clients on its own completion queue.
void drive(std::vector<client*> mine, run_plan& plan, tally& t, error_log& log) {
  grpc::CompletionQueue cq;
  size_t outstanding = 0;
  for (auto* c : mine) {
    if (!may_issue(plan)) break;
    start_put(*c, plan, cq);
    ++outstanding;
  }
  void* tag = nullptr;
  bool ok = false;
  while (outstanding > 0 && cq.Next(&tag, &ok)) {
    auto* c = static_cast<client*>(tag);
    record(*c, ok, plan, t, log);
    if (may_issue(plan)) {
      start_put(*c, plan, cq);
    } else {
      --outstanding;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

double percentile_ms(const std::vector<int64_t>& sorted_us, double p) {
  if (sorted_us.empty()) return 0.0;
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted_us.size())));
  return static_cast<double>(sorted_us[std::clamp<size_t>(rank, 1, sorted_us.size()) - 1]) / 1e3;
}

void report(const options& o, const std::vector<tally>& tallies, const run_plan& plan,
            int endpoints_used, error_log& log) {
  std::vector<int64_t> lat;
  int64_t errors = 0;
  steady::time_point last = plan.warm_end;
  for (const auto& t : tallies) {
    lat.insert(lat.end(), t.latencies_us.begin(), t.latencies_us.end());
    errors += t.errors;
    last = std::max(last, t.last_done);
  }
  std::sort(lat.begin(), lat.end());
  auto window = plan.ops_mode ? last - plan.warm_end : plan.end - plan.warm_end;
  double window_s = std::chrono::duration<double>(window).count();
  double tput = window_s > 0 ? static_cast<double>(lat.size()) / window_s : 0.0;
  double mean_ms = 0;
  for (auto us : lat)
    mean_ms += static_cast<double>(us) / 1e3;
  if (!lat.empty()) mean_ms /= static_cast<double>(lat.size());
  double p50 = percentile_ms(lat, 0.50), p99 = percentile_ms(lat, 0.99);
  double max_ms = lat.empty() ? 0.0 : static_cast<double>(lat.back()) / 1e3;
  std::printf(
      "RESULT label=%s clients=%d endpoints=%d leader_only=%d value_bytes=%d key_space=%" PRId64
      " ops=%zu errors=%" PRId64
      " window_s=%.3f tput=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
      " mean_ms=%.3f\n",
      o.label.empty() ? "-" : o.label.c_str(), o.clients, endpoints_used, o.leader_only ? 1 : 0,
      o.value_bytes, o.key_space, lat.size(), errors, window_s, tput, p50, p99, max_ms, mean_ms);
  std::printf(
      "%d client(s) on %d endpoint(s): %zu puts in %.2f s = %.0f ops/s; latency p50 %.3f ms"
      ", p99 %.3f ms, max %.3f ms; %" PRId64 " error(s)\n",
      o.clients, endpoints_used, lat.size(), window_s, tput, p50, p99, max_ms, errors);
  for (const auto& line : log.lines)
    std::fprintf(stderr, "etcd-load: rpc error: %s\n", line.c_str());
  if (errors > 0) std::printf("WARNING: this run had %" PRId64 " RPC error(s)\n", errors);
}

// Builds the clients: round-robin over the endpoints, and over each endpoint's connections.
std::vector<client> make_clients(const options& o, const std::vector<std::string>& targets,
                                 std::vector<std::unique_ptr<KV::Stub>>& stubs) {
  for (const auto& ep : targets)
    for (int k = 0; k < o.conns_per_endpoint; ++k)
      stubs.push_back(KV::NewStub(open_channel(ep)));
  std::vector<client> clients(static_cast<size_t>(o.clients));
  for (size_t i = 0; i < clients.size(); ++i) {
    size_t ep = i % targets.size();
    size_t conn = (i / targets.size()) % static_cast<size_t>(o.conns_per_endpoint);
    clients[i].stub = stubs[ep * static_cast<size_t>(o.conns_per_endpoint) + conn].get();
    clients[i].endpoint = targets[ep];
    clients[i].rng.seed(1000 + i);
  }
  return clients;
}

int run(const options& o) {
  std::vector<std::string> targets;
  for (const auto& ep : o.endpoints)
    targets.push_back(strip_scheme(ep));
  if (o.leader_only) {
    auto leader = find_leader(targets);
    if (leader.empty()) {
      std::fprintf(stderr, "etcd-load: no endpoint reported itself as leader within 10 s\n");
      return 1;
    }
    targets = {leader};
  }
  std::vector<std::unique_ptr<KV::Stub>> stubs;
  auto clients = make_clients(o, targets, stubs);
  run_plan plan;
  plan.value = random_value(o.value_bytes);
  plan.key_space = o.key_space;
  plan.timeout_ms = o.timeout_ms;
  plan.ops_mode = o.ops > 0;
  plan.ops_left = o.ops;
  for (auto& c : clients)
    c.req.set_value(plan.value);
  auto t0 = steady::now();
  plan.warm_end =
      t0 + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(o.warmup_s));
  plan.end = plan.warm_end + std::chrono::duration_cast<steady::duration>(
                                 std::chrono::duration<double>(o.duration_s));
  int nthreads = std::clamp(o.threads, 1, o.clients);
  std::vector<tally> tallies(static_cast<size_t>(nthreads));
  error_log log;
  std::vector<std::thread> threads;
  for (int t = 0; t < nthreads; ++t) {
    std::vector<client*> mine;
    for (size_t i = static_cast<size_t>(t); i < clients.size(); i += static_cast<size_t>(nthreads))
      mine.push_back(&clients[i]);
    threads.emplace_back(drive, std::move(mine), std::ref(plan), std::ref(tallies[t]),
                         std::ref(log));
  }
  for (auto& th : threads)
    th.join();
  report(o, tallies, plan, static_cast<int>(targets.size()), log);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"etcd-load: closed-loop etcd v3 Put load against etcd or AEGIS"};
  app.option_defaults()->always_capture_default();
  app.add_option("--endpoints", o.endpoints, "host:port list, comma separated")
      ->required()
      ->delimiter(',');
  app.add_option("--clients", o.clients, "concurrent closed-loop clients")
      ->check(CLI::PositiveNumber);
  auto* dur = app.add_option("--duration-s", o.duration_s, "measured seconds (after warm-up)");
  app.add_option("--ops", o.ops, "measured ops instead of a duration")->excludes(dur);
  app.add_option("--key-space", o.key_space, "keys are drawn uniformly from this many")
      ->check(CLI::PositiveNumber);
  app.add_option("--value-bytes", o.value_bytes, "value size")->check(CLI::NonNegativeNumber);
  app.add_option("--warmup-s", o.warmup_s, "unmeasured seconds first")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--leader-only", o.leader_only, "ask Maintenance/Status, load only the leader");
  app.add_option("--threads", o.threads, "completion-queue threads")->check(CLI::PositiveNumber);
  app.add_option("--conns-per-endpoint", o.conns_per_endpoint, "gRPC connections per endpoint")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout-ms", o.timeout_ms, "per-Put deadline")->check(CLI::PositiveNumber);
  app.add_option("--label", o.label, "echoed in the RESULT line");
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
