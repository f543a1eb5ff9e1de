// A streaming 64-bit FNV-1a hash: the trace digest. Stable across platforms and runs, so the same
// seed, script and config must always print the same digest.
#pragma once

#include <cstdint>
#include <string_view>

namespace aegis::chaos::sim {

class hasher {
 public:
  void add(std::string_view s) {
    add_u64(s.size());
    for (unsigned char ch : s)
      mix(ch);
  }
  void add_u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      mix(static_cast<unsigned char>(v >> (8 * i)));
  }
  uint64_t value() const { return h_; }

 private:
  void mix(unsigned char b) {
    h_ ^= b;
    h_ *= 0x100000001b3ull;
  }
  uint64_t h_ = 0xcbf29ce484222325ull;
};

}  // namespace aegis::chaos::sim
