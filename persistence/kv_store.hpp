// The state machine's storage on a real node: an ordered map of byte keys to byte values (the
// state machine lays out its records in it, see actors/state/mvcc.hpp) and, in the same RocksDB
// write, the applied index and an opaque metadata blob (the machine's revision counters). A restart
// therefore finds state and applied index in agreement and re-applies nothing twice (DESIGN.md
// "RocksDB durability"). Writes are not fsynced: the Raft log is the durable record, and entries
// after the stored applied index are applied again from it. No CAF here; the state_machine actor
// hosts it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "persistence/rocks_storage.hpp"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace aegis::persistence {

class kv_store {
 public:
  // create: the dir must not hold a store yet; existing: it must (same rules as rocks_storage).
  static std::variant<std::unique_ptr<kv_store>, storage_error> open(const std::string& dir,
                                                                     rocks_storage::mode m);
  ~kv_store();

  uint64_t applied_index() const { return applied_; }
  // The blob stored by the last commit (empty for a new store).
  const std::string& meta() const { return meta_; }

  // The stored value of `key` (a serialized record), seeing writes staged in this batch.
  std::optional<std::string> get(const std::string& key) const;
  // Calls fn(key, value) for keys in [begin, end) in order (end empty: no upper bound) until fn
  // returns false. Sees writes staged in this batch too.
  void scan(const std::string& begin, const std::string& end,
            const std::function<bool(const std::string&, const std::string&)>& fn) const;

  // Staging: put/erase then commit() writes them with the new applied index and metadata as one
  // RocksDB write.
  void put(const std::string& key, std::string value);
  void erase(const std::string& key);
  void erase_all();  // drop every record (before restoring a snapshot)
  void commit(uint64_t applied_index, std::string meta);

  // Bytes the store takes on disk (live SST and WAL estimate).
  uint64_t size_bytes() const;

 private:
  kv_store(std::unique_ptr<rocksdb::DB> db, std::string dir);
  std::variant<bool, storage_error> load_meta();
  void scan_staged(const std::string& begin, const std::string& end,
                   const std::function<bool(const std::string&, const std::string&)>& fn) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<rocksdb::WriteBatch> staged_;
  // Read-your-writes within a batch: a staged value, or nullopt for a staged erase.
  std::unordered_map<std::string, std::optional<std::string>> staged_values_;
  bool staged_erase_all_ = false;
  std::string dir_;
  uint64_t applied_ = 0;
  std::string meta_;
};

}  // namespace aegis::persistence
