// The postmortem: timeline (faults and leadership from the trace), impact, the classifier's
// findings, ranked root causes retrieved with BM25 from the runbook corpus and the ledger,
// lessons, and a narrative. Markdown; written to a folder in dry-run, or opened as a GitHub
// issue. The deterministic text is always complete: the LLM (opt-in) may only rephrase the
// narrative and re-order the root-cause candidates.
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "chaos/trace.hpp"
#include "control/incident.hpp"
#include "control/proposer/anthropic_client.hpp"
#include "control/proposer/github_client.hpp"
#include "control/proposer/http_client.hpp"

namespace aegis::control::proposer {

// The runbooks kept in this source tree (control/corpus/).
std::string default_corpus_dir();

struct postmortem_options {
  bool dry_run = true;  // true: never any GitHub call
  std::string out_dir;  // when set: writes <out_dir>/postmortems/<name>.md
  std::string corpus_dir = default_corpus_dir();
  std::string ledger_path;                      // when set: its entries join the corpus ...
  std::vector<std::string> exclude_ledger_ids;  // ... except these (this incident's proposals)
  std::string title;                            // empty: "Postmortem: <classes> (<script>, seed N)"
  github_config github;         // repo and token set and !dry_run: the postmortem becomes an issue
  llm_config llm;               // enabled with a key: narrative and re-ranking may use it
  http_client* http = nullptr;  // null: libcurl
  std::ostream* log = nullptr;  // notes (fallbacks, where it went, errors); null: std::cerr
  size_t top_causes = 3;
  size_t max_timeline = 40;  // lines before "... N more"
};

// Where write_postmortem writes the postmortem of `t` under `out_dir`:
// <out_dir>/postmortems/postmortem-<script stem>-<seed>.md.
std::string postmortem_path(const std::string& out_dir, const chaos::trace::trace& t);

// Builds the postmortem and delivers it per the options; returns the markdown. Delivery
// failures (unwritable folder, GitHub errors) are reported to the log, never thrown; the
// markdown is returned regardless.
std::string write_postmortem(const chaos::trace::trace& t, const std::vector<verdict>& verdicts,
                             const postmortem_options& opt);

}  // namespace aegis::control::proposer
