// The vocabulary of the pure Raft core: ids, log entries, hard state, configurations, snapshots
// and peer messages. Plain data only: no I/O, no clock, no framework types. protocol/raft.proto
// mirrors these structs field for field for the wire.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aegis::raft {

using node_id = uint64_t;  // 0 means "none"
using term_t = uint64_t;   // terms start at 1 (bootstrap) and only grow
using index_t = uint64_t;  // log indexes start at 1; 0 means "before the log"

inline constexpr node_id no_node = 0;

enum class entry_type : uint8_t {
  command,      // opaque client command (an Envelope, to the state machine)
  noop,         // appended by every new leader so it can commit in its own term (§5.4.2)
  conf_change,  // data is an encoded conf_state: the whole configuration that follows it
};

struct entry {
  term_t term = 0;
  index_t index = 0;
  entry_type type = entry_type::command;
  std::string data{};

  friend bool operator==(const entry&, const entry&) = default;
};

// The persistent state every node must write before answering (Figure 2): current term, the
// vote in that term, and the commit index (persisted so a restart re-applies exactly the
// committed prefix).
struct hard_state {
  term_t term = 0;
  node_id vote = no_node;
  index_t commit = 0;

  friend bool operator==(const hard_state&, const hard_state&) = default;
};

// A cluster configuration. Voters elect and count toward commit; learners only receive the log.
// Invariant: both sorted, disjoint, no duplicates.
struct conf_state {
  std::vector<node_id> voters;
  std::vector<node_id> learners;

  bool is_voter(node_id id) const;
  bool is_learner(node_id id) const;
  bool is_member(node_id id) const { return is_voter(id) || is_learner(id); }
  size_t quorum() const { return voters.size() / 2 + 1; }
  friend bool operator==(const conf_state&, const conf_state&) = default;
};

std::string encode_conf(const conf_state& c);
// Returns false (and leaves `out` alone) if `data` is not a valid encoding.
bool decode_conf(const std::string& data, conf_state& out);

// What a snapshot covers: the state machine after applying every entry up to `index`, whose term
// is `term`, and the configuration in force at that index.
struct snapshot_meta {
  index_t index = 0;
  term_t term = 0;
  conf_state conf;

  friend bool operator==(const snapshot_meta&, const snapshot_meta&) = default;
};

struct snapshot {
  snapshot_meta meta;
  std::string data;  // the state machine's serialized state, opaque to the core
};

// The entry just before the first entry kept in the log (index 0/term 0 for a full log).
struct log_offset {
  index_t index = 0;
  term_t term = 0;
  friend bool operator==(const log_offset&, const log_offset&) = default;
};

enum class msg_type : uint8_t {
  pre_vote,             // index/log_term: candidate's last entry; term: the term it would use
  pre_vote_response,    // reject; term: the request's term when granted, else the voter's
  vote,                 // index/log_term: candidate's last entry; transfer: campaign via TimeoutNow
  vote_response,        // reject
  append,               // index/log_term: entry before `entries`; commit: leader's commit;
                        // context = 1: a commit notice (no entries, at the known match), which
                        // the follower does not acknowledge (it can only reject it, or answer
                        // with its commit index when the notice is below it)
  append_response,      // !reject: index = last entry now matching; reject: index = the rejected
                        // prev index, reject_hint/hint_term = where the leader should retry
  heartbeat,            // commit: min(leader commit, follower match); context: read-index round;
                        // heartbeat_seq: this heartbeat's number (one per round, never reused
                        // by this leader process)
  heartbeat_response,   // context, heartbeat_seq: echoed
  snapshot_chunk,       // snap_meta, snap_offset, snap_data, snap_done
  snapshot_response,    // reject; !done: snap_offset = bytes received; done: index = installed
  timeout_now,          // leadership transfer: campaign now, skipping pre-vote
  read_index,           // follower -> leader: context = the follower's request id
  read_index_response,  // leader -> follower: index = read index, context echoed; reject: failed
};

const char* to_string(msg_type t);

// One peer message. A flat struct (as etcd's raftpb.Message) so it maps 1:1 onto protobuf; the
// comment on each msg_type says which fields it uses.
struct message {
  msg_type type = msg_type::heartbeat;
  node_id from = no_node;
  node_id to = no_node;
  term_t term = 0;
  index_t index = 0;
  term_t log_term = 0;
  std::vector<entry> entries{};
  index_t commit = 0;
  bool reject = false;
  index_t reject_hint = 0;
  term_t hint_term = 0;
  bool transfer = false;
  uint64_t context = 0;
  // Names one heartbeat round so the host can pair each answer with the heartbeat it answers,
  // even when answers arrive out of order or some are lost (for its RTT metric). The core never
  // reads it back: Raft's rules do not depend on it.
  uint64_t heartbeat_seq = 0;
  snapshot_meta snap_meta{};
  uint64_t snap_offset = 0;
  std::string snap_data{};
  bool snap_done = false;

  friend bool operator==(const message&, const message&) = default;
};

// Bytes of entry payload, for flow-control accounting.
inline uint64_t payload_bytes(const entry& e) {
  return e.data.size() + 16;
}

}  // namespace aegis::raft
