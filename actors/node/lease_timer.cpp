#include "actors/node/lease_timer.hpp"

#include <chrono>
#include <map>
#include <set>

#include "protocol/command.pb.h"

namespace aegis::node {

namespace {

struct lt_state {
  lease_timer_params p;
  consensus_actor consensus;
  std::map<int64_t, uint64_t> expiry_of;         // lease id -> expiry (unix ms, leader stamps)
  std::set<std::pair<uint64_t, int64_t>> queue;  // (expiry, id), soonest first
  std::map<int64_t, uint64_t> proposed_at;       // lease id -> when its expiry was proposed
  bool leader = false;
  bool promoted = false;  // this term's LeasePromote has applied
  bool promoting = false;
  uint64_t gap_ms = 0;
  uint64_t epoch = 0;  // bumped on every leadership change; stale answers are ignored
};

using lt_pointer = lease_timer_actor::stateful_pointer<lt_state>;

uint64_t wall_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

void on_changes(lt_state& st, const std::vector<state::lease_change>& changes) {
  for (const auto& c : changes) {
    if (auto it = st.expiry_of.find(c.id); it != st.expiry_of.end()) {
      st.queue.erase({it->second, c.id});
      st.expiry_of.erase(it);
    }
    st.proposed_at.erase(c.id);
    if (c.expiry_ms == 0) continue;
    st.expiry_of[c.id] = c.expiry_ms;
    st.queue.insert({c.expiry_ms, c.id});
  }
}

// Proposes a command; `done(ok)` runs in this actor once it applied (or failed).
void propose(lt_pointer self, const aegis::smpb::Command& cmd, uint64_t epoch, bool promote) {
  auto reply = std::make_shared<reply_slot>(
      [self = caf::actor_cast<caf::actor>(self), epoch, promote](call_result r) {
        if (promote)
          caf::anon_send(caf::actor_cast<lease_timer_actor>(self), apply_atom::value,
                         r.code == call_code::ok, epoch);
      });
  caf::anon_send(self->state.consensus, propose_atom::value, cmd.SerializeAsString(),
                 std::move(reply));
}

void start_promote(lt_pointer self) {
  auto& st = self->state;
  st.promoting = true;
  aegis::smpb::Command cmd;
  cmd.mutable_lease_promote()->set_gap_ms(st.gap_ms);
  propose(self, cmd, st.epoch, true);
}

void expire_due(lt_pointer self) {
  auto& st = self->state;
  const uint64_t now = wall_ms();
  aegis::smpb::Command cmd;
  auto* ids = cmd.mutable_lease_expire();
  for (const auto& [expiry, id] : st.queue) {
    if (expiry > now || ids->ids_size() >= static_cast<int>(st.p.max_ids_per_proposal)) break;
    auto sent = st.proposed_at.find(id);
    if (sent != st.proposed_at.end() && sent->second + st.p.retry_ms > now) continue;
    st.proposed_at[id] = now;
    ids->add_ids(id);
  }
  if (ids->ids_size() > 0) propose(self, cmd, st.epoch, false);
}

void on_tick(lt_pointer self) {
  auto& st = self->state;
  if (st.leader && !st.promoted && !st.promoting) start_promote(self);
  if (st.leader && st.promoted) expire_due(self);
  self->delayed_send(self, std::chrono::milliseconds(st.p.tick_ms), tick_atom::value);
}

// From consensus, on every change of leadership of this node.
void on_leader(lt_pointer self, bool is_leader, uint64_t gap_ms) {
  auto& st = self->state;
  ++st.epoch;
  st.leader = is_leader;
  st.promoted = false;
  st.promoting = false;
  st.gap_ms = gap_ms;
  st.proposed_at.clear();
  if (is_leader) start_promote(self);
}

// Our LeasePromote of leadership `epoch` applied (or failed: it is proposed again next tick).
void on_promoted(lt_state& st, bool ok, uint64_t epoch) {
  if (epoch != st.epoch || !st.leader) return;
  st.promoting = false;
  st.promoted = ok;
}

lease_timer_actor::behavior_type lt_behavior(lt_pointer self, lease_timer_params p,
                                             consensus_actor consensus) {
  self->state.p = p;
  self->state.consensus = std::move(consensus);
  self->send(self, tick_atom::value);
  return {
      [=](lease_atom, const lease_changes_ptr& changes) { on_changes(self->state, *changes); },
      [=](leader_atom, bool is_leader, uint64_t gap_ms) { on_leader(self, is_leader, gap_ms); },
      [=](apply_atom, bool ok, uint64_t epoch) { on_promoted(self->state, ok, epoch); },
      [=](tick_atom) { on_tick(self); },
  };
}

}  // namespace

lease_timer_actor spawn_lease_timer(caf::actor_system& sys, lease_timer_params p,
                                    consensus_actor consensus) {
  return sys.spawn(lt_behavior, p, std::move(consensus));
}

}  // namespace aegis::node
