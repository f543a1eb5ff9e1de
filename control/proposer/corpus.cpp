// Loading the runbook corpus and turning ledger entries into documents (corpus.hpp).
#include "control/proposer/corpus.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace aegis::control::proposer {

namespace fs = std::filesystem;

corpus_doc parse_markdown_doc(const std::string& id, const std::string& text) {
  corpus_doc d;
  d.id = id;
  d.kind = id.rfind("postmortem", 0) == 0 ? "postmortem" : "runbook";
  d.text = text;
  std::istringstream in(text);
  std::string line;
  bool in_lessons = false;
  while (std::getline(in, line)) {
    if (d.title.empty() && line.rfind("# ", 0) == 0) d.title = line.substr(2);
    if (d.synopsis.empty() && !line.empty() && line[0] != '#' && line[0] != '-') d.synopsis = line;
    if (line.rfind("## ", 0) == 0) in_lessons = line.find("Lessons") != std::string::npos;
    if (in_lessons && line.rfind("- ", 0) == 0) d.lessons.push_back(line.substr(2));
  }
  if (d.title.empty()) d.title = id;
  return d;
}

std::vector<corpus_doc> load_corpus_dir(const std::string& dir, std::vector<std::string>* errors) {
  std::vector<corpus_doc> docs;
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".md" && it->path().filename() != "README.md")
      files.push_back(it->path());
  if (ec && errors) errors->push_back("corpus " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream text;
    text << in.rdbuf();
    if (!in && errors) errors->push_back("corpus " + f.string() + ": cannot read");
    if (in) docs.push_back(parse_markdown_doc(f.stem().string(), text.str()));
  }
  return docs;
}

std::vector<corpus_doc> ledger_docs(const std::vector<ledger_entry>& entries) {
  std::vector<corpus_doc> docs;
  std::map<std::string, size_t> at;  // a proposal run twice is one document: its latest line
  for (const auto& e : entries) {
    corpus_doc d;
    d.id = "ledger:" + e.id;
    d.kind = "ledger";
    d.title = "Past proposal " + e.id + " (" + e.cls + ", " + e.status + ")";
    std::string keys;
    for (const auto& c : e.patch)
      keys += c.key + " " + c.from + " to " + c.to + ". ";
    d.synopsis = e.rationale;
    d.text = e.cls + " " + e.status + ". " + e.summary + ". " + keys + e.rationale + " " +
             e.target_metric + " " + e.explanation + " " + e.outcome;
    if (e.status == "negative_result")
      d.lessons.push_back("Proposal " + e.id + " (" + keys + ") did not improve " +
                          e.target_metric + " in replay: " + e.explanation);
    if (auto it = at.find(e.id); it != at.end()) {
      docs[it->second] = std::move(d);
    } else {
      at[e.id] = docs.size();
      docs.push_back(std::move(d));
    }
  }
  return docs;
}

}  // namespace aegis::control::proposer
