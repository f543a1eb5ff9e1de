// Chaos-script faults on the simulated cluster. `leader` and `follower` are resolved when the
// fault fires; a `for D` fault schedules its own undo.
#include "chaos/sim/engine.hpp"

namespace aegis::chaos::sim {

std::vector<sim_node*> engine::resolve(const node_ref& r) {
  std::vector<sim_node*> out;
  switch (r.k) {
    case node_ref::kind::id:
      out.push_back(&nodes_[r.id]);
      break;
    case node_ref::kind::leader:
      if (sim_node* l = leader()) out.push_back(l);
      break;
    case node_ref::kind::follower: {
      std::vector<sim_node*> followers;
      for (size_t i = 1; i < nodes_.size(); ++i)
        if (nodes_[i].up && nodes_[i].core->current_role() != raft::role::leader)
          followers.push_back(&nodes_[i]);
      if (!followers.empty()) out.push_back(followers[rng_.between(0, followers.size())]);
      break;
    }
    case node_ref::kind::all:
      for (size_t i = 1; i < nodes_.size(); ++i)
        out.push_back(&nodes_[i]);
      break;
  }
  return out;
}

std::optional<std::pair<node_index, node_index>> engine::resolve_link(
    const std::optional<link_ref>& l, bool& ok) {
  ok = true;
  if (!l) return std::nullopt;
  auto from = resolve(l->from), to = resolve(l->to);
  if (from.empty() || to.empty()) {
    ok = false;
    return std::nullopt;
  }
  return std::make_pair(from[0]->id, to[0]->id);
}

void engine::after(const fault& f, std::function<void()> undo) {
  if (!f.for_us) return;
  if (rec_) {
    undo = [this, inner = std::move(undo), text = "end " + fired_text_] {
      rec_->faults.push_back({now_us_, text});
      inner();
    };
  }
  undos_.push_back(std::move(undo));
  schedule({.at_us = now_us_ + *f.for_us, .kind = ev::undo, .arg = undos_.size() - 1});
}

// Membership goes through the leader, one change at a time (the core refuses a second one while
// the first is uncommitted). add-node wipes the node, but only once the leader has accepted it as
// a learner, which it does only for a non-member after every earlier change committed: a voter
// that lost its disk must never rejoin under its old identity, since it could vote twice.
void engine::change_membership(const fault& f, sim_node& target) {
  sim_node* l = leader();
  if (!l) {
    note("membership change skipped: no leader");
    return;
  }
  l->core->tick(clock_ms(*l));
  const bool add = f.kind == fault_kind::add_node;
  // A node is added back wiped, under a fresh identity; one still in the leader's configuration
  // is left alone (replacing a member's disk starts with remove-node).
  if (add && l->core->conf().is_member(target.rid)) {
    note("add-node " + std::to_string(target.id) + " refused: still a member");
    return;
  }
  const raft::node_id rid = add ? next_rid_ : target.rid;
  const raft::result r = add ? l->core->add_learner(rid) : l->core->remove_node(rid);
  if (!r.ok()) {
    note(std::string(keyword(f.kind)) + " " + std::to_string(target.id) +
         " refused: " + raft::to_string(r.code));
    return;
  }
  if (add) {
    ++next_rid_;
    crash(target);
    target.storage = persistence::mem_storage{};
    target.joining = true;
    target.rid = rid;
    bind(rid, target.id);
    note("node " + std::to_string(target.id) + " wiped, rejoins as raft id " + std::to_string(rid));
    restart(target);
  }
  after_step(*l);
  pump(*l);
}

void engine::fire(const fault& f) {
  const std::string what = std::string(keyword(f.kind));
  auto targets = resolve(f.target);
  bool link_ok = true;
  auto link = resolve_link(f.link, link_ok);
  const bool needs_target = f.kind == fault_kind::kill || f.kind == fault_kind::restart ||
                            f.kind == fault_kind::isolate || f.kind == fault_kind::slow_fsync ||
                            f.kind == fault_kind::skew || f.kind == fault_kind::transfer_leader ||
                            f.kind == fault_kind::remove_node || f.kind == fault_kind::add_node ||
                            f.kind == fault_kind::pause || f.kind == fault_kind::resume;
  if ((needs_target && targets.empty()) || !link_ok) {
    note("fault " + what + " skipped: no such node right now");
    return;
  }
  std::string on;
  for (auto* n : targets)
    on += " " + std::to_string(n->id);
  note("fault " + what + (needs_target ? on : std::string()));
  trace_.add_u64(uint64_t(f.kind) << 1 | 1);
  trace_fault(f, targets, link);
  switch (f.kind) {
    case fault_kind::kill:
      for (auto* n : targets)
        crash(*n);
      after(f, [this, targets] {
        for (auto* n : targets)
          restart(*n);
      });
      break;
    case fault_kind::restart:
      for (auto* n : targets)
        restart(*n);
      break;
    case fault_kind::partition: {
      const uint64_t h = net_.partition(f.groups);
      after(f, [this, h] {
        net_.undo(h);
        note("partition healed");
      });
      break;
    }
    case fault_kind::isolate: {
      const uint64_t h = net_.isolate(targets[0]->id);
      after(f, [this, h] {
        net_.undo(h);
        note("isolation healed");
      });
      break;
    }
    case fault_kind::drop: {
      const uint64_t h = net_.drop(link, f.percent);
      after(f, [this, h] { net_.undo(h); });
      break;
    }
    case fault_kind::delay: {
      const uint64_t h = net_.delay(link, f.amount_us, f.jitter_us);
      after(f, [this, h] { net_.undo(h); });
      break;
    }
    case fault_kind::duplicate: {
      const uint64_t h = net_.duplicate(link, f.percent);
      after(f, [this, h] { net_.undo(h); });
      break;
    }
    case fault_kind::slow_fsync: {
      sim_node* n = targets[0];
      n->fsync_us = f.amount_us;
      after(f, [this, n] { n->fsync_us = script_.fsync_us; });
      break;
    }
    case fault_kind::skew: {
      sim_node* n = targets[0];
      n->skew_us = f.amount_us;
      after(f, [n] { n->skew_us = 0; });
      break;
    }
    case fault_kind::transfer_leader:
      if (sim_node* l = leader()) {
        l->core->tick(clock_ms(*l));
        l->core->transfer_leadership(targets[0]->rid);
        after_step(*l);
        pump(*l);
      }
      break;
    case fault_kind::remove_node:
    case fault_kind::add_node:
      change_membership(f, *targets[0]);
      break;
    case fault_kind::heal:
      net_.heal();
      break;
    case fault_kind::pause: {
      sim_node* n = targets[0];
      pause(*n);
      after(f, [this, n] { resume(*n); });
      break;
    }
    case fault_kind::resume:
      resume(*targets[0]);
      break;
  }
}

}  // namespace aegis::chaos::sim
