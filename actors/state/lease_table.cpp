#include "actors/state/lease_table.hpp"

#include "actors/state/mvcc.hpp"
#include "protocol/command.pb.h"

namespace aegis::state {

namespace {

const std::string k_lease = "l";

std::string lease_key(int64_t id) {
  std::string out = k_lease;
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>((static_cast<uint64_t>(id) >> (8 * i)) & 0xff));
  return out;
}

}  // namespace

lease_table::lease_table(persistence::kv_store& store, const mvcc& kv) : store_(store) {
  reload(kv);
}

void lease_table::reload(const mvcc& kv) {
  for (const auto& [id, l] : leases_)
    changes_.push_back({id, 0});
  leases_.clear();
  store_.scan(k_lease, "m", [&](const std::string&, const std::string& value) {
    aegis::smpb::LeaseRecord rec;
    if (!rec.ParseFromString(value)) return true;
    lease& l = leases_[rec.id()];
    l.id = rec.id();
    l.ttl_s = rec.ttl_s();
    l.granted_ttl_s = rec.granted_ttl_s();
    l.expiry_ms = rec.expiry_unix_ms();
    changes_.push_back({l.id, l.expiry_ms});
    return true;
  });
  kv.for_each({std::string(1, '\0'), std::string(1, '\0')}, 0, [&](const mvccpb::KeyValue& kv) {
    if (auto it = leases_.find(kv.lease()); it != leases_.end()) it->second.keys.insert(kv.key());
    return true;
  });
}

const lease* lease_table::find(int64_t id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

void lease_table::persist(const lease& l) {
  aegis::smpb::LeaseRecord rec;
  rec.set_id(l.id);
  rec.set_ttl_s(l.ttl_s);
  rec.set_granted_ttl_s(l.granted_ttl_s);
  rec.set_expiry_unix_ms(l.expiry_ms);
  store_.put(lease_key(l.id), rec.SerializeAsString());
  changes_.push_back({l.id, l.expiry_ms});
}

void lease_table::grant(int64_t id, int64_t ttl_s, int64_t granted_ttl_s, uint64_t expiry_ms) {
  lease& l = leases_[id];
  l.id = id;
  l.ttl_s = ttl_s;
  l.granted_ttl_s = granted_ttl_s;
  l.expiry_ms = expiry_ms;
  persist(l);
}

std::set<std::string> lease_table::remove(int64_t id) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return {};
  std::set<std::string> keys = std::move(it->second.keys);
  leases_.erase(it);
  store_.erase(lease_key(id));
  changes_.push_back({id, 0});
  return keys;
}

void lease_table::set_expiry(int64_t id, uint64_t expiry_ms) {
  auto it = leases_.find(id);
  if (it == leases_.end()) return;
  it->second.expiry_ms = expiry_ms;
  persist(it->second);
}

void lease_table::extend_all(uint64_t now_ms, uint64_t gap_ms) {
  for (auto& [id, l] : leases_) {
    l.expiry_ms = std::max(l.expiry_ms, now_ms) + gap_ms;
    persist(l);
  }
}

void lease_table::attach(const std::string& key, int64_t old_lease, int64_t lease) {
  if (old_lease == lease) return;
  if (auto it = leases_.find(old_lease); it != leases_.end()) it->second.keys.erase(key);
  if (auto it = leases_.find(lease); it != leases_.end()) it->second.keys.insert(key);
}

std::vector<lease_change> lease_table::take_changes() {
  std::vector<lease_change> out;
  out.swap(changes_);
  return out;
}

}  // namespace aegis::state
