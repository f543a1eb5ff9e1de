// Little-endian fixed-width integers in byte strings: the one encoding helper shared by the
// core's configuration entries and the stores that persist its state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aegis::raft {

inline void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Reads the u64 at `pos` and moves past it; false (nothing read) if fewer than 8 bytes remain.
inline bool get_u64(std::string_view in, size_t& pos, uint64_t& v) {
  if (pos > in.size() || in.size() - pos < 8) return false;
  v = 0;
  for (int i = 0; i < 8; ++i)
    v |= uint64_t(static_cast<uint8_t>(in[pos + i])) << (8 * i);
  pos += 8;
  return true;
}

}  // namespace aegis::raft
