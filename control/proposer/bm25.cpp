// Tokenizer and BM25 scoring (bm25.hpp).
#include "control/proposer/bm25.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace aegis::control::proposer {

namespace {

bool is_stopword(const std::string& w) {
  static const std::set<std::string> words = {
      "a",    "an",   "and",  "are", "as",   "at",   "be",    "by",   "for",  "from", "has",
      "have", "if",   "in",   "is",  "it",   "its",  "of",    "on",   "or",   "that", "the",
      "then", "this", "to",   "was", "were", "when", "which", "with", "will", "not",  "no",
      "can",  "do",   "does", "but", "so",   "than", "them",  "they", "there"};
  return words.count(w) > 0;
}

}  // namespace

std::vector<std::string> tokenize(std::string_view text) {
  std::vector<std::string> out;
  std::string w;
  auto flush = [&] {
    if (w.size() > 4 && w.back() == 's' && w[w.size() - 2] != 's') w.pop_back();
    // Single letters ("node's" gives "s") and bare numbers ("1.5 s") match by accident far more
    // often than by meaning in runbooks, and their high idf would let them decide the ranking.
    const bool numeric =
        std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (w.size() > 1 && !numeric && !is_stopword(w)) out.push_back(w);
    w.clear();
  };
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u))
      w += static_cast<char>(std::tolower(u));
    else
      flush();
  }
  flush();
  return out;
}

size_t bm25_index::add(std::string_view text) {
  doc d;
  for (auto& t : tokenize(text)) {
    ++d.tf[t];
    ++d.length;
  }
  for (const auto& [term, n] : d.tf)
    ++df_[term];
  total_length_ += d.length;
  docs_.push_back(std::move(d));
  return docs_.size() - 1;
}

double bm25_index::idf(const std::string& term) const {
  const auto it = df_.find(term);
  const double n = it == df_.end() ? 0.0 : static_cast<double>(it->second);
  const double N = static_cast<double>(docs_.size());
  return std::log(1.0 + (N - n + 0.5) / (n + 0.5));
}

std::vector<bm25_hit> bm25_index::rank(std::string_view query, size_t limit) const {
  std::set<std::string> terms;  // a repeated query word counts once
  for (auto& t : tokenize(query))
    terms.insert(t);
  const double avg = docs_.empty() ? 1.0 : std::max(1.0, double(total_length_) / docs_.size());
  std::vector<bm25_hit> hits;
  for (size_t i = 0; i < docs_.size(); ++i) {
    bm25_hit h{i, 0.0, {}};
    for (const auto& t : terms) {
      const auto it = docs_[i].tf.find(t);
      if (it == docs_[i].tf.end()) continue;
      const double tf = static_cast<double>(it->second);
      const double norm = k1_ * (1 - b_ + b_ * double(docs_[i].length) / avg);
      h.score += idf(t) * tf * (k1_ + 1) / (tf + norm);
      h.matched.push_back(t);
    }
    if (h.score > 0) hits.push_back(std::move(h));
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const bm25_hit& a, const bm25_hit& b) { return a.score > b.score; });
  if (hits.size() > limit) hits.resize(limit);
  return hits;
}

}  // namespace aegis::control::proposer
