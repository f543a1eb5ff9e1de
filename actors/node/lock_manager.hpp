// The lock manager (DESIGN.md): etcd's v3lock (Lock, Unlock) and v3election (Campaign, Proclaim,
// Leader, Observe, Resign) services, run inside the node the way etcd's own servers run them on
// its client-side recipes (clientv3/concurrency Mutex and Election). The key layout is etcd's, so
// these calls and etcdctl's `lock` / `elect` (which run the recipes over KV, Lease and Watch)
// contend for the same locks and elections:
//
//   - a lock or election NAME owns the keys under the prefix NAME + "/"; a holder or candidate
//     owns the key NAME/<its lease id in lowercase hex>, attached to that lease;
//   - the holder (the leader) is the key with the lowest create revision under the prefix; a
//     waiter watches only the key created just before its own and looks again once it is deleted;
//   - a hold lasts while its key exists: Unlock and Resign delete it, and so does the state
//     machine when the lease expires or is revoked, which hands the lock to the next waiter.
//
// Every change is one proposal and every look one linearizable read through the consensus actor,
// and every wait one watch on the state machine's watch hub, so the manager keeps no state that a
// crash or a leader change could make wrong: the keys are the truth. A waiting call whose client
// goes away (deadline, disconnect) withdraws its key, as etcd's Unlock-on-failure does.
//
// Fencing: the header revision of a Lock answer is a revision at which the caller's key existed
// and no older key did. The previous holder's answer came from a revision at which its key still
// existed, and that key was deleted before any younger key could see no older one, so answers to
// successive holders of one lock carry strictly increasing revisions.
#pragma once

#include <memory>

#include "actors/node/messages.hpp"
#include "actors/node/metrics.hpp"

namespace aegis::node {

struct lock_manager_params {
  uint32_t max_waiters = 10000;          // Lock/Campaign calls in progress on this node
  uint32_t max_waiters_per_name = 1000;  // ... of them on one name (one hot lock cannot take all)
  uint32_t max_observers = 1000;         // Election.Observe streams on this node
  uint32_t max_observer_backlog = 256;   // watch responses queued for one observer, not yet sent
  int64_t session_ttl_s = 60;            // the lease a call without one gets (etcd's session TTL)
  uint32_t retry_ms = 200;               // a step that failed for want of a leader runs again ...
  uint32_t max_retries = 30;             // ... this many times in a row before the call fails
  std::shared_ptr<node_metrics>
      metrics;  // aegis_lock_wait_seconds, aegis_lock_waiters; may be null
};

lock_manager_actor spawn_lock_manager(caf::actor_system& sys, lock_manager_params p,
                                      consensus_actor consensus);

}  // namespace aegis::node
