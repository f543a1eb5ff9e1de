// Opens a proposal's pull request on GitHub, idempotently: a proposal whose branch already has a
// pull request (open or closed) gets that one back, never a second; every step tolerates having
// been done by an earlier, interrupted run (branch exists, file already patched, pull request
// created but its answer lost).
#pragma once

#include <string>
#include <vector>

#include "control/proposer/github_client.hpp"

namespace aegis::control::proposer {

struct pr_request {
  std::string branch;   // "aegis/<class>-<id>"
  std::string base;     // the branch to merge into, e.g. "main"
  std::string path;     // the config file in the repository
  std::string content;  // the patched file
  std::string commit_message;
  std::string title;
  std::string body;
  std::vector<std::string> labels;  // e.g. {"aegis", "aegis:election_storm"}
};

// Finds or creates the pull request; github_error on failure (its message is safe to print).
pull_ref open_proposal_pr(github_client& gh, const pr_request& req);

}  // namespace aegis::control::proposer
