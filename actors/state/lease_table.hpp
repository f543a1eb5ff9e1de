// The replicated lease table: every live lease with its TTL, its expiry in leader-stamped time and
// the keys attached to it. Only commands change it (grant, renew, promote, revoke/expire), and the
// only clock it reads is the stamp of the entry being applied, so every replica holds the same
// table (DESIGN.md "Determinism and time"). Plain code; records persist in the kv_store under
// "l" + id, the key attachments are rebuilt from the current keys when a store is opened.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "persistence/kv_store.hpp"

namespace aegis::state {

class mvcc;

struct lease {
  int64_t id = 0;
  int64_t ttl_s = 0;          // in force: max(granted, the minimum TTL)
  int64_t granted_ttl_s = 0;  // as asked by the client
  uint64_t expiry_ms = 0;     // leader-stamped unix ms
  std::set<std::string> keys;
};

// What the lease timer needs to hear of a lease: its new expiry, or that it is gone.
struct lease_change {
  int64_t id = 0;
  uint64_t expiry_ms = 0;  // 0: the lease no longer exists
};

class lease_table {
 public:
  // Loads the records of `store` and attaches the live keys of `kv`.
  lease_table(persistence::kv_store& store, const mvcc& kv);

  const lease* find(int64_t id) const;
  const std::map<int64_t, lease>& all() const { return leases_; }

  void grant(int64_t id, int64_t ttl_s, int64_t granted_ttl_s, uint64_t expiry_ms);
  // Removes the lease; returns the keys that were attached (the caller deletes them).
  std::set<std::string> remove(int64_t id);
  void set_expiry(int64_t id, uint64_t expiry_ms);
  // Every lease's expiry becomes max(expiry, now_ms) + gap_ms (LeasePromote).
  void extend_all(uint64_t now_ms, uint64_t gap_ms);

  // A key put with `lease` (0: none) that was attached to `old_lease` (0: none).
  void attach(const std::string& key, int64_t old_lease, int64_t lease);
  void detach(const std::string& key, int64_t lease) { attach(key, lease, 0); }

  // Changes since the last call, for the lease timer (in the order made).
  std::vector<lease_change> take_changes();
  // Drops every lease (before a snapshot restore), then reload() reads them back.
  void reload(const mvcc& kv);

 private:
  void persist(const lease& l);
  persistence::kv_store& store_;
  std::map<int64_t, lease> leases_;
  std::vector<lease_change> changes_;
};

}  // namespace aegis::state
