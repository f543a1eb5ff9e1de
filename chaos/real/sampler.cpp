// See sampler.hpp.
#include "chaos/real/sampler.hpp"

#include <curl/curl.h>

#include <memory>

namespace aegis::chaos::real {

namespace {

constexpr size_t kMaxPageBytes = 8 * 1024 * 1024;  // a /metrics page is tens of KB

size_t append_body(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxPageBytes) return 0;  // aborts this transfer
  body->append(data, size * n);
  return size * n;
}

struct easy_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using easy_ptr = std::unique_ptr<CURL, easy_deleter>;

easy_ptr make_request(const std::string& addr, std::string& body,
                      std::chrono::milliseconds timeout) {
  easy_ptr e(curl_easy_init());
  if (!e) return e;
  const std::string url = "http://" + addr + "/metrics";
  curl_easy_setopt(e.get(), CURLOPT_URL, url.c_str());  // curl copies the string
  curl_easy_setopt(e.get(), CURLOPT_NOPROXY, "*");      // loopback never goes through a proxy
  curl_easy_setopt(e.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(e.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(e.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(e.get(), CURLOPT_WRITEDATA, &body);
  return e;
}

}  // namespace

std::vector<std::optional<std::string>> scrape_all(const std::vector<std::string>& addrs,
                                                   std::chrono::milliseconds timeout) {
  std::vector<std::string> bodies(addrs.size());
  std::vector<easy_ptr> easies;
  CURLM* multi = curl_multi_init();
  for (size_t i = 0; i < addrs.size(); ++i) {
    easies.push_back(make_request(addrs[i], bodies[i], timeout));
    if (multi && easies.back()) curl_multi_add_handle(multi, easies.back().get());
  }
  int running = 1;
  while (multi && running > 0) {
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    if (running > 0) curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
  std::vector<std::optional<std::string>> out(addrs.size());
  CURLMsg* msg = nullptr;
  int left = 0;
  while (multi && (msg = curl_multi_info_read(multi, &left))) {
    if (msg->msg != CURLMSG_DONE || msg->data.result != CURLE_OK) continue;
    long code = 0;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
    for (size_t i = 0; i < easies.size(); ++i)
      if (easies[i].get() == msg->easy_handle && code == 200) out[i] = std::move(bodies[i]);
  }
  for (auto& e : easies)
    if (multi && e) curl_multi_remove_handle(multi, e.get());
  if (multi) curl_multi_cleanup(multi);
  return out;
}

std::pair<std::string, uint64_t> role_of(const std::map<std::string, double>& values) {
  auto value = [&](const char* name) {
    auto it = values.find(name);
    return it == values.end() ? 0.0 : it->second;
  };
  const auto term = static_cast<uint64_t>(value("aegis_raft_term"));
  if (value("aegis_raft_is_leader") >= 0.5) return {"leader", term};
  // Without a known leader a node is campaigning (or about to): the closest the metrics tell.
  if (value("aegis_raft_has_leader") < 0.5) return {"candidate", term};
  return {"follower", term};
}

metrics_sampler::metrics_sampler(std::vector<std::string> addrs, std::chrono::milliseconds period,
                                 std::chrono::steady_clock::time_point origin)
    : addrs_(std::move(addrs)), period_(period), origin_(origin), last_role_(addrs_.size()) {}

metrics_sampler::~metrics_sampler() {
  stop();
}

void metrics_sampler::start() {
  thread_ = std::thread([this] { run(); });
}

void metrics_sampler::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<trace::metric_sample> metrics_sampler::take_samples() {
  std::lock_guard lock(mu_);
  return std::move(samples_);
}

std::vector<trace::role_event> metrics_sampler::take_roles() {
  std::lock_guard lock(mu_);
  return std::move(roles_);
}

void metrics_sampler::run() {
  using namespace std::chrono;
  auto next = steady_clock::now();
  while (!stop_) {
    sample_once(duration_cast<microseconds>(next - origin_).count());
    // The next slot on the period grid; a round that overran skips the slots it missed.
    next += period_;
    while (next < steady_clock::now())
      next += period_;
    while (!stop_ && steady_clock::now() < next)
      std::this_thread::sleep_for(
          std::min<steady_clock::duration>(next - steady_clock::now(), milliseconds(20)));
  }
}

void metrics_sampler::sample_once(int64_t at_us) {
  // Below the period, so the round ends in time for the next; a paused node times out.
  const auto timeout = std::max(std::chrono::milliseconds(20), period_ * 4 / 5);
  auto pages = scrape_all(addrs_, timeout);
  std::lock_guard lock(mu_);
  for (uint32_t k = 1; k <= pages.size(); ++k) {
    trace::metric_sample s{.at_us = at_us, .node = k, .up = pages[k - 1].has_value()};
    if (s.up) s.values = trace::series_from_exposition(*pages[k - 1]);
    auto role = s.up ? role_of(s.values) : std::pair<std::string, uint64_t>{"down", 0};
    if (role != last_role_[k - 1] && roles_.size() < kMaxSamples) {
      roles_.push_back({.at_us = at_us, .node = k, .role = role.first, .term = role.second});
      last_role_[k - 1] = role;
    }
    if (samples_.size() < kMaxSamples)
      samples_.push_back(std::move(s));
    else
      ++dropped_;
  }
}

}  // namespace aegis::chaos::real
