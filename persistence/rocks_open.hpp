// Opening a RocksDB directory the way both node stores need it: paranoid checks on, created only
// when asked, and every failure turned into one sentence naming the directory.
#pragma once

#include <rocksdb/db.h>

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "persistence/rocks_storage.hpp"

namespace aegis::persistence {

// Whether `dir` holds a RocksDB database (missing or wiped dirs do not).
inline bool holds_db(const std::string& dir) {
  return std::filesystem::exists(std::filesystem::path(dir) / "CURRENT");
}

// `what` names the directory in errors ("data dir", "state dir").
inline std::variant<std::unique_ptr<rocksdb::DB>, storage_error> open_db(const std::string& dir,
                                                                         bool create,
                                                                         const std::string& what) {
  rocksdb::Options options;
  options.create_if_missing = create;
  options.paranoid_checks = true;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status st = rocksdb::DB::Open(options, dir, &raw);
  if (!st.ok()) return storage_error{"cannot open " + what + " " + dir + ": " + st.ToString()};
  return std::unique_ptr<rocksdb::DB>(raw);
}

}  // namespace aegis::persistence
