// The state_machine actor: applies committed entries to the KV store in log order, finishes the
// client calls waiting on them, serves reads once its applied index reaches their read index,
// fans each applied revision out to the watch hub, tells the lease timer of lease changes, and
// hands consensus a snapshot every snapshot_threshold_entries applied entries.
#pragma once

#include <memory>

#include "actors/node/messages.hpp"
#include "actors/node/metrics.hpp"
#include "persistence/kv_store.hpp"

namespace aegis::node {

struct state_machine_params {
  std::unique_ptr<persistence::kv_store> store;
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t snapshot_threshold_entries = 10000;
  uint64_t last_snapshot_index = 0;  // index of the newest snapshot consensus already holds
  int64_t min_lease_ttl_s = 1;
  uint32_t watch_progress_notify_ms = 600000;
  std::string members;                    // a serialized MemberListResponse (header unset)
  std::shared_ptr<node_metrics> metrics;  // never null
};

// `consensus` receives the snapshots (compact_atom), `leases` the lease changes.
state_machine_actor spawn_state_machine(caf::actor_system& sys, state_machine_params p,
                                        consensus_actor consensus, lease_timer_actor leases);

}  // namespace aegis::node
