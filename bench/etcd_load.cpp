// etcd-load: a closed-loop load generator for the etcd v3 KV API. It is pointed, unchanged, at
// etcd and at AEGIS so bench/cluster_bench.sh can compare the two on the same machine. Every
// client keeps exactly one request outstanding; the clients are driven by gRPC's async
// CompletionQueue API from a few threads, so 64 clients do not need 64 threads on 2 cores.
// Prints one machine-readable `RESULT ...` line and one human line.
//
// --op picks the request, each on a key drawn uniformly from --key-space keys `bench/NNNNNNNNNN`:
//   put    Put(key, value)
//   range  Range(key), linearizable (serializable=false); a key not found counts as a miss
//   txn    Txn{ if version(key) > 0 then Put(key, value) else Put(key, value) }: one compare and
//          one write in one transaction whichever branch runs; the failure branch counts as a miss
// --preload first writes every key of the key space once (unmeasured), so Range hits a key and
// the Txn compare holds.
//
// Connections: one gRPC channel (one HTTP/2 connection) per endpoint by default, shared by every
// client that targets that endpoint -- the way etcd's own `benchmark` tool shares a few
// connections. `--conns-per-endpoint` raises it. Both servers get exactly the same treatment.
#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <random>

#include "bench/load_common.hpp"
#include "protocol/etcd/rpc.grpc.pb.h"

namespace {

using namespace aegis::bench;
using etcdserverpb::KV;
template <class R>
using reader = std::unique_ptr<grpc::ClientAsyncResponseReader<R>>;

enum class op_kind { put, range, txn };
const char* const op_names[] = {"put", "range", "txn"};

struct options {
  common_options common;
  std::string op = "put";
  int clients = 1;
  int64_t ops = 0;  // > 0: stop after this many measured ops instead of after duration_s
  int64_t key_space = 10000;
  int value_bytes = 256;
  bool preload = false;
  int threads = 2;
};

// Shared by all worker threads; written before they start, read-only afterwards except the atomics.
struct run_plan {
  op_kind op = op_kind::put;
  window win;
  bool ops_mode = false;
  std::atomic<int64_t> ops_left{0};  // ops mode: measured ops still to issue
  bool sequential = false;           // keys 0, 1, 2, ... instead of random ones (preload)
  std::atomic<int64_t> next_key{0};
  int64_t key_space = 1;
  int timeout_ms = 5000;
};

struct client {
  KV::Stub* stub = nullptr;
  std::string endpoint;
  std::mt19937_64 rng;
  std::unique_ptr<grpc::ClientContext> ctx;
  etcdserverpb::PutRequest put;
  etcdserverpb::PutResponse put_resp;
  reader<etcdserverpb::PutResponse> put_call;
  etcdserverpb::RangeRequest range;  // serializable=false: a linearizable read
  etcdserverpb::RangeResponse range_resp;
  reader<etcdserverpb::RangeResponse> range_call;
  etcdserverpb::TxnRequest txn;
  etcdserverpb::TxnResponse txn_resp;
  reader<etcdserverpb::TxnResponse> txn_call;
  grpc::Status status;
  steady::time_point started;
};

// Txn{ if version(key) > 0 then Put(key, value) else Put(key, value) }; the key is set per op.
etcdserverpb::TxnRequest txn_template(const std::string& value) {
  etcdserverpb::TxnRequest t;
  auto* cmp = t.add_compare();
  cmp->set_result(etcdserverpb::Compare::GREATER);
  cmp->set_target(etcdserverpb::Compare::VERSION);
  cmp->set_version(0);
  t.add_success()->mutable_request_put()->set_value(value);
  t.add_failure()->mutable_request_put()->set_value(value);
  return t;
}

std::string next_key(client& c, run_plan& plan) {
  if (plan.sequential) return key_name("bench/", plan.next_key.fetch_add(1) % plan.key_space);
  std::uniform_int_distribution<int64_t> pick(0, plan.key_space - 1);
  return key_name("bench/", pick(c.rng));
}

void start_op(client& c, run_plan& plan, grpc::CompletionQueue& cq) {
  auto key = next_key(c, plan);
  c.ctx = std::make_unique<grpc::ClientContext>();
  c.ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::milliseconds(plan.timeout_ms));
  c.started = steady::now();
  switch (plan.op) {
    case op_kind::put:
      c.put.set_key(key);
      c.put_call = c.stub->AsyncPut(c.ctx.get(), c.put, &cq);
      c.put_call->Finish(&c.put_resp, &c.status, &c);
      break;
    case op_kind::range:
      c.range.set_key(key);
      c.range_call = c.stub->AsyncRange(c.ctx.get(), c.range, &cq);
      c.range_call->Finish(&c.range_resp, &c.status, &c);
      break;
    case op_kind::txn:
      c.txn.mutable_compare(0)->set_key(key);
      c.txn.mutable_success(0)->mutable_request_put()->set_key(key);
      c.txn.mutable_failure(0)->mutable_request_put()->set_key(key);
      c.txn_call = c.stub->AsyncTxn(c.ctx.get(), c.txn, &cq);
      c.txn_call->Finish(&c.txn_resp, &c.status, &c);
      break;
  }
}

bool missed(const client& c, op_kind op) {
  if (op == op_kind::range) return c.range_resp.kvs_size() == 0;
  if (op == op_kind::txn) return !c.txn_resp.succeeded();
  return false;
}

// Counts one finished op. Duration mode measures what completes inside the window; ops mode
// measures every op issued after warm-up.
void record(const client& c, bool ok, const run_plan& plan, tally& t, error_log& log) {
  auto done = steady::now();
  if (!ok || !c.status.ok()) {
    ++t.errors;
    log.add(c.endpoint, ok ? c.status : grpc::Status(grpc::StatusCode::UNKNOWN, "cq not ok"));
    return;
  }
  bool measured = plan.ops_mode ? c.started >= plan.win.warm_end : plan.win.contains(done);
  if (!measured) return;
  t.latencies_us.push_back(
      std::chrono::duration_cast<std::chrono::microseconds>(done - c.started).count());
  if (missed(c, plan.op)) ++t.misses;
  t.last_done = done;
}

bool may_issue(run_plan& plan) {
  auto now = steady::now();
  if (!plan.ops_mode) return now < plan.win.end;
  if (now < plan.win.warm_end) return true;
  return plan.ops_left.fetch_sub(1) > 0;
}

// One worker thread: drives its share of the clients on its own completion queue.
void drive(const std::vector<client*>& mine, run_plan& plan, tally& t, error_log& log) {
  grpc::CompletionQueue cq;
  size_t outstanding = 0;
  for (auto* c : mine) {
    if (!may_issue(plan)) break;
    start_op(*c, plan, cq);
    ++outstanding;
  }
  void* tag = nullptr;
  bool ok = false;
  while (outstanding > 0 && cq.Next(&tag, &ok)) {
    auto* c = static_cast<client*>(tag);
    record(*c, ok, plan, t, log);
    if (may_issue(plan)) {
      start_op(*c, plan, cq);
    } else {
      --outstanding;
    }
  }
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

// Runs one closed-loop phase over all clients and returns the merged counts.
tally run_phase(std::vector<client>& clients, run_plan& plan, int threads, error_log& log) {
  int n = std::clamp(threads, 1, static_cast<int>(clients.size()));
  std::vector<tally> tallies(static_cast<size_t>(n));
  on_threads(n, clients.size(), [&](int t, const std::vector<size_t>& idx) {
    std::vector<client*> mine;
    for (auto i : idx)
      mine.push_back(&clients[i]);
    drive(mine, plan, tallies[static_cast<size_t>(t)], log);
  });
  tally all;
  for (const auto& t : tallies)
    all.merge(t);
  return all;
}

// Writes keys 0 .. key_space-1 once each with all clients; returns the seconds it took.
double preload(std::vector<client>& clients, const options& o, tally& result, error_log& log) {
  run_plan plan;
  plan.op = op_kind::put;
  plan.sequential = true;
  plan.ops_mode = true;
  plan.ops_left = o.key_space;
  plan.key_space = o.key_space;
  plan.timeout_ms = o.common.timeout_ms;
  plan.win = window::starting_now(0, 0);
  auto t0 = steady::now();
  result = run_phase(clients, plan, o.threads, log);
  return std::chrono::duration<double>(steady::now() - t0).count();
}

void report(const options& o, const tally& all, const run_plan& plan, int endpoints_used,
            double preload_s, const tally& pre, const error_log& log) {
  auto s = summarize(all.latencies_us);
  double window_s = plan.ops_mode
                        ? std::chrono::duration<double>(all.last_done - plan.win.warm_end).count()
                        : plan.win.seconds();
  window_s = std::max(window_s, 0.0);
  double tput = window_s > 0 ? static_cast<double>(s.count) / window_s : 0.0;
  std::printf(
      "RESULT label=%s op=%s clients=%d endpoints=%d leader_only=%d value_bytes=%d"
      " key_space=%" PRId64 " ops=%zu errors=%" PRId64 " misses=%" PRId64
      " window_s=%.3f tput=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f mean_ms=%.3f"
      " preload_s=%.3f preload_errors=%" PRId64 "\n",
      o.common.label.empty() ? "-" : o.common.label.c_str(), o.op.c_str(), o.clients,
      endpoints_used, o.common.leader_only ? 1 : 0, o.value_bytes, o.key_space, s.count, all.errors,
      all.misses, window_s, tput, s.p50_ms, s.p99_ms, s.max_ms, s.mean_ms, preload_s, pre.errors);
  std::printf(
      "%d client(s) on %d endpoint(s): %zu %ss in %.2f s = %.0f ops/s; latency p50 %.3f ms"
      ", p99 %.3f ms, max %.3f ms; %" PRId64 " error(s)\n",
      o.clients, endpoints_used, s.count, o.op.c_str(), window_s, tput, s.p50_ms, s.p99_ms,
      s.max_ms, all.errors);
  log.print("etcd-load");
  if (all.errors > 0) std::printf("WARNING: this run had %" PRId64 " RPC error(s)\n", all.errors);
  if (all.misses > 0 && plan.op == op_kind::range)
    std::printf("WARNING: %" PRId64 " range(s) found no key (not preloaded?)\n", all.misses);
  if (all.misses > 0 && plan.op == op_kind::txn)
    std::printf("note: %" PRId64 " txn(s) took the failure branch (key never written before)\n",
                all.misses);
}

// Builds the clients: round-robin over the endpoints, and over each endpoint's connections.
std::vector<client> make_clients(const options& o, const channel_pool& pool,
                                 std::vector<std::unique_ptr<KV::Stub>>& stubs) {
  std::vector<client> clients(static_cast<size_t>(o.clients));
  auto value = random_value(o.value_bytes);
  auto txn = txn_template(value);
  for (size_t i = 0; i < clients.size(); ++i) {
    stubs.push_back(KV::NewStub(pool.at(i)));
    clients[i].stub = stubs.back().get();
    clients[i].endpoint = pool.endpoint(i);
    clients[i].rng.seed(1000 + i);
    clients[i].put.set_value(value);
    clients[i].txn = txn;
  }
  return clients;
}

int run(const options& o) {
  auto targets = resolve_targets(o.common, "etcd-load");
  if (targets.empty()) return 1;
  channel_pool pool(targets, o.common.conns_per_endpoint);
  std::vector<std::unique_ptr<KV::Stub>> stubs;
  auto clients = make_clients(o, pool, stubs);
  error_log log;
  tally pre;
  double preload_s = o.preload ? preload(clients, o, pre, log) : 0.0;
  run_plan plan;
  plan.op = static_cast<op_kind>(std::find(std::begin(op_names), std::end(op_names), o.op) -
                                 std::begin(op_names));
  plan.key_space = o.key_space;
  plan.timeout_ms = o.common.timeout_ms;
  plan.ops_mode = o.ops > 0;
  plan.ops_left = o.ops;
  plan.win = window::starting_now(o.common.warmup_s, o.common.duration_s);
  auto all = run_phase(clients, plan, o.threads, log);
  report(o, all, plan, static_cast<int>(targets.size()), preload_s, pre, log);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"etcd-load: closed-loop etcd v3 Put/Range/Txn load against etcd or AEGIS"};
  app.option_defaults()->always_capture_default();
  auto* dur = add_common_options(app, o.common);
  app.add_option("--op", o.op, "put | range (linearizable) | txn (version compare + put)")
      ->check(CLI::IsMember({"put", "range", "txn"}));
  app.add_option("--clients", o.clients, "concurrent closed-loop clients")
      ->check(CLI::PositiveNumber);
  app.add_option("--ops", o.ops, "measured ops instead of a duration")->excludes(dur);
  app.add_option("--key-space", o.key_space, "keys are drawn uniformly from this many")
      ->check(CLI::PositiveNumber);
  app.add_option("--value-bytes", o.value_bytes, "value size")->check(CLI::NonNegativeNumber);
  app.add_flag("--preload", o.preload, "first put every key of the key space once, unmeasured");
  app.add_option("--threads", o.threads, "completion-queue threads")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  return run(o);
}
