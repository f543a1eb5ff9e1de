// A follower's client writes on their way to the leader (etcd's model): the follower batches
// them into one ForwardBatch per round, the leader proposes each with the follower as its origin
// (Envelope.origin_node/origin_request), and the follower answers its client when it applies
// that entry itself. The leader replies only to refuse. Plain code, hosted by consensus.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/node/call.hpp"
#include "actors/raft/types.hpp"

namespace aegis::node {

class forward_tracker {
 public:
  // Ids start at `first_id` (random per process start: an entry forwarded by an earlier run of
  // this node must not match a call of this run).
  // `peers` names each peer's address, for errors that say which leader a write went to.
  forward_tracker(uint64_t self_id, uint64_t first_id, std::map<raft::node_id, std::string> peers)
      : self_id_(self_id), next_id_(first_id), peers_(std::move(peers)) {}

  // Queues a command for `leader`; the client waits in `reply` until `deadline_ms`.
  void add(std::string command, reply_ptr reply, raft::node_id leader, uint64_t deadline_ms);
  // The queued commands as one serialized ForwardBatch, with the leader they were queued for.
  std::optional<std::pair<raft::node_id, std::string>> take_batch();
  // The call waiting for request `id` (from an applied entry whose origin is this node).
  reply_ptr take(uint64_t id);
  // Finishes the calls the leader refused (a serialized ForwardRefusals).
  void refused(const std::string& refusals);
  // Fails calls past their deadline; returns how many.
  size_t expire(uint64_t now_ms);
  // Fails calls sent to a leader other than `leader`: that leader is gone and their outcome is
  // unknown (etcd answers "leader changed" too).
  size_t leader_changed(raft::node_id leader);
  size_t pending() const { return calls_.size(); }

 private:
  struct call {
    reply_ptr reply;
    raft::node_id leader = raft::no_node;
    uint64_t deadline_ms = 0;
  };
  uint64_t self_id_;
  uint64_t next_id_;
  std::map<raft::node_id, std::string> peers_;  // id -> "host:port"
  std::string where(raft::node_id leader) const;
  std::map<uint64_t, call> calls_;                        // by request id
  std::vector<std::pair<uint64_t, std::string>> queued_;  // not yet sent
  raft::node_id queued_for_ = raft::no_node;
};

}  // namespace aegis::node
