// Raft's safety properties (Figure 3 of the paper), checked incrementally while a simulation
// runs. Each observation is plain data so a test can feed a hand-made violation and see it fail.
//
//   election safety       at most one leader per term
//   log matching          two logs with an entry of the same index and term hold the same
//                         command there and agree on the term of the entry before it (by
//                         induction: identical prefixes)
//   leader completeness   a leader's log holds every entry committed before its term
//   state machine safety  no two nodes apply different entries at one index
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/raft/log.hpp"
#include "actors/raft/types.hpp"

namespace aegis::chaos::sim {

class invariant_checker {
 public:
  // A node became leader of `term`.
  void leader_elected(raft::node_id n, raft::term_t term, int64_t at_us);
  // A node wrote `es` to its log; `prev_term` is its term at es.front().index - 1 (nullopt when
  // compacted).
  void entries_written(raft::node_id n, std::optional<raft::term_t> prev_term,
                       const std::vector<raft::entry>& es);
  // A node applied a committed entry.
  void entry_applied(raft::node_id n, const raft::entry& e);
  // A node is leader of `term` with this log: it must hold every committed entry.
  void leader_log(raft::node_id n, raft::term_t term, const raft::raft_log& log);

  // Any other broken rule the runner detects (e.g. an entry that does not decode).
  void violation(std::string what) { fail(std::move(what)); }

  bool ok() const { return violations_.empty(); }
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  struct slot {
    raft::term_t term = 0;
    uint64_t digest = 0;
    std::optional<raft::term_t> prev_term;
    raft::node_id first_writer = 0;
  };
  struct committed {
    raft::term_t term = 0;  // 0: nothing applied at this index yet
    uint64_t digest = 0;
    raft::node_id first_applier = 0;
  };
  void fail(std::string what);

  std::map<raft::term_t, raft::node_id> leaders_;
  // Indexed by log index (dense, so vectors): the entries ever written there, one per term,
  // and the one applied there.
  std::vector<std::vector<slot>> slots_;
  std::vector<committed> committed_;
  std::vector<std::string> violations_;
};

uint64_t entry_digest(const raft::entry& e);

}  // namespace aegis::chaos::sim
