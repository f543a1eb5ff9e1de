// The client load: closed-loop clients issuing put/get/cas on a small key space, each talking to
// the node it believes leads. Every operation is recorded with its invoke and return times for
// the linearizability checker; a client that gets no answer in time records it as unknown.
#include <algorithm>

#include "chaos/sim/engine.hpp"

namespace aegis::chaos::sim {

namespace {
int64_t one_way(const network_spec& n, raft::prng& rng) {
  return int64_t(rng.between(n.latency_min_us, n.latency_max_us + 1));
}
}  // namespace

void engine::next_op(sim_client& c) {
  const load_spec& load = *script_.load;
  operation op;
  op.id = history_.size();
  op.client = c.id;
  const uint64_t pick = rng_.between(0, load.mix_put + load.mix_get + load.mix_cas);
  op.kind = pick < load.mix_put                  ? op_kind::put
            : pick < load.mix_put + load.mix_get ? op_kind::get
                                                 : op_kind::cas;
  op.key = "k" + std::to_string(rng_.between(0, load.keys));
  if (op.kind != op_kind::get)
    op.value = "c" + std::to_string(c.id) + "-" + std::to_string(c.issued);
  if (op.kind == op_kind::cas) op.expected = c.last_seen[op.key];
  op.invoke_us = now_us_;
  op.status = op_status::unknown;
  ++c.issued;
  c.busy = op.id;
  history_.push_back(std::move(op));
  op_client_.push_back(c.id - 1);
  schedule({.at_us = now_us_ + one_way(script_.network, rng_),
            .kind = ev::request,
            .node = c.target,
            .arg = history_.size() - 1});
  schedule_in_order(
      {.at_us = now_us_ + load.timeout_us, .kind = ev::timeout, .arg = history_.size() - 1});
}

void engine::on_request(sim_node& n, uint64_t op_index) {
  const operation& op = history_[op_index];
  raft::core& c = *n.core;
  c.tick(clock_ms(n));  // the core's clock moves before every input
  raft::result r;
  if (op.kind == op_kind::get) {
    r = c.read_index(op_index);
    if (r.ok()) n.read_contexts[op_index] = op_index;
  } else {
    // The leader stamps the command with its clock, never below the last stamp it applied.
    kv_command cmd{.stamp_ms = std::max<int64_t>(int64_t(clock_ms(n)), n.sm.last_stamp_ms()),
                   .op_id = op_index,
                   .kind = op.kind,
                   .key = op.key,
                   .value = op.value,
                   .expected = op.expected};
    r = c.propose(encode(cmd));
    if (r.ok()) n.writes[r.index] = {r.term, op_index, now_us_};
  }
  if (!r.ok()) {
    if (op.kind != op_kind::get) ++n.stats.proposals_failed;
    respond({.op = op_index, .status = op_status::fail, .leader_hint = slot(r.leader_hint)});
    return;
  }
  after_step(n);
  pump(n);
}

void engine::respond(reply r) {
  schedule({.at_us = now_us_ + one_way(script_.network, rng_),
            .kind = ev::respond,
            .arg = replies_.put(std::move(r), 1)});
}

void engine::on_reply(const reply& r) {
  sim_client& c = clients_[op_client_[r.op]];
  if (c.busy != r.op) return;  // it already timed out
  operation& op = history_[r.op];
  op.status = r.status;
  op.return_us = now_us_;
  op.output = r.output;
  op.cas_ok = r.cas_ok;
  trace_.add_u64(r.op << 2 | uint64_t(r.status));
  if (r.status == op_status::ok) {
    if (op.kind == op_kind::get)
      c.last_seen[op.key] = op.output;
    else if (op.kind == op_kind::put || op.cas_ok)
      c.last_seen[op.key] = op.value;
  } else {
    c.target = r.leader_hint ? r.leader_hint : uint32_t(rng_.between(1, script_.nodes + 1));
  }
  settle(c, r.op);
}

void engine::on_timeout(uint64_t op) {
  sim_client& c = clients_[op_client_[op]];
  if (c.busy != op) return;
  history_[op].status = op_status::unknown;
  history_[op].return_us = never;
  c.target = uint32_t(rng_.between(1, script_.nodes + 1));
  settle(c, op);
}

// The client is free again; it issues its next operation at its share of the load rate.
void engine::settle(sim_client& c, uint64_t op) {
  c.busy.reset();
  const load_spec& load = *script_.load;
  const int64_t period_us = int64_t(1e6 * load.clients / load.rate_per_s);
  const int64_t next = std::max(now_us_ + 1, history_[op].invoke_us + period_us);
  if (history_[op].status == op_status::ok) {
    schedule({.at_us = next, .kind = ev::next_op, .arg = c.id - 1u});
  } else {
    // Back off a little after a failure so a leaderless cluster is not hammered.
    schedule({.at_us = std::max(next, now_us_ + 20'000), .kind = ev::next_op, .arg = c.id - 1u});
  }
}

}  // namespace aegis::chaos::sim
