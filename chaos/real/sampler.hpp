// Samples every node's /metrics once per period (all nodes at once through curl's multi
// interface, each with a timeout below the period, so a paused node costs no other node's
// sample) and derives role changes from aegis_raft_is_leader, aegis_raft_has_leader and
// aegis_raft_term. A node that does not answer is sampled as up=false and its role is "down".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chaos/trace.hpp"

namespace aegis::chaos::real {

// One /metrics fetch per node; body[k-1] is node k's page, or nullopt when it did not answer
// with 200 by the timeout.
std::vector<std::optional<std::string>> scrape_all(const std::vector<std::string>& metrics_addrs,
                                                   std::chrono::milliseconds timeout);

// The role a node's metrics show (leader, follower, candidate) and its term.
std::pair<std::string, uint64_t> role_of(const std::map<std::string, double>& values);

class metrics_sampler {
 public:
  // Samples kept at most; later ones are dropped and counted (a limit on a long run's memory).
  static constexpr size_t kMaxSamples = 4'000'000;

  metrics_sampler(std::vector<std::string> metrics_addrs, std::chrono::milliseconds period,
                  std::chrono::steady_clock::time_point origin);
  ~metrics_sampler();  // = stop()

  void start();
  void stop();
  // After stop(): the samples (time order, node order at equal times) and role changes.
  std::vector<trace::metric_sample> take_samples();
  std::vector<trace::role_event> take_roles();
  uint64_t dropped() const { return dropped_; }

 private:
  void run();
  void sample_once(int64_t at_us);

  std::vector<std::string> addrs_;
  std::chrono::milliseconds period_;
  std::chrono::steady_clock::time_point origin_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<trace::metric_sample> samples_;
  std::vector<trace::role_event> roles_;
  std::vector<std::pair<std::string, uint64_t>> last_role_;  // node k at k-1; "" before any
  uint64_t dropped_ = 0;
};

}  // namespace aegis::chaos::real
