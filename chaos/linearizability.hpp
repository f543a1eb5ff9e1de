// Linearizability checker for the KV client histories the simulator records.
//
// A history is linearizable when its operations can be put in one total order that (a) respects
// real time: if A returned strictly before B was invoked (A.return_us < B.invoke_us), A comes
// first; and (b) is legal for a sequential KV store in which an absent key reads as "".
//
// The search is Wing & Gong's, with Lowe's refinements as Porcupine implements them:
//  * P-compositionality: a history is linearizable iff each key's sub-history is, so keys are
//    checked one at a time, in sorted order (deterministic results).
//  * A doubly-linked list of call/return events sorted by time; placing an op unlinks its events
//    and a dead end relinks them (backtracking with an explicit stack).
//  * A memo of (set of placed ops, value) states, so no state is explored twice.
//
// How statuses are read (see history.hpp):
//  * fail:    the op had no effect; it is dropped before checking.
//  * unknown: a get is dropped (no effect, nothing observed); a put or cas may take effect at any
//             point after its invoke, or never. An unknown cas sets the value iff the value equals
//             `expected` at the point where it takes effect.
#pragma once

#include <cstdint>
#include <string>

#include "chaos/history.hpp"

namespace aegis::chaos {

// Knobs for the search.
struct lin_options {
  // Most search steps (one step: try one candidate op, or undo one placement) spent on one key.
  // The search is exponential in the worst case; a key that needs more gives up instead of
  // running for hours.
  uint64_t max_steps_per_key = 2'000'000;
};

enum class lin_verdict : uint8_t {
  linearizable,      // every key's sub-history has a legal order
  not_linearizable,  // some key's has none: a consistency bug (or a recorder bug)
  gave_up,           // no key failed, but some key exhausted the budget: nothing was proven,
                     // and callers must treat this as a failure to prove, not as a pass
};

// What the checker concluded.
struct lin_result {
  lin_verdict verdict = lin_verdict::linearizable;
  // The key whose sub-history failed (not_linearizable) or exhausted the budget (gave_up);
  // empty when linearizable. A definite failure on any key wins over a budget hit on another.
  std::string key;
  // Human-readable, empty when linearizable: the ops (id, client, kind, key, values, times) of
  // the longest linearizable prefix the search found, the value after it, and the ops that could
  // not be placed next, each with the reason.
  std::string explanation;
  uint64_t steps = 0;  // search steps spent over all keys checked
};

// Checks `h`. Ops may appear in any order; ids must be unique (ties in time are broken by id).
// A required op whose return_us precedes its invoke_us can never be placed: not_linearizable.
lin_result check_linearizable(const history& h, const lin_options& opt = {});

}  // namespace aegis::chaos
