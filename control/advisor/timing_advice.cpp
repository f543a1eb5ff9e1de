// Advice for the classes whose cure is timing: election storms (timeouts too tight for the
// network) and flaky links (loss that should not depose a leader).
#include <algorithm>
#include <charconv>
#include <cstdint>

#include "control/advisor/advice_parts.hpp"

namespace aegis::control::advisor_detail {

namespace {

// Raft timeouts are set in coarse steps: people read and compare them.
constexpr uint64_t kTimeoutStepMs = 50;
constexpr uint64_t kHeartbeatStepMs = 10;

// The minimum lease TTL in whole seconds once election_timeout_ms_max is `max_ms`.
uint64_t lease_floor_s(config::raft_config c, uint64_t max_ms) {
  c.election_timeout_ms_max = uint32_t(std::min<uint64_t>(max_ms, UINT32_MAX));
  return config::min_lease_ttl_ms(c) / 1000;
}

uint64_t number_or_zero(const std::string& text) {
  uint64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// A warning when some change exceeds the envelope's step bound; empty otherwise.
std::string big_jump_note(const std::vector<config_change>& patch) {
  for (const auto& c : patch) {
    const uint64_t from = number_or_zero(c.from), to = number_or_zero(c.to);
    if (to > from * config::kMaxStepFactor)
      return " " + c.key + " moves from " + c.from + " to " + c.to + ", more than " +
             std::to_string(config::kMaxStepFactor) +
             "x: the envelope leaves a jump that big to a person (or to steps verified one at a "
             "time).";
  }
  return {};
}

}  // namespace

// Whether the measured round trip explains the storm: a timeout below 10x the RTT p99 does. A
// storm on a timeout the RTT allows means the round trips that mattered went unmeasured (no node
// led long enough to send the heartbeats that would time them) or something else delays them.
bool rtt_explains(const config::raft_config& cur, const std::optional<uint64_t>& rtt) {
  return rtt && uint64_t(config::kTimeoutPerHeartbeat) * *rtt > cur.election_timeout_ms_min;
}

std::string storm_rationale(const config::raft_config& cur, const std::optional<uint64_t>& rtt) {
  const std::string range = std::to_string(cur.election_timeout_ms_min) + ".." +
                            std::to_string(cur.election_timeout_ms_max) + " ms";
  const std::string why =
      " Raft wants the timeout at least 10x the round trip and the heartbeat near it, so a "
      "leader's heartbeat always lands before anyone gives up on it; the range stays 2x wide to "
      "break split votes.";
  if (rtt_explains(cur, rtt))
    return "Followers time out and campaign while heartbeats are still in flight: the election "
           "timeout (" +
           range + ") is too tight for a peer round trip p99 of " + std::to_string(*rtt) + " ms." +
           why;
  return "Elections keep repeating although the measured peer round trip (" +
         (rtt ? "p99 " + std::to_string(*rtt) + " ms" : std::string("not observed")) +
         ") would allow the election timeout (" + range +
         "): the round trips that mattered were not measured (no node led long enough to time "
         "them) or something else delays heartbeats. The timeout is doubled, and "
         "kept at least 10x the heartbeat." +
         why;
}

advice election_storm(const advice_input& in) {
  const auto& cur = in.current;
  const auto rtt = rtt_ms(in);
  uint64_t hb = cur.heartbeat_interval_ms, min = 0;
  if (rtt_explains(cur, rtt)) {
    hb = std::max<uint64_t>(hb, round_up(*rtt, kHeartbeatStepMs));
    min = round_up(config::kTimeoutPerHeartbeat * *rtt, kTimeoutStepMs);
  } else {
    min = round_up(2 * uint64_t(cur.election_timeout_ms_min), kTimeoutStepMs);
  }
  min = std::max({min, uint64_t(cur.election_timeout_ms_min), config::kTimeoutPerHeartbeat * hb});
  const uint64_t max = std::max<uint64_t>(cur.election_timeout_ms_max, 2 * min);
  advice a;
  set_key(a.patch, cur, "heartbeat_interval_ms", hb);
  set_key(a.patch, cur, "election_timeout_ms_min", min);
  set_key(a.patch, cur, "election_timeout_ms_max", max);
  const std::string rtt_text = rtt ? std::to_string(*rtt) + " ms" : "not observed";
  a.rationale = storm_rationale(cur, rtt);
  a.expected_effect =
      "Far fewer leader changes and term increments, availability back up; the "
      "price is slower failover after a real leader failure (" +
      std::to_string(min) + ".." + std::to_string(max) +
      " ms) and a minimum "
      "lease TTL of " +
      std::to_string(lease_floor_s(cur, max)) + " s.";
  a.target_metric = "leader_changes";
  a.recommendation = "Check the network between the nodes (measured round trip p99: " + rtt_text +
                     "; WAN links, saturated NICs, overloaded hosts)." + big_jump_note(a.patch);
  return a;
}

advice flaky_link(const advice_input& in) {
  const auto& cur = in.current;
  const uint64_t hb = cur.heartbeat_interval_ms;
  uint64_t min = round_up(uint64_t(cur.election_timeout_ms_min) * 3 / 2, kTimeoutStepMs);
  if (auto rtt = rtt_ms(in))
    min = std::max(min, round_up(config::kTimeoutPerHeartbeat * *rtt, kTimeoutStepMs));
  min = std::max<uint64_t>(min, config::kTimeoutPerHeartbeat * hb);
  const uint64_t max =
      std::max(round_up(uint64_t(cur.election_timeout_ms_max) * 3 / 2, kTimeoutStepMs),
               round_up(min * 3 / 2, kTimeoutStepMs));
  advice a;
  set_key(a.patch, cur, "election_timeout_ms_min", min);
  set_key(a.patch, cur, "election_timeout_ms_max", max);
  a.rationale =
      "One direction of one peer link loses messages. A follower behind it misses "
      "runs of heartbeats and, once a run outlasts the election timeout, starts "
      "(pre-)votes that can depose a healthy leader. A modestly longer timeout (1.5x) "
      "tolerates longer loss runs without slowing failover much; the heartbeat stays, "
      "so more heartbeats fit in each timeout.";
  a.expected_effect =
      "Fewer spurious elections and leader changes while the link stays lossy; "
      "failover after a real leader failure slows from " +
      std::to_string(cur.election_timeout_ms_min) + " to " + std::to_string(min) +
      " ms at the least.";
  a.target_metric = "leader_changes";
  a.recommendation = "Fix the link between " + nodes_text(in.v) +
                     ": check the NIC, cable, switch port and firewall counters for drops. The "
                     "patch only makes the cluster tolerate the loss; it does not cure it.";
  return a;
}

}  // namespace aegis::control::advisor_detail
