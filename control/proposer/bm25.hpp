// BM25 (Okapi) ranking over a small in-memory corpus: the postmortem's root-cause retrieval.
// Deterministic: same corpus and query, same ranking (ties broken by document order).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace aegis::control::proposer {

// Lower-case words of letters and digits; '_', '-' and punctuation split words ("leader_disk_stall"
// gives leader, disk, stall). Common English words are dropped and a plural 's' is removed from
// words longer than four letters, so "stalls" matches "stall". Single characters and bare numbers
// are dropped too.
std::vector<std::string> tokenize(std::string_view text);

struct bm25_hit {
  size_t doc = 0;                    // index in the order documents were added
  double score = 0;                  // > 0
  std::vector<std::string> matched;  // query terms found in the document, sorted
};

class bm25_index {
 public:
  // k1: term-frequency saturation; b: length normalisation (0: none, 1: full).
  explicit bm25_index(double k1 = 1.2, double b = 0.75) : k1_(k1), b_(b) {}

  // Adds a document; returns its index.
  size_t add(std::string_view text);
  size_t size() const { return docs_.size(); }

  // idf(t) = ln(1 + (N - n_t + 0.5) / (n_t + 0.5)): never negative, so a term in most documents
  // still counts a little instead of pushing documents down.
  double idf(const std::string& term) const;

  // Documents with a positive score, best first, at most `limit`.
  std::vector<bm25_hit> rank(std::string_view query, size_t limit = 5) const;

 private:
  struct doc {
    std::map<std::string, size_t> tf;  // term -> occurrences
    size_t length = 0;                 // tokens
  };
  double k1_, b_;
  std::vector<doc> docs_;
  std::map<std::string, size_t> df_;  // term -> documents containing it
  size_t total_length_ = 0;
};

}  // namespace aegis::control::proposer
