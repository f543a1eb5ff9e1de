// The replicated state machine: applies committed log entries (Envelopes carrying etcd commands)
// to the MVCC store and the lease table, and answers reads from them, producing etcd v3 responses
// byte for byte. Plain code (no CAF, no clock): the only time it reads is the leader's stamp in
// each entry, so the same entries give the same state on every replica. The state_machine actor
// hosts it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/node/call.hpp"
#include "actors/raft/types.hpp"
#include "actors/state/lease_table.hpp"
#include "actors/state/mvcc.hpp"
#include "persistence/kv_store.hpp"

namespace etcdserverpb {
class CompactionRequest;
class DeleteRangeRequest;
class DeleteRangeResponse;
class LeaseGrantRequest;
class LeaseRevokeRequest;
class LeaseTimeToLiveRequest;
class PutRequest;
class PutResponse;
class RangeRequest;
class RangeResponse;
class ResponseHeader;
class TxnRequest;
class TxnResponse;
}  // namespace etcdserverpb

namespace aegis::state {

// etcd's largest lease TTL (seconds).
constexpr int64_t max_lease_ttl_s = 9'000'000'000;

// Counts of what this machine applied since it was constructed (telemetry).
struct apply_stats {
  uint64_t leases_granted = 0;
  uint64_t leases_expired = 0;  // revoked by LeaseExpire (not by LeaseRevoke)
};

class kv_machine {
 public:
  // min_lease_ttl_s: shorter grants are raised to it (derived from the election timeout: a lease
  // must outlive a leader change).
  kv_machine(persistence::kv_store& store, uint64_t cluster_id, uint64_t member_id,
             int64_t min_lease_ttl_s = 1);

  // Applies one committed entry (commands change state; no-ops and configuration entries only
  // move the applied index). The result is the client's answer for a command.
  node::call_result apply(const raft::entry& e, uint64_t term);
  // Makes everything applied since the last call durable together with `index`.
  void commit_batch(uint64_t index) { store_.commit(index, kv_.meta()); }

  node::call_result range(const etcdserverpb::RangeRequest& r, uint64_t term) const;
  // A transaction without writes (checked by the caller), served as a read like etcd's: no log
  // entry, same answer as applying it.
  node::call_result read_txn(const etcdserverpb::TxnRequest& txn, uint64_t term) const;
  // Seconds left are counted from `now_ms`, the serving node's stamp clock (a read changes
  // nothing, so it may use it; expiry itself is only ever decided by a replicated command).
  node::call_result lease_time_to_live(const etcdserverpb::LeaseTimeToLiveRequest& r,
                                       uint64_t now_ms, uint64_t term) const;
  node::call_result lease_leases(uint64_t term) const;
  node::call_result hash_kv(int64_t rev, uint64_t term) const;
  node::call_result hash(uint64_t term) const;

  // Every record at the applied index, as a serialized aegis.smpb.Snapshot.
  std::string snapshot_data() const;
  // Replaces the whole state with a snapshot's (staged; commit_batch(index) makes it durable).
  bool restore(const std::string& data);

  // Events applied since the last call, one RevisionEvents per revision, oldest first.
  std::vector<aegis::smpb::RevisionEvents> take_events();
  std::vector<lease_change> take_lease_changes() { return leases_.take_changes(); }

  const mvcc& store_view() const { return kv_; }
  const lease_table& leases() const { return leases_; }
  const apply_stats& stats() const { return stats_; }
  int64_t revision() const { return kv_.revision(); }
  // The newest leader stamp applied (never goes back): what this replica takes "now" to be.
  uint64_t last_stamp_ms() const { return kv_.last_stamp_ms(); }
  uint64_t applied_index() const { return store_.applied_index(); }
  uint64_t db_size_bytes() const { return store_.size_bytes(); }
  void fill_header(etcdserverpb::ResponseHeader& h, uint64_t term) const;

 private:
  struct txn_path;
  node::call_result apply_command(const std::string& envelope, uint64_t term);
  node::call_result apply_put(const etcdserverpb::PutRequest& put, uint64_t term);
  node::call_result apply_delete(const etcdserverpb::DeleteRangeRequest& del, uint64_t term);
  node::call_result apply_txn(const etcdserverpb::TxnRequest& txn, uint64_t term);
  node::call_result apply_compact(const etcdserverpb::CompactionRequest& c, uint64_t term);
  node::call_result apply_lease_grant(const etcdserverpb::LeaseGrantRequest& g, uint64_t term);
  node::call_result apply_lease_revoke(const etcdserverpb::LeaseRevokeRequest& r, uint64_t term);
  node::call_result apply_lease_renew(const aegis::smpb::LeaseRenew& r, uint64_t term);
  node::call_result apply_lease_expire(const aegis::smpb::LeaseExpire& x, uint64_t term);

  // The checks that refuse a command before it changes anything (so a refusal changes nothing).
  node::call_result check_put(const etcdserverpb::PutRequest& put) const;
  node::call_result check_range(const etcdserverpb::RangeRequest& r) const;
  node::call_result check_txn(const etcdserverpb::TxnRequest& txn, txn_path& path) const;
  bool compares_hold(const etcdserverpb::TxnRequest& txn) const;
  void choose_path(const etcdserverpb::TxnRequest& txn, txn_path& path) const;

  // The write steps shared by the plain commands and transactions (no revision bookkeeping).
  void do_put(const etcdserverpb::PutRequest& put, etcdserverpb::PutResponse& resp);
  void do_delete(const etcdserverpb::DeleteRangeRequest& del,
                 etcdserverpb::DeleteRangeResponse& resp);
  void do_txn(const etcdserverpb::TxnRequest& txn, txn_path& path, etcdserverpb::TxnResponse& resp,
              uint64_t term);
  void range_into(const etcdserverpb::RangeRequest& r, etcdserverpb::RangeResponse& resp) const;
  void read_txn_into(const etcdserverpb::TxnRequest& txn, txn_path& path,
                     etcdserverpb::TxnResponse& resp) const;
  void remove_key(const std::string& key);
  // Closes the current command's revision and keeps its events for take_events().
  void end_command();
  void revoke(int64_t id);

  persistence::kv_store& store_;
  mvcc kv_;
  lease_table leases_;
  uint64_t cluster_id_;
  uint64_t member_id_;
  int64_t min_lease_ttl_s_;
  uint64_t stamp_ms_ = 0;  // the stamp of the entry being applied
  std::vector<aegis::smpb::RevisionEvents> events_;
  apply_stats stats_;
};

}  // namespace aegis::state
