// Plumbing shared by the etcd v3 load generators in bench/ (etcd-load, etcd-watch-fanout,
// etcd-lease-load): command-line options every tool takes, gRPC channels, leader lookup, the
// measured window, latency percentiles and the first few RPC errors. Each tool is pointed,
// unchanged, at etcd and at AEGIS by bench/cluster_bench.sh.
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aegis::bench {

using steady = std::chrono::steady_clock;

// Options every tool takes (CLI names in add_common_options).
struct common_options {
  std::vector<std::string> endpoints;
  double duration_s = 10.0;
  double warmup_s = 1.0;
  bool leader_only = false;
  int conns_per_endpoint = 1;
  int timeout_ms = 5000;
  std::string label;
};

// Adds --endpoints, --duration-s, --warmup-s, --leader-only, --conns-per-endpoint, --timeout-ms
// and --label; returns the --duration-s option (etcd-load makes --ops exclude it).
CLI::Option* add_common_options(CLI::App& app, common_options& o);

// The measured interval: [warm_end, end]. What completes before warm_end is warm-up.
struct window {
  steady::time_point warm_end;
  steady::time_point end;
  static window starting_now(double warmup_s, double duration_s);
  bool contains(steady::time_point t) const { return t >= warm_end && t <= end; }
  double seconds() const { return std::chrono::duration<double>(end - warm_end).count(); }
};

steady::duration to_duration(double seconds);

// One channel (one HTTP/2 connection) per open_channel call, never shared with another channel.
std::shared_ptr<grpc::Channel> open_channel(const std::string& endpoint);

// The endpoints without their scheme; only the leader's with leader_only (asked through
// Maintenance/Status, 10 s deadline). Empty, after a message on stderr, when no leader answered.
std::vector<std::string> resolve_targets(const common_options& o, const char* tool);
std::string find_leader(const std::vector<std::string>& endpoints);

// conns_per_endpoint channels per target; at(i) spreads i round-robin over the targets first,
// then over each target's connections (client i, stream i, ...).
class channel_pool {
 public:
  channel_pool(const std::vector<std::string>& targets, int conns_per_endpoint);
  const std::shared_ptr<grpc::Channel>& at(size_t i) const;
  const std::string& endpoint(size_t i) const { return targets_[i % targets_.size()]; }

 private:
  std::vector<std::string> targets_;
  size_t conns_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
};

// `bytes` pseudo-random letters, the same for every run.
std::string random_value(int bytes);
// The bench's key names: PREFIX followed by the index, zero-padded to 10 digits.
std::string key_name(const std::string& prefix, int64_t index);

// First few RPC errors, printed at the end so a failing run says why.
struct error_log {
  std::mutex mu;
  std::vector<std::string> lines;
  void add(const std::string& endpoint, const grpc::Status& s);
  void add(const std::string& line);
  void print(const char* tool) const;
};

// Per-thread counts of one phase; merged after the threads join.
struct tally {
  std::vector<int64_t> latencies_us;
  int64_t errors = 0;
  int64_t misses = 0;  // answered, but not as hoped (what that is depends on the tool)
  steady::time_point last_done{};
  void merge(const tally& other);
};

struct latency_summary {
  size_t count = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
};
latency_summary summarize(std::vector<int64_t> us);  // sorts its copy

// Runs body(t, items) on `threads` threads, thread t getting the indices i < n with
// i % threads == t; returns when all have finished.
void on_threads(int threads, size_t n,
                const std::function<void(int, const std::vector<size_t>&)>& body);

}  // namespace aegis::bench
