// Inside the lock manager actor (lock_manager.hpp): its state, the etcd key layout and requests it
// builds, and the plumbing its parts share. lock_manager.cpp hosts the actor and the one-step
// calls, lock_manager_waiters.cpp the waiting calls (Lock, Campaign), lock_manager_observers.cpp
// the Observe streams. Everything here runs on the actor's thread unless it says otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "actors/node/lock_manager.hpp"
#include "protocol/command.pb.h"
#include "protocol/etcd/rpc.pb.h"

namespace aegis::node::lockmgr {

// etcd's recipe errors ("election: no leader", "mutex: session is expired") reach gRPC as plain
// Go errors, which gRPC reports as UNKNOWN; clients match them by message.
constexpr auto recipe_error = static_cast<call_code>(2);    // grpc::StatusCode::UNKNOWN
constexpr auto cancelled_code = static_cast<call_code>(1);  // grpc::StatusCode::CANCELLED

// ---- etcd's key layout and the requests over it ----------------------------------------------

std::string prefix(const std::string& name);                    // NAME + "/"
std::string owner_key(const std::string& name, int64_t lease);  // NAME/<lease in lowercase hex>
// The name's holder (leader): the key under the prefix with the lowest create revision.
etcdserverpb::RangeRequest oldest(const std::string& name);
// What a waiter whose key was created at `rev` waits for: the youngest key older than its own.
etcdserverpb::RangeRequest youngest_before(const std::string& name, int64_t rev);
etcdserverpb::RangeRequest one_key(const std::string& key);
// Watch on the name's whole prefix.
etcdserverpb::WatchCreateRequest watch_prefix(const std::string& name);
// Creates our key unless it exists (the lease already holds or waits for the name) and reads the
// holder in the same revision, so an uncontended acquisition is one step.
aegis::smpb::Command acquire_command(const std::string& name, const std::string& key,
                                     const std::string& value, int64_t lease);
// Puts the leader's new value, only while its key is still the one created at `rev`.
aegis::smpb::Command proclaim_command(const std::string& key, int64_t rev, const std::string& value,
                                      int64_t lease);
// Deletes the key, only while it is still the one created at `rev` (not a later one of the lease).
aegis::smpb::Command release_command(const std::string& key, int64_t rev);

call_result ok_answer(const google::protobuf::Message& m);
call_result malformed();
// Failures a new leader (or a shorter queue) may cure: the step is worth running again.
bool transient(const call_result& r);

// ---- State ---------------------------------------------------------------------------------

enum class step : uint8_t { grant, acquire, proclaim, check, wait, confirm, release };

// One Lock or Campaign call in progress.
struct waiter {
  bool campaign = false;
  std::string name;
  std::string value;  // Campaign: the value to proclaim
  int64_t lease = 0;
  std::string key;  // our ownership key, once the lease is known
  int64_t rev = 0;  // its create revision; 0 until the acquire step answered
  step at = step::grant;
  bool busy = false;       // a step (or its retry) is under way: its answer will come
  bool withdrawn = false;  // the client went away: release our key, then drop the call
  uint32_t retries = 0;    // transient failures of the current step in a row
  uint64_t stream = 0;     // step::wait: our watch for the predecessor's deletion (0: none)
  call_result failure;     // step::release: the answer once the key is gone
  reply_ptr reply;
  std::chrono::steady_clock::time_point admitted;  // for aegis_lock_wait_seconds
};

enum class observing : uint8_t { fetch, first_put, follow };

// One Observe stream. Dropped without being ended (the actor stopped), it ends its stream with
// UNAVAILABLE, as a reply slot does; ending a stream twice is harmless (the first end wins).
struct observer {
  observer() = default;
  observer(const observer&) = delete;
  observer& operator=(const observer&) = delete;
  ~observer() {
    if (sink) sink->end(call_result::error(call_code::unavailable, "node stopping"));
  }

  std::string name;
  leader_sink_ptr sink;
  observing at = observing::fetch;
  uint32_t retries = 0;
  uint64_t stream = 0;  // first_put: the watch on the prefix; follow: on the leader's key
  // Watch responses its sink passed to us and we have not handled yet (bounds our mailbox).
  std::shared_ptr<std::atomic<uint32_t>> backlog = std::make_shared<std::atomic<uint32_t>>(0);
};

struct lm_state {
  lock_manager_params p;
  consensus_actor consensus;
  std::map<uint64_t, waiter> waiters;      // by gRPC call id
  std::map<uint64_t, observer> observers;  // by gRPC call id
  // Per name, this node's waiters in the create-revision order of their keys: (rev, call id),
  // rev 0 while a waiter's key is not known yet. Bounds the waiters of one name.
  std::map<std::string, std::set<std::pair<int64_t, uint64_t>>> queues;
  uint64_t next_stream = 0;  // set at spawn (see lock_manager.cpp)
  std::mt19937_64 rng{std::random_device{}()};
};

using lm_pointer = lock_manager_actor::stateful_pointer<lm_state>;

// ---- Plumbing (lock_manager.cpp) ---------------------------------------------------------------

// A reply slot whose answer comes back to this actor as a lock_step of call `call`.
reply_ptr step_reply(lm_pointer self, uint64_t call);
void propose(lm_pointer self, const aegis::smpb::Command& cmd, reply_ptr reply);
// Linearizable: a stale look could hand one lock to two callers.
void read(lm_pointer self, const etcdserverpb::RangeRequest& r, reply_ptr reply);
// Opens a watch for call `call` from revision `from` on (the hub catches up from history when
// `from` is past) and returns its stream. With `backlog`, the watch is cancelled by the hub once
// that many of its responses wait in our mailbox.
uint64_t open_watch(lm_pointer self, uint64_t call, etcdserverpb::WatchCreateRequest req,
                    int64_t from, std::shared_ptr<std::atomic<uint32_t>> backlog = nullptr);
void close_watch(lm_pointer self, uint64_t& stream);  // and zeroes `stream`

// ---- Waiting calls (lock_manager_waiters.cpp) ------------------------------------------------

void admit_waiter(lm_pointer self, uint64_t call, waiter w);
void waiter_step(lm_pointer self, uint64_t call, waiter& w, call_result r);
void waiter_event(lm_pointer self, uint64_t call, waiter& w, const lock_event& ev);
void waiter_retry(lm_pointer self, uint64_t call, waiter& w);
void withdraw_waiter(lm_pointer self, uint64_t call, waiter& w);

// ---- Observe streams (lock_manager_observers.cpp) --------------------------------------------

void start_observer(lm_pointer self, observe_call c);
void observer_step(lm_pointer self, uint64_t call, observer& o, call_result r);
void observer_event(lm_pointer self, uint64_t call, observer& o, const lock_event& ev);
void observer_retry(lm_pointer self, uint64_t call, observer& o);

}  // namespace aegis::node::lockmgr
