// A tiny deterministic harness for the pure Raft core: N raft::core nodes, each with an in-memory
// stable storage that loses unsynced writes on crash, a FIFO network with drop rules, and a fake
// clock. Every ready is handled in the order ready.hpp prescribes (persist -> sync -> open the
// messages and the committed entries with the receipt -> advance), and after every input the
// node's own invariants and the cluster's safety properties (Figure 3) are checked.
#pragma once

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "actors/raft/core.hpp"
#include "config/raft_config.hpp"
#include "persistence/mem_storage.hpp"

// Printers, so Boost.Test can show the values in failed checks.
namespace aegis::raft {
inline std::ostream& operator<<(std::ostream& os, role r) {
  return os << to_string(r);
}
inline std::ostream& operator<<(std::ostream& os, msg_type t) {
  return os << to_string(t);
}
inline std::ostream& operator<<(std::ostream& os, status_code c) {
  return os << to_string(c);
}
inline std::ostream& operator<<(std::ostream& os, const entry& e) {
  return os << "{" << e.index << "@t" << e.term << " " << int(e.type) << " '" << e.data << "'}";
}
inline std::ostream& operator<<(std::ostream& os, const conf_state& c) {
  os << "{voters";
  for (node_id v : c.voters)
    os << " " << v;
  os << "; learners";
  for (node_id l : c.learners)
    os << " " << l;
  return os << "}";
}
}  // namespace aegis::raft

namespace aegis::raft::test {

// raft_config's default timing (100 ms heartbeats, 1-2 s election timeouts), spelled out so the
// tests' arithmetic is visible; validated so no test runs an illegal configuration.
inline config::raft_config test_config() {
  config::raft_config c;
  c.heartbeat_interval_ms = 100;
  c.election_timeout_ms_min = 1000;
  c.election_timeout_ms_max = 2000;
  return c;
}

inline conf_state voters_conf(size_t n) {
  conf_state c;
  for (node_id i = 1; i <= n; ++i)
    c.voters.push_back(i);
  return c;
}

// A hand-built persistent state: entry 1 is the bootstrap configuration (term 1), entries 2.. have
// the given terms and payload "<index>@<term>". Not yet durable: the node's first ready writes it,
// so its storage and its memory agree from the start.
inline restore_state hand_state(const conf_state& conf, term_t term, node_id vote, index_t commit,
                                const std::vector<term_t>& terms) {
  restore_state rs = restore_state::bootstrap(conf);
  for (size_t k = 0; k < terms.size(); ++k) {
    const index_t i = k + 2;
    rs.entries.push_back(
        {terms[k], i, entry_type::command, std::to_string(i) + "@" + std::to_string(terms[k])});
  }
  rs.hs = {term, vote, commit};
  rs.durable = false;
  return rs;
}

class cluster {
 public:
  struct node {
    node_id id = no_node;
    std::unique_ptr<core> c;  // null while crashed
    persistence::mem_storage storage;
    // Shared-clock time of the last (re)start: each core's clock starts at 0 when it is built, as
    // a per-process monotonic clock would (s5_2_node_started_late_... shows why that matters).
    uint64_t epoch_ms = 0;
    uint64_t restarts = 0;
    index_t sm_base = 0;             // the state machine was restored from a snapshot at this index
    std::vector<entry> applied;      // entries applied on top of sm_base, in order
    std::vector<read_state> reads;   // every read_state handed out
    std::vector<snapshot> restores;  // every ready.restore
    size_t readies = 0;
    std::optional<ready> writing;  // async mode: written, waiting for its sync
  };

  // Optional faults beyond drops, all drawn from one seeded generator: the disk syncs a ready
  // only some rounds later (the node keeps stepping meanwhile, as a host with a slow fsync does),
  // and the network duplicates, reorders and delays messages (a delayed one arrives ticks later).
  struct chaos_opts {
    bool async_disk = false;
    double dup = 0, reorder = 0, delay = 0;
  };
  void set_chaos(chaos_opts o, uint64_t seed) {
    chaos_ = o;
    chaos_rng_.seed(seed);
  }
  // Stops the chaos and lets every delayed message arrive.
  void calm() {
    chaos_ = {};
    for (message& m : limbo_)
      queue_.push_back(std::move(m));
    limbo_.clear();
    deliver_all();
  }

  explicit cluster(size_t n, config::raft_config cfg = test_config(), uint64_t seed = 1)
      : cfg_(cfg), seed_(seed) {
    BOOST_REQUIRE(config::validate(cfg_).empty());
    for (node_id i = 1; i <= n; ++i)
      add_node(i, restore_state::bootstrap(voters_conf(n)));
    record_bootstrap(voters_conf(n));
  }

  // Nodes 1..states.size() start from the given (hand-built) states.
  cluster(std::vector<restore_state> states, config::raft_config cfg = test_config(),
          uint64_t seed = 1)
      : cfg_(cfg), seed_(seed) {
    BOOST_REQUIRE(config::validate(cfg_).empty());
    for (size_t k = 0; k < states.size(); ++k) {
      for (const entry& e : states[k].entries)
        if (e.index <= states[k].hs.commit) record_committed(e);
      add_node(k + 1, std::move(states[k]));
    }
  }

  // A node that joins later (a learner-to-be) starts with nothing at all.
  void add_node(node_id id, restore_state rs = {}) {
    BOOST_REQUIRE(!nodes_.count(id));
    node& n = nodes_[id];
    n.id = id;
    n.epoch_ms = now_;
    n.sm_base = rs.applied;
    n.c = std::make_unique<core>(id, cfg_, node_seed(id, 0), std::move(rs));
    after_input(n);
  }

  core& operator[](node_id id) {
    BOOST_REQUIRE_MESSAGE(nodes_.count(id) && nodes_.at(id).c, "node " << id << " is down");
    return *nodes_.at(id).c;
  }
  node& at(node_id id) { return nodes_.at(id); }
  bool up(node_id id) const { return nodes_.count(id) && nodes_.at(id).c != nullptr; }
  std::vector<node_id> ids() const {
    std::vector<node_id> out;
    for (const auto& [id, n] : nodes_)
      out.push_back(id);
    return out;
  }
  uint64_t now() const { return now_; }
  const config::raft_config& cfg() const { return cfg_; }

  // ---- time ----

  // Advances the shared clock by `ms` in steps of `step_ms`, ticking every live node (or only
  // `only`) and delivering everything after each step.
  void tick_all(uint64_t ms, uint64_t step_ms = 10) { advance(ms, step_ms, no_node); }
  void tick(node_id only, uint64_t ms, uint64_t step_ms = 10) { advance(ms, step_ms, only); }

  // ---- network ----

  // Messages between different groups are dropped; nodes in no group talk to everybody.
  void partition(const std::vector<std::set<node_id>>& groups) {
    group_.clear();
    for (size_t g = 0; g < groups.size(); ++g)
      for (node_id id : groups[g])
        group_[id] = g;
  }
  void isolate(node_id id) {
    std::set<node_id> rest;
    for (node_id o : ids())
      if (o != id) rest.insert(o);
    partition({{id}, rest});
  }
  void drop_link(node_id from, node_id to) { dropped_links_.insert({from, to}); }
  void heal() {
    group_.clear();
    dropped_links_.clear();
  }
  // An extra drop rule (return true to drop); tests may also record or capture inside it.
  std::function<bool(const message&)> drop_if;

  bool dropped(const message& m) const {
    if (dropped_links_.count({m.from, m.to})) return true;
    auto a = group_.find(m.from), b = group_.find(m.to);
    if (a != group_.end() && b != group_.end() && a->second != b->second) return true;
    return drop_if && drop_if(m);
  }

  // Puts a message on the wire as if `m.from` had sent it (for captured or hand-built messages).
  void inject(message m) { queue_.push_back(std::move(m)); }

  // Every message any node sent (after its receipt opened it), delivered or not, in send order.
  const std::vector<message>& sent() const { return sent_; }
  void clear_sent() { sent_.clear(); }
  size_t count_sent(const std::function<bool(const message&)>& pred) const {
    return std::count_if(sent_.begin(), sent_.end(), pred);
  }

  // Handles readies and routes messages until nothing moves.
  void deliver_all(size_t max_rounds = 100000) {
    for (size_t round = 0;; ++round) {
      BOOST_REQUIRE_MESSAGE(round < max_rounds, "the cluster did not quiesce");
      bool moved = false;
      for (auto& [id, n] : nodes_) {
        if (!n.c) continue;
        if (n.writing && (!chaos_.async_disk || coin(0.5))) {
          finish_ready(n);
          moved = true;
        }
        if (!n.writing && n.c->has_ready()) {
          start_ready(n);
          if (!chaos_.async_disk) finish_ready(n);
          moved = true;
        }
        moved = moved || n.writing.has_value();
      }
      if (!queue_.empty()) {
        moved = true;
        std::deque<message> q;
        q.swap(queue_);
        if (coin(chaos_.reorder)) std::shuffle(q.begin(), q.end(), chaos_rng_);
        for (message& m : q) {
          if (coin(chaos_.delay)) {
            limbo_.push_back(std::move(m));
            continue;
          }
          if (coin(chaos_.dup)) deliver(m);
          deliver(m);
        }
      }
      if (!moved) break;
    }
    check_log_matching();
  }

  // Runs the node's next ready by the rules: persist, sync, open the messages (queued for the
  // network) and the committed entries (applied) with the receipt, collect reads, advance.
  void handle_ready(node& n) {
    start_ready(n);
    finish_ready(n);
  }
  void start_ready(node& n) {
    n.writing = n.c->take_ready();
    ++n.readies;
    for (message& m : n.writing->early_messages) {
      BOOST_REQUIRE_EQUAL(m.from, n.id);
      sent_.push_back(m);
      queue_.push_back(std::move(m));
    }
    n.storage.write(n.writing->persist);
  }
  void finish_ready(node& n) {
    ready r = std::move(*n.writing);
    n.writing.reset();
    const durable d = n.storage.sync();
    if (r.restore) {
      n.restores.push_back(*r.restore);
      n.sm_base = r.restore->meta.index;
      n.applied.clear();
    }
    for (message& m : std::move(r.messages).open(d)) {
      BOOST_REQUIRE_EQUAL(m.from, n.id);
      sent_.push_back(m);
      queue_.push_back(std::move(m));
    }
    for (const committed_entry& ce : std::move(r.committed).open(d))
      apply(n, ce.get());
    for (const read_state& rs : r.read_states)
      n.reads.push_back(rs);
    n.c->advance(d);
    after_input(n);
  }

  // ---- failures ----

  // Power loss: the node's unsynced writes and its in-memory state machine are gone.
  void crash(node_id id) {
    node& n = nodes_.at(id);
    BOOST_REQUIRE(n.c);
    n.storage.crash();
    n.c.reset();
    n.writing.reset();
    n.applied.clear();
  }
  // Power loss in the middle of a ready: the batch was written but never synced, so neither it
  // nor anything it would have released (messages, commits) survives.
  void crash_mid_ready(node_id id) {
    node& n = nodes_.at(id);
    BOOST_REQUIRE(n.c);
    if (!n.writing && n.c->has_ready()) start_ready(n);
    crash(id);
  }
  void restart(node_id id) {
    node& n = nodes_.at(id);
    BOOST_REQUIRE(!n.c);
    restore_state rs = n.storage.restore();
    n.sm_base = rs.applied;
    n.applied.clear();
    n.epoch_ms = now_;
    ++n.restarts;
    n.c = std::make_unique<core>(id, cfg_, node_seed(id, n.restarts), std::move(rs));
    after_input(n);
  }

  // ---- inputs routed through the checks ----

  result propose(node_id id, std::string data) {
    result r = (*this)[id].propose(std::move(data));
    after_input(nodes_.at(id));
    return r;
  }
  template <class F>
  auto with(node_id id, F&& f) {
    auto r = f((*this)[id]);
    after_input(nodes_.at(id));
    return r;
  }

  // ---- elections ----

  std::optional<node_id> leader() const {
    std::optional<node_id> best;
    term_t best_term = 0;
    for (const auto& [id, n] : nodes_)
      if (n.c && n.c->current_role() == role::leader && n.c->term() >= best_term) {
        best = id;
        best_term = n.c->term();
      }
    return best;
  }

  // Drives `id` to leadership through ticks alone: while this runs, (pre-)vote answers to every
  // other candidate are dropped, so only `id` can win (it must still earn its votes under the
  // rules; the others' requests still spread their terms). Requires that no live leader keeps
  // the others in its lease.
  void elect(node_id id, uint64_t max_ms = 60000) {
    auto saved = drop_if;
    drop_if = [saved, id](const message& m) {
      if ((m.type == msg_type::pre_vote_response || m.type == msg_type::vote_response) &&
          m.to != id)
        return true;
      return saved && saved(m);
    };
    for (uint64_t t = 0; t < max_ms && !is_leader(id); t += 10)
      tick_all(10);
    drop_if = saved;
    BOOST_REQUIRE_MESSAGE(is_leader(id), "node " << id << " was not elected");
    // Let the no-op commit, so the new leader can serve reads and membership changes.
    deliver_all();
  }
  bool is_leader(node_id id) const {
    return up(id) && nodes_.at(id).c->current_role() == role::leader;
  }

  // ---- observations for checks ----

  const std::map<index_t, entry>& committed() const { return committed_; }
  index_t max_committed() const { return committed_.empty() ? 0 : committed_.rbegin()->first; }

  // The node's state machine content as indexes: sm_base then every applied entry.
  index_t sm_index(node_id id) const {
    const node& n = nodes_.at(id);
    return n.sm_base + n.applied.size();
  }

  // Every entry of the node's log, in order.
  std::vector<entry> log_of(node_id id) {
    const raft_log& l = (*this)[id].log();
    std::vector<entry> out;
    for (index_t i = l.first_index(); i <= l.last_index(); ++i)
      out.push_back(l.at(i));
    return out;
  }

  void check_log_matching() {
    // Log Matching (Figure 3): two logs holding an entry with the same index and term hold the
    // same entries up to that index.
    std::vector<const core*> live;
    for (const auto& [id, n] : nodes_)
      if (n.c) live.push_back(n.c.get());
    for (size_t a = 0; a < live.size(); ++a) {
      for (size_t b = a + 1; b < live.size(); ++b) {
        const raft_log& x = live[a]->log();
        const raft_log& y = live[b]->log();
        const index_t lo = std::max(x.first_index(), y.first_index());
        for (index_t i = std::min(x.last_index(), y.last_index()); i >= lo && i > 0; --i) {
          if (x.at(i).term != y.at(i).term) continue;
          for (index_t j = lo; j <= i; ++j)
            BOOST_REQUIRE_MESSAGE(x.at(j) == y.at(j), "log matching broken at index "
                                                          << j << " between nodes " << live[a]->id()
                                                          << " and " << live[b]->id());
          break;
        }
      }
    }
  }

 private:
  uint64_t node_seed(node_id id, uint64_t restarts) const {
    return seed_ * 1000003 + id * 7919 + restarts * 104729;
  }

  void advance(uint64_t ms, uint64_t step_ms, node_id only) {
    for (uint64_t done = 0; done < ms;) {
      const uint64_t s = std::min(step_ms, ms - done);
      now_ += s;
      done += s;
      for (auto& [id, n] : nodes_) {
        if (!n.c || (only != no_node && id != only)) continue;
        n.c->tick(now_ - n.epoch_ms);
        after_input(n);
      }
      for (auto it = limbo_.begin(); it != limbo_.end();) {
        if (coin(0.2)) {
          queue_.push_back(std::move(*it));
          it = limbo_.erase(it);
        } else {
          ++it;
        }
      }
      deliver_all();
    }
  }

  bool coin(double p) {
    return p > 0 && std::uniform_real_distribution<double>(0, 1)(chaos_rng_) < p;
  }

  void deliver(const message& m) {
    if (dropped(m)) return;
    auto it = nodes_.find(m.to);
    if (it == nodes_.end() || !it->second.c) return;
    it->second.c->step(m);
    after_input(it->second);
  }

  void record_bootstrap(const conf_state& c) {
    record_committed({1, 1, entry_type::conf_change, encode_conf(c)});
  }

  void record_committed(const entry& e) {
    auto [it, fresh] = committed_.emplace(e.index, e);
    BOOST_REQUIRE_MESSAGE(fresh || it->second == e,
                          "state machine safety broken at index " << e.index);
  }

  void apply(node& n, const entry& e) {
    // State Machine Safety (Figure 3): no two servers apply different entries at one index, and
    // each applies the log in order.
    BOOST_REQUIRE_EQUAL(e.index, n.sm_base + n.applied.size() + 1);
    record_committed(e);
    n.applied.push_back(e);
  }

  // After every input: the node's own invariants, Election Safety and Leader Completeness.
  void after_input(node& n) {
    if (!n.c) return;
    const core& c = *n.c;
    c.check_invariants();
    if (c.current_role() != role::leader) return;
    auto [it, fresh] = leaders_.emplace(c.term(), n.id);
    BOOST_REQUIRE_MESSAGE(it->second == n.id, "two leaders in term " << c.term() << ": "
                                                                     << it->second << " and "
                                                                     << n.id);
    if (!fresh) return;
    // A new leader holds every entry committed so far (§5.4.3).
    for (const auto& [i, e] : committed_) {
      if (i <= c.log().offset().index) continue;  // inside its snapshot
      BOOST_REQUIRE_MESSAGE(
          c.log().term_at(i) == e.term && c.log().at(i) == e,
          "leader " << n.id << " of term " << c.term() << " lacks committed entry " << i);
    }
  }

  config::raft_config cfg_;
  uint64_t seed_;
  uint64_t now_ = 0;
  std::map<node_id, node> nodes_;
  std::deque<message> queue_;
  std::vector<message> sent_;
  std::map<node_id, size_t> group_;
  std::set<std::pair<node_id, node_id>> dropped_links_;
  std::map<index_t, entry> committed_;
  std::map<term_t, node_id> leaders_;
  chaos_opts chaos_;
  std::mt19937_64 chaos_rng_;
  std::vector<message> limbo_;  // delayed messages
};

}  // namespace aegis::raft::test
