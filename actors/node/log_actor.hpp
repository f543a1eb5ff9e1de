// The log actor: writes each ready batch to the RocksDB raft store and syncs it, one fsync per
// batch (the group commit: consensus hands over everything that accumulated while the previous
// sync ran). It runs on its own thread because fsync blocks. The slow-fsync fault hook adds a
// delay to every sync, only when the node runs with fault injection enabled.
#pragma once

#include <memory>

#include "actors/node/messages.hpp"
#include "persistence/rocks_storage.hpp"

namespace aegis::node {

log_actor spawn_log(caf::actor_system& sys, std::unique_ptr<persistence::rocks_storage> storage);

}  // namespace aegis::node
