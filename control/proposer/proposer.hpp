// The proposer stage: every proposal goes to the ledger; a proposal whose status is "proposed"
// (and whose envelope checks all passed and whose verification improved) becomes a pull request:
// printed and written to a folder in dry-run, otherwise a branch + commit in the local config
// repository and/or a pull request on GitHub. It proposes only: nothing is merged or applied.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "control/incident.hpp"
#include "control/proposer/github_client.hpp"
#include "control/proposer/http_client.hpp"

namespace aegis::control::proposer {

struct proposer_options {
  bool dry_run = true;      // true: print and write files only; no git, no GitHub
  std::string out_dir;      // dry-run folder (empty in dry-run: "aegis-proposals"); when set
                            // outside dry-run the same files are written too
  std::string config_repo;  // a local git repository of node configs; empty: no git step
  std::string config_file;  // the file to patch, relative to config_repo (or a plain path
                            // without a repo); empty: each proposal's config_file
  std::string base_branch = "main";  // the branch proposals start from and PRs target
  github_config github;     // repo "owner/name" + token (+ base_url): GitHub step when both set
  std::string ledger_path;  // the append-only ledger; empty: no ledger
  std::vector<std::string> labels = {"aegis"};  // plus "aegis:<class>" per proposal
  http_client* http = nullptr;                  // null: libcurl
  std::ostream* out = nullptr;                  // the PR text in dry-run; null: std::cout
  std::ostream* log = nullptr;  // one line per proposal, warnings, errors; null: std::cerr
};

// Handles each proposal in order. Returns 0 when every proposal was handled (a rejection or a
// negative result is handled: it is recorded), 1 when any failed (the others still ran).
int run_proposer(const std::vector<control::proposal>& proposals, const proposer_options& opt);

// Why a proposal marked "proposed" must not be (a failed envelope rule, no or a negative
// verification); "" when it may be. The proposer's own check, independent of the caller.
std::string refusal_reason(const control::proposal& p);

}  // namespace aegis::control::proposer
