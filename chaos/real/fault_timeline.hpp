// The script's faults on a real cluster, at their times: process faults through the launcher
// (kill, restart, pause, resume), network, disk and clock faults through the nodes' admin API.
// `leader` and `follower` are resolved when a fault fires, from every node's Status answer;
// `follower` is drawn from the run's seed. Every fired fault and every undo of a `for` is
// recorded with resolved node ids ("kill 3", "end pause 2").
//
// The admin API replaces a fault's whole state on a node, so the timeline keeps the model of
// every link (link_model), each node's extra fsync delay and clock skew, and sends complete
// states. A send that fails (the node is paused or killed) is retried once the node runs again;
// a restarted node starts without faults, so its share is sent again.
//
// Everything here runs on the runner's main thread, except restart_done() (any thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chaos/real/launcher.hpp"
#include "chaos/real/link_model.hpp"
#include "chaos/real/node_api.hpp"
#include "chaos/trace.hpp"

namespace aegis::chaos::real {

// A fault in script syntax without `at`/`for` ("kill 3", "delay 50ms jitter 10ms 1->2").
std::string fault_text(const fault& f, uint32_t nodes);

class fault_timeline {
 public:
  fault_timeline(const script& s, std::string cluster_dir, node_api& api, launcher_queue& launcher,
                 uint64_t seed, const std::atomic<bool>& stop);

  // Fires every fault and undo due at or before now_us (since the run started), in time order;
  // an undo before a fault at the same time. Retries failed sends now and then.
  void step(int64_t now_us);
  // When step() has something to do next (faults and undos only), or never.
  int64_t next_due_us() const;
  bool done() const { return next_fault_ == script_.faults.size() && undos_.empty(); }
  // The launcher finished restarting `node` (ok: it runs again, and its fault state must be sent
  // again: a new process starts without faults). Thread-safe.
  void restart_done(uint32_t node, bool ok);

  // Ends the run: undoes the pending `for` faults except kill/restart (the runner leaves process
  // state as the script left it, and a killed node stays down unless the script restarts it),
  // resumes every node it paused, and clears every node's admin faults. `interrupted`: queued
  // launcher commands are dropped instead of awaited.
  void cleanup(int64_t now_us, bool interrupted);

  std::vector<trace::fault_event> take_events() { return std::move(events_); }
  uint32_t fired() const { return fired_; }
  uint32_t skipped() const { return skipped_; }

 private:
  struct undo {
    int64_t at_us = 0;
    fault resolved;           // the fault as it fired, ids resolved
    uint64_t net_handle = 0;  // network faults: its handle in links_
  };

  void fire(const fault& f, int64_t now_us);
  std::optional<fault> resolve(const fault& f);
  std::optional<uint32_t> wait_for_leader(std::vector<std::optional<node_view>>& views);
  std::optional<uint32_t> pick_follower(const std::vector<std::optional<node_view>>& views,
                                        std::optional<uint32_t> leader);
  uint64_t apply(const fault& f);
  void revert(const undo& u, int64_t now_us);
  void launch(const std::string& cmd, const node_ref& target);
  std::vector<uint32_t> nodes_of(const node_ref& target) const;
  net_fault network_fault(const fault& f) const;

  void send_links(const std::vector<link>& links);
  void send_node_state(uint32_t node);  // disk and skew
  void retry_failed(int64_t now_us);
  bool reachable(uint32_t node) const;
  void record(int64_t now_us, std::string text);

  const script& script_;
  std::string cluster_dir_;
  node_api& api_;
  launcher_queue& launcher_;
  const std::atomic<bool>& stop_;
  std::mt19937_64 rng_;
  link_model links_;
  size_t next_fault_ = 0;
  std::vector<undo> undos_;          // at most one per script fault
  std::vector<uint32_t> disk_ms_;    // node k at k: extra fsync delay asked for
  std::vector<int64_t> skew_ms_;     // node k at k
  std::set<uint32_t> paused_;        // paused by this run and not resumed since
  std::set<uint32_t> killed_;        // killed by this run and not restarted since
  std::set<uint32_t> restarting_;    // restart posted, the launcher not done with it yet
  std::set<link> failed_links_;      // sends to retry
  std::set<uint32_t> failed_nodes_;  // disk/skew sends to retry
  int64_t last_retry_us_ = 0;
  std::mutex restarted_mu_;
  std::vector<std::pair<uint32_t, bool>> restarted_;  // from launcher threads, bounded by the
                                                      // restarts posted
  std::vector<trace::fault_event> events_;
  uint32_t fired_ = 0, skipped_ = 0;
};

}  // namespace aegis::chaos::real
