// See port_reservation.hpp.
#include "tests/integration/port_reservation.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

namespace aegis::it {

namespace {

constexpr uint16_t first_port = 20000;
constexpr uint16_t last_port = 32000;
constexpr int max_attempts = 2000;
constexpr const char* lock_dir = "/tmp/aegis-port-locks";

// True when a plain bind (no SO_REUSEADDR, as strict as a server that does not set it) succeeds,
// i.e. no listener and no lingering connection holds the port.
bool bindable(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Takes the lock file of `port`; the descriptor stays open (and the lock held) until the process
// exits. CLOEXEC keeps node processes from inheriting the lock and outliving it.
bool lock_port(uint16_t port) {
  const std::string path = std::string(lock_dir) + "/" + std::to_string(port);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return false;
  }
  return true;
}

}  // namespace

uint16_t reserve_port() {
  static std::mutex mu;
  static std::set<uint16_t> mine;  // flock is per open file: our own second open would succeed
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  ::mkdir(lock_dir, 0777);
  std::uniform_int_distribution<int> pick(first_port, last_port);
  for (int i = 0; i < max_attempts; ++i) {
    const auto port = static_cast<uint16_t>(pick(rng));
    if (mine.contains(port) || !lock_port(port)) continue;
    mine.insert(port);  // locked now: keep it even if it is busy, so we never retry it
    if (bindable(port)) return port;
  }
  throw std::runtime_error("no free port in 20000-32000 after " + std::to_string(max_attempts) +
                           " attempts");
}

uint16_t reserve_port_block(const std::vector<uint16_t>& offsets) {
  static std::mutex mu;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  ::mkdir(lock_dir, 0777);
  uint16_t span = 0;
  for (uint16_t o : offsets)
    span = std::max(span, o);
  if (span >= last_port - first_port) throw std::runtime_error("port block too wide");
  std::uniform_int_distribution<int> pick(first_port, last_port - span);
  for (int i = 0; i < max_attempts; ++i) {
    const auto base = static_cast<uint16_t>(pick(rng));
    // Every port of the block stays locked once taken, free or not, so no attempt retries it;
    // a failed attempt leaves its locks behind until the process exits (a few files).
    bool ok = true;
    for (size_t j = 0; ok && j < offsets.size(); ++j)
      ok = lock_port(static_cast<uint16_t>(base + offsets[j])) &&
           bindable(static_cast<uint16_t>(base + offsets[j]));
    if (ok) return base;
  }
  throw std::runtime_error("no free port block in 20000-32000 after " +
                           std::to_string(max_attempts) + " attempts");
}

}  // namespace aegis::it
