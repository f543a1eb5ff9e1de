// The script's client load on a real cluster: `clients` threads issue puts, linearizable gets
// and compare-and-swaps (Txn comparing the value) on `keys` keys at `rate` operations per second
// in total, each with the script's timeout, and record every operation in a chaos::history for
// the linearizability checker. Client i starts on node (i % n) + 1 and moves to the next node when
// its node is unreachable (UNAVAILABLE) or too slow (deadline), as an etcd client with every
// endpoint configured does.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chaos/history.hpp"
#include "chaos/real/node_api.hpp"
#include "chaos/script.hpp"

namespace aegis::chaos::real {

class client_load {
 public:
  // A run records at most this many operations; the load stops early when it reaches it (a
  // history with unrecorded writes could not be checked).
  static constexpr size_t kMaxOps = 2'000'000;

  // Keys are `<key_prefix>k<i>`: a prefix of this run's own, so values written by earlier runs on
  // the same cluster cannot appear in this history (the checker starts from an empty store).
  client_load(const load_spec& spec, node_api& api, uint64_t seed, steady::time_point origin,
              std::string key_prefix);
  ~client_load();  // = stop()

  void start();
  void stop();     // waits for in-flight operations (each bounded by the timeout)
  history take();  // after stop()
  bool truncated() const { return truncated_; }

 private:
  struct client_state;
  void run(uint32_t client);
  operation issue(client_state& c);
  int64_t now_us() const;
  bool record(operation op);

  load_spec spec_;
  node_api& api_;
  uint64_t seed_;
  steady::time_point origin_;
  std::string key_prefix_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> truncated_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  history history_;
};

}  // namespace aegis::chaos::real
