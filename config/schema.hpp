// The schema of raft_config: one row per field with its key, unit, default and meaning. Config
// files, command-line flags, chaos-script `set` lines and --help all go through this table, so a
// key is spelled, parsed and documented in exactly one place.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "config/raft_config.hpp"

namespace aegis::config {

struct field {
  std::string_view key;   // as written in files and on the command line
  std::string_view unit;  // "ms", "bytes", "entries", "count", "bool"
  std::string_view help;  // one line
  std::variant<uint32_t raft_config::*, uint64_t raft_config::*, bool raft_config::*> member;
};

const std::vector<field>& raft_fields();
const field* find_field(std::string_view key);

// Sets `key` from its text form ("150", "150ms" for ms fields, "true"/"false"). Returns the
// error (naming key and rule) or nullopt.
std::optional<std::string> set_field(raft_config& c, std::string_view key, std::string_view value);
// The value of `key` in text form, as set_field accepts it.
std::string get_field(const raft_config& c, const field& f);
// Every field as key=value text pairs in schema order (a trace's `config` lines).
std::vector<std::pair<std::string, std::string>> field_pairs(const raft_config& c);

}  // namespace aegis::config
