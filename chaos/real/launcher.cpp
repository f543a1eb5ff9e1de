// See launcher.hpp.
#include "chaos/real/launcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace aegis::chaos::real {

namespace {

constexpr std::chrono::seconds kCommandTimeout{45};  // above the launcher's own 30 s waits

// Reads the child's output until it closes the pipe or the deadline passes.
std::string read_until(int fd, std::chrono::steady_clock::time_point deadline, bool& timed_out) {
  std::string out;
  char buf[4096];
  constexpr size_t kMaxOutputBytes = 64 * 1024;  // the launcher prints a few lines
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      return out;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    if (out.size() < kMaxOutputBytes) out.append(buf, static_cast<size_t>(n));
  }
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

}  // namespace

launcher_result run_launcher(const std::string& script, const std::string& cmd, uint32_t node,
                             const std::string& dir, std::chrono::seconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {false, "pipe failed"};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  const std::string k = std::to_string(node);
  std::vector<std::string> args = {"bash", script, cmd, k, "--dir", dir};
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/bash", &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return {false, "cannot start /bin/bash " + script};
  }
  bool timed_out = false;
  std::string out = read_until(fds[0], std::chrono::steady_clock::now() + timeout, timed_out);
  ::close(fds[0]);
  if (timed_out) ::kill(-pid, SIGKILL);  // its own group: the launcher and its helpers
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out)
    return {false, trimmed(out) + " (timed out after " + std::to_string(timeout.count()) + " s)"};
  return {WIFEXITED(status) && WEXITSTATUS(status) == 0, trimmed(out)};
}

launcher_queue::launcher_queue(std::string script, std::string dir, uint32_t nodes, reporter report)
    : script_(std::move(script)),
      dir_(std::move(dir)),
      report_(std::move(report)),
      queues_(nodes),
      busy_(nodes, false) {
  for (uint32_t k = 1; k <= nodes; ++k)
    workers_.emplace_back([this, k] { work(k); });
}

launcher_queue::~launcher_queue() {
  stop();
}

bool launcher_queue::post(uint32_t node, const std::string& cmd) {
  std::lock_guard lock(mu_);
  auto& q = queues_[node - 1];
  if (stopping_ || q.size() >= kMaxQueuedPerNode) return false;
  q.push_back(cmd);
  cv_.notify_all();
  return true;
}

bool launcher_queue::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [this] {
    for (size_t i = 0; i < queues_.size(); ++i)
      if (!queues_[i].empty() || busy_[i]) return false;
    return true;
  });
}

void launcher_queue::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& q : queues_)
      q.clear();
    cv_.notify_all();
  }
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

launcher_result launcher_queue::run_now(const std::string& cmd, uint32_t node) {
  return run_launcher(script_, cmd, node, dir_, kCommandTimeout);
}

void launcher_queue::work(uint32_t node) {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queues_[node - 1].empty(); });
    if (stopping_) return;
    const std::string cmd = queues_[node - 1].front();
    queues_[node - 1].pop_front();
    busy_[node - 1] = true;
    lock.unlock();
    const auto r = run_launcher(script_, cmd, node, dir_, kCommandTimeout);
    report_(node, cmd, r);
    lock.lock();
    busy_[node - 1] = false;
    cv_.notify_all();
  }
}

}  // namespace aegis::chaos::real
