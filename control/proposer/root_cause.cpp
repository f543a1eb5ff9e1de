// BM25 retrieval of root causes and the optional LLM re-ranking (root_cause.hpp).
#include "control/proposer/root_cause.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "control/proposer/bm25.hpp"

namespace aegis::control::proposer {

std::string cause_query(const std::vector<verdict>& verdicts, const chaos::trace::trace& t) {
  std::string q;
  for (const auto& v : verdicts) {
    if (v.cls == incident_class::healthy) continue;
    q += std::string(name_of(v.cls)) + " " + v.summary + " ";
    for (const auto& e : v.evidence)
      q += e.metric + " " + e.note + " ";
  }
  for (const auto& f : t.faults)
    if (f.text.rfind("end ", 0) != 0) q += f.text + " ";
  return q;
}

std::vector<ranked_cause> rank_causes(const std::vector<corpus_doc>& corpus,
                                      const std::string& query, size_t limit) {
  bm25_index index;
  for (const auto& d : corpus)
    index.add(d.title + "\n" + d.text);
  std::vector<ranked_cause> out;
  for (auto& h : index.rank(query, limit))
    out.push_back({&corpus[h.doc], h.score, std::move(h.matched)});
  return out;
}

namespace {

std::string rerank_prompt(const std::vector<ranked_cause>& causes, const std::string& incident) {
  std::ostringstream p;
  p << "Incident on a Raft-based coordination service:\n"
    << incident << "\n\n"
    << "Candidate root-cause documents (id: title - synopsis):\n";
  for (const auto& c : causes)
    p << c.doc->id << ": " << c.doc->title << " - " << c.doc->synopsis << "\n";
  p << "\nOrder the candidate ids from most to least likely root cause. Answer with the ids only, "
       "one per line, nothing else.";
  return p.str();
}

}  // namespace

bool llm_rerank(std::vector<ranked_cause>& causes, const std::string& incident_text,
                http_client& http, const llm_config& cfg, std::string* why) {
  if (causes.size() < 2) {
    if (why) *why = "nothing to re-rank";
    return false;
  }
  auto answer = ask_llm(http, cfg, "You rank incident runbooks. Reply with ids only.",
                        rerank_prompt(causes, incident_text), why);
  if (!answer) return false;
  std::vector<ranked_cause> ordered;
  std::set<std::string> used;
  std::istringstream in(*answer);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (line.empty()) continue;
    auto it = std::find_if(causes.begin(), causes.end(),
                           [&](const ranked_cause& c) { return c.doc->id == line; });
    if (it == causes.end() || !used.insert(line).second) {
      if (why) *why = "the LLM's ranking named an unknown or repeated document";
      return false;
    }
    ordered.push_back(*it);
  }
  if (ordered.empty()) {
    if (why) *why = "the LLM's ranking named no document";
    return false;
  }
  for (const auto& c : causes)
    if (!used.count(c.doc->id)) ordered.push_back(c);
  causes = std::move(ordered);
  return true;
}

}  // namespace aegis::control::proposer
