// The durable Raft store of a real node: hard state, log entries, the log offset and the latest
// snapshot in RocksDB. write() only stages a batch; sync() commits everything staged as one
// RocksDB write, with sync=true whenever it holds entries, a snapshot or a new term or vote, so
// each group commit costs at most one fsync and a crash never leaves half a batch. Same contract as
// the in-memory twin (mem_storage.hpp).
//
// A data dir carries the identity of the node that owns it. A node that expects its data and
// finds none (wiped disk, wrong path) refuses to start: rejoining with an empty log under its
// old identity could let it vote twice in one term and break safety.
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "actors/raft/core.hpp"
#include "actors/raft/ready.hpp"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace aegis::persistence {

// Why a data dir cannot be used, in one sentence an operator can act on.
struct storage_error {
  std::string message;
};

class rocks_storage final : public raft::stable_storage {
 public:
  enum class mode {
    create,    // a new member: the dir must not hold a node yet
    existing,  // a restart: the dir must hold this node's data
  };

  static std::variant<std::unique_ptr<rocks_storage>, storage_error> open(const std::string& dir,
                                                                          raft::node_id id, mode m);
  ~rocks_storage() override;

  void write(raft::persist_batch b) override;
  // Whether writing `b` (after everything already synced) would cost an fsync.
  bool needs_fsync(const raft::persist_batch& b) const;
  // What a restarting node finds. Corrupt or inconsistent data is an error naming the key.
  std::variant<raft::restore_state, storage_error> restore() const;

 protected:
  void do_sync() override;
  uint64_t last_written_seq() const override { return last_seq_; }

 private:
  rocks_storage(std::unique_ptr<rocksdb::DB> db, std::string dir);

  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<rocksdb::WriteBatch> staged_;  // written but not yet durable
  std::string dir_;
  uint64_t last_seq_ = 0;
  bool needs_fsync_ = false;     // something staged must be on disk before sync() returns
  raft::hard_state fsynced_hs_;  // term and vote as last staged (what a restart will find)
};

}  // namespace aegis::persistence
