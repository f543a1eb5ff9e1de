#include "actors/state/mvcc.hpp"

#include <algorithm>

#include "actors/raft/assert.hpp"
#include "actors/raft/bytes.hpp"

namespace aegis::state {

namespace {

const std::string k_current = "k";
const std::string k_history = "h";
const std::string k_events = "e";

std::string be64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

uint64_t from_be64(std::string_view s) {
  uint64_t v = 0;
  for (char c : s.substr(0, 8))
    v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string escape(const std::string& key) {
  std::string out;
  out.reserve(key.size() + 2);
  for (char c : key) {
    out.push_back(c);
    if (c == '\0') out.push_back('\xff');
  }
  out.push_back('\0');
  out.push_back('\x01');
  return out;
}

// The key of a history record ("h" esc(key) rev) and the position of its revision.
std::string unescape(const std::string& record_key, size_t& end) {
  std::string key;
  size_t i = 1;
  while (i + 1 < record_key.size()) {
    if (record_key[i] == '\0') {
      if (record_key[i + 1] == '\x01') break;
      key.push_back('\0');
      i += 2;
      continue;
    }
    key.push_back(record_key[i++]);
  }
  end = i + 2;
  return key;
}

std::string history_key(const std::string& key, int64_t rev) {
  return k_history + escape(key) + be64(static_cast<uint64_t>(rev));
}

// [begin, end) of store keys under `prefix` for an etcd key range, `enc` mapping a user key.
std::pair<std::string, std::string> store_bounds(
    const key_range& r, const std::string& prefix,
    const std::function<std::string(const std::string&)>& enc) {
  const std::string nul(1, '\0');
  const std::string after_prefix(1, static_cast<char>(prefix[0] + 1));
  const std::string begin = r.key == nul && r.range_end == nul ? prefix : prefix + enc(r.key);
  const std::string end = r.range_end == nul ? after_prefix : prefix + enc(r.range_end);
  return {begin, end};
}

uint64_t fnv1a(uint64_t h, std::string_view bytes) {
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

uint32_t fold(uint64_t h) {
  return static_cast<uint32_t>(h ^ (h >> 32));
}

constexpr uint64_t fnv_basis = 14695981039346656037ull;

}  // namespace

bool key_range::contains(const std::string& k) const {
  const std::string nul(1, '\0');
  if (range_end.empty()) return k == key;
  if (range_end == nul) return key == nul || k >= key;
  return k >= key && k < range_end;
}

mvcc::mvcc(persistence::kv_store& store) : store_(store) {
  const std::string& m = store_.meta();
  size_t pos = 0;
  uint64_t rev = 0, compacted = 0, stamp = 0;
  if (m.empty()) return;  // a new store: revision_ 1, compact_revision_ 0 (the defaults)
  AEGIS_ASSERT(raft::get_u64(m, pos, rev) && raft::get_u64(m, pos, compacted) &&
               raft::get_u64(m, pos, stamp));
  revision_ = static_cast<int64_t>(rev);
  compact_revision_ = static_cast<int64_t>(compacted);
  last_stamp_ms_ = stamp;
}

std::string mvcc::meta() const {
  std::string m;
  raft::put_u64(m, static_cast<uint64_t>(revision_));
  raft::put_u64(m, static_cast<uint64_t>(compact_revision_));
  raft::put_u64(m, last_stamp_ms_);
  return m;
}

std::optional<mvccpb::KeyValue> mvcc::get(const std::string& key) const {
  auto stored = store_.get(k_current + key);
  mvccpb::KeyValue kv;
  if (!stored || !kv.ParseFromString(*stored)) return std::nullopt;
  return kv;
}

void mvcc::for_each(const key_range& r, int64_t rev, const kv_fn& fn) const {
  // The current records hold the writes of the command being applied (at revision_ + 1), so a
  // read that names revision_ itself while the command has written reads history, as etcd does.
  const bool mid_write = pending_.events_size() > 0;
  if (rev > 0 && (rev < revision_ || (rev == revision_ && mid_write)))
    return for_each_at(r, rev, fn);
  if (r.single()) {
    if (auto kv = get(r.key)) fn(*kv);
    return;
  }
  auto [begin, end] = store_bounds(r, k_current, [](const std::string& k) { return k; });
  store_.scan(begin, end, [&](const std::string&, const std::string& value) {
    mvccpb::KeyValue kv;
    return !kv.ParseFromString(value) || fn(kv);
  });
}

// A past revision: per key, the newest history record at or below rev, if it is not a delete.
void mvcc::for_each_at(const key_range& r, int64_t rev, const kv_fn& fn) const {
  auto [begin, end] = r.single() ? std::pair{k_history + escape(r.key),
                                             k_history + escape(r.key) + std::string(8, '\xff')}
                                 : store_bounds(r, k_history, escape);
  std::string current_key;
  std::optional<std::string> newest;  // newest record of current_key at or below rev
  bool go_on = true;
  auto flush = [&] {
    mvccpb::KeyValue kv;
    if (newest && (*newest)[0] == 'P' && kv.ParseFromString(newest->substr(1))) go_on = fn(kv);
    newest.reset();
  };
  store_.scan(begin, end, [&](const std::string& k, const std::string& value) {
    size_t rev_at = 0;
    std::string key = unescape(k, rev_at);
    if (key != current_key) {
      flush();
      current_key = std::move(key);
    }
    if (go_on && static_cast<int64_t>(from_be64(std::string_view(k).substr(rev_at))) <= rev)
      newest = value;
    return go_on;
  });
  if (go_on) flush();
}

void mvcc::record_history(const mvccpb::KeyValue& kv, bool deleted) {
  store_.put(history_key(kv.key(), kv.mod_revision()),
             (deleted ? "D" : "P") + kv.SerializeAsString());
}

mvccpb::KeyValue mvcc::put(const std::string& key, const std::string& value, int64_t lease) {
  const int64_t rev = revision_ + 1;
  auto prev = get(key);
  mvccpb::KeyValue kv;
  kv.set_key(key);
  kv.set_value(value);
  kv.set_create_revision(prev ? prev->create_revision() : rev);
  kv.set_mod_revision(rev);
  kv.set_version(prev ? prev->version() + 1 : 1);
  kv.set_lease(lease);
  store_.put(k_current + key, kv.SerializeAsString());
  record_history(kv, false);
  auto* ev = pending_.add_events();
  ev->set_type(mvccpb::Event::PUT);
  *ev->mutable_kv() = kv;
  if (prev) *ev->mutable_prev_kv() = std::move(*prev);
  return kv;
}

std::optional<mvccpb::KeyValue> mvcc::remove(const std::string& key) {
  auto prev = get(key);
  if (!prev) return std::nullopt;
  mvccpb::KeyValue tomb;
  tomb.set_key(key);
  tomb.set_mod_revision(revision_ + 1);
  store_.erase(k_current + key);
  record_history(tomb, true);
  auto* ev = pending_.add_events();
  ev->set_type(mvccpb::Event::DELETE);
  *ev->mutable_kv() = tomb;
  *ev->mutable_prev_kv() = *prev;
  return prev;
}

aegis::smpb::RevisionEvents mvcc::end_command() {
  aegis::smpb::RevisionEvents done;
  done.Swap(&pending_);
  if (done.events_size() == 0) return done;
  revision_ += 1;
  done.set_revision(revision_);
  store_.put(k_events + be64(static_cast<uint64_t>(revision_)), done.SerializeAsString());
  return done;
}

void mvcc::events_since(int64_t from,
                        const std::function<bool(const aegis::smpb::RevisionEvents&)>& fn) const {
  store_.scan(k_events + be64(static_cast<uint64_t>(std::max<int64_t>(from, 0))), "f",
              [&](const std::string&, const std::string& value) {
                aegis::smpb::RevisionEvents evs;
                return !evs.ParseFromString(value) || fn(evs);
              });
}

void mvcc::compact(int64_t rev) {
  std::vector<std::string> drop;
  std::string current_key;
  std::optional<std::pair<std::string, bool>> kept;  // newest record <= rev: key, is a delete
  store_.scan(k_history, "i", [&](const std::string& k, const std::string& value) {
    size_t rev_at = 0;
    std::string key = unescape(k, rev_at);
    if (key != current_key) {
      if (kept && kept->second) drop.push_back(kept->first);  // a delete needs no record
      kept.reset();
      current_key = std::move(key);
    }
    if (static_cast<int64_t>(from_be64(std::string_view(k).substr(rev_at))) > rev) return true;
    if (kept) drop.push_back(kept->first);  // superseded at or below rev
    kept = std::pair{k, value[0] == 'D'};
    return true;
  });
  if (kept && kept->second) drop.push_back(kept->first);
  store_.scan(k_events, k_events + be64(static_cast<uint64_t>(rev)),
              [&](const std::string& k, const std::string&) {
                drop.push_back(k);
                return true;
              });
  for (const auto& k : drop)
    store_.erase(k);
  compact_revision_ = rev;
}

uint32_t mvcc::hash_kv(int64_t rev) const {
  uint64_t h = fnv_basis;
  store_.scan(k_history, "i", [&](const std::string& k, const std::string& value) {
    size_t rev_at = 0;
    unescape(k, rev_at);
    if (rev > 0 && static_cast<int64_t>(from_be64(std::string_view(k).substr(rev_at))) > rev)
      return true;
    h = fnv1a(fnv1a(h, k), value);
    return true;
  });
  return fold(fnv1a(h, be64(static_cast<uint64_t>(compact_revision_))));
}

uint32_t mvcc::hash_all() const {
  uint64_t h = fnv1a(fnv_basis, meta());
  store_.scan("", "", [&](const std::string& k, const std::string& value) {
    h = fnv1a(fnv1a(h, k), value);
    return true;
  });
  return fold(h);
}

void mvcc::snapshot_into(aegis::smpb::Snapshot& snap) const {
  snap.set_revision(revision_);
  snap.set_compact_revision(compact_revision_);
  snap.set_last_stamp_unix_ms(last_stamp_ms_);
  store_.scan("", "", [&](const std::string& k, const std::string& value) {
    auto* rec = snap.add_records();
    rec->set_key(k);
    rec->set_value(value);
    return true;
  });
}

void mvcc::restore(const aegis::smpb::Snapshot& snap) {
  store_.erase_all();
  for (const auto& rec : snap.records())
    store_.put(rec.key(), rec.value());
  revision_ = snap.revision();
  compact_revision_ = snap.compact_revision();
  last_stamp_ms_ = snap.last_stamp_unix_ms();
  pending_.Clear();
}

}  // namespace aegis::state
