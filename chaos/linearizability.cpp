// Linearizability checker (the approach is described in the header).
//
// Shape of the search over one key:
//  * Required ops (status ok) each have a call event and a return event in the main list, sorted
//    by time with calls before returns at equal times, so intervals that only touch count as
//    concurrent. The ops that may be placed next are exactly the calls ahead of the first return
//    still in the list: that return's op must have taken effect by then.
//  * Unknown-outcome ops never return. Their calls sit in two more lists (puts, cas ops), sorted
//    by invoke, and are candidates while their invoke is <= the time of that first return.
//    Required candidates are tried first, unknown ones only once those are exhausted: where a
//    history needs no unknown op, it does not pay for them.
//  * Placing an op unlinks its events and pushes a frame; a dead end pops the last frame,
//    relinks its events (dancing links: strict LIFO) and tries the next candidate after it.
//  * Every state entered is memoized, so a state reached again by another order is skipped.
//
// Unknown ops would make the search exponential (any subset of them may be slipped in anywhere),
// so the search only considers orders in a normal form that every linearization can be rewritten
// into (proof sketch at `try_place`):
//  1. an unknown op is placed only if it changes the value (so an unknown cas only if it matches);
//  2. the op placed right after an unknown one must depend on it: a get or a cas that would not
//     be legal (or, for an unknown cas, not match) on the value before the unknown op;
//  3. of unknown ops with the same effect, the earlier-invoked ones are used first.
// Rule 2 makes "the last op placed was unknown, and the value before it" part of the state, so
// the memo keys on it too. By rule 2, an unknown op whose written value no get or cas could
// depend on never appears in the normal form at all; such ops are dropped before the search
// (usually most of the lost writes).

#include "chaos/linearizability.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aegis::chaos {
namespace {

constexpr uint32_t none = std::numeric_limits<uint32_t>::max();

// SplitMix64's finalizer: a cheap, well-spread 64-bit mix for hashing.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// ------------------------------------------------------------------ one key's sub-history

// One op of a key's sub-history, its strings interned so the model state is a small integer.
struct key_op {
  const operation* op = nullptr;
  bool required = false;  // status ok: must be placed; an unknown op may be left out
  uint32_t value = 0;     // put, cas: the value written
  uint32_t expected = 0;  // cas: the value compared against
  uint32_t output = 0;    // get: the value read
  uint32_t twin = none;   // unknown op: the previous unknown op with the same effect (rule 3)
};

// The part of a history that touches one key, ready to search.
struct key_history {
  std::string key;
  std::vector<key_op> ops;          // required ops first, then unknown ones; each by invoke, id
  uint32_t required = 0;            // how many of `ops` are required
  std::vector<std::string> values;  // interned id -> text; id 0 is "" (the absent key)
  // A required get or matched cas that needs a value no op on this key writes (and not ""):
  // it can follow no prefix at all, so the key fails without a search. none if there is none.
  uint32_t unwritten_read = none;
};

// Failed ops had no effect; a get whose answer was lost neither changed nor revealed anything.
bool relevant(const operation& o) {
  if (o.status == op_status::fail) return false;
  return !(o.kind == op_kind::get && o.status == op_status::unknown);
}

// Splits the relevant ops by key; std::map keeps the keys sorted, for deterministic results.
std::map<std::string, std::vector<const operation*>> split_by_key(const history& h) {
  std::map<std::string, std::vector<const operation*>> by_key;
  for (const operation& o : h) {
    if (relevant(o)) by_key[o.key].push_back(&o);
  }
  return by_key;
}

// Required before unknown, then by invoke, then by id: independent of the recorder's order.
bool op_order(const operation* a, const operation* b) {
  const bool ra = a->status == op_status::ok;
  const bool rb = b->status == op_status::ok;
  if (ra != rb) return ra;
  if (a->invoke_us != b->invoke_us) return a->invoke_us < b->invoke_us;
  return a->id < b->id;
}

// For each value, the latest return of a reader that needs exactly that value before it: a get
// that read it, a matched cas that expected it, an unknown cas that would replace it. Plus the
// two latest cas ops reported as not matching, with different expected values: those accept
// any value but their expected one, and depend on an unknown op only if the value before it
// was their expected one, so only those expecting a value that can be current count. Used to
// find unknown ops no reader could ever depend on.
class reader_index {
 public:
  reader_index(const std::vector<key_op>& ops, const std::vector<bool>& can_be_current);

  // Whether some op that `writer` does not precede in real time could accept `value` right
  // after it (rule 2).
  bool observable(uint32_t value, const operation& writer) const;

 private:
  struct mismatch {
    int64_t ret = std::numeric_limits<int64_t>::min();
    uint32_t expected = none;
  };
  void need(uint32_t value, int64_t ret);
  void refuse(uint32_t expected, int64_t ret);

  std::unordered_map<uint32_t, int64_t> latest_;
  mismatch first_, second_;  // first_: latest overall; second_: latest with another expected
};

reader_index::reader_index(const std::vector<key_op>& ops,
                           const std::vector<bool>& can_be_current) {
  for (const key_op& o : ops) {
    const operation& op = *o.op;
    if (op.kind == op_kind::get) need(o.output, op.return_us);
    if (op.kind != op_kind::cas) continue;
    if (!o.required) {
      if (o.expected != o.value) need(o.expected, never);  // a lost cas may replace `expected`
    } else if (op.cas_ok) {
      need(o.expected, op.return_us);
    } else if (can_be_current[o.expected]) {
      refuse(o.expected, op.return_us);
    }
  }
}

void reader_index::need(uint32_t value, int64_t ret) {
  auto [it, fresh] = latest_.try_emplace(value, ret);
  if (!fresh) it->second = std::max(it->second, ret);
}

void reader_index::refuse(uint32_t expected, int64_t ret) {
  if (expected == first_.expected) {
    first_.ret = std::max(first_.ret, ret);
  } else if (ret > first_.ret) {
    second_ = first_;
    first_ = mismatch{ret, expected};
  } else if (ret > second_.ret) {
    second_ = mismatch{ret, expected};
  }
}

// A reader right after `writer` must not precede it: its return must be >= writer's invoke.
bool reader_index::observable(uint32_t value, const operation& writer) const {
  const auto it = latest_.find(value);
  if (it != latest_.end() && it->second >= writer.invoke_us) return true;
  const mismatch& m = first_.expected != value ? first_ : second_;
  return m.expected != none && m.ret >= writer.invoke_us;
}

// Drops the unknown ops no normal-form order can use (see the top of the file), then links each
// remaining unknown op to its previous twin. Dropping is judged against the original ops: each
// dropped op is absent from every normal-form order of the original history, so the verdict
// is unchanged.
void prune_unknown_ops(key_history& kh, const std::vector<bool>& can_be_current) {
  const reader_index readers(kh.ops, can_be_current);
  std::vector<key_op> kept(kh.ops.begin(), kh.ops.begin() + kh.required);
  std::unordered_map<uint64_t, uint32_t> last_with_effect;
  for (size_t i = kh.required; i < kh.ops.size(); ++i) {
    key_op o = kh.ops[i];
    const bool is_cas = o.op->kind == op_kind::cas;
    if (is_cas && o.expected == o.value) continue;  // never changes the value (rule 1)
    if (!readers.observable(o.value, *o.op)) continue;
    const uint64_t effect = uint64_t{is_cas ? o.expected : none} << 32 | o.value;
    auto [it, fresh] = last_with_effect.try_emplace(effect, none);
    o.twin = it->second;
    it->second = static_cast<uint32_t>(kept.size());
    kept.push_back(o);
  }
  kh.ops = std::move(kept);
}

// Which interned values the key can hold: "" (absent) and every value some op writes.
std::vector<bool> values_that_can_be_current(const key_history& kh) {
  std::vector<bool> can(kh.values.size(), false);
  can[0] = true;
  for (const key_op& o : kh.ops) {
    if (o.op->kind != op_kind::get) can[o.value] = true;
  }
  return can;
}

// The first required op that needs a value the key can never hold, or none.
uint32_t find_unwritten_read(const key_history& kh, const std::vector<bool>& can_be_current) {
  for (uint32_t i = 0; i < kh.required; ++i) {
    const key_op& o = kh.ops[i];
    if (o.op->kind == op_kind::get && !can_be_current[o.output]) return i;
    if (o.op->kind == op_kind::cas && o.op->cas_ok && !can_be_current[o.expected]) return i;
  }
  return none;
}

key_history make_key_history(const std::string& key, std::vector<const operation*> ops) {
  std::sort(ops.begin(), ops.end(), op_order);
  key_history kh;
  kh.key = key;
  kh.values.emplace_back();
  std::unordered_map<std::string, uint32_t> ids{{"", 0}};
  auto intern = [&](const std::string& s) {
    auto [it, fresh] = ids.try_emplace(s, static_cast<uint32_t>(kh.values.size()));
    if (fresh) kh.values.push_back(s);
    return it->second;
  };
  for (const operation* o : ops) {
    key_op k;
    k.op = o;
    k.required = o->status == op_status::ok;
    if (o->kind == op_kind::get) k.output = intern(o->output);
    if (o->kind == op_kind::cas) k.expected = intern(o->expected);
    if (o->kind != op_kind::get) k.value = intern(o->value);
    if (k.required) ++kh.required;
    kh.ops.push_back(k);
  }
  const std::vector<bool> can_be_current = values_that_can_be_current(kh);
  kh.unwritten_read = find_unwritten_read(kh, can_be_current);
  prune_unknown_ops(kh, can_be_current);  // keeps required ops, so unwritten_read stays valid
  return kh;
}

// ------------------------------------------------------------------ the model

// The sequential spec of one key: the value after `o`, or nullopt when `o`'s observed outcome
// is impossible from `state`.
std::optional<uint32_t> apply(const key_op& o, uint32_t state) {
  switch (o.op->kind) {
    case op_kind::put:
      return o.value;
    case op_kind::get:
      if (state == o.output) return state;
      return std::nullopt;
    case op_kind::cas:
      break;
  }
  const bool matches = state == o.expected;
  if (!o.required) return matches ? o.value : state;  // its answer was lost: either is possible
  if (o.op->cas_ok != matches) return std::nullopt;
  return matches ? o.value : state;
}

// Whether `o`'s outcome depends on the value before it (a put's does not).
bool reads_value(const key_op& o) {
  return o.op->kind != op_kind::put;
}

// ------------------------------------------------------------------ the event lists

// Three lists in one node array: the main list (required ops' calls and returns, by time), and
// the calls of unknown puts and of unknown cas ops, each by invoke. They are kept apart because
// right after an unknown op (rule 2) only the cas ops are worth scanning. Sentinels: the main
// list ends in a return-kind node at time `never` (running off it reads as "no deadline"); the
// other two end in end-kind nodes.
class event_lists {
 public:
  enum class kind : uint8_t { call, ret, end };

  explicit event_lists(const key_history& kh);

  uint32_t first_required() const { return nodes_[main_head].next; }
  uint32_t first_unknown_put() const { return nodes_[put_head].next; }
  uint32_t first_unknown_cas() const { return nodes_[cas_head].next; }
  bool is_put_tail(uint32_t n) const { return n == put_tail; }
  uint32_t next(uint32_t n) const { return nodes_[n].next; }
  kind kind_of(uint32_t n) const { return nodes_[n].k; }
  uint32_t op_of(uint32_t n) const { return nodes_[n].op; }
  int64_t time_of(uint32_t n) const { return nodes_[n].time; }

  // Removes a call (and its return, if any) from its list; `unlift` must undo lifts in reverse.
  void lift(uint32_t call);
  void unlift(uint32_t call);

 private:
  static constexpr uint32_t main_head = 0, main_tail = 1, put_head = 2, put_tail = 3, cas_head = 4,
                            cas_tail = 5;

  struct node {
    uint32_t prev = none, next = none;
    uint32_t op = none;     // index into key_history::ops
    uint32_t match = none;  // call: its return node (none for unknown ops)
    int64_t time = 0;
    kind k = kind::end;
  };

  uint32_t add(kind k, uint32_t op, int64_t time);
  void chain(uint32_t head, const std::vector<uint32_t>& order, uint32_t tail);
  void unlink(uint32_t n);
  void relink(uint32_t n);

  std::vector<node> nodes_;
};

event_lists::event_lists(const key_history& kh) {
  nodes_.resize(6);
  nodes_[main_tail] = node{none, none, none, none, never, kind::ret};
  struct event {
    int64_t time;
    bool ret;
    uint32_t op;
  };
  std::vector<event> events;
  for (uint32_t i = 0; i < kh.required; ++i) {
    events.push_back({kh.ops[i].op->invoke_us, false, i});
    events.push_back({kh.ops[i].op->return_us, true, i});
  }
  // Calls before returns at equal times: touching intervals are concurrent.
  std::sort(events.begin(), events.end(), [](const event& a, const event& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.ret != b.ret) return !a.ret;
    return a.op < b.op;
  });
  std::vector<uint32_t> call_of(kh.required), return_of(kh.required), order;
  for (const event& e : events) {
    const uint32_t n = add(e.ret ? kind::ret : kind::call, e.op, e.time);
    (e.ret ? return_of : call_of)[e.op] = n;
    order.push_back(n);
  }
  // (An op that returns before its invoke keeps its return ahead of its call, so it can never
  // become a candidate: unplaceable, as it should be.)
  for (uint32_t i = 0; i < kh.required; ++i) {
    nodes_[call_of[i]].match = return_of[i];
  }
  chain(main_head, order, main_tail);
  std::vector<uint32_t> puts, cas;  // kh.ops keeps unknown ops by invoke, so these are sorted
  for (uint32_t i = kh.required; i < kh.ops.size(); ++i) {
    const uint32_t n = add(kind::call, i, kh.ops[i].op->invoke_us);
    (kh.ops[i].op->kind == op_kind::put ? puts : cas).push_back(n);
  }
  chain(put_head, puts, put_tail);
  chain(cas_head, cas, cas_tail);
}

uint32_t event_lists::add(kind k, uint32_t op, int64_t time) {
  nodes_.push_back(node{none, none, op, none, time, k});
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void event_lists::chain(uint32_t head, const std::vector<uint32_t>& order, uint32_t tail) {
  uint32_t prev = head;
  for (uint32_t n : order) {
    nodes_[prev].next = n;
    nodes_[n].prev = prev;
    prev = n;
  }
  nodes_[prev].next = tail;
  nodes_[tail].prev = prev;
}

void event_lists::unlink(uint32_t n) {
  nodes_[nodes_[n].prev].next = nodes_[n].next;
  nodes_[nodes_[n].next].prev = nodes_[n].prev;
}

// Valid only in LIFO order: n's own links still name the neighbours it had when unlinked.
void event_lists::relink(uint32_t n) {
  nodes_[nodes_[n].prev].next = n;
  nodes_[nodes_[n].next].prev = n;
}

void event_lists::lift(uint32_t call) {
  unlink(call);
  if (nodes_[call].match != none) unlink(nodes_[call].match);
}

void event_lists::unlift(uint32_t call) {
  if (nodes_[call].match != none) relink(nodes_[call].match);
  relink(call);
}

// ------------------------------------------------------------------ the set of placed ops

// A bitset of placed ops with an incrementally kept Zobrist hash (XOR of a per-op random word),
// so hashing a state costs O(1). Required ops take bits [0, required); unknown ops start on the
// next word boundary, so `encode` can trim each region separately.
class op_set {
 public:
  explicit op_set(uint32_t required, uint32_t total)
      : required_(required),
        required_words_((required + 63) / 64),
        words_(required_words_ + (total - required + 63) / 64) {}

  void flip(uint32_t op) {
    const uint32_t bit = bit_of(op);
    words_[bit / 64] ^= uint64_t{1} << (bit % 64);
    hash_ ^= mix64(op);
  }
  bool contains(uint32_t op) const {
    const uint32_t bit = bit_of(op);
    return (words_[bit / 64] >> (bit % 64) & 1) != 0;
  }
  uint64_t hash() const { return hash_; }
  void encode(std::vector<uint64_t>& out) const;

 private:
  uint32_t bit_of(uint32_t op) const {
    return op < required_ ? op : static_cast<uint32_t>(required_words_ * 64) + (op - required_);
  }

  uint32_t required_;
  size_t required_words_;
  std::vector<uint64_t> words_;
  uint64_t hash_ = 0;
};

// A canonical, compact form for the memo. Placed required ops are mostly a full prefix plus a
// small window (ops are numbered by invoke), so full leading words and zero trailing words are
// dropped: [first non-full word, window length, window words..., unknown words up to the last
// nonzero]. Equal sets give equal encodings and vice versa.
void op_set::encode(std::vector<uint64_t>& out) const {
  size_t lo = 0;
  while (lo < required_words_ && words_[lo] == ~uint64_t{0}) {
    ++lo;
  }
  size_t hi = required_words_;
  while (hi > lo && words_[hi - 1] == 0) {
    --hi;
  }
  size_t unknown_end = words_.size();
  while (unknown_end > required_words_ && words_[unknown_end - 1] == 0) {
    --unknown_end;
  }
  out.clear();
  out.push_back(lo);
  out.push_back(hi - lo);
  out.insert(out.end(), words_.begin() + lo, words_.begin() + hi);
  out.insert(out.end(), words_.begin() + required_words_, words_.begin() + unknown_end);
}

// ------------------------------------------------------------------ the memo

// States already entered: (placed set, value, rule-2 context) packed as set + `tag`. Exact:
// a hash only finds the bucket; stored encodings are compared word by word, so a collision can
// never prune a state wrongly (a false "not linearizable" would be worse than a slow check).
class visited_states {
 public:
  // Records the state; false if it was recorded before.
  bool insert(const op_set& set, uint64_t tag);

 private:
  struct entry {
    size_t offset;  // into arena_
    uint64_t tag;
    uint32_t length;
    uint32_t next;  // next entry with the same hash, or none
  };

  bool same(const entry& e, uint64_t tag) const {
    return e.tag == tag && e.length == scratch_.size() &&
           std::equal(scratch_.begin(), scratch_.end(), arena_.begin() + e.offset);
  }

  std::unordered_map<uint64_t, uint32_t> heads_;  // hash -> newest entry with that hash
  std::vector<entry> entries_;
  std::vector<uint64_t> arena_;    // every stored encoding, back to back
  std::vector<uint64_t> scratch_;  // the encoding being looked up
};

bool visited_states::insert(const op_set& set, uint64_t tag) {
  set.encode(scratch_);
  auto [it, fresh] = heads_.try_emplace(set.hash() ^ mix64(tag ^ 0x5eed5eed5eed5eedull), none);
  for (uint32_t e = it->second; e != none; e = entries_[e].next) {
    if (same(entries_[e], tag)) return false;
  }
  entries_.push_back(entry{arena_.size(), tag, static_cast<uint32_t>(scratch_.size()), it->second});
  arena_.insert(arena_.end(), scratch_.begin(), scratch_.end());
  it->second = static_cast<uint32_t>(entries_.size() - 1);
  return true;
}

// ------------------------------------------------------------------ the search

struct search_outcome {
  lin_verdict verdict = lin_verdict::linearizable;
  uint64_t steps = 0;
  std::vector<uint32_t> deepest;  // the longest prefix placed (indices into key_history::ops)
};

class key_search {
 public:
  key_search(const key_history& kh, uint64_t budget)
      : kh_(kh),
        budget_(budget),
        lists_(kh),
        placed_(kh.required, static_cast<uint32_t>(kh.ops.size())),
        remaining_(kh.required) {}

  search_outcome run();

 private:
  // What undoing one placement must restore.
  struct frame {
    uint32_t call;  // the op's call node
    uint32_t value;
    bool after_unknown;
    int64_t deadline;
  };

  // Where the scan stands: at a candidate to try, or at the end of one list of candidates.
  enum class spot : uint8_t { candidate, required_done, puts_done, dead_end };
  spot where(uint32_t n) const;
  bool depends_on_last_unknown(const key_op& o) const;
  bool try_place(uint32_t call);
  uint32_t undo();
  void note_deepest();
  search_outcome finish(lin_verdict v);

  const key_history& kh_;
  const uint64_t budget_;
  event_lists lists_;
  op_set placed_;
  visited_states visited_;
  std::vector<frame> stack_;
  uint32_t remaining_;          // required ops not yet placed
  uint32_t value_ = 0;          // the key's value after the placed prefix
  bool after_unknown_ = false;  // the last op placed had an unknown outcome (rule 2)
  int64_t deadline_ = never;    // the first return still in the main list, once the scan saw it
  uint64_t steps_ = 0;
  std::vector<uint32_t> deepest_;
  size_t agree_ = 0;  // how many leading stack_ frames match deepest_ (saves recopying)
};

search_outcome key_search::run() {
  uint32_t n = lists_.first_required();
  while (remaining_ > 0) {
    if (steps_ >= budget_) {
      note_deepest();
      return finish(lin_verdict::gave_up);
    }
    ++steps_;
    switch (where(n)) {
      case spot::candidate:
        n = try_place(n) ? lists_.first_required() : lists_.next(n);
        break;
      case spot::required_done:
        // Every required candidate was tried; next, the unknown ops that may precede the op
        // that returns here. Right after an unknown op, no unknown put may follow (rule 2).
        deadline_ = lists_.time_of(n);
        n = after_unknown_ ? lists_.first_unknown_cas() : lists_.first_unknown_put();
        break;
      case spot::puts_done:
        n = lists_.first_unknown_cas();
        break;
      case spot::dead_end:
        note_deepest();
        if (stack_.empty()) return finish(lin_verdict::not_linearizable);
        n = undo();
        break;
    }
  }
  return finish(lin_verdict::linearizable);
}

// An unknown-op list is done at its tail or at the first op invoked after the deadline (the
// lists are sorted by invoke): such an op would be placed after an op that returned before it.
key_search::spot key_search::where(uint32_t n) const {
  const event_lists::kind k = lists_.kind_of(n);
  if (k == event_lists::kind::ret) return spot::required_done;
  if (k == event_lists::kind::call) {
    const key_op& o = kh_.ops[lists_.op_of(n)];
    if (o.required || lists_.time_of(n) <= deadline_) return spot::candidate;
    return o.op->kind == op_kind::put ? spot::puts_done : spot::dead_end;
  }
  return lists_.is_put_tail(n) ? spot::puts_done : spot::dead_end;
}

// Places the op if it is legal here, obeys the normal form, and leads to a state not seen yet.
// Normal form, why it loses nothing: take any linearization and repeatedly drop (a) an unknown
// op that leaves the value unchanged, (b) an unknown op followed by a put, or (c) an unknown op
// at the very end; and (d) move an unknown op U past a following compare that did not match
// and would not have matched without U either. Each step keeps it valid: the values every later
// op sees are unchanged, and an unknown op never blocks another (it has no return). (a)-(c)
// shorten the order, (d) moves an unknown op later, so this ends, and the result obeys rules 1
// and 2. For rule 3, swap twins: the earlier-invoked twin is a candidate wherever the later one
// is, and has the same effect.
bool key_search::try_place(uint32_t call) {
  const uint32_t op = lists_.op_of(call);
  const key_op& o = kh_.ops[op];
  if (after_unknown_ && !depends_on_last_unknown(o)) return false;
  if (o.twin != none && !placed_.contains(o.twin)) return false;
  const std::optional<uint32_t> next = apply(o, value_);
  if (!next || (!o.required && *next == value_)) return false;
  placed_.flip(op);
  // Rule 2 context: after an unknown op, which ops may follow depends on the value before it.
  const uint64_t context = o.required ? 0 : uint64_t{value_} + 1;
  if (!visited_.insert(placed_, uint64_t{*next} << 32 | context)) {
    placed_.flip(op);
    return false;
  }
  stack_.push_back(frame{call, value_, after_unknown_, deadline_});
  value_ = *next;
  after_unknown_ = !o.required;
  lists_.lift(call);
  if (o.required) --remaining_;
  return true;
}

// Rule 2, given that the op is legal on the current value, which rule 1 made differ from the
// value before the last unknown op: a get or matched cas legal now was not legal then, and an
// unknown cas matching now did not match then. Only a cas reported as not matching can be
// indifferent: it depends on the unknown op only if the value before it was its expected one.
bool key_search::depends_on_last_unknown(const key_op& o) const {
  if (!reads_value(o)) return false;
  if (o.required && o.op->kind == op_kind::cas && !o.op->cas_ok) {
    return stack_.back().value == o.expected;
  }
  return true;
}

// Undoes the last placement and returns where the scan resumes: the candidate after it.
uint32_t key_search::undo() {
  const frame f = stack_.back();
  stack_.pop_back();
  const uint32_t op = lists_.op_of(f.call);
  lists_.unlift(f.call);
  placed_.flip(op);
  if (kh_.ops[op].required) ++remaining_;
  value_ = f.value;
  after_unknown_ = f.after_unknown;
  deadline_ = f.deadline;  // the lists are as they were, so the deadline is too
  agree_ = std::min(agree_, stack_.size());
  return lists_.next(f.call);
}

// Keeps the longest prefix seen, for the explanation. Only dead ends can be the deepest point of
// a failed search; copying only frames past `agree_` keeps the total cost linear in pushes.
void key_search::note_deepest() {
  if (stack_.size() <= deepest_.size()) return;
  deepest_.resize(agree_);
  for (size_t i = agree_; i < stack_.size(); ++i) {
    deepest_.push_back(lists_.op_of(stack_[i].call));
  }
  agree_ = stack_.size();
}

search_outcome key_search::finish(lin_verdict v) {
  search_outcome out;
  out.verdict = v;
  out.steps = steps_;
  if (v != lin_verdict::linearizable) out.deepest = std::move(deepest_);
  return out;
}

// ------------------------------------------------------------------ the explanation

constexpr size_t max_listed = 16;  // ops listed per section; histories can be huge

std::string quote(const std::string& s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string q = "\"";
  for (size_t i = 0; i < s.size() && i < 48; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') q += '\\';
    if (c >= 0x20 && c < 0x7f) {
      q += static_cast<char>(c);
    } else {
      q += "\\x";
      q += hex[c >> 4];
      q += hex[c & 15];
    }
  }
  return q + (s.size() > 48 ? "...\"" : "\"");
}

std::string time_text(int64_t t) {
  return t == never ? "never" : std::to_string(t) + "us";
}

// "op 7 client 2 cas "k" "a"->"b" (matched) [100us, 250us]"
std::string describe(const key_op& o) {
  const operation& op = *o.op;
  std::string s = "op " + std::to_string(op.id) + " client " + std::to_string(op.client) + " ";
  switch (op.kind) {
    case op_kind::put:
      s += "put " + quote(op.key) + " = " + quote(op.value);
      break;
    case op_kind::get:
      s += "get " + quote(op.key) + " -> " + quote(op.output);
      break;
    case op_kind::cas:
      s += "cas " + quote(op.key) + " " + quote(op.expected) + " -> " + quote(op.value);
      if (o.required) s += op.cas_ok ? " (matched)" : " (did not match)";
      break;
  }
  if (!o.required) s += " (outcome unknown)";
  return s + " [" + time_text(op.invoke_us) + ", " + time_text(op.return_us) + "]";
}

// Why `o` cannot come right after a prefix that leaves `value`.
std::string why_not(const key_history& kh, const key_op& o, uint32_t value) {
  if (apply(o, value)) return "legal here, but no order of the remaining ops works after it";
  const std::string now = quote(kh.values[value]);
  if (o.op->kind == op_kind::get) {
    return "it read " + quote(o.op->output) + " but the value is " + now;
  }
  if (o.op->cas_ok) {
    return "its compare matched " + quote(o.op->expected) + " but the value is " + now;
  }
  return "its compare did not match, but the value is " + now;
}

// Lists the deepest prefix (its tail, if long) and returns the value after it.
uint32_t append_prefix(std::string& text, const key_history& kh,
                       const std::vector<uint32_t>& prefix) {
  text += "longest linearizable prefix found: " + std::to_string(prefix.size()) + " ops";
  const size_t skip = prefix.size() > max_listed ? prefix.size() - max_listed : 0;
  if (skip > 0) text += " (the first " + std::to_string(skip) + " not listed)";
  text += "\n";
  uint32_t value = 0;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const key_op& o = kh.ops[prefix[i]];
    value = apply(o, value).value_or(value);
    if (i >= skip) text += "  " + describe(o) + "\n";
  }
  text += "value after it: " + quote(kh.values[value]) + "\n";
  return value;
}

// Lists the ops that were candidates after the prefix: none of them could come next.
void append_blocked(std::string& text, const key_history& kh, const std::vector<uint32_t>& prefix,
                    uint32_t value) {
  std::vector<bool> placed(kh.ops.size(), false);
  for (uint32_t op : prefix) {
    placed[op] = true;
  }
  uint32_t due = none;  // the unplaced required op that returned first: it bounds the candidates
  for (uint32_t i = 0; i < kh.required; ++i) {
    if (!placed[i] && (due == none || kh.ops[i].op->return_us < kh.ops[due].op->return_us)) due = i;
  }
  if (due == none) return;
  const int64_t deadline = kh.ops[due].op->return_us;
  text += "first pending op to return (whatever comes next was invoked by then): " +
          describe(kh.ops[due]);
  if (deadline < kh.ops[due].op->invoke_us) text += " (malformed: it returns before its invoke)";
  text += "\nops that could not be placed next:\n";
  size_t listed = 0, unknown = 0;
  for (uint32_t i = 0; i < kh.ops.size(); ++i) {
    if (placed[i] || kh.ops[i].op->invoke_us > deadline) continue;
    if (!kh.ops[i].required) {
      ++unknown;
    } else if (listed++ < max_listed) {
      text += "  " + describe(kh.ops[i]) + ": " + why_not(kh, kh.ops[i], value) + "\n";
    }
  }
  if (listed > max_listed) text += "  ... and " + std::to_string(listed - max_listed) + " more\n";
  if (unknown > 0) {
    text += "  (plus " + std::to_string(unknown) + " unknown-outcome ops; none helps either)\n";
  }
}

std::string explain(const key_history& kh, const search_outcome& out, uint64_t budget) {
  std::string text = "key " + quote(kh.key) + ": ";
  if (out.verdict == lin_verdict::gave_up) {
    text += "gave up after " + std::to_string(budget) + " search steps (max_steps_per_key)";
  } else {
    text += "no linearizable order exists";
  }
  text += "; " + std::to_string(kh.ops.size()) + " ops considered, " + std::to_string(kh.required) +
          " of them with a known outcome\n";
  const uint32_t value = append_prefix(text, kh, out.deepest);
  if (out.verdict == lin_verdict::not_linearizable) append_blocked(text, kh, out.deepest, value);
  return text;
}

// The verdict on one key, with its explanation when it is not linearizable.
struct key_verdict {
  lin_verdict verdict = lin_verdict::linearizable;
  uint64_t steps = 0;
  std::string explanation;
};

key_verdict check_key(const key_history& kh, uint64_t budget) {
  if (kh.unwritten_read != none) {
    const key_op& o = kh.ops[kh.unwritten_read];
    const std::string& needed = o.op->kind == op_kind::get ? o.op->output : o.op->expected;
    return {lin_verdict::not_linearizable, 0,
            "key " + quote(kh.key) + ": no linearizable order exists\n" + describe(o) +
                " needs the value " + quote(needed) +
                ", which no op on this key wrote (failed ops had no effect), so it can follow "
                "no prefix at all\n"};
  }
  search_outcome out = key_search(kh, budget).run();
  if (out.verdict == lin_verdict::linearizable) return {out.verdict, out.steps, {}};
  return {out.verdict, out.steps, explain(kh, out, budget)};
}

}  // namespace

lin_result check_linearizable(const history& h, const lin_options& opt) {
  lin_result result;
  std::optional<lin_result> gave_up;  // the first key over budget, reported if no key fails
  for (auto& [key, ops] : split_by_key(h)) {
    const key_history kh = make_key_history(key, std::move(ops));
    key_verdict v = check_key(kh, opt.max_steps_per_key);
    result.steps += v.steps;
    if (v.verdict == lin_verdict::linearizable) continue;
    lin_result failed{v.verdict, key, std::move(v.explanation), 0};
    if (v.verdict == lin_verdict::not_linearizable) {
      failed.steps = result.steps;
      return failed;
    }
    if (!gave_up) gave_up = std::move(failed);
  }
  if (gave_up) {
    gave_up->steps = result.steps;
    return *gave_up;
  }
  return result;
}

}  // namespace aegis::chaos
