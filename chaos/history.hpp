// A client history: what each client asked of the KV store and what it was told, with virtual
// times. The simulator records it; the linearizability checker judges it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace aegis::chaos {

enum class op_kind : uint8_t { put, get, cas };

// How an operation ended, as the client saw it.
//  ok:      it took effect (for get: `output` holds the value read; for cas: `cas_ok` says
//           whether the compare matched).
//  fail:    it definitely took no effect (refused by a non-leader, overwritten before commit).
//  unknown: the client cannot tell (timeout, crash): it may or may not have taken effect, at any
//           time after its invoke. Its return time is `never`.
enum class op_status : uint8_t { ok, fail, unknown };

inline constexpr int64_t never = std::numeric_limits<int64_t>::max();

// One completed operation. Keys and values are small strings; an absent key reads as "".
struct operation {
  uint64_t id = 0;      // unique within a history
  uint32_t client = 0;  // which client issued it
  op_kind kind = op_kind::get;
  std::string key;
  std::string value;     // put: value written; cas: the new value
  std::string expected;  // cas: the value compared against
  std::string output;    // get: the value read (ok only)
  bool cas_ok = false;   // cas: whether the compare matched (ok only)
  op_status status = op_status::unknown;
  int64_t invoke_us = 0;      // virtual time the client sent it
  int64_t return_us = never;  // virtual time the client got its answer (never for unknown)
};

using history = std::vector<operation>;

}  // namespace aegis::chaos
