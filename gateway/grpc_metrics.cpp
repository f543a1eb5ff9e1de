#include "gateway/grpc_metrics.hpp"

#include <google/protobuf/descriptor.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string_view>
#include <unordered_map>

namespace aegis::gateway {

namespace {

using grpc::experimental::InterceptionHookPoints;

// grpc::StatusCode's names, by number (0..16), as Prometheus labels.
constexpr std::array<const char*, 17> code_names = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

// One method's series. Created lazily (one series per code the method really returns, so the
// page stays small); the pointers are cached in atomics because calls end on gRPC's threads.
class method_series {
 public:
  method_series(node::node_metrics& m, std::string path, std::string name, bool unary)
      : metrics_(m), path_(std::move(path)), name_(std::move(name)), unary_(unary) {}

  const std::string& path() const { return path_; }
  bool unary() const { return unary_; }

  void ended(grpc::StatusCode code, double seconds) {
    const auto c = static_cast<size_t>(code) < code_names.size() ? static_cast<size_t>(code)
                                                                 : size_t{2};  // UNKNOWN
    counter(c)->Increment();
    if (unary_) histogram()->Observe(seconds);
  }

 private:
  prometheus::Counter* counter(size_t code) {
    prometheus::Counter* c = by_code_[code].load(std::memory_order_acquire);
    if (!c) {
      // Family::Add returns the same series to racing callers: storing it twice is harmless.
      c = metrics_.grpc_requests(name_, code_names[code]);
      by_code_[code].store(c, std::memory_order_release);
    }
    return c;
  }

  prometheus::Histogram* histogram() {
    prometheus::Histogram* h = duration_.load(std::memory_order_acquire);
    if (!h) {
      h = metrics_.grpc_duration(name_);
      duration_.store(h, std::memory_order_release);
    }
    return h;
  }

  node::node_metrics& metrics_;
  std::string path_;  // "/etcdserverpb.KV/Put", as gRPC names the call
  std::string name_;  // "Put"
  bool unary_;
  std::array<std::atomic<prometheus::Counter*>, code_names.size()> by_code_{};
  std::atomic<prometheus::Histogram*> duration_{nullptr};
};

// Lives as long as one call: notes when the call came and reports it when its status is sent.
class call_interceptor : public grpc::experimental::Interceptor {
 public:
  explicit call_interceptor(method_series& s) : series_(s) {}

  // A call torn down without a status sent (its client went away first) counts as CANCELLED.
  ~call_interceptor() override {
    if (!reported_) report(grpc::StatusCode::CANCELLED);
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!reported_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS))
      report(methods->GetSendStatus().error_code());
    methods->Proceed();
  }

 private:
  void report(grpc::StatusCode code) {
    reported_ = true;
    series_.ended(code, std::chrono::duration<double>(clock::now() - arrived_).count());
  }

  using clock = std::chrono::steady_clock;
  method_series& series_;
  clock::time_point arrived_ = clock::now();
  bool reported_ = false;
};

class metrics_factory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  metrics_factory(std::shared_ptr<node::node_metrics> metrics,
                  const std::vector<std::string>& services)
      : metrics_(std::move(metrics)) {
    const auto* pool = google::protobuf::DescriptorPool::generated_pool();
    for (const auto& name : services)
      if (const auto* svc = pool->FindServiceByName(name)) add_methods(*svc);
  }

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    auto it = by_path_.find(info->method());
    return it == by_path_.end() ? nullptr : new call_interceptor(*it->second);
  }

 private:
  void add_methods(const google::protobuf::ServiceDescriptor& svc) {
    for (int i = 0; i < svc.method_count(); ++i) {
      const auto& m = *svc.method(i);
      auto s =
          std::make_unique<method_series>(*metrics_, "/" + svc.full_name() + "/" + m.name(),
                                          m.name(), !m.client_streaming() && !m.server_streaming());
      by_path_.emplace(s->path(), s.get());
      series_.push_back(std::move(s));
    }
  }

  std::shared_ptr<node::node_metrics> metrics_;
  std::vector<std::unique_ptr<method_series>> series_;
  // Filled before the server starts and never changed after: read without a lock.
  std::unordered_map<std::string_view, method_series*> by_path_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> make_metrics_interceptor(
    std::shared_ptr<node::node_metrics> metrics, const std::vector<std::string>& services) {
  return std::make_unique<metrics_factory>(std::move(metrics), services);
}

}  // namespace aegis::gateway
