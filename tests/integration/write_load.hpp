// A client write load against a test cluster: `threads` threads, each putting its own keys
// (PREFIX/THREAD/SEQ = "value-THREAD-SEQ") one after another until stopped, and remembering
// every put the cluster acknowledged (OK status). Tests use it to keep writes in flight while
// they kill nodes, then check that acknowledged writes survived.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/cluster_harness.hpp"

namespace aegis::it {

struct acked_write {
  std::string key;
  std::string value;
};

class write_load {
 public:
  // Thread t sends each put to node target(t). `target` runs on the writer threads: it must not
  // touch the cluster's process control (which belongs to the test's main thread).
  write_load(cluster& c, std::string prefix, int threads, std::function<int(int)> target);
  ~write_load();
  write_load(const write_load&) = delete;
  write_load& operator=(const write_load&) = delete;

  void stop();  // joins the writers; idempotent
  size_t acked() const { return acked_count_.load(); }
  size_t failed() const { return failed_count_.load(); }
  // Acknowledged writes of thread t, in the order they were acknowledged.
  std::vector<acked_write> acked_by(int thread) const;
  std::vector<acked_write> all_acked() const;

 private:
  void run(int thread);

  cluster& cluster_;
  std::string prefix_;
  std::function<int(int)> target_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> acked_count_{0};
  std::atomic<size_t> failed_count_{0};
  mutable std::mutex mu_;
  std::vector<std::vector<acked_write>> acked_;  // per thread, guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace aegis::it
