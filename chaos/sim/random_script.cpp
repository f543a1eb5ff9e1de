#include "chaos/sim/random_script.hpp"

#include <algorithm>
#include <string>

#include "actors/raft/prng.hpp"

namespace aegis::chaos::sim {

namespace {

void random_settings(script& s, raft::prng& rng) {
  auto set = [&](const char* key, uint64_t v) {
    s.settings.push_back({key, std::to_string(v), {}});
  };
  const uint64_t hb = rng.between(20, 101);
  set("heartbeat_interval_ms", hb);
  const uint64_t emin = hb * rng.between(3, 11);
  set("election_timeout_ms_min", emin);
  set("election_timeout_ms_max", emin + rng.between(emin / 2, emin + 1));
  set("max_inflight_appends", rng.between(1, 65));
  set("max_append_bytes", rng.between(64, 8193));
  set("snapshot_threshold_entries", rng.between(10, 301));
  set("snapshot_catchup_entries", rng.between(0, 51));
  set("snapshot_chunk_bytes", rng.between(64, 2049));
  if (rng.chance(0.15)) s.settings.push_back({"pre_vote", "false", {}});
  if (rng.chance(0.15)) s.settings.push_back({"check_quorum", "false", {}});
}

node_ref random_target(raft::prng& rng, uint32_t nodes, bool allow_all) {
  const uint64_t pick = rng.between(0, 10);
  if (pick < 3) return {node_ref::kind::leader, 0, {}};
  if (pick < 5) return {node_ref::kind::follower, 0, {}};
  if (pick < 6 && allow_all) return {node_ref::kind::all, 0, {}};
  return {node_ref::kind::id, uint32_t(rng.between(1, nodes + 1)), {}};
}

fault random_fault(raft::prng& rng, uint32_t nodes, int64_t at_us) {
  fault f;
  f.at_us = at_us;
  f.for_us = int64_t(rng.between(300, 4001)) * 1000;
  const uint64_t kind = rng.between(0, 12);
  switch (kind) {
    case 0:
    case 1:
      f.kind = fault_kind::kill;
      f.target = random_target(rng, nodes, true);
      break;
    case 2: {
      f.kind = fault_kind::partition;
      std::vector<uint32_t> a, b;
      for (uint32_t n = 1; n <= nodes; ++n)
        (rng.chance(0.5) ? a : b).push_back(n);
      f.groups = {a, b};
      if (a.empty() || b.empty()) f.groups = {a.empty() ? b : a};
      break;
    }
    case 3:
      f.kind = fault_kind::isolate;
      f.target = random_target(rng, nodes, false);
      break;
    case 4:
      f.kind = fault_kind::drop;
      f.percent = double(rng.between(10, 101));
      break;
    case 5:
      f.kind = fault_kind::delay;
      f.amount_us = int64_t(rng.between(1, 200)) * 1000;
      f.jitter_us = int64_t(rng.between(0, 100)) * 1000;
      break;
    case 6:
      f.kind = fault_kind::duplicate;
      f.percent = double(rng.between(5, 51));
      break;
    case 7:
      f.kind = fault_kind::slow_fsync;
      f.target = random_target(rng, nodes, false);
      f.amount_us = int64_t(rng.between(10, 1500)) * 1000;
      break;
    case 8:
      f.kind = fault_kind::skew;
      f.target = random_target(rng, nodes, false);
      f.amount_us = (int64_t(rng.between(0, 2001)) - 1000) * 1000;
      break;
    case 9:
      f.kind = fault_kind::transfer_leader;
      f.target = random_target(rng, nodes, false);
      f.for_us.reset();
      break;
    default:  // remove a member, or wipe a removed one and add it back as a learner
      f.kind = kind == 10 || rng.chance(0.5) ? fault_kind::remove_node : fault_kind::add_node;
      f.target = {node_ref::kind::id, uint32_t(rng.between(1, nodes + 1)), {}};
      f.for_us.reset();
      break;
  }
  if (f.kind == fault_kind::drop || f.kind == fault_kind::delay ||
      f.kind == fault_kind::duplicate) {
    if (rng.chance(0.5)) {
      const uint32_t from = uint32_t(rng.between(1, nodes + 1));
      uint32_t to = uint32_t(rng.between(1, nodes));
      if (to >= from) ++to;
      f.link = link_ref{{node_ref::kind::id, from, {}}, {node_ref::kind::id, to, {}}};
    }
  }
  return f;
}

}  // namespace

script random_script(uint64_t seed, int64_t duration_us) {
  raft::prng rng(seed ^ 0x5eed5eed5eedull);
  script s;
  s.name = "<random>";
  s.seed = seed;
  s.nodes = rng.chance(0.25) ? 3 : 5;
  s.duration_us = duration_us;
  s.network.latency_min_us = int64_t(rng.between(200, 3001));
  s.network.latency_max_us = s.network.latency_min_us + int64_t(rng.between(0, 10001));
  s.network.drop_percent = double(rng.between(0, 4));
  s.network.duplicate_percent = double(rng.between(0, 3));
  s.fsync_us = int64_t(rng.between(100, 5001));
  random_settings(s, rng);
  load_spec load;
  load.clients = uint32_t(rng.between(2, 7));
  load.rate_per_s = double(rng.between(50, 301));
  load.keys = uint32_t(rng.between(1, 6));
  load.timeout_us = int64_t(rng.between(500, 3001)) * 1000;
  s.load = load;
  // Faults through the middle of the run; from quiet_at every fault is undone and the cluster
  // must serve clients again (the sweep checks liveness there).
  const int64_t quiet_at = duration_us - 4'000'000;
  for (int64_t t = int64_t(rng.between(500, 2001)) * 1000; t < quiet_at;
       t += int64_t(rng.between(700, 3001)) * 1000) {
    s.faults.push_back(random_fault(rng, s.nodes, t));
    fault& f = s.faults.back();
    if (f.for_us && f.at_us + *f.for_us > quiet_at)
      f.for_us = std::max<int64_t>(1000, quiet_at - f.at_us);
    if (s.faults.back().kind == fault_kind::remove_node) {
      // Wipe the removed node and bring it back a little later, as an operator would.
      fault back = s.faults.back();
      back.kind = fault_kind::add_node;
      back.at_us = std::min<int64_t>(t + int64_t(rng.between(500, 4001)) * 1000, quiet_at);
      s.faults.push_back(back);
    }
  }
  std::stable_sort(s.faults.begin(), s.faults.end(),
                   [](const fault& a, const fault& b) { return a.at_us < b.at_us; });
  fault heal;
  heal.kind = fault_kind::heal;
  heal.at_us = quiet_at;
  s.faults.push_back(heal);
  fault restart;
  restart.kind = fault_kind::restart;
  restart.target = {node_ref::kind::all, 0, {}};
  restart.at_us = quiet_at;
  s.faults.push_back(restart);
  return s;
}

}  // namespace aegis::chaos::sim
