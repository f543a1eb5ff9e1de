// A streaming 64-bit hash: the trace digest. Word-at-a-time multiply-xorshift mixing (in the
// style of FNV and splitmix), stable across runs and little-endian platforms, so the same seed,
// script and config must always print the same digest.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace aegis::chaos::sim {

class hasher {
 public:
  void add(std::string_view s) {
    add_u64(s.size());
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      add_u64(w);
    }
    uint64_t tail = 0;
    for (size_t k = 0; i + k < s.size(); ++k)
      tail |= uint64_t(uint8_t(s[i + k])) << (8 * k);
    add_u64(tail);
  }
  void add_u64(uint64_t v) {
    h_ = (h_ ^ v) * 0x100000001b3ull;
    h_ ^= h_ >> 29;
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace aegis::chaos::sim
