// Peer transport over CAF's middleman (BASP over TCP). A node publishes its consensus actor on its
// peer port (peers can send it only peer_inbox_actor's messages); every other node reaches it
// through a peer_link of its own, which owns the
// connection: it connects without blocking anyone, reconnects with exponential backoff when the
// peer goes away, holds at most `queue_limit` messages while disconnected (dropping the oldest:
// Raft retransmits), and applies the link's fault hooks (drop, delay with jitter, partition).
#pragma once

#include "actors/node/messages.hpp"
#include "config/node_config.hpp"

namespace aegis::node {

struct peer_link_params {
  uint64_t peer_id = 0;
  config::endpoint address;  // where the peer's inbox is published
  uint32_t queue_limit = 4096;
  uint64_t seed = 1;  // for the drop fault's coin flips
  // Told the remote inbox while the link is connected and fault-free, so that Raft messages can
  // skip the link's own mailbox (one thread hop less each way on every replication round).
  consensus_actor consensus;
};

peer_link_actor spawn_peer_link(caf::actor_system& sys, peer_link_params p);

}  // namespace aegis::node
