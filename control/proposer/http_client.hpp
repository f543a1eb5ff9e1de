// A small HTTP client interface for the control plane's outbound calls (GitHub REST, the
// Anthropic Messages API). The interface is one virtual call so tests can swap the transport or
// point the libcurl one at a local server; retries live beside it, not inside it, so a caller
// decides what is safe to repeat.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace aegis::control::proposer {

// One request. Headers are sent as given; secrets go in headers only, never in the URL, so an
// error message that names the URL cannot leak them.
struct http_request {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string url;             // absolute: scheme://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string body;                                          // sent as is when non-empty
};

// What came back. Invariant: status > 0 exactly when an HTTP answer arrived; otherwise `error`
// says why (connect refused, timeout, response too large) and `body` is empty.
struct http_response {
  long status = 0;
  std::string body;
  std::string error;  // transport failure; empty when status > 0
  bool transport_failed() const { return status <= 0; }
  bool ok() const { return status >= 200 && status < 300; }
};

// The transport. Implementations never throw for network trouble: they report it in `error`.
class http_client {
 public:
  virtual ~http_client() = default;
  virtual http_response send(const http_request& req) = 0;
};

// libcurl limits. Loopback and remote alike bypass proxies only for loopback hosts (see .cpp).
struct curl_limits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};  // whole request, headers to last byte
  size_t max_response_bytes = 8 << 20;             // larger answers fail with a clear error
};

// The real transport over libcurl (one easy handle per request: calls are rare).
class curl_http_client : public http_client {
 public:
  explicit curl_http_client(curl_limits limits = {});
  http_response send(const http_request& req) override;

 private:
  curl_limits limits_;
};

// Retries with exponential backoff. Only transport failures and 5xx answers are retried: a 4xx
// is the caller's mistake (bad token, validation) and repeating it cannot help.
struct retry_policy {
  int attempts = 3;                            // total tries, >= 1
  std::chrono::milliseconds first_delay{250};  // before the second try
  double factor = 2.0;                         // each later delay grows by this
  std::chrono::milliseconds max_delay{4000};
  // How to wait; tests replace it to run instantly. Empty: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// True when the answer is worth another try under the policy above.
bool is_retryable(const http_response& r);

// Sends, retrying per the policy; returns the last answer. `tries` (optional) receives the
// number of attempts made.
http_response send_with_retry(http_client& client, const http_request& req,
                              const retry_policy& policy, int* tries = nullptr);

// Replaces every occurrence of each non-empty secret in `text` with "[redacted]": a last line of
// defence before any message built from a server's answer is shown or logged.
std::string redact(std::string text, const std::vector<std::string>& secrets);

}  // namespace aegis::control::proposer
