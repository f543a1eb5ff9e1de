// See child_process.hpp.
#include "tests/integration/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace aegis::it {

namespace {

constexpr auto poll_interval = std::chrono::milliseconds(5);

exit_info decode(int status) {
  exit_info e;
  if (WIFSIGNALED(status)) {
    e.signaled = true;
    e.signal = WTERMSIG(status);
  } else {
    e.code = WEXITSTATUS(status);
  }
  return e;
}

int open_output(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

// In the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(pid_t parent, int in_fd, int out_fd, int err_fd, char** argv) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);  // the parent died before prctl took effect
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
  ::execv(argv[0], argv);
  static const char msg[] = "harness: execv of the node binary failed\n";
  [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
  ::_exit(127);
}

}  // namespace

std::string exit_info::str() const {
  if (signaled) return "killed by signal " + std::to_string(signal);
  return "exit code " + std::to_string(code);
}

child_process child_process::spawn(const std::vector<std::string>& argv,
                                   const std::string& stdout_path, const std::string& stderr_path) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out_fd = open_output(stdout_path);
  const int err_fd = stderr_path == stdout_path ? out_fd : open_output(stderr_path);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(parent, in_fd, out_fd, err_fd, args.data());
  ::close(in_fd);
  ::close(out_fd);
  if (err_fd != out_fd) ::close(err_fd);
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  child_process c;
  c.pid_ = pid;
  return c;
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), exit_(std::move(other.exit_)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    if (running()) kill();
    pid_ = std::exchange(other.pid_, -1);
    exit_ = std::move(other.exit_);
  }
  return *this;
}

child_process::~child_process() {
  if (running()) kill();
}

bool child_process::running() {
  if (pid_ <= 0 || exit_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_ = decode(status);
  return !exit_;
}

std::optional<exit_info> child_process::wait_until(steady::time_point deadline) {
  while (running()) {
    if (steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(poll_interval);
  }
  return exit_;
}

void child_process::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

exit_info child_process::kill() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_ = decode(status);
  }
  return exit_.value_or(exit_info{});
}

std::pair<exit_info, bool> child_process::terminate(steady::time_point deadline) {
  signal(SIGTERM);
  if (auto e = wait_until(deadline)) return {*e, true};
  return {kill(), false};
}

}  // namespace aegis::it
