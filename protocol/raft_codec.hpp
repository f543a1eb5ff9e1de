// Conversion between the core's peer messages (actors/raft/types.hpp) and their protobuf wire
// form (protocol/raft.proto). Decoding is where bytes from the network meet the core, so it
// refuses anything malformed with a reason instead of handing the core a message that breaks its
// assumptions (unknown types, unsorted configurations, out-of-range enum values, oversize input).
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "actors/raft/types.hpp"

namespace aegis::protocol {

// Messages larger than this are refused before parsing (a limit on everything: a snapshot chunk
// or an append is bounded by config far below it).
inline constexpr size_t max_message_bytes = 64 * 1024 * 1024;

std::string encode(const raft::message& m);

struct decode_error {
  std::string reason;
};
std::variant<raft::message, decode_error> decode(std::string_view bytes);

}  // namespace aegis::protocol
