// The simulator's replicated state machine: a string KV store with put, get and compare-and-set,
// driven by committed entries. Each command travels in an envelope stamped by the leader
// (DESIGN.md "Determinism and time"); the state machine reads the stamp, never a clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "chaos/history.hpp"

namespace aegis::chaos::sim {

struct kv_command {
  int64_t stamp_ms = 0;  // leader's clock when proposed, monotonic across leaders
  uint64_t op_id = 0;    // the client operation it carries
  op_kind kind = op_kind::put;
  std::string key, value, expected;
};

std::string encode(const kv_command& c);
std::optional<kv_command> decode(const std::string& data);

struct kv_result {
  bool cas_ok = false;
  std::string value;  // get: the value read
};

class kv_store {
 public:
  kv_result apply(const kv_command& c);
  std::string get(const std::string& key) const;
  std::string serialize() const;
  bool restore(const std::string& data);  // false: not a valid serialization
  int64_t last_stamp_ms() const { return last_stamp_ms_; }
  // Order-independent summary of the contents, to compare replicas.
  uint64_t digest() const;

 private:
  std::map<std::string, std::string> data_;
  int64_t last_stamp_ms_ = 0;
};

}  // namespace aegis::chaos::sim
