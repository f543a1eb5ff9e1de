// The libcurl transport, the retry loop and secret redaction (http_client.hpp).
#include "control/proposer/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>

namespace aegis::control::proposer {

namespace {

struct easy_deleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct slist_deleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Where the write callback collects the body; `overflow` marks a body past the limit, which
// makes curl stop the transfer instead of buffering an unbounded answer.
struct sink {
  std::string body;
  size_t limit = 0;
  bool overflow = false;
};

size_t collect(char* data, size_t size, size_t count, void* user) {
  auto* s = static_cast<sink*>(user);
  const size_t n = size * count;
  if (s->body.size() + n > s->limit) {
    s->overflow = true;
    return 0;  // anything other than n aborts with CURLE_WRITE_ERROR
  }
  s->body.append(data, n);
  return n;
}

// curl_global_init is not thread-safe and must run once per process.
void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

curl_slist* header_list(const http_request& req) {
  curl_slist* list = nullptr;
  for (const auto& [name, value] : req.headers)
    list = curl_slist_append(list, (name + ": " + value).c_str());
  // curl adds "Expect: 100-continue" to large POSTs; servers answer faster without it.
  list = curl_slist_append(list, "Expect:");
  return list;
}

void set_options(CURL* e, const http_request& req, const curl_limits& lim, sink& out,
                 char* errbuf) {
  curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, req.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  // Local traffic (tests, a local mock) must never be rerouted by a stray proxy variable.
  curl_easy_setopt(e, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(lim.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(lim.total_timeout.count()));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  // A redirect would resend the Authorization header to wherever it points: refuse them.
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
}

// The host part of the URL only, so a message never repeats a query string.
std::string where(const std::string& url) {
  const auto scheme = url.find("://");
  const auto start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto end = url.find('/', start);
  return url.substr(0, end == std::string::npos ? url.size() : end);
}

}  // namespace

curl_http_client::curl_http_client(curl_limits limits) : limits_(limits) {
  init_curl_once();
}

http_response curl_http_client::send(const http_request& req) {
  http_response r;
  std::unique_ptr<CURL, easy_deleter> e(curl_easy_init());
  if (!e) return {0, "", "could not create a libcurl handle"};
  std::unique_ptr<curl_slist, slist_deleter> headers(header_list(req));
  sink out{"", limits_.max_response_bytes, false};
  char errbuf[CURL_ERROR_SIZE] = {0};
  set_options(e.get(), req, limits_, out, errbuf);
  curl_easy_setopt(e.get(), CURLOPT_HTTPHEADER, headers.get());
  const CURLcode rc = curl_easy_perform(e.get());
  if (out.overflow) {
    r.error = req.method + " " + where(req.url) + ": response larger than " +
              std::to_string(limits_.max_response_bytes) + " bytes";
    return r;
  }
  if (rc != CURLE_OK) {
    r.error = req.method + " " + where(req.url) + ": " +
              (errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc));
    return r;
  }
  curl_easy_getinfo(e.get(), CURLINFO_RESPONSE_CODE, &r.status);
  r.body = std::move(out.body);
  if (r.status <= 0) r.error = req.method + " " + where(req.url) + ": no HTTP status";
  return r;
}

bool is_retryable(const http_response& r) {
  return r.transport_failed() || r.status >= 500;
}

http_response send_with_retry(http_client& client, const http_request& req,
                              const retry_policy& policy, int* tries) {
  const int attempts = std::max(1, policy.attempts);
  auto delay = policy.first_delay;
  http_response r;
  int n = 0;
  for (; n < attempts; ++n) {
    if (n > 0) {
      if (policy.sleep)
        policy.sleep(delay);
      else
        std::this_thread::sleep_for(delay);
      delay = std::min(policy.max_delay, std::chrono::milliseconds(static_cast<int64_t>(
                                             static_cast<double>(delay.count()) * policy.factor)));
    }
    r = client.send(req);
    if (!is_retryable(r)) {
      ++n;
      break;
    }
  }
  if (tries) *tries = n;
  return r;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  static const std::string mask = "[redacted]";
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (auto pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + mask.size()))
      text.replace(pos, s.size(), mask);
  }
  return text;
}

}  // namespace aegis::control::proposer
