// The simulator's internals, shared by engine.cpp (event loop and node hosting), workload.cpp
// (clients) and faults.cpp (chaos-script faults). Not a public interface: use simulator.hpp.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "actors/raft/core.hpp"
#include "actors/raft/heartbeat_pairing.hpp"
#include "chaos/sim/checkers.hpp"
#include "chaos/sim/digest.hpp"
#include "chaos/sim/kv.hpp"
#include "chaos/sim/network.hpp"
#include "chaos/sim/simulator.hpp"
#include "chaos/trace.hpp"
#include "persistence/mem_storage.hpp"

namespace aegis::chaos::sim {

// A client's answer travelling back: what the node decided.
struct reply {
  uint64_t op = 0;  // index into the history
  op_status status = op_status::fail;
  std::string output;
  bool cas_ok = false;
  uint32_t leader_hint = 0;
};

struct pending_write {
  raft::term_t term = 0;
  uint64_t op = 0;
  int64_t proposed_us = 0;
};

// A node's Prometheus counters as the simulator keeps them, under the names a real node
// exports (actors/node/metrics.hpp), so a simulated trace reads like a recorded one. Reset when
// the node restarts, as a process's counters are.
struct node_stats {
  uint64_t leader_changes = 0;
  uint64_t proposals_committed = 0, proposals_failed = 0, proposals_applied = 0;
  uint64_t fsyncs = 0;
  int64_t fsync_us = 0;  // sums in whole microseconds: exact, so the trace prints short numbers
  uint64_t snapshots_installed = 0;
  std::map<uint32_t, uint64_t> snapshots_sent;  // by peer slot
  // Heartbeat round trips, paired as a real node pairs them: unanswered heartbeats by peer slot
  // (when each left, in us), and count/sum of the answered ones.
  raft::heartbeat_pairing<int64_t> heartbeats_out;
  std::map<uint32_t, std::pair<uint64_t, int64_t>> heartbeat_rtt;  // count, sum in us
  raft::node_id last_leader = 0;
  int64_t stamp_offset_ms = 0;  // local clock minus the stamp of the last applied command
};

struct pending_get {
  uint64_t op = 0;
  raft::index_t index = 0;
};

// One replica: a core hosted the way a real node hosts it (persist, sync, then send and apply).
struct sim_node {
  uint32_t id = 0;        // the node's slot: its address, as scripts and the network name it
  raft::node_id rid = 0;  // its Raft identity: the slot at first, a fresh one after a wipe
  bool up = true;
  uint64_t incarnation = 0;  // bumped by crash and restart; stale events are dropped
  std::unique_ptr<raft::core> core;
  persistence::mem_storage storage;
  kv_store sm;
  int64_t skew_us = 0;
  int64_t fsync_us = 0;
  uint64_t clock_ms = 0;     // last time handed to the core (monotonic even when skew changes)
  int64_t next_tick_us = 0;  // the one live tick event; earlier-scheduled ones are stale
  bool joining = false;      // wiped and re-added: starts empty, never from the bootstrap entry
  std::optional<raft::ready> in_flight;
  bool syncing = false;
  raft::role seen_role = raft::role::follower;
  raft::term_t seen_term = 0;
  std::map<raft::index_t, pending_write> writes;  // proposals awaiting their apply here
  std::map<uint64_t, uint64_t> read_contexts;     // read-index context -> op
  std::multimap<raft::index_t, uint64_t> reads;   // read index -> op, waiting for apply
  // Paused (SIGSTOP): no ticks run and inputs wait in engine::held_ until resume; a tick or an
  // fsync completion that fell due meanwhile runs at resume.
  bool paused = false;
  bool tick_due = false;
  bool fsync_due = false;
  node_stats stats;
  std::string traced_role;  // the role last written to the trace ("" before the first)
  uint64_t traced_term = 0;
};

struct sim_client {
  uint32_t id = 0;
  uint32_t target = 1;           // the node it talks to (its leader guess)
  std::optional<uint64_t> busy;  // the op in flight
  uint64_t issued = 0;
  std::map<std::string, std::string> last_seen;  // per key: a value it knows, for cas
};

class engine {
 public:
  engine(const script& s, const config::raft_config& cfg, const sim_options& opt);
  run_summary run();

 private:
  enum class ev : uint8_t {
    tick,
    deliver,
    fsync,
    request,
    respond,
    timeout,
    next_op,
    fault,
    undo,
    sample,
    scrape
  };
  struct event {
    int64_t at_us = 0;
    uint64_t seq = 0;
    ev kind = ev::tick;
    uint32_t node = 0;
    uint64_t incarnation = 0;
    uint64_t arg = 0;
  };
  // Messages and replies in flight live in slabs and events carry their slot, so the event heap
  // moves small trivially-copyable records and slots are reused instead of reallocated.
  template <class T>
  struct slab {
    struct slot {
      T item;
      uint32_t refs = 0;  // events still to deliver it (a duplicated message has two)
    };
    std::vector<slot> slots;
    std::vector<uint32_t> free;
    uint32_t put(T&& item, uint32_t refs) {
      uint32_t i = uint32_t(slots.size());
      if (free.empty()) {
        slots.emplace_back();
      } else {
        i = free.back();
        free.pop_back();
      }
      slots[i].item = std::move(item);
      slots[i].refs = refs;
      return i;
    }
    T& at(uint32_t i) { return slots[i].item; }
    void release(uint32_t i) {
      if (--slots[i].refs == 0) free.push_back(i);
    }
  };
  struct later {
    bool operator()(const event& a, const event& b) const {
      return a.at_us != b.at_us ? a.at_us > b.at_us : a.seq > b.seq;
    }
  };

  // engine.cpp
  void schedule(event e);
  void schedule_in_order(event e);
  bool next_event(event& e);
  void dispatch(event& e);
  void start_node(sim_node& n);
  void crash(sim_node& n);
  void restart(sim_node& n);
  void on_tick(sim_node& n, int64_t scheduled_us);
  void schedule_tick(sim_node& n);
  void after_step(sim_node& n);
  void pump(sim_node& n);
  void complete(sim_node& n);
  void apply_entry(sim_node& n, const raft::entry& e);
  void serve_reads(sim_node& n);
  void handle_read_states(sim_node& n, const std::vector<raft::read_state>& rs);
  void maybe_snapshot(sim_node& n);
  void send(raft::message&& m);
  void sample();
  uint64_t clock_ms(sim_node& n);
  sim_node* leader();
  run_summary finish();

  // workload.cpp
  void next_op(sim_client& c);
  void on_request(sim_node& n, uint64_t op);
  void respond(reply r);  // the answer travels back to the client with network latency
  void on_reply(const reply& r);
  void on_timeout(uint64_t op);
  void settle(sim_client& c, uint64_t op);

  // telemetry.cpp: the trace's metrics, roles and faults
  void scrape();
  void trace_role(sim_node& n);
  void trace_fault(const fault& f, const std::vector<sim_node*>& targets,
                   const std::optional<std::pair<node_index, node_index>>& link);
  void observe_send(const raft::message& m, uint32_t from_slot);
  void observe_deliver(sim_node& n, const raft::message& m);
  std::map<std::string, double> series(const sim_node& n) const;
  void pause(sim_node& n);
  void resume(sim_node& n);
  void finish_trace(const run_summary& r);

  // faults.cpp
  void fire(const fault& f);
  std::vector<sim_node*> resolve(const node_ref& r);
  std::optional<std::pair<node_index, node_index>> resolve_link(const std::optional<link_ref>& l,
                                                                bool& ok);
  void after(const fault& f, std::function<void()> undo);
  void change_membership(const fault& f, sim_node& target);
  void note(const std::string& what);

  const script& script_;
  config::raft_config cfg_;
  sim_options opt_;
  raft::prng rng_;
  network net_;
  std::vector<sim_node> nodes_;  // index 0 unused: ids are 1-based
  std::vector<sim_client> clients_;
  history history_;
  std::vector<uint32_t> op_client_;
  std::vector<event> queue_;  // a binary heap ordered by `later`
  std::deque<event> fifo_;    // events scheduled in time order (see schedule_in_order)
  slab<raft::message> messages_;
  slab<reply> replies_;
  uint64_t next_seq_ = 0;
  int64_t now_us_ = 0;
  invariant_checker checker_;
  hasher trace_;
  std::vector<std::function<void()>> undos_;
  std::vector<int64_t> commit_latencies_us_;
  uint64_t samples_ = 0, available_samples_ = 0;
  raft::conf_state leader_conf_;  // the last configuration a leader used, for the timeline
  // Raft identity -> slot. A wiped node rejoins under a fresh identity (as etcd gives a re-added
  // member a new ID): its old one could otherwise vote twice in an old configuration.
  std::vector<uint32_t> slot_of_;  // indexed by Raft id; 0: no such node
  raft::node_id next_rid_ = 101;
  uint32_t slot(raft::node_id rid) const { return rid < slot_of_.size() ? slot_of_[rid] : 0; }
  void bind(raft::node_id rid, uint32_t slot) {
    if (slot_of_.size() <= rid) slot_of_.resize(rid + 1, 0);
    slot_of_[rid] = slot;
  }
  run_summary sum_;
  std::shared_ptr<trace::trace> rec_;            // the trace being recorded, or null
  std::map<uint32_t, std::vector<event>> held_;  // inputs of paused nodes, by slot, in order
  std::string fired_text_;                       // the fault being fired, as the trace has it
};

}  // namespace aegis::chaos::sim
