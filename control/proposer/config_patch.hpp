// Rewrites the [raft] section of a CAF INI node config (config/samples/node1.ini) per an
// advisor's patch, as a person would edit it: changed keys keep their line's place and
// indentation, comments and every other line stay byte for byte, a key the file lacks goes at the
// end of [raft]. Pure text in, text out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "control/incident.hpp"

namespace aegis::control::proposer {

struct patched_config {
  std::string text;                   // the new file
  std::vector<std::string> warnings;  // e.g. a key whose value in the file is not the patch's
                                      // `from` (the advice was made against another config)
};

// Applies the patch. Throws std::invalid_argument naming the key when a key is not in the raft
// schema (config/schema.hpp) or a value is empty or holds a line break, '[', ';' or '#': such a
// value could not round-trip through the INI reader. Bare numbers for "ms" keys are written with
// the unit ("150ms"), which CAF's timespan parser needs.
patched_config patch_raft_section(std::string_view ini, const std::vector<config_change>& patch);

// The value as it must appear in the INI file for `key` (adds "ms" where needed).
std::string ini_value(std::string_view key, std::string_view value);

}  // namespace aegis::control::proposer
