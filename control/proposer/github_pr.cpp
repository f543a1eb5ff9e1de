// The idempotent pull request flow (github_pr.hpp).
#include "control/proposer/github_pr.hpp"

namespace aegis::control::proposer {

namespace {

// The branch with the patched file on it (created from base unless it exists).
void prepare_branch(github_client& gh, const pr_request& req) {
  const auto base_sha = gh.branch_sha(req.base);
  gh.create_branch(req.branch, base_sha);  // false: an earlier run made it
  const auto file = gh.get_file(req.path, req.branch);
  // Already patched (a retry after the PUT went through): writing again would add an empty
  // commit to the branch.
  if (file.exists && file.content == req.content) return;
  gh.put_file(req.path, req.branch, req.content, req.commit_message, file.sha);
}

// Creates the pull request; when GitHub says one exists (the answer to an earlier try was lost),
// finds and returns that one.
pull_ref create_or_find(github_client& gh, const pr_request& req) {
  try {
    return gh.create_pull(req.title, req.body, req.branch, req.base);
  } catch (const github_error& e) {
    if (e.status != 422 && e.status < 500) throw;
    if (auto existing = gh.find_pull(req.branch)) return *existing;
    throw;
  }
}

}  // namespace

pull_ref open_proposal_pr(github_client& gh, const pr_request& req) {
  if (auto existing = gh.find_pull(req.branch)) return *existing;
  prepare_branch(gh, req);
  auto pr = create_or_find(gh, req);
  if (!pr.reused && pr.number > 0 && !req.labels.empty()) gh.add_labels(pr.number, req.labels);
  return pr;
}

}  // namespace aegis::control::proposer
