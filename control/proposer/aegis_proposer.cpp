// aegis-proposer: reads proposals as JSON on stdin (one object, an array, or {"proposals": [...]}),
// or the classifier's verdicts (`aegis-classifier --once | aegis-proposer --dry-run`), which it
// first takes through advisor, envelope and verifier, and hands them to run_proposer: ledger, then
// dry-run files or git + GitHub. With --postmortem TRACE it also drafts the postmortem of that
// trace from the proposals' incidents. Secrets come from the environment only (GITHUB_TOKEN,
// ANTHROPIC_API_KEY), never from flags, which other users can read in the process list.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "control/pipeline.hpp"
#include "control/proposer/postmortem.hpp"
#include "control/proposer/proposer.hpp"

namespace cp = aegis::control::proposer;
using aegis::control::proposal;

namespace {

// Proposals as JSON, or the classifier's document (`aegis-classifier --once | aegis-proposer`):
// its verdicts then go through advisor -> envelope -> verifier first (control/pipeline.hpp).
std::vector<proposal> read_proposals(std::istream& in, const aegis::control::document_options& d) {
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw std::invalid_argument("stdin is not JSON");
  if (j.is_object() && j.contains("verdicts")) return aegis::control::proposals_from_document(j, d);
  const auto& list = j.is_object() && j.contains("proposals") ? j.at("proposals") : j;
  std::vector<proposal> out;
  if (list.is_array()) {
    for (size_t i = 0; i < list.size(); ++i) {
      try {
        out.push_back(aegis::control::proposal_from_json(list[i]));
      } catch (const std::exception& e) {
        throw std::invalid_argument("proposal " + std::to_string(i) + ": " + e.what());
      }
    }
  } else {
    out.push_back(aegis::control::proposal_from_json(list));
  }
  return out;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int draft_postmortem(const std::string& trace_file, const std::vector<proposal>& ps,
                     cp::postmortem_options opt) {
  auto loaded = aegis::chaos::trace::load_trace(trace_file);
  if (auto* err = std::get_if<aegis::chaos::trace::read_error>(&loaded)) {
    std::cerr << "aegis-proposer: " << err->to_string() << "\n";
    return 1;
  }
  std::vector<aegis::control::verdict> verdicts;
  for (const auto& p : ps) {
    verdicts.push_back(p.incident);
    opt.exclude_ledger_ids.push_back(p.id);
  }
  std::cout << cp::write_postmortem(std::get<aegis::chaos::trace::trace>(loaded), verdicts, opt);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aegis-proposer: proposals (JSON on stdin) to the ledger and to pull requests"};
  cp::proposer_options opt;
  std::string postmortem_trace, llm_model, llm_url;
  bool llm = false, dry_run = false;
  app.add_flag("--dry-run", dry_run, "print and write files only (no git, no GitHub)");
  app.add_option("--out", opt.out_dir, "folder for the dry-run files");
  app.add_option("--config-repo", opt.config_repo, "local git repository of node configs");
  app.add_option("--config-file", opt.config_file, "config file to patch (relative to the repo)");
  app.add_option("--base", opt.base_branch, "base branch")->capture_default_str();
  app.add_option("--github-repo", opt.github.repo, "owner/name; the token comes from GITHUB_TOKEN");
  app.add_option("--github-api", opt.github.base_url, "GitHub API base URL")->capture_default_str();
  app.add_option("--ledger", opt.ledger_path, "append-only ledger file (JSON lines)");
  app.add_option("--postmortem", postmortem_trace, "also draft the postmortem of this trace");
  app.add_flag("--llm", llm, "let the Anthropic API (ANTHROPIC_API_KEY) help the postmortem");
  app.add_option("--llm-model", llm_model, "model for --llm (default claude-sonnet-4-5)");
  app.add_option("--llm-url", llm_url, "Anthropic API base URL");
  aegis::control::document_options doc;
  doc.scripts_dir = AEGIS_SOURCE_DIR "/chaos/scripts";
  uint32_t seeds = 5;
  app.add_option("--scripts-dir", doc.scripts_dir,
                 "verdicts in: where the fixture scripts are (chaos/scripts), replayed when the "
                 "verdicts come from a live cluster")
      ->capture_default_str();
  app.add_option("--seeds", seeds, "verdicts in: simulator seeds per config for the verifier")
      ->check(CLI::Range(1, 50))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  doc.config_file = opt.config_file.empty() ? "node.ini" : opt.config_file;
  for (uint32_t i = 0; i < seeds; ++i)
    doc.verify.seeds.push_back(i + 1);
  // Without --dry-run the default is still dry-run unless a repository or GitHub is configured.
  opt.dry_run = dry_run || (opt.config_repo.empty() && opt.github.repo.empty());
  opt.github.token = env_or_empty("GITHUB_TOKEN");
  try {
    const auto proposals = read_proposals(std::cin, doc);
    int rc = cp::run_proposer(proposals, opt);
    if (!postmortem_trace.empty()) {
      cp::postmortem_options pm;
      pm.dry_run = opt.dry_run;
      pm.out_dir = opt.out_dir;
      pm.ledger_path = opt.ledger_path;
      pm.github = opt.github;
      pm.llm = cp::llm_config_from_env(llm, llm_model, llm_url);
      rc |= draft_postmortem(postmortem_trace, proposals, pm);
    }
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "aegis-proposer: " << e.what() << "\n";
    return 2;
  }
}
