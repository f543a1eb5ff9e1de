// A local HTTP server for tests (cpp-httplib): 127.0.0.1 on a port the OS picks, serving on its
// own thread, stopped and joined on destruction. Each request is recorded (method, path, query,
// headers, body) so a test can check exactly what a client sent.
#pragma once

#include <httplib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace aegis::test {

struct seen_request {
  std::string method;
  std::string path;  // without the query
  std::map<std::string, std::string> params;
  std::multimap<std::string, std::string> headers;
  std::string body;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers)
      if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
    return "";
  }
};

class local_http_server {
 public:
  // Routes are added to `server` by the caller before start().
  httplib::Server server;

  void start() {
    // After routing, where the body has been read; still before the answer is written, so a
    // client that got its answer finds its request recorded.
    server.set_post_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      seen_request s{req.method, req.path, {}, {}, req.body};
      for (const auto& [k, v] : req.params)
        s.params[k] = v;
      for (const auto& [k, v] : req.headers)
        s.headers.emplace(k, v);
      std::lock_guard lock(mu_);
      seen_.push_back(std::move(s));
    });
    port_ = server.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("test server: cannot bind 127.0.0.1");
    thread_ = std::thread([this] { server.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs: wait for it so the destructor can stop it.
    for (int i = 0; !server.is_running(); ++i) {
      if (i == 5000) throw std::runtime_error("test server: accept loop did not start");
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~local_http_server() {
    server.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<seen_request> requests() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  size_t count(const std::string& method, const std::string& path_part) const {
    size_t n = 0;
    for (const auto& r : requests())
      n += r.method == method && r.path.find(path_part) != std::string::npos;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<seen_request> seen_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace aegis::test
