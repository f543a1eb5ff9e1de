// The consensus actor: hosts raft::core and is the root of a node's actors. It owns the tick
// timer, turns client writes into stamped proposals (forwarding them to the leader when this
// node is a follower), turns reads into ReadIndex rounds, and runs the ready cycle:
//   take_ready -> log actor persists and syncs -> with the durable receipt: send messages to the
//   peer links, hand committed entries and read points to the state machine -> advance.
// Only one ready is in flight at a time; whatever arrives meanwhile goes into the next one, which
// is what makes one fsync cover many proposals (group commit).
#pragma once

#include <memory>

#include "actors/node/messages.hpp"
#include "actors/node/metrics.hpp"
#include "actors/raft/core.hpp"
#include "config/node_config.hpp"
#include "persistence/kv_store.hpp"
#include "persistence/rocks_storage.hpp"

namespace aegis::node {

struct consensus_params {
  config::node_config cfg;
  uint64_t seed = 0;  // election-jitter seed (already logged by the caller)
  // Drawn afresh at every start (never from the seed): request ids and read contexts of this
  // process start here, so an answer meant for an earlier run can never match a call of this one.
  uint64_t incarnation = 0;
  raft::restore_state restore;
  std::shared_ptr<persistence::rocks_storage> raft_store;
  std::unique_ptr<persistence::kv_store> kv_store;
  std::shared_ptr<node_metrics> metrics;  // never null
};

consensus_actor spawn_consensus(caf::actor_system& sys, consensus_params p);

}  // namespace aegis::node
