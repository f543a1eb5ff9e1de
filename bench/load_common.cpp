#include "bench/load_common.hpp"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "protocol/etcd/rpc.grpc.pb.h"

namespace aegis::bench {

CLI::Option* add_common_options(CLI::App& app, common_options& o) {
  app.add_option("--endpoints", o.endpoints, "host:port list, comma separated")
      ->required()
      ->delimiter(',');
  auto* dur = app.add_option("--duration-s", o.duration_s, "measured seconds (after warm-up)");
  app.add_option("--warmup-s", o.warmup_s, "unmeasured seconds first")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--leader-only", o.leader_only, "ask Maintenance/Status, load only the leader");
  app.add_option("--conns-per-endpoint", o.conns_per_endpoint, "gRPC connections per endpoint")
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout-ms", o.timeout_ms, "per-RPC deadline")->check(CLI::PositiveNumber);
  app.add_option("--label", o.label, "echoed in the RESULT line");
  return dur;
}

steady::duration to_duration(double s) {
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
}

window window::starting_now(double warmup_s, double duration_s) {
  window w;
  w.warm_end = steady::now() + to_duration(warmup_s);
  w.end = w.warm_end + to_duration(duration_s);
  return w;
}

std::shared_ptr<grpc::Channel> open_channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // loopback must never go through a proxy
  // Without a local pool, channels with equal arguments to one target share a TCP connection;
  // with it, each channel is its own connection, so --conns-per-endpoint means what it says.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);  // a watch response may batch many events
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

namespace {
std::string strip_scheme(const std::string& endpoint) {
  auto pos = endpoint.find("://");
  return pos == std::string::npos ? endpoint : endpoint.substr(pos + 3);
}
}  // namespace

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

std::vector<std::string> resolve_targets(const common_options& o, const char* tool) {
  std::vector<std::string> targets;
  for (const auto& ep : o.endpoints)
    targets.push_back(strip_scheme(ep));
  if (!o.leader_only) return targets;
  auto leader = find_leader(targets);
  if (leader.empty()) {
    std::fprintf(stderr, "%s: no endpoint reported itself as leader within 10 s\n", tool);
    return {};
  }
  return {leader};
}

channel_pool::channel_pool(const std::vector<std::string>& targets, int conns_per_endpoint)
    : targets_(targets), conns_(static_cast<size_t>(conns_per_endpoint)) {
  for (const auto& ep : targets_)
    for (size_t k = 0; k < conns_; ++k)
      channels_.push_back(open_channel(ep));
}

const std::shared_ptr<grpc::Channel>& channel_pool::at(size_t i) const {
  size_t ep = i % targets_.size();
  size_t conn = (i / targets_.size()) % conns_;
  return channels_[ep * conns_ + conn];
}

std::string random_value(int bytes) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string v(static_cast<size_t>(std::max(bytes, 0)), 'x');
  for (auto& c : v)
    c = static_cast<char>(letter(rng));
  return v;
}

std::string key_name(const std::string& prefix, int64_t index) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%010" PRId64, index);
  return prefix + digits;
}

void error_log::add(const std::string& endpoint, const grpc::Status& s) {
  add(endpoint + ": code " + std::to_string(s.error_code()) + " " + s.error_message());
}

void error_log::add(const std::string& line) {
  std::lock_guard lock(mu);
  if (lines.size() < 5) lines.push_back(line);
}

void error_log::print(const char* tool) const {
  for (const auto& line : lines)
    std::fprintf(stderr, "%s: rpc error: %s\n", tool, line.c_str());
}

void tally::merge(const tally& other) {
  latencies_us.insert(latencies_us.end(), other.latencies_us.begin(), other.latencies_us.end());
  errors += other.errors;
  misses += other.misses;
  last_done = std::max(last_done, other.last_done);
}

namespace {
double percentile_ms(const std::vector<int64_t>& sorted_us, double p) {
  if (sorted_us.empty()) return 0.0;
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted_us.size())));
  return static_cast<double>(sorted_us[std::clamp<size_t>(rank, 1, sorted_us.size()) - 1]) / 1e3;
}
}  // namespace

latency_summary summarize(std::vector<int64_t> us) {
  std::sort(us.begin(), us.end());
  latency_summary s;
  s.count = us.size();
  if (us.empty()) return s;
  double sum = 0;
  for (auto v : us)
    sum += static_cast<double>(v);
  s.mean_ms = sum / static_cast<double>(us.size()) / 1e3;
  s.p50_ms = percentile_ms(us, 0.50);
  s.p99_ms = percentile_ms(us, 0.99);
  s.max_ms = static_cast<double>(us.back()) / 1e3;
  return s;
}

void on_threads(int threads, size_t n,
                const std::function<void(int, const std::vector<size_t>&)>& body) {
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    std::vector<size_t> mine;
    for (size_t i = static_cast<size_t>(t); i < n; i += static_cast<size_t>(threads))
      mine.push_back(i);
    running.emplace_back([&body, t, mine = std::move(mine)] { body(t, mine); });
  }
  for (auto& th : running)
    th.join();
}

}  // namespace aegis::bench
