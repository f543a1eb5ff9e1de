// The log actor: writes each ready batch to the RocksDB raft store and syncs it, one fsync per
// batch (the group commit: consensus hands over everything that accumulated while the previous
// sync ran). It runs on its own thread because fsync blocks. The slow-fsync fault hook adds a
// delay to every sync, only when the node runs with fault injection enabled.
#pragma once

#include <memory>

#include "actors/node/messages.hpp"
#include "persistence/rocks_storage.hpp"

namespace aegis::node {

// `storage` is shared with consensus, which writes a batch that needs no fsync itself, and only
// while no job is with the log actor (consensus sends one job at a time and touches the store
// again only after the reply: the mailbox orders the two threads' accesses).
log_actor spawn_log(caf::actor_system& sys, std::shared_ptr<persistence::rocks_storage> storage);

// Writes and syncs one job's batch and fills its receipt (the log actor's work, also used inline
// by consensus for batches that need no fsync).
void persist_now(persistence::rocks_storage& storage, persist_job& job);

}  // namespace aegis::node
