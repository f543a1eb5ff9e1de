// Starting and ending the node processes a test owns, by PID only. spawn() forks and execs with
// stdout and stderr appended to files; the child gets SIGKILL if the spawning thread dies (a
// crashed or timed-out test leaves no stray nodes). A process is reaped exactly once, so its PID
// is never signalled after it could have been reused.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace aegis::it {

using steady = std::chrono::steady_clock;

// How a reaped process ended: exit code, or the signal that killed it.
struct exit_info {
  int code = -1;   // valid when !signaled
  int signal = 0;  // valid when signaled
  bool signaled = false;
  std::string str() const;
};

class child_process {
 public:
  // Starts `argv` (argv[0] is the binary path). Call from a thread that outlives the child: the
  // kernel's parent-death signal is tied to the forking thread.
  static child_process spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
                             const std::string& stderr_path);

  child_process() = default;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();  // SIGKILL + reap if still running

  pid_t pid() const { return pid_; }
  // Reaps without blocking; true while the process has not exited.
  bool running();
  // How it ended, once reaped.
  const std::optional<exit_info>& exit() const { return exit_; }
  // Waits until it exits or `deadline` passes; the exit info, if it exited.
  std::optional<exit_info> wait_until(steady::time_point deadline);
  void signal(int sig);
  // SIGKILL and reap.
  exit_info kill();
  // SIGTERM, wait until `deadline`, then SIGKILL. How it ended and whether SIGTERM sufficed.
  std::pair<exit_info, bool> terminate(steady::time_point deadline);

 private:
  pid_t pid_ = -1;
  std::optional<exit_info> exit_;
};

}  // namespace aegis::it
