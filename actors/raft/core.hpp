// raft::core — one Raft node as a pure, deterministic state machine (etcd-io/raft's RawNode).
//
// Inputs: tick(now_ms), step(message), propose(...), read_index(...), transfer_leadership(...),
// membership changes and compact(...). Output: a `ready` batch (ready.hpp) that the host
// persists, then sends and applies. The core reads no clock (time arrives in tick), draws
// randomness only from a prng seeded by the host, does no I/O and starts no threads, so the same
// inputs always produce the same outputs: that is what makes the simulator replayable.
//
// Role logic lives in follower.cpp, candidate.cpp and leader.cpp; this header is the one place
// that lists the node's state, with the invariant of each field.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/raft/log.hpp"
#include "actors/raft/prng.hpp"
#include "actors/raft/progress.hpp"
#include "actors/raft/ready.hpp"
#include "actors/raft/types.hpp"
#include "config/raft_config.hpp"

namespace aegis::raft {

enum class role : uint8_t { follower, pre_candidate, candidate, leader };
const char* to_string(role r);

// What a node finds in stable storage when it starts.
struct restore_state {
  hard_state hs;
  std::optional<snapshot> snap;  // the latest snapshot, if one was taken or received
  log_offset offset;             // the stored entries start right after this
  std::vector<entry> entries;
  index_t applied = 0;  // the host's state machine already reflects entries <= applied
  bool durable = true;  // false only for a bootstrap not yet written: the first ready writes it

  // A brand-new member of the initial cluster: entry 1 (term 1) holds the initial
  // configuration, identical on every initial member, so their logs agree from the start.
  static restore_state bootstrap(const conf_state& initial);
};

enum class status_code : uint8_t {
  ok,
  not_leader,               // leader_hint names the leader if one is known
  transfer_in_progress,     // proposals pause while leadership is handed over
  too_large,                // proposal above max_proposal_bytes
  backlog_full,             // uncommitted bytes or pending reads at their limit
  conf_change_in_progress,  // one membership change at a time
  unknown_node,             // the node named is not a member (or already one)
  invalid,                  // a request that can never succeed (e.g. remove the last voter)
};
const char* to_string(status_code c);

struct result {
  status_code code = status_code::ok;
  index_t index = 0;  // propose: where the entry was appended
  term_t term = 0;    // propose: in which term
  node_id leader_hint = no_node;
  bool ok() const { return code == status_code::ok; }
};

class core {
 public:
  core(node_id id, const config::raft_config& cfg, uint64_t seed, restore_state rs);

  // ---- inputs ----
  // Time passes only here. A host ticks at every deadline (next_deadline_ms) and also right
  // before every other input, so that timers (election reset, leader liveness, transfer start)
  // measure from when the input really arrived. Ticking more often is harmless.
  void tick(uint64_t now_ms);
  // The earliest time at which tick() would act (heartbeat, election or check-quorum due).
  uint64_t next_deadline_ms() const;
  void step(const message& m);
  result propose(std::string data);
  result add_learner(node_id id);
  result remove_node(node_id id);
  // Asks for a linearizable read point; the answer arrives as a read_state carrying `context`.
  result read_index(uint64_t context);
  result transfer_leadership(node_id target);
  // The host snapshotted its state machine at `index` (<= applied): keep the snapshot for
  // lagging followers and drop log entries, keeping snapshot_catchup_entries behind it.
  void compact(index_t index, std::string data);

  // ---- output ----
  bool has_ready() const;
  ready take_ready();
  void advance(const durable& d);

  // ---- observation (hosts, checkers, tests) ----
  node_id id() const { return id_; }
  role current_role() const { return role_; }
  term_t term() const { return term_; }
  node_id vote() const { return vote_; }
  node_id leader() const { return leader_; }
  index_t commit() const { return commit_; }
  index_t applied() const { return applied_; }
  const raft_log& log() const { return log_; }
  const conf_state& conf() const { return conf_; }
  const std::optional<snapshot>& latest_snapshot() const { return snapshot_; }
  const std::map<node_id, progress>& peers() const { return prs_; }
  uint64_t now_ms() const { return now_ms_; }
  // A leader whose own no-op (or later entry) of this term is committed can serve reads.
  bool committed_in_term() const { return log_.term_at(commit_) == term_; }
  node_id transfer_target() const { return transfer_target_; }
  // Aborts the process if an invariant of this node's state is broken.
  void check_invariants() const;

 private:
  struct pending_read {
    uint64_t seq = 0;  // the read-index round that confirms it
    index_t index = 0;
    node_id requester = no_node;
    uint64_t context = 0;
  };

  // core.cpp: shared machinery
  void send(message m);
  bool independent_of_disk(const message& m) const;
  void become_follower(term_t term, node_id leader, bool reset_timer = true);
  void reset_election_timer();
  void commit_to(index_t index);
  void on_log_changed(index_t from);
  void apply_conf(index_t index, const conf_state& c);
  const conf_state& conf_at(index_t index) const;
  void handle_vote_request(const message& m);
  bool in_leader_lease() const;
  void fail_pending_reads();
  hard_state current_hard_state() const { return {term_, vote_, commit_}; }

  // follower.cpp
  void step_follower(const message& m);
  void handle_append(const message& m);
  void handle_heartbeat(const message& m);
  void handle_snapshot_chunk(const message& m);
  void install_snapshot(snapshot s);
  void reject_append(const message& m);

  // candidate.cpp
  void campaign(bool transfer);
  void start_vote(bool pre, bool transfer);
  void step_candidate(const message& m);
  void tick_election();

  // leader.cpp
  void become_leader();
  void step_leader(const message& m);
  void tick_leader();
  void handle_append_response(const message& m, progress& pr);
  void handle_append_reject(const message& m, progress& pr);
  void handle_heartbeat_response(const message& m, progress& pr);
  void handle_snapshot_response(const message& m, progress& pr);
  // When an append without entries is worth sending.
  enum class empty_append : uint8_t {
    never,          // only new entries are worth a message
    commit_notice,  // the commit index moved: tell followers that would not hear it otherwise
    always,         // probe where the follower's log ends (after a rejection, a lost append)
  };
  void send_append(node_id to, empty_append empty);
  void send_snapshot_chunk(node_id to, progress& pr);
  void broadcast_heartbeat();
  void flush_broadcasts();
  bool maybe_commit();
  void after_commit();
  bool quorum_active() const;
  result register_read(node_id requester, uint64_t context);
  void release_reads();
  void deliver_read(const pending_read& r, bool ok);
  result propose_conf(conf_state next);
  void maybe_promote_learners();
  void maybe_send_timeout_now(node_id to);

  // ---- identity and configuration ----
  node_id id_;
  config::raft_config cfg_;
  prng rng_;  // election-timeout jitter only

  // ---- persistent state (Figure 2) ----
  term_t term_ = 0;
  node_id vote_ = no_node;
  raft_log log_;
  index_t commit_ = 0;  // invariant: applied_ <= commit_ <= log_.last_index()

  // ---- volatile state ----
  role role_ = role::follower;
  node_id leader_ = no_node;
  index_t applied_ = 0;                  // entries <= applied_ were handed to the host and advanced
  index_t applying_to_ = 0;              // entries <= this were handed out (applied_ after advance)
  index_t outstanding_applying_to_ = 0;  // applying_to_ when the outstanding ready was taken
  conf_state conf_;  // the latest configuration in the log (used as soon as appended)
  std::pair<index_t, conf_state> conf_base_;  // the configuration in force at the log start
  std::vector<std::pair<index_t, conf_state>> conf_history_;  // conf entries in the log
  std::optional<snapshot> snapshot_;  // the latest snapshot (sent to lagging followers)

  // ---- time (ms, from tick) ----
  uint64_t now_ms_ = 0;
  bool ticked_ = false;  // false until the first tick: the election timer starts then
  std::optional<uint64_t> vote_granted_ms_;  // when this node last voted for another candidate
  uint64_t election_reset_ms_ = 0;    // last time we heard from a leader, voted, or campaigned
  uint64_t election_timeout_ms_ = 0;  // randomized in [min, max] at every reset
  uint64_t heartbeat_sent_ms_ = 0;    // leader: last heartbeat round
  uint64_t heartbeat_seq_ = 0;        // heartbeat rounds broadcast so far (the last one's number)

  // ---- candidate ----
  std::map<node_id, bool> votes_;  // voter -> granted, for the current (pre-)election

  // ---- leader ----
  std::map<node_id, progress> prs_;  // every member but this node
  index_t pending_conf_index_ = 0;   // a conf change at an index > commit_ blocks the next
  node_id transfer_target_ = no_node;
  uint64_t transfer_start_ms_ = 0;
  uint64_t uncommitted_bytes_ = 0;
  uint64_t read_seq_ = 0;           // read-index rounds started (monotonic)
  uint64_t read_confirmed_ = 0;     // rounds a quorum acknowledged; < read_seq_: one in flight
  std::deque<pending_read> reads_;  // waiting for a quorum to confirm their round
  std::vector<pending_read> reads_before_noop_;  // waiting for this term's first commit
  bool append_broadcast_ = false;                // new entries to send to every follower
  bool commit_broadcast_ = false;                // commit advanced: send even empty appends
  bool read_broadcast_ = false;                  // a read round needs a heartbeat round

  std::vector<uint64_t> scratch_;  // reused by quorum computations (no allocation per step)

  // ---- follower: snapshot being received in chunks ----
  std::optional<snapshot> incoming_;

  // ---- output being assembled ----
  std::vector<message> msgs_;        // released with the durable receipt
  std::vector<message> early_msgs_;  // a leader's, released at once (independent_of_disk)
  std::vector<read_state> read_states_;
  hard_state persisted_hs_;
  term_t durable_term_ = 0;      // term of the hard state known synced (advance() moves it)
  term_t outstanding_term_ = 0;  // term of the hard state in the ready being persisted
  std::optional<snapshot> snap_to_write_;
  std::optional<log_offset> compact_to_;
  std::optional<snapshot> restore_;
  uint64_t next_seq_ = 1;
  uint64_t outstanding_seq_ = 0;  // the ready not yet advanced (0: none)
};

}  // namespace aegis::raft
