#include "persistence/kv_store.hpp"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>

#include "actors/raft/assert.hpp"
#include "actors/raft/bytes.hpp"
#include "persistence/rocks_open.hpp"

namespace aegis::persistence {

namespace {

// Records live under "d" + key; metadata under "c:" (sorts before "d").
const std::string k_meta = "c:applied";
const std::string k_record_prefix = "d";
const std::string k_record_end = "e";  // the first key after every record

std::string record_key(const std::string& key) {
  return k_record_prefix + key;
}

}  // namespace

kv_store::kv_store(std::unique_ptr<rocksdb::DB> db, std::string dir)
    : db_(std::move(db)), staged_(std::make_unique<rocksdb::WriteBatch>()), dir_(std::move(dir)) {}

kv_store::~kv_store() = default;

std::variant<std::unique_ptr<kv_store>, storage_error> kv_store::open(const std::string& dir,
                                                                      rocks_storage::mode m) {
  const bool create = m == rocks_storage::mode::create;
  if (!create && !holds_db(dir))
    return storage_error{"state dir " + dir + " holds no AEGIS data (missing or wiped)"};
  if (create && holds_db(dir))
    return storage_error{"state dir " + dir + " already holds a store; a new member needs an " +
                         "empty dir"};
  auto opened = open_db(dir, create, "state dir");
  if (auto* err = std::get_if<storage_error>(&opened)) return *err;
  std::unique_ptr<kv_store> s(
      new kv_store(std::move(std::get<std::unique_ptr<rocksdb::DB>>(opened)), dir));
  auto loaded = s->load_meta();
  if (auto* err = std::get_if<storage_error>(&loaded)) return *err;
  return s;
}

std::variant<bool, storage_error> kv_store::load_meta() {
  std::string v;
  if (!db_->Get(rocksdb::ReadOptions(), k_meta, &v).ok()) return true;  // a new store
  size_t pos = 0;
  if (!raft::get_u64(v, pos, applied_))
    return storage_error{"state dir " + dir_ + " is corrupt: key '" + k_meta +
                         "' does not decode; refusing to start rather than guess"};
  meta_ = v.substr(pos);
  return true;
}

std::optional<std::string> kv_store::get(const std::string& key) const {
  if (auto it = staged_values_.find(key); it != staged_values_.end())
    return it->second;  // or erased
  if (staged_erase_all_) return std::nullopt;
  std::string v;
  if (!db_->Get(rocksdb::ReadOptions(), record_key(key), &v).ok()) return std::nullopt;
  return v;
}

void kv_store::scan(const std::string& begin, const std::string& end,
                    const std::function<bool(const std::string&, const std::string&)>& fn) const {
  if (!staged_values_.empty() || staged_erase_all_) return scan_staged(begin, end, fn);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  const std::string stop = end.empty() ? k_record_end : record_key(end);
  for (it->Seek(record_key(begin)); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (k.compare(stop) >= 0) break;
    if (!fn(k.ToString().substr(1), it->value().ToString())) break;
  }
}

// Mid-batch (a range delete after a put in the same batch): the stored range with the staged
// writes laid over it, in key order.
void kv_store::scan_staged(
    const std::string& begin, const std::string& end,
    const std::function<bool(const std::string&, const std::string&)>& fn) const {
  std::map<std::string, std::string> merged;
  auto in_range = [&](const std::string& k) { return k >= begin && (end.empty() || k < end); };
  if (!staged_erase_all_) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    const std::string stop = end.empty() ? k_record_end : record_key(end);
    for (it->Seek(record_key(begin)); it->Valid() && it->key().compare(stop) < 0; it->Next())
      merged.emplace(it->key().ToString().substr(1), it->value().ToString());
  }
  for (const auto& [k, v] : staged_values_) {
    if (!in_range(k)) continue;
    if (v)
      merged[k] = *v;
    else
      merged.erase(k);
  }
  for (const auto& [k, v] : merged)
    if (!fn(k, v)) break;
}

void kv_store::put(const std::string& key, std::string value) {
  staged_->Put(record_key(key), value);
  staged_values_[key] = std::move(value);
}

void kv_store::erase(const std::string& key) {
  staged_->Delete(record_key(key));
  staged_values_[key] = std::nullopt;
}

void kv_store::erase_all() {
  staged_->DeleteRange(k_record_prefix, k_record_end);
  staged_values_.clear();
  staged_erase_all_ = true;
}

void kv_store::commit(uint64_t applied_index, std::string meta) {
  std::string stored;
  raft::put_u64(stored, applied_index);
  stored += meta;
  staged_->Put(k_meta, stored);
  const rocksdb::Status st = db_->Write(rocksdb::WriteOptions(), staged_.get());
  // A store that cannot write cannot keep applying: stop rather than diverge from the log.
  AEGIS_ASSERT(st.ok());
  staged_->Clear();
  staged_values_.clear();
  staged_erase_all_ = false;
  applied_ = applied_index;
  meta_ = std::move(meta);
}

uint64_t kv_store::size_bytes() const {
  uint64_t sst = 0, wal = 0;
  db_->GetIntProperty("rocksdb.live-sst-files-size", &sst);
  db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &wal);
  return sst + wal;
}

}  // namespace aegis::persistence
