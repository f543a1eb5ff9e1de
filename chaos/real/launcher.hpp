// Process faults through the cluster launcher (config/cluster.sh): kill, restart, pause and
// resume a node by the PID the launcher recorded, after its /proc/PID/cmdline check, so the
// runner never signals a process the launcher would not.
//
// Commands for one node run in order on that node's worker thread; nodes do not wait for each
// other (a restart that waits for its node to answer must not hold up a pause elsewhere).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aegis::chaos::real {

struct launcher_result {
  bool ok = false;
  std::string output;  // stdout and stderr, trimmed
};

// Runs `bash SCRIPT CMD NODE --dir DIR` in its own process group (a Ctrl-C on the terminal is
// the runner's to handle, not the launcher's), killed after `timeout`.
launcher_result run_launcher(const std::string& script, const std::string& cmd, uint32_t node,
                             const std::string& dir, std::chrono::seconds timeout);

class launcher_queue {
 public:
  // report(node, cmd, result) is called on the worker thread after each command.
  using reporter = std::function<void(uint32_t, const std::string&, const launcher_result&)>;
  static constexpr size_t kMaxQueuedPerNode = 32;

  launcher_queue(std::string script, std::string dir, uint32_t nodes, reporter report);
  ~launcher_queue();  // = stop()

  // Queues a command for a node; false if that node's queue is full (the caller reports it).
  bool post(uint32_t node, const std::string& cmd);
  // Waits until every queue is empty and idle, or the deadline; true if idle.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);
  // Drops queued commands, lets running ones finish, joins the workers.
  void stop();
  // Runs a command now on the calling thread (cleanup, after stop()).
  launcher_result run_now(const std::string& cmd, uint32_t node);

 private:
  void work(uint32_t node);

  std::string script_, dir_;
  reporter report_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::deque<std::string>> queues_;  // node k at k-1
  std::vector<bool> busy_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace aegis::chaos::real
