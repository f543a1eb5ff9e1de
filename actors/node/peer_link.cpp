#include "actors/node/peer_link.hpp"

#include <caf/io/all.hpp>
#include <deque>

#include "actors/raft/prng.hpp"

namespace aegis::node {

namespace {

constexpr uint32_t backoff_ms_min = 50;
constexpr uint32_t backoff_ms_max = 2000;
constexpr auto connect_timeout = std::chrono::seconds(3);

// What travels on a link: Raft messages, forwarded writes, refusals of forwarded writes.
enum class kind : uint8_t { raft, forward, refuse };

struct link_state {
  peer_link_params params;
  peer_inbox_actor remote;  // invalid while disconnected
  bool connecting = false;
  uint32_t backoff_ms = backoff_ms_min;
  std::deque<std::pair<kind, std::string>> queue;  // messages waiting for a connection
  link_faults faults;
  raft::prng rng{1};
};

using link_pointer = peer_link_actor::stateful_pointer<link_state>;

template <class Handle>
void send_to(link_pointer self, const Handle& dest, kind k, std::string bytes) {
  switch (k) {
    case kind::raft:
      return self->send(dest, raft_atom::value, std::move(bytes));
    case kind::forward:
      return self->send(dest, forward_atom::value, std::move(bytes));
    case kind::refuse:
      return self->send(dest, refuse_atom::value, std::move(bytes));
  }
}

// Advertises the direct route to consensus while connected without faults; withdraws it else.
void update_route(link_pointer self) {
  auto& st = self->state;
  const link_faults& f = st.faults;
  const bool clean = !f.partitioned && f.drop_pct == 0 && f.delay_ms == 0 && f.jitter_ms == 0;
  caf::actor route = clean && st.remote ? caf::actor_cast<caf::actor>(st.remote) : caf::actor{};
  if (st.params.consensus)
    self->send(st.params.consensus, route_atom::value, local_route{st.params.peer_id, route});
}

void schedule_reconnect(link_pointer self) {
  auto& st = self->state;
  self->delayed_send(self, std::chrono::milliseconds(st.backoff_ms), connect_atom::value);
  st.backoff_ms = std::min(st.backoff_ms * 2, backoff_ms_max);
}

void on_connected(link_pointer self, caf::strong_actor_ptr ptr) {
  auto& st = self->state;
  st.connecting = false;
  if (!ptr) return schedule_reconnect(self);
  st.remote = caf::actor_cast<peer_inbox_actor>(std::move(ptr));
  self->monitor(st.remote);
  st.backoff_ms = backoff_ms_min;
  for (auto& [k, bytes] : st.queue)
    send_to(self, st.remote, k, std::move(bytes));
  st.queue.clear();
  update_route(self);
}

void connect(link_pointer self) {
  auto& st = self->state;
  if (st.remote || st.connecting) return;
  st.connecting = true;
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, connect_timeout, caf::connect_atom::value, st.params.address.host,
                st.params.address.port)
      .then([=](const caf::node_id&, caf::strong_actor_ptr& ptr,
                const std::set<std::string>&) { on_connected(self, std::move(ptr)); },
            [=](const caf::error&) {
              self->state.connecting = false;
              schedule_reconnect(self);
            });
}

void deliver(link_pointer self, kind k, std::string bytes) {
  auto& st = self->state;
  if (st.remote) return send_to(self, st.remote, k, std::move(bytes));
  if (st.queue.size() >= st.params.queue_limit) st.queue.pop_front();
  st.queue.emplace_back(k, std::move(bytes));
}

// The fault hooks, in the order a packet would meet them: partition, loss, delay.
void send_with_faults(link_pointer self, kind k, std::string bytes) {
  auto& st = self->state;
  const link_faults& f = st.faults;
  if (f.partitioned) return;
  if (f.drop_pct > 0 && st.rng.between(0, 100) < f.drop_pct) return;
  if (f.delay_ms == 0 && f.jitter_ms == 0) return deliver(self, k, std::move(bytes));
  const uint64_t ms = f.delay_ms + (f.jitter_ms > 0 ? st.rng.between(0, f.jitter_ms + 1) : 0);
  self->delayed_send(self, std::chrono::milliseconds(ms), deliver_atom::value,
                     static_cast<uint8_t>(k), std::move(bytes));
}

peer_link_actor::behavior_type link_behavior(link_pointer self, peer_link_params p) {
  self->state.params = p;
  self->state.rng = raft::prng(p.seed);
  self->set_down_handler([=](const caf::down_msg& dm) {
    if (dm.source != self->state.remote.address()) return;
    self->state.remote = nullptr;
    update_route(self);
    schedule_reconnect(self);
  });
  self->send(self, connect_atom::value);
  return {
      [=](raft_atom, std::string& bytes) { send_with_faults(self, kind::raft, std::move(bytes)); },
      [=](forward_atom, std::string& bytes) {
        send_with_faults(self, kind::forward, std::move(bytes));
      },
      [=](refuse_atom, std::string& bytes) {
        send_with_faults(self, kind::refuse, std::move(bytes));
      },
      [=](fault_atom, const link_faults& f) {
        self->state.faults = f;
        update_route(self);
      },
      [=](connect_atom) { connect(self); },
      [=](deliver_atom, uint8_t k, std::string& bytes) {
        deliver(self, static_cast<kind>(k), std::move(bytes));
      },
  };
}

}  // namespace

peer_link_actor spawn_peer_link(caf::actor_system& sys, peer_link_params p) {
  return sys.spawn(link_behavior, std::move(p));
}

}  // namespace aegis::node
