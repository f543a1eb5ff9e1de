// The key-value state machine: applies committed log entries (Envelopes carrying etcd commands)
// to a kv_store and answers reads from it, producing etcd v3 responses byte for byte. Plain code
// (no CAF, no clock): the same entries give the same state on every replica. The state_machine
// actor hosts it.
//
// Issue 3 scope: Put, DeleteRange and Range on the current revision. Every write bumps the store
// revision by one (etcd's rule); history (Range at an older revision) arrives with MVCC in issue 4
// and is refused meanwhile with etcd's "compacted" error.
#pragma once

#include <cstdint>
#include <string>

#include "actors/node/call.hpp"
#include "actors/raft/types.hpp"
#include "persistence/kv_store.hpp"

namespace etcdserverpb {
class DeleteRangeRequest;
class PutRequest;
class RangeRequest;
class ResponseHeader;
}  // namespace etcdserverpb

namespace aegis::state {

class kv_machine {
 public:
  kv_machine(persistence::kv_store& store, uint64_t cluster_id, uint64_t member_id)
      : store_(store), cluster_id_(cluster_id), member_id_(member_id) {}

  // Applies one committed entry (commands change state; no-ops and configuration entries only
  // move the applied index). The result is the client's answer for a command.
  node::call_result apply(const raft::entry& e, uint64_t term);
  // Makes everything applied since the last call durable together with `index`.
  void commit_batch(uint64_t index) { store_.commit(index, revision_); }

  node::call_result range(const etcdserverpb::RangeRequest& r, uint64_t term) const;

  // Every record at the applied index, as a serialized aegis.smpb.Snapshot.
  std::string snapshot_data() const;
  // Replaces the whole state with a snapshot's (staged; commit_batch(index) makes it durable).
  bool restore(const std::string& data);

  int64_t revision() const { return revision_; }
  uint64_t applied_index() const { return store_.applied_index(); }
  uint64_t db_size_bytes() const { return store_.size_bytes(); }
  void fill_header(etcdserverpb::ResponseHeader& h, uint64_t term) const;

 private:
  node::call_result apply_command(const std::string& envelope, uint64_t term);
  node::call_result apply_put(const etcdserverpb::PutRequest& put, uint64_t term);
  node::call_result apply_delete(const etcdserverpb::DeleteRangeRequest& del, uint64_t term);

  persistence::kv_store& store_;
  uint64_t cluster_id_;
  uint64_t member_id_;
  int64_t revision_ = store_.revision();  // starts at the stored revision
};

}  // namespace aegis::state
