// The postmortem's retrieval corpus: runbooks and past postmortems kept as markdown in the repo
// (control/corpus/), grown with the ledger's entries (each past proposal is a document, so a
// negative result teaches as much as a merged one).
#pragma once

#include <string>
#include <vector>

#include "control/proposer/ledger.hpp"

namespace aegis::control::proposer {

struct corpus_doc {
  std::string id;        // file stem ("runbook-leader-disk-stall") or "ledger:<proposal id>"
  std::string kind;      // "runbook", "postmortem" or "ledger"
  std::string title;     // the first "# " heading (or a generated one)
  std::string synopsis;  // the first paragraph line that is not a heading
  std::string text;      // what BM25 indexes: the whole document
  std::vector<std::string> lessons;  // bullets under "## Lessons", if any
};

// Every *.md file of `dir` (README.md excepted), sorted by name. A missing or unreadable
// directory yields no documents and a line in `errors` when given.
std::vector<corpus_doc> load_corpus_dir(const std::string& dir,
                                        std::vector<std::string>* errors = nullptr);

// One document per ledger entry.
std::vector<corpus_doc> ledger_docs(const std::vector<ledger_entry>& entries);

// Parses one markdown document (exposed for tests).
corpus_doc parse_markdown_doc(const std::string& id, const std::string& text);

}  // namespace aegis::control::proposer
