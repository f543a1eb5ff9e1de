#include "persistence/rocks_storage.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

#include "actors/raft/bytes.hpp"
#include "persistence/rocks_open.hpp"

namespace aegis::persistence {

namespace {

using raft::get_u64;
using raft::put_u64;

// Keys. Entries sort by index because the index is stored big-endian.
const std::string k_identity = "m:id";
const std::string k_hard_state = "m:hs";
const std::string k_offset = "m:off";
const std::string k_snapshot = "m:snap";
const std::string k_entry_prefix = "e:";

std::string entry_key(raft::index_t i) {
  std::string k = k_entry_prefix;
  for (int s = 56; s >= 0; s -= 8)
    k.push_back(static_cast<char>((i >> s) & 0xff));
  return k;
}

std::string encode_entry(const raft::entry& e) {
  std::string v;
  put_u64(v, e.term);
  v.push_back(static_cast<char>(e.type));
  v += e.data;
  return v;
}

bool decode_entry(std::string_view v, raft::index_t index, raft::entry& e) {
  size_t pos = 0;
  if (!get_u64(v, pos, e.term) || pos >= v.size() || static_cast<uint8_t>(v[pos]) > 2) return false;
  e.index = index;
  e.type = static_cast<raft::entry_type>(v[pos]);
  e.data.assign(v.substr(pos + 1));
  return true;
}

std::string encode_snapshot(const raft::snapshot& s) {
  std::string v;
  put_u64(v, s.meta.index);
  put_u64(v, s.meta.term);
  const std::string conf = raft::encode_conf(s.meta.conf);
  put_u64(v, conf.size());
  v += conf;
  v += s.data;
  return v;
}

bool decode_snapshot(std::string_view v, raft::snapshot& s) {
  size_t pos = 0;
  uint64_t conf_len = 0;
  if (!get_u64(v, pos, s.meta.index) || !get_u64(v, pos, s.meta.term) ||
      !get_u64(v, pos, conf_len) || conf_len > v.size() - pos)
    return false;
  if (!raft::decode_conf(std::string(v.substr(pos, conf_len)), s.meta.conf)) return false;
  s.data.assign(v.substr(pos + conf_len));
  return true;
}

storage_error corrupt(const std::string& dir, const std::string& key) {
  return {"data dir " + dir + " is corrupt: key '" + key +
          "' does not decode; refusing to start rather than guess"};
}

}  // namespace

rocks_storage::rocks_storage(std::unique_ptr<rocksdb::DB> db, std::string dir)
    : db_(std::move(db)), staged_(std::make_unique<rocksdb::WriteBatch>()), dir_(std::move(dir)) {}

rocks_storage::~rocks_storage() = default;

std::variant<std::unique_ptr<rocks_storage>, storage_error> rocks_storage::open(
    const std::string& dir, raft::node_id id, mode m) {
  if (m == mode::existing && !holds_db(dir))
    return storage_error{"data dir " + dir + " holds no AEGIS data (missing or wiped): a member " +
                         "must not rejoin with an empty log under its old identity; remove it " +
                         "from the cluster and add it back as a new member"};
  auto opened = open_db(dir, m == mode::create, "data dir");
  if (auto* err = std::get_if<storage_error>(&opened)) return *err;
  auto db = std::move(std::get<std::unique_ptr<rocksdb::DB>>(opened));
  std::string value;
  const rocksdb::Status got = db->Get(rocksdb::ReadOptions(), k_identity, &value);
  std::string want;
  put_u64(want, id);
  if (m == mode::create) {
    if (got.ok())
      return storage_error{"data dir " + dir + " already holds a node; a new member needs an " +
                           "empty dir"};
    rocksdb::WriteOptions sync;
    sync.sync = true;
    db->Put(sync, k_identity, want);
  } else if (!got.ok() || value != want) {
    return storage_error{"data dir " + dir + " belongs to " +
                         (got.ok() ? std::string("another node") : std::string("no node")) +
                         ", not node " + std::to_string(id)};
  }
  return std::unique_ptr<rocks_storage>(new rocks_storage(std::move(db), dir));
}

// Stages one batch in the order persist_batch documents: snapshot, compaction, log, hard state.
void rocks_storage::write(raft::persist_batch b) {
  AEGIS_ASSERT(b.seq > last_seq_);
  last_seq_ = b.seq;
  if (b.snap) staged_->Put(k_snapshot, encode_snapshot(*b.snap));
  if (b.compact_to) {
    staged_->DeleteRange(entry_key(0), entry_key(b.compact_to->index + 1));
    std::string off;
    put_u64(off, b.compact_to->index);
    put_u64(off, b.compact_to->term);
    staged_->Put(k_offset, off);
  }
  if (b.log.truncate_from) staged_->DeleteRange(entry_key(*b.log.truncate_from), entry_key(~0ull));
  for (const auto& e : b.log.entries)
    staged_->Put(entry_key(e.index), encode_entry(e));
  needs_fsync_ |= b.snap || b.compact_to || b.log.truncate_from || !b.log.entries.empty();
  if (b.hs) {
    // A new term or vote must reach the disk before any message depends on it; a commit index
    // alone need not (etcd's MustSync): a lost one is relearned from the leader, and saving the
    // fsync matters, since the commit index moves once per replication round.
    needs_fsync_ |= b.hs->term != fsynced_hs_.term || b.hs->vote != fsynced_hs_.vote;
    fsynced_hs_ = *b.hs;
    std::string hs;
    put_u64(hs, b.hs->term);
    put_u64(hs, b.hs->vote);
    put_u64(hs, b.hs->commit);
    staged_->Put(k_hard_state, hs);
  }
}

bool rocks_storage::needs_fsync(const raft::persist_batch& b) const {
  return needs_fsync_ || b.snap || b.compact_to || b.log.truncate_from || !b.log.entries.empty() ||
         (b.hs && (b.hs->term != fsynced_hs_.term || b.hs->vote != fsynced_hs_.vote));
}

// One write for everything staged: the group commit's single fsync (skipped when the batch holds
// nothing but a commit index).
void rocks_storage::do_sync() {
  if (staged_->Count() == 0) return;
  rocksdb::WriteOptions sync;
  sync.sync = needs_fsync_;
  needs_fsync_ = false;
  const rocksdb::Status st = db_->Write(sync, staged_.get());
  // A failed fsync leaves the node unable to keep its promises: stop rather than continue.
  AEGIS_ASSERT(st.ok());
  staged_->Clear();
}

std::variant<raft::restore_state, storage_error> rocks_storage::restore() const {
  raft::restore_state rs;
  std::string v;
  size_t pos = 0;
  if (db_->Get(rocksdb::ReadOptions(), k_hard_state, &v).ok() &&
      !(get_u64(v, pos, rs.hs.term) && get_u64(v, pos, rs.hs.vote) &&
        get_u64(v, pos, rs.hs.commit)))
    return corrupt(dir_, k_hard_state);
  pos = 0;
  if (db_->Get(rocksdb::ReadOptions(), k_offset, &v).ok() &&
      !(get_u64(v, pos, rs.offset.index) && get_u64(v, pos, rs.offset.term)))
    return corrupt(dir_, k_offset);
  if (db_->Get(rocksdb::ReadOptions(), k_snapshot, &v).ok()) {
    raft::snapshot s;
    if (!decode_snapshot(v, s)) return corrupt(dir_, k_snapshot);
    rs.snap = std::move(s);
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(entry_key(rs.offset.index + 1)); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    if (key.rfind(k_entry_prefix, 0) != 0) break;
    const raft::index_t expect = rs.offset.index + rs.entries.size() + 1;
    raft::entry e;
    if (key != entry_key(expect) || !decode_entry(it->value().ToString(), expect, e))
      return corrupt(dir_, "entry " + std::to_string(expect));
    rs.entries.push_back(std::move(e));
  }
  rs.applied = rs.snap ? rs.snap->meta.index : 0;
  rs.durable = true;
  return rs;
}

}  // namespace aegis::persistence
