#include "chaos/sim/checkers.hpp"

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
    slot s{entry_digest(e), prev_term, n};
    auto [it, fresh] = slots_.try_emplace(std::make_pair(e.index, e.term), s);
    if (!fresh) {
      const slot& old = it->second;
      const std::string where = "index " + std::to_string(e.index) + " term " +
                                std::to_string(e.term) + " on " + id(old.first_writer) + " and " +
                                id(n);
      if (old.digest != s.digest)
        fail("log matching: different commands at " + where);
      else if (old.prev_term && s.prev_term && *old.prev_term != *s.prev_term)
        fail("log matching: different preceding terms at " + where);
    }
    prev_term = e.term;
  }
}

void invariant_checker::entry_applied(raft::node_id n, const raft::entry& e) {
  committed c{e.term, entry_digest(e), n};
  auto [it, fresh] = committed_.try_emplace(e.index, c);
  if (!fresh && (it->second.term != c.term || it->second.digest != c.digest))
    fail("state machine safety: " + id(it->second.first_applier) + " and " + id(n) +
         " applied different entries at index " + std::to_string(e.index));
}

void invariant_checker::leader_log(raft::node_id n, raft::term_t term, const raft::raft_log& log) {
  for (const auto& [index, c] : committed_) {
    if (index <= log.offset().index) continue;  // inside its snapshot: committed state
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
