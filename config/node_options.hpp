// The CAF side of node configuration: declares every key of node_config and raft_config as a CAF
// option (groups [node] and [raft]), so one INI file per node (`--config-file=PATH`) and
// command-line flags (`--raft.heartbeat_interval_ms=50ms`, which override the file) fill it,
// and `--help` lists every key with its unit and default. extract() turns what CAF parsed into a
// validated node_config or one line naming the key and the rule broken.
#pragma once

#include <deque>
#include <string>
#include <variant>

#include <caf/actor_system_config.hpp>

#include "config/node_config.hpp"

namespace aegis::config {

// What read() decided: run with `cfg`, or exit with `exit_code` after printing `message`.
struct load_outcome {
  std::optional<node_config> cfg;
  int exit_code = 0;    // 0 after --help, 2 for a bad config
  std::string message;  // the help text, or one line naming the key and the rule
};

class node_options : public caf::actor_system_config {
 public:
  node_options();
  // Reads the config file named by --config-file (malformed files are refused with line and
  // column, never half-read), applies the flags, validates.
  load_outcome read(int argc, char** argv);
  // Every key with its unit and default, grouped as in a config file.
  std::string help_text() const;

 private:
  std::variant<node_config, std::string> extract() const;
  // Unknown keys and values of the wrong type in our groups, as one line.
  std::optional<std::string> check_keys(const caf::settings& s) const;
  std::vector<std::string> take_bool_flags(int argc, char** argv);

  std::vector<std::pair<std::string, bool>> bool_flags_;  // --KEY=true|false, applied last
  std::deque<std::string> help_;  // option descriptions (CAF keeps string_views into these)
  const char* keep(std::string text);
};

}  // namespace aegis::config
