// The dry-run output of a proposal: the pull request it would open, the patched config file and
// the proposal as JSON, side by side in a folder a person can read or diff.
#pragma once

#include <string>

#include "control/incident.hpp"
#include "control/proposer/pr_body.hpp"

namespace aegis::control::proposer {

struct dry_run_files {
  std::string pr_markdown;    // <out>/proposals/<id>.md: title and body
  std::string proposal_json;  // <out>/proposals/<id>.json
  std::string config;         // <out>/proposals/<id>/<file name>: the patched file
};

// Writes the three files (creating folders). Throws std::runtime_error naming the path that
// could not be written. `config_name` is the config file's name (its folders are dropped).
dry_run_files write_dry_run(const std::string& out_dir, const proposal& p, const pr_text& pr,
                            const std::string& config_name, const std::string& patched);

}  // namespace aegis::control::proposer
