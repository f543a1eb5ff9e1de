// Runs a program with an explicit argument vector (no shell, so no quoting or injection of
// untrusted text) and collects its exit code, stdout and stderr. Used for the `git` CLI.
#pragma once

#include <string>
#include <vector>

namespace aegis::control::proposer {

struct process_result {
  int exit_code = -1;  // the program's exit status; -1: it could not be started or was killed
  std::string out;     // stdout
  std::string err;     // stderr, or why it could not be started
};

// Runs argv[0] (looked up on PATH) with argv, stdin from /dev/null, in directory `cwd` (empty:
// the current one). `extra_env` entries ("NAME=value") are added to (or override) the current
// environment. Never throws for a failing program; the output is capped at 16 MiB per stream.
process_result run_process(const std::vector<std::string>& argv, const std::string& cwd = "",
                           const std::vector<std::string>& extra_env = {});

}  // namespace aegis::control::proposer
