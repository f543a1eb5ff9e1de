// See metrics_scrape.hpp.
#include "tests/integration/metrics_scrape.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace aegis::it {

namespace {

// A connected loopback socket whose reads and writes give up after `timeout`; -1 on failure.
int connect_loopback(uint16_t port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{.tv_sec = static_cast<time_t>(timeout.count() / 1000),
             .tv_usec = static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::optional<std::string> scrape_metrics(uint16_t port, std::chrono::milliseconds timeout) {
  const int fd = connect_loopback(port, timeout);
  if (fd < 0) return std::nullopt;
  // HTTP/1.0: the server closes the connection after the body, so reading to EOF is the page.
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  std::string response;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
      static_cast<ssize_t>(request.size())) {
    char buf[8192];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
      response.append(buf, n);
  }
  ::close(fd);
  const auto body = response.find("\r\n\r\n");
  if (!response.starts_with("HTTP/1.") || response.find(" 200 ") == std::string::npos ||
      body == std::string::npos)
    return std::nullopt;
  return response.substr(body + 4);
}

std::optional<double> metric_value(const std::string& page, const std::string& name) {
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(name) || line.size() == name.size()) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;  // a longer name with this prefix
    const auto space = line.rfind(' ');
    try {
      return std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<double> metric_sum(const std::string& page, const std::string& name,
                                 const std::vector<std::string>& labels) {
  std::optional<double> sum;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(name + "{") && !line.starts_with(name + " ")) continue;
    const auto space = line.rfind(' ');
    const std::string label_part = line.substr(0, space);
    bool all = true;
    for (const auto& l : labels)
      all = all && label_part.find(l) != std::string::npos;
    if (all) sum = sum.value_or(0) + std::strtod(line.c_str() + space + 1, nullptr);
  }
  return sum;
}

bool has_family(const std::string& page, const std::string& name) {
  return page.find("# TYPE " + name + " ") != std::string::npos;
}

}  // namespace aegis::it
