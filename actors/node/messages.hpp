// The node's actors and the messages between them: one typed_actor alias per role (DESIGN.md),
// the data types they exchange, and CAF's type-ID block for all of them. The node's targets are
// built with CAF_ENABLE_TYPE_ID_CHECKS, so a message type without an ID here fails to compile.
//
// Who talks to whom:
//   gateway (gRPC threads) --propose/read/status--> consensus --persist--> log --durable-->
//   consensus consensus --apply/read/status--> state_machine --finish--> reply_slot (back to gRPC)
//   consensus --raft bytes--> peer_link --BASP/TCP--> peer_inbox (remote) --raft bytes--> consensus
//   gateway --lock/observe--> lock_manager --propose/read/watch--> consensus (v3lock, v3election)
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/node/call.hpp"
#include "actors/raft/ready.hpp"
#include "actors/raft/types.hpp"
#include "actors/state/lease_table.hpp"
#include "actors/state/watch_hub.hpp"

namespace v3electionpb {
class LeaderResponse;
}  // namespace v3electionpb

namespace aegis::node {

// One ready batch on its way through the log actor and back: the log actor fills `receipt`
// once everything in rd.persist is synced.
struct persist_job {
  raft::ready rd;
  std::optional<raft::durable> receipt;
  double fsync_seconds = 0;  // how long the sync took (telemetry)
  // Where each peer's messages go (its published consensus, or our link to it): the log actor
  // sends the ready's sealed messages itself as soon as the receipt opens them, one thread hop
  // sooner than consensus could.
  std::map<uint64_t, caf::actor> destinations;
};
using persist_job_ptr = std::shared_ptr<persist_job>;

// Committed work for the state machine, in log order: first restore `restore` if set, then apply
// `entries`. `replies` names the entries this node proposed and whose clients wait here.
struct apply_batch {
  std::optional<raft::snapshot> restore;
  std::vector<raft::committed_entry> entries;
  std::vector<std::pair<raft::index_t, reply_ptr>> replies;
  uint64_t term = 0;  // the node's current term, for response headers
  // The node's SetClockSkew fault when the batch was handed over: the state machine reads the
  // wall clock as this node's stamps would, for aegis_clock_stamp_offset_seconds.
  int64_t clock_skew_ms = 0;
};
using apply_batch_ptr = std::shared_ptr<apply_batch>;

// What consensus knows for Maintenance.Status; the state machine adds applied index and db size.
struct raft_status {
  uint64_t leader = 0;
  uint64_t term = 0;
  uint64_t commit = 0;
  bool is_learner = false;
};

// Fault hooks of one peer link (all off by default; settable only with fault injection on).
struct link_faults {
  uint32_t drop_pct = 0;     // messages to this peer dropped at random, 0..100
  uint32_t delay_ms = 0;     // every message held this long ...
  uint32_t jitter_ms = 0;    // ... plus up to this much more (so they may reorder)
  bool partitioned = false;  // nothing leaves towards this peer
};

// A read the state machine answers once its applied index reaches the read's index.
enum class read_kind : uint8_t {
  range,       // request: a serialized etcdserverpb.RangeRequest
  lease_ttl,   // LeaseTimeToLiveRequest
  lease_list,  // LeaseLeasesRequest
  hash_kv,     // HashKVRequest
  hash,        // HashRequest
  members,     // MemberListRequest
  txn,         // a TxnRequest without writes
};
struct read_query {
  read_kind kind = read_kind::range;
  std::string request;
  uint64_t now_ms = 0;  // the serving node's stamp clock (remaining lease TTLs count from it)
};

// One client watch-stream request on its way to the state machine's watch hub.
struct watch_command {
  enum class kind : uint8_t { create, cancel, progress, close };
  kind what = kind::create;
  uint64_t stream = 0;  // node-unique id of the client stream
  std::string request;  // create: a serialized WatchCreateRequest; cancel: WatchCancelRequest
  state::watch_sink_ptr sink;
};

// Lease table changes, from the state machine to the lease timer, in the order applied.
using lease_changes_ptr = std::shared_ptr<std::vector<state::lease_change>>;

// Messages consensus takes only from actors of its own node. Their types are local-only (not
// serializable), so a peer cannot send them even though consensus itself is what a node
// publishes on its peer port.
struct local_snapshot {
  uint64_t index = 0;  // the state machine's applied index when it took the snapshot
  std::string data;    // a serialized aegis.smpb.Snapshot
};
using local_snapshot_ptr = std::shared_ptr<local_snapshot>;

struct local_route {
  uint64_t peer = 0;
  caf::actor inbox;  // the peer's published consensus; invalid: send through the link again
};

// ---- The lock manager: etcd's v3lock and v3election services (lock_manager.hpp) ----

// A unary v3lock / v3election call, as the gateway hands it over.
enum class lock_op : uint8_t {
  lock,      // v3lockpb.LockRequest (waits)
  unlock,    // v3lockpb.UnlockRequest
  campaign,  // v3electionpb.CampaignRequest (waits)
  proclaim,  // v3electionpb.ProclaimRequest
  resign,    // v3electionpb.ResignRequest
  leader,    // v3electionpb.LeaderRequest
};
struct lock_call {
  lock_op op = lock_op::lock;
  uint64_t call = 0;    // node-unique id of the gRPC call: a cancel_atom names it
  std::string request;  // the serialized request message
};

// Where one Election.Observe stream's answers go (the gateway's bounded outbox).
class leader_sink {
 public:
  virtual ~leader_sink() = default;
  // Queues an answer; false when the stream is over its bound or already ending.
  virtual bool offer(const v3electionpb::LeaderResponse& resp) = 0;
  // Ends the stream with `why` (after what is queued).
  virtual void end(const call_result& why) = 0;
};
using leader_sink_ptr = std::shared_ptr<leader_sink>;

struct observe_call {
  uint64_t call = 0;  // node-unique id of the gRPC call: a cancel_atom names it
  std::string name;   // the election
  leader_sink_ptr sink;
};

// Inside the lock manager: the outcome of one consensus step (a proposal or a read) of call `call`.
struct lock_step {
  uint64_t call = 0;
  call_result result;
};

// Inside the lock manager: what the watch hub sent on one of its watch streams.
struct lock_event {
  uint64_t call = 0;
  uint64_t stream = 0;
  etcdserverpb::WatchResponse response;
};

}  // namespace aegis::node

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::local_snapshot_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::local_route)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::reply_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::persist_job_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::apply_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::raft_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::link_faults)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::read_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::watch_command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::lease_changes_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::lock_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::observe_call)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::lock_step)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(aegis::node::lock_event)

CAF_BEGIN_TYPE_ID_BLOCK(aegis, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(aegis, (aegis::node::reply_ptr))
CAF_ADD_TYPE_ID(aegis, (aegis::node::local_snapshot_ptr))
CAF_ADD_TYPE_ID(aegis, (aegis::node::local_route))
CAF_ADD_TYPE_ID(aegis, (aegis::node::persist_job_ptr))
CAF_ADD_TYPE_ID(aegis, (aegis::node::apply_batch_ptr))
CAF_ADD_TYPE_ID(aegis, (aegis::node::raft_status))
CAF_ADD_TYPE_ID(aegis, (aegis::node::link_faults))
CAF_ADD_TYPE_ID(aegis, (aegis::node::read_query))
CAF_ADD_TYPE_ID(aegis, (aegis::node::watch_command))
CAF_ADD_TYPE_ID(aegis, (aegis::node::lease_changes_ptr))
CAF_ADD_ATOM(aegis, aegis::node, raft_atom, "raft")
CAF_ADD_ATOM(aegis, aegis::node, forward_atom, "forward")
CAF_ADD_ATOM(aegis, aegis::node, propose_atom, "propose")
CAF_ADD_ATOM(aegis, aegis::node, read_atom, "read")
CAF_ADD_ATOM(aegis, aegis::node, status_atom, "status")
CAF_ADD_ATOM(aegis, aegis::node, persist_atom, "persist")
CAF_ADD_ATOM(aegis, aegis::node, apply_atom, "apply")
CAF_ADD_ATOM(aegis, aegis::node, compact_atom, "compact")
CAF_ADD_ATOM(aegis, aegis::node, tick_atom, "tick")
CAF_ADD_ATOM(aegis, aegis::node, connect_atom, "pconnect")
CAF_ADD_ATOM(aegis, aegis::node, deliver_atom, "pdeliver")
CAF_ADD_ATOM(aegis, aegis::node, fault_atom, "fault")
CAF_ADD_ATOM(aegis, aegis::node, fsync_atom, "fsyncdelay")
CAF_ADD_ATOM(aegis, aegis::node, skew_atom, "clockskew")
CAF_ADD_ATOM(aegis, aegis::node, clear_atom, "clear")
CAF_ADD_ATOM(aegis, aegis::node, refuse_atom, "refuse")
CAF_ADD_ATOM(aegis, aegis::node, route_atom, "route")
CAF_ADD_ATOM(aegis, aegis::node, watch_atom, "watch")
CAF_ADD_ATOM(aegis, aegis::node, lease_atom, "lease")
CAF_ADD_ATOM(aegis, aegis::node, leader_atom, "leader")
CAF_ADD_TYPE_ID(aegis, (aegis::node::lock_call))
CAF_ADD_TYPE_ID(aegis, (aegis::node::observe_call))
CAF_ADD_TYPE_ID(aegis, (aegis::node::lock_step))
CAF_ADD_TYPE_ID(aegis, (aegis::node::lock_event))
CAF_ADD_ATOM(aegis, aegis::node, lock_atom, "lock")
CAF_ADD_ATOM(aegis, aegis::node, observe_atom, "observe")
CAF_ADD_ATOM(aegis, aegis::node, cancel_atom, "cancel")
CAF_END_TYPE_ID_BLOCK(aegis)

namespace aegis::node {

// What a remote node can send: consensus is published on the peer port, and every other message
// in its interface carries a local-only type (a peer cannot construct it). Raft messages arrive
// as serialized protocol/raft.proto bytes, a follower's writes as a ForwardBatch, the leader's
// refusals of them as ForwardRefusals (protocol/command.proto). A tick from a peer is harmless.
using peer_inbox_actor = caf::typed_actor<caf::reacts_to<raft_atom, std::string>,
                                          caf::reacts_to<forward_atom, std::string>,
                                          caf::reacts_to<refuse_atom, std::string>>;

// Hosts raft::core and owns the tick timer.
using consensus_actor = caf::typed_actor<
    caf::reacts_to<raft_atom, std::string>,                  // from a peer
    caf::reacts_to<forward_atom, std::string>,               // a follower's writes
    caf::reacts_to<refuse_atom, std::string>,                // the leader refused ours
    caf::reacts_to<propose_atom, std::string, reply_ptr>,    // a client write (Command)
    caf::reacts_to<read_atom, bool, read_query, reply_ptr>,  // bool: serializable
    caf::reacts_to<watch_atom, watch_command>,               // handed to the state machine
    caf::reacts_to<status_atom, reply_ptr>,                  // Maintenance.Status
    caf::reacts_to<compact_atom, local_snapshot_ptr>,        // a state-machine snapshot
    caf::reacts_to<tick_atom>,
    // Fault hooks (the gateway refuses them unless the node runs with fault injection on).
    caf::reacts_to<fault_atom, uint64_t, link_faults, reply_ptr>,  // the link towards a peer
    caf::reacts_to<fsync_atom, uint32_t, reply_ptr>,               // extra ms per fsync
    caf::reacts_to<skew_atom, int64_t, reply_ptr>,                 // wall-clock skew in ms
    caf::reacts_to<clear_atom, reply_ptr>,                         // heal every fault
    // From a peer link: send Raft messages for a peer straight to its published consensus.
    caf::reacts_to<route_atom, local_route>>;

// Writes ready batches to RocksDB with one fsync per batch.
using log_actor =
    caf::typed_actor<caf::replies_to<persist_atom, persist_job_ptr>::with<persist_job_ptr>,
                     caf::reacts_to<fsync_atom, uint32_t>>;  // fault: extra ms per fsync

// Applies committed entries to the KV store, serves reads at or after a read index, and hosts
// the watch hub.
using state_machine_actor =
    caf::typed_actor<caf::reacts_to<apply_atom, apply_batch_ptr>,
                     caf::reacts_to<read_atom, uint64_t, read_query, reply_ptr>,
                     caf::reacts_to<status_atom, raft_status, reply_ptr>,
                     caf::reacts_to<watch_atom, watch_command>, caf::reacts_to<tick_atom>>;

// Runs on every node, acts only on the leader: keeps each lease's expiry (from the state
// machine's changes) and proposes LeaseExpire for the expired ones; a new leader first proposes
// LeasePromote with its election gap and expires nothing until that is applied.
using lease_timer_actor =
    caf::typed_actor<caf::reacts_to<lease_atom, lease_changes_ptr>,
                     caf::reacts_to<leader_atom, bool, uint64_t>,  // is leader, gap ms
                     caf::reacts_to<apply_atom, bool, uint64_t>,   // own promote applied, epoch
                     caf::reacts_to<tick_atom>>;

// One per remote node: owns the connection, reconnects with backoff, bounded queue.
using peer_link_actor = caf::typed_actor<
    caf::reacts_to<raft_atom, std::string>, caf::reacts_to<forward_atom, std::string>,
    caf::reacts_to<refuse_atom, std::string>, caf::reacts_to<fault_atom, link_faults>,
    caf::reacts_to<connect_atom>, caf::reacts_to<deliver_atom, uint8_t, std::string>>;

// Serves etcd's v3lock and v3election calls (lock_manager.hpp). It holds the waiting ones (Lock,
// Campaign) and the Observe streams, and drives each through consensus one step at a time.
using lock_manager_actor =
    caf::typed_actor<caf::reacts_to<lock_atom, lock_call, reply_ptr>,  // a unary call
                     caf::reacts_to<observe_atom, observe_call>,       // an Observe stream
                     caf::reacts_to<cancel_atom, uint64_t>,            // call N's client went away
                     caf::reacts_to<lock_atom, lock_step>,             // internal: a step finished
                     caf::reacts_to<watch_atom, lock_event>,           // internal: watch events
                     caf::reacts_to<tick_atom, uint64_t>>;  // internal: retry call N's step

}  // namespace aegis::node
