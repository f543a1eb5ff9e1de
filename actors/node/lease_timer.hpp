// The lease timer (DESIGN.md "Determinism and time"): runs on every node and acts only while its
// node leads. It mirrors each lease's expiry from the state machine's changes and proposes
// LeaseExpire for leases whose expiry has passed; the state machine revokes a lease only if the
// entry's leader stamp is at or past its expiry, so a late or repeated proposal is harmless. A new
// leader first proposes LeasePromote with the time the cluster had no leader and expires nothing
// until that has applied: a holder never loses a lease to an election it could not see.
#pragma once

#include "actors/node/messages.hpp"

namespace aegis::node {

struct lease_timer_params {
  uint32_t tick_ms = 100;                // how often expiries are checked while leading
  uint32_t retry_ms = 2000;              // an expiry proposal not applied by then is made again
  uint32_t max_ids_per_proposal = 1000;  // bounds one LeaseExpire entry
};

lease_timer_actor spawn_lease_timer(caf::actor_system& sys, lease_timer_params p,
                                    consensus_actor consensus);

}  // namespace aegis::node
