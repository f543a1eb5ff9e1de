// Ranked root causes for an incident: BM25 over the corpus (runbooks, past postmortems, ledger
// entries) with a query built from the verdicts and the trace's faults; optionally re-ordered by
// an LLM, which may only permute the BM25 candidates (never add one), else the BM25 order stands.
#pragma once

#include <string>
#include <vector>

#include "chaos/trace.hpp"
#include "control/incident.hpp"
#include "control/proposer/anthropic_client.hpp"
#include "control/proposer/corpus.hpp"

namespace aegis::control::proposer {

struct ranked_cause {
  const corpus_doc* doc = nullptr;   // points into the corpus given to rank_causes
  double score = 0;                  // BM25
  std::vector<std::string> matched;  // query terms the document contains
};

// The retrieval query: class names, verdict summaries, evidence metrics and notes, fault texts.
std::string cause_query(const std::vector<verdict>& verdicts, const chaos::trace::trace& t);

// The best `limit` documents for the query, best first.
std::vector<ranked_cause> rank_causes(const std::vector<corpus_doc>& corpus,
                                      const std::string& query, size_t limit);

// Asks the LLM to order the candidates (by document id, one per line). Returns true and
// reorders `causes` only when the answer names known candidates, each at most once; ids it
// leaves out keep their BM25 order after the ones it named. `why` says why not otherwise.
bool llm_rerank(std::vector<ranked_cause>& causes, const std::string& incident_text,
                http_client& http, const llm_config& cfg, std::string* why = nullptr);

}  // namespace aegis::control::proposer
