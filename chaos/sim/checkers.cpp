#include "chaos/sim/checkers.hpp"

#include <algorithm>

#include "chaos/sim/digest.hpp"

namespace aegis::chaos::sim {

namespace {
std::string id(raft::node_id n) {
  return "node " + std::to_string(n);
}
}  // namespace

uint64_t entry_digest(const raft::entry& e) {
  hasher h;
  h.add_u64(static_cast<uint64_t>(e.type));
  h.add(e.data);
  return h.value();
}

void invariant_checker::fail(std::string what) {
  if (violations_.size() < 20) violations_.push_back(std::move(what));
}

void invariant_checker::leader_elected(raft::node_id n, raft::term_t term, int64_t at_us) {
  auto [it, fresh] = leaders_.try_emplace(term, n);
  if (!fresh && it->second != n)
    fail("election safety: " + id(it->second) + " and " + id(n) + " both leaders of term " +
         std::to_string(term) + " (second at t=" + std::to_string(at_us) + "us)");
}

void invariant_checker::entries_written(raft::node_id n, std::optional<raft::term_t> prev_term,
                                        const std::vector<raft::entry>& es) {
  for (const auto& e : es) {
    if (slots_.size() <= e.index) slots_.resize(e.index + 1);
    const slot s{e.term, entry_digest(e), prev_term, n};
    prev_term = e.term;
    auto& at = slots_[e.index];
    auto old = std::find_if(at.begin(), at.end(), [&](const slot& x) { return x.term == e.term; });
    if (old == at.end()) {
      at.push_back(s);
      continue;
    }
    const bool same_command = old->digest == s.digest;
    const bool same_prev = !old->prev_term || !s.prev_term || *old->prev_term == *s.prev_term;
    if (same_command && same_prev) continue;
    const std::string where = "index " + std::to_string(e.index) + " term " +
                              std::to_string(e.term) + " on " + id(old->first_writer) + " and " +
                              id(n);
    fail(same_command ? "log matching: different preceding terms at " + where
                      : "log matching: different commands at " + where);
  }
}

void invariant_checker::entry_applied(raft::node_id n, const raft::entry& e) {
  if (committed_.size() <= e.index) committed_.resize(e.index + 1);
  committed& c = committed_[e.index];
  const uint64_t digest = entry_digest(e);
  if (c.term == 0) {
    c = {e.term, digest, n};
  } else if (c.term != e.term || c.digest != digest) {
    fail("state machine safety: " + id(c.first_applier) + " and " + id(n) +
         " applied different entries at index " + std::to_string(e.index));
  }
}

void invariant_checker::leader_log(raft::node_id n, raft::term_t term, const raft::raft_log& log) {
  for (raft::index_t index = log.offset().index + 1; index < committed_.size(); ++index) {
    const committed& c = committed_[index];
    if (c.term == 0) continue;
    auto t = log.term_at(index);
    if (!t || *t != c.term) {
      fail("leader completeness: " + id(n) + " leads term " + std::to_string(term) +
           " without committed entry " + std::to_string(index) + " (term " +
           std::to_string(c.term) + ")");
      return;
    }
  }
}

}  // namespace aegis::chaos::sim
