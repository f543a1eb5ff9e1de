// Envelope rules about Raft's timing: heartbeats, election timeouts against heartbeats and the
// observed network, randomization, agreement between nodes, and the two protocol guards
// (pre-vote, check-quorum) that keep a rejoining or cut-off node from disturbing the cluster.
#include "config/envelope_rules.hpp"

namespace aegis::config::envelope_detail {

namespace {

rule_outcome heartbeat_floor(const rule_input& in) {
  const uint32_t hb = in.proposed.heartbeat_interval_ms;
  return {hb >= kMinHeartbeatMs, ms(hb) + " >= " + ms(kMinHeartbeatMs)};
}

rule_outcome election_vs_heartbeat(const rule_input& in) {
  const auto& c = in.proposed;
  const uint64_t need = uint64_t(kTimeoutPerHeartbeat) * c.heartbeat_interval_ms;
  return {c.election_timeout_ms_min >= need,
          ms(c.election_timeout_ms_min) + " >= 10 x " + ms(c.heartbeat_interval_ms)};
}

rule_outcome election_vs_rtt(const rule_input& in) {
  if (!in.facts.peer_rtt_p99_ms) return {true, "peer RTT p99 not observed: not checked"};
  const uint64_t rtt = *in.facts.peer_rtt_p99_ms;
  const uint32_t min = in.proposed.election_timeout_ms_min;
  return {min >= kTimeoutPerHeartbeat * rtt, ms(min) + " >= 10 x " + ms(rtt) + " (RTT p99)"};
}

rule_outcome election_max_bound(const rule_input& in) {
  const uint32_t max = in.proposed.election_timeout_ms_max;
  return {max <= kMaxElectionTimeoutMs, ms(max) + " <= " + ms(kMaxElectionTimeoutMs)};
}

rule_outcome election_spread(const rule_input& in) {
  const auto& c = in.proposed;
  // 2 x max >= 3 x min is max >= 1.5 x min without rounding.
  const bool ok =
      2 * uint64_t(c.election_timeout_ms_max) >= 3 * uint64_t(c.election_timeout_ms_min);
  return {ok, ms(c.election_timeout_ms_max) + " >= 1.5 x " + ms(c.election_timeout_ms_min)};
}

bool same_timing(const raft_config& a, const raft_config& b) {
  return a.heartbeat_interval_ms == b.heartbeat_interval_ms &&
         a.election_timeout_ms_min == b.election_timeout_ms_min &&
         a.election_timeout_ms_max == b.election_timeout_ms_max;
}

rule_outcome timeouts_identical(const rule_input& in) {
  if (in.nodes_after.empty()) return {true, "per-node configs not known: not checked"};
  std::string odd;
  for (size_t i = 0; i < in.nodes_after.size(); ++i)
    if (!same_timing(in.nodes_after[i], in.proposed))
      odd += (odd.empty() ? "" : ", ") + std::to_string(i + 1);
  if (odd.empty()) return {true, "all " + std::to_string(in.nodes_after.size()) + " nodes agree"};
  return {false, "node(s) " + odd + " would run other heartbeat/election timeouts"};
}

rule_outcome pre_vote_on(const rule_input& in) {
  return {in.proposed.pre_vote,
          std::string("pre_vote = ") + (in.proposed.pre_vote ? "true" : "false")};
}

rule_outcome check_quorum_on(const rule_input& in) {
  const bool on = in.proposed.check_quorum;
  return {on, std::string("check_quorum = ") + (on ? "true" : "false")};
}

}  // namespace

std::vector<rule_def> timing_rules() {
  return {
      {{"heartbeat_floor",
        "Heartbeats more often than every 10 ms cost the peers CPU and bandwidth without "
        "detecting failures any sooner than the election timeout allows.",
        "heartbeat_interval_ms >= 10"},
       heartbeat_floor},
      {{"election_timeout_vs_heartbeat",
        "A follower must miss many heartbeats, not one or two, before it starts an election; "
        "otherwise ordinary jitter deposes healthy leaders.",
        "election_timeout_ms_min >= 10 x heartbeat_interval_ms"},
       election_vs_heartbeat},
      {{"election_timeout_vs_rtt",
        "An election timeout near the network's round trip makes followers campaign while "
        "heartbeats are still in flight: an election storm.",
        "election_timeout_ms_min >= 10 x observed peer RTT p99"},
       election_vs_rtt},
      {{"election_timeout_max_bound",
        "Beyond 50 s a dead leader goes unnoticed for so long that the cluster is effectively "
        "down; no network needs more.",
        "election_timeout_ms_max <= 50000"},
       election_max_bound},
      {{"election_timeout_spread",
        "Randomized timeouts are what break split votes; a narrow range lets candidates keep "
        "colliding.",
        "election_timeout_ms_max >= 1.5 x election_timeout_ms_min"},
       election_spread},
      {{"timeouts_identical",
        "Nodes with different timeouts disagree on when a leader is dead: the quickest keeps "
        "campaigning against leaders the others still follow.",
        "heartbeat and election timeouts equal on every node after the change"},
       timeouts_identical},
      {{"pre_vote_on",
        "Without pre-vote a node rejoining from a partition raises the term and deposes a "
        "healthy leader.",
        "pre_vote = true"},
       pre_vote_on},
      {{"check_quorum_on",
        "Without check-quorum a leader cut off from the majority keeps serving as leader, and "
        "nodes grant votes while a live leader exists.",
        "check_quorum = true"},
       check_quorum_on},
  };
}

}  // namespace aegis::config::envelope_detail
