// The proposer's git side: one branch and one commit per proposal in a local repository of
// node configs, made with git plumbing (hash-object, a temporary index, commit-tree,
// update-ref) so the user's checkout, index and current branch are never touched. Real git,
// run with explicit argument vectors.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "control/incident.hpp"

namespace aegis::control::proposer {

// A git command failed; the message names the command (never a secret: none is passed to git).
struct git_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Where to commit. Invariant: `file` is relative to `repo`, without "..".
struct git_target {
  std::string repo;           // the repository's working directory (or a bare repository)
  std::string base = "main";  // the branch the proposal branches from
  std::string file;           // the config file to patch, e.g. "cluster/node1.ini"
};

struct git_commit {
  std::string branch;  // "aegis/<class>-<proposal id>"
  std::string commit;  // the branch's head: the proposal's commit
  std::string base_commit;
  bool created = false;               // false: the branch existed, nothing was written
  std::string patched_text;           // the file as the commit has it (empty when !created)
  std::vector<std::string> warnings;  // from the patch (config_patch.hpp)
};

// "aegis/<class>-<id>". Throws std::invalid_argument when the id is empty, longer than 64 or
// has characters outside [A-Za-z0-9_-] (it ends up in a ref name and a URL).
std::string branch_name(const proposal& p);

// The commit message: the class and the keys in the subject, the evidence summary below.
std::string commit_message(const proposal& p);

// Makes the proposal's branch and commit unless the branch exists already (idempotent: the
// same proposal id never makes a second branch or commit). Throws git_error for a missing repo,
// base branch or file, and std::invalid_argument for a bad patch or id.
git_commit commit_proposal(const git_target& target, const proposal& p);

// The file's text at `rev` (a branch or commit), or git_error.
std::string read_file_at(const std::string& repo, const std::string& rev, const std::string& file);

}  // namespace aegis::control::proposer
