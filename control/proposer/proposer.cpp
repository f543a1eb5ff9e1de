// The proposer stage (proposer.hpp).
#include "control/proposer/proposer.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "control/proposer/config_patch.hpp"
#include "control/proposer/dry_run.hpp"
#include "control/proposer/git_repo.hpp"
#include "control/proposer/github_pr.hpp"
#include "control/proposer/ledger.hpp"
#include "control/proposer/pr_body.hpp"

namespace aegis::control::proposer {

namespace {

// The per-run context the steps share.
struct run {
  const proposer_options& opt;
  http_client& http;
  std::ostream& out;
  std::ostream& log;
};

std::string file_of(const proposal& p, const proposer_options& opt) {
  const auto f = opt.config_file.empty() ? p.config_file : opt.config_file;
  if (f.empty()) throw std::invalid_argument("no config file: set --config-file or config_file");
  return f;
}

// The config as it is now: from the base branch of the repo, or a plain file; "" when neither
// exists (the patch then becomes a [raft] fragment).
std::string current_config(const run& r, const std::string& file) {
  if (!r.opt.config_repo.empty()) return read_file_at(r.opt.config_repo, r.opt.base_branch, file);
  std::ifstream in(file);
  if (!in) {
    r.log << "note: " << file << " not found; the patched file holds only the [raft] changes\n";
    return "";
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void record(const run& r, const proposal& p, const std::string& outcome) {
  if (r.opt.ledger_path.empty()) return;
  append_to_ledger(r.opt.ledger_path, ledger_entry_for(p, outcome));
}

std::string dry_run_step(const run& r, const proposal& p, const std::string& file) {
  auto patched = patch_raft_section(current_config(r, file), p.advice.patch);
  for (const auto& w : patched.warnings)
    r.log << "warning: proposal " << p.id << ": " << w << "\n";
  const auto pr = render_pr(p, {branch_name(p), "", file});
  r.out << pr.title << "\n\n" << pr.body << "\n";
  const auto dir = r.opt.out_dir.empty() ? std::string("aegis-proposals") : r.opt.out_dir;
  const auto files = write_dry_run(dir, p, pr, file, patched.text);
  return "dry-run: " + files.pr_markdown;
}

// Branch + commit in the local repo (when configured) and the pull request on GitHub (when
// configured); returns what was done, for the ledger.
std::string live_step(const run& r, const proposal& p, const std::string& file) {
  std::string done, commit, patched;
  const auto branch = branch_name(p);
  if (!r.opt.config_repo.empty()) {
    const auto c = commit_proposal({r.opt.config_repo, r.opt.base_branch, file}, p);
    for (const auto& w : c.warnings)
      r.log << "warning: proposal " << p.id << ": " << w << "\n";
    commit = c.commit;
    patched = c.created ? c.patched_text : read_file_at(r.opt.config_repo, branch, file);
    done = (c.created ? "commit " : "existing commit ") + commit + " on " + branch;
  } else {
    patched = patch_raft_section(current_config(r, file), p.advice.patch).text;
  }
  const auto pr = render_pr(p, {branch, commit, file});
  if (!r.opt.out_dir.empty()) write_dry_run(r.opt.out_dir, p, pr, file, patched);
  if (!r.opt.github.repo.empty() && !r.opt.github.token.empty()) {
    github_client gh(r.opt.github, r.http);
    auto labels = r.opt.labels;
    labels.push_back("aegis:" + std::string(name_of(p.incident.cls)));
    const auto ref = open_proposal_pr(gh, {branch, r.opt.base_branch, file, patched,
                                           commit_message(p), pr.title, pr.body, labels});
    done += std::string(done.empty() ? "" : "; ") + (ref.reused ? "existing pr " : "pr ") + ref.url;
  }
  return done.empty() ? "nothing configured (no --config-repo, no GitHub repo/token)" : done;
}

// Handles one proposal; returns false when it failed.
bool handle(const run& r, proposal p) {
  if (p.status == "proposed") {
    if (auto why = refusal_reason(p); !why.empty()) {
      r.log << "proposal " << p.id << ": not proposed: " << why << "\n";
      p.status = why.rfind("envelope", 0) == 0 ? "rejected_by_envelope" : "negative_result";
    }
  }
  if (p.status != "proposed") {
    r.log << "proposal " << p.id << " (" << name_of(p.incident.cls) << "): " << p.status
          << ", recorded in the ledger only\n";
    record(r, p, "not proposed");
    return true;
  }
  const auto file = file_of(p, r.opt);
  branch_name(p);  // validates the id before anything is written
  const auto outcome = r.opt.dry_run ? dry_run_step(r, p, file) : live_step(r, p, file);
  r.log << "proposal " << p.id << " (" << name_of(p.incident.cls) << "): " << outcome << "\n";
  record(r, p, outcome);
  return true;
}

}  // namespace

std::string refusal_reason(const proposal& p) {
  for (const auto& c : p.envelope)
    if (!c.passed) return "envelope rule " + c.rule + " failed";
  if (p.advice.patch.empty()) return "no config change to propose";
  if (!p.verified) return "not verified";
  if (!p.verified->improved) return "the verifier found no improvement";
  return "";
}

int run_proposer(const std::vector<control::proposal>& proposals, const proposer_options& opt) {
  std::unique_ptr<http_client> owned;
  http_client* http = opt.http;
  if (!http) http = (owned = std::make_unique<curl_http_client>()).get();
  run r{opt, *http, opt.out ? *opt.out : std::cout, opt.log ? *opt.log : std::cerr};
  int failed = 0;
  for (const auto& p : proposals) {
    try {
      if (!handle(r, p)) ++failed;
    } catch (const std::exception& e) {
      ++failed;
      const auto msg = redact(e.what(), {opt.github.token});
      r.log << "proposal " << p.id << ": failed: " << msg << "\n";
      try {
        record(r, p, "error: " + msg);
      } catch (const std::exception& le) {
        r.log << "ledger: " << le.what() << "\n";
      }
    }
  }
  return failed ? 1 : 0;
}

}  // namespace aegis::control::proposer
