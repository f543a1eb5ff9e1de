// Multi-version key-value records over the node's kv_store, as etcd v3 keeps them: a global store
// revision that one write command (Put, DeleteRange, a Txn with writes, a lease revoke) raises by
// exactly one, every change of a key kept at the revision that made it until a compaction drops
// it, and the events of each revision kept for watchers that start in the past. Plain code.
//
// Record layout in the kv_store (all keys are bytes; revisions 8-byte big-endian so they sort):
//   "k" key               -> the key's current mvccpb.KeyValue (live keys only)
//   "h" esc(key) rev      -> the key as of `rev`: 'P' + KeyValue, or 'D' + KeyValue (a delete)
//   "e" rev               -> aegis.smpb.RevisionEvents: every event of `rev`, prev_kv filled
//   "l" id                -> aegis.smpb.LeaseRecord (owned by the lease code in kv_machine)
// esc() escapes 0x00 as 00 FF and ends with 00 01, which keeps key order and makes no escaped key
// a prefix of another, so one key's history is contiguous and sorted by revision.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "persistence/kv_store.hpp"
#include "protocol/command.pb.h"
#include "protocol/etcd/kv.pb.h"

namespace aegis::state {

// etcd's key ranges: range_end empty = the key alone; "\0" = every key >= key; key "\0" with
// range_end "\0" = every key.
struct key_range {
  std::string key;
  std::string range_end;
  bool single() const { return range_end.empty(); }
  bool contains(const std::string& k) const;
};

class mvcc {
 public:
  using kv_fn = std::function<bool(const mvccpb::KeyValue&)>;  // false: stop

  // Reads the revision counters from the store's metadata. A new store starts, as etcd's does, at
  // revision 1 with nothing in it (so its first write is revision 2) and compact revision 0.
  explicit mvcc(persistence::kv_store& store);

  int64_t revision() const { return revision_; }
  int64_t compact_revision() const { return compact_revision_; }
  uint64_t last_stamp_ms() const { return last_stamp_ms_; }
  void set_last_stamp_ms(uint64_t ms) { last_stamp_ms_ = std::max(last_stamp_ms_, ms); }

  std::optional<mvccpb::KeyValue> get(const std::string& key) const;
  // Live keys in range, in key order, as of now (rev <= 0, or the current revision when the
  // command being applied has not written yet; now includes its writes) or as of a past revision
  // (the caller has checked compact_revision() <= rev <= revision()). Revision 1 holds no keys.
  void for_each(const key_range& r, int64_t rev, const kv_fn& fn) const;

  // Writes of one command. The first write of a command takes revision()+1; later ones share it.
  // put() returns the new record; remove() returns the removed one (nullopt: nothing there).
  mvccpb::KeyValue put(const std::string& key, const std::string& value, int64_t lease);
  std::optional<mvccpb::KeyValue> remove(const std::string& key);
  // Ends the command: stores its events under its revision. Returns them (empty: no write).
  aegis::smpb::RevisionEvents end_command();

  // Events of revisions in [from, revision()], oldest first, one RevisionEvents per revision that
  // has events, until fn returns false. from >= compact_revision() (checked by the caller).
  void events_since(int64_t from,
                    const std::function<bool(const aegis::smpb::RevisionEvents&)>& fn) const;

  // Drops history older than `rev` (keeping, per key, the newest version at or below rev if it is
  // live) and the events below rev. compact_revision() < rev <= revision() (checked by caller).
  void compact(int64_t rev);

  // FNV-1a over the key history at or below `rev` (0: all), as etcd's HashKV: equal on replicas
  // that applied the same entries.
  uint32_t hash_kv(int64_t rev) const;
  // Over every record and the counters (the whole replicated state, leases included).
  uint32_t hash_all() const;

  // The store's metadata blob for the current counters (kv_store::commit stores it).
  std::string meta() const;
  // Every record and counter, and the inverse (staged; the caller commits).
  void snapshot_into(aegis::smpb::Snapshot& snap) const;
  void restore(const aegis::smpb::Snapshot& snap);

 private:
  void record_history(const mvccpb::KeyValue& kv, bool deleted);
  void for_each_at(const key_range& r, int64_t rev, const kv_fn& fn) const;

  persistence::kv_store& store_;
  int64_t revision_ = 1;  // a new store's (etcd's): no write has revision 1
  int64_t compact_revision_ = 0;
  uint64_t last_stamp_ms_ = 0;           // newest leader stamp applied (see kv_machine)
  aegis::smpb::RevisionEvents pending_;  // events of the command being applied
};

}  // namespace aegis::state
