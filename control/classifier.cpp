// The classifier's rules, one function per incident class. Each measures what it needs over the
// window, compares it with a threshold (the constants below, documented in CLASSIFIER.md) and,
// when it fires, returns a verdict whose evidence lists every measurement it used.
#include "control/classifier.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace aegis::control {

namespace {

constexpr int64_t kSecondUs = 1'000'000;

// ---- thresholds ----------------------------------------------------------------------------
constexpr double kStormTermGrowth = 8;      // terms in one window: a storm by itself
constexpr double kStormTermGrowthWeak = 4;  // ... or this many with a mostly leaderless window
constexpr double kStormLeaderlessShare = 0.4;
constexpr double kStallFsyncMeanS = 0.1;  // mean fsync over 1 s on a (recent) leader
constexpr double kSlowLagEntries = 100;   // match lag a healthy follower never reaches
constexpr int64_t kSlowLagSustainUs = 2 * kSecondUs;
constexpr int kStaleRounds = 8;          // consecutive rounds a cut-off node lags in term
constexpr double kSkewOffsetS = 0.1;     // a node's stamp offset off the cluster's median
constexpr double kOverloadPending = 16;  // proposals waiting at the leader
constexpr double kOverloadShare = 0.5;   // share of led rounds at or above it
constexpr double kApplyLagEntries = 5;
constexpr double kFlakyRateRatio = 0.85;  // a peer's heartbeat answer rate vs the others'
constexpr int64_t kFlakyStintUs = 3 * kSecondUs;
constexpr int64_t kLeaseChangeWindowUs = 15 * kSecondUs;

// Confidence from how far a measurement cleared its threshold (ratio >= 1) and the share of
// corroborating signals that held: 0.55 at the threshold, up to 0.9 at twice it, plus up to 0.1.
double confidence(double ratio, double corroborated) {
  const double margin = std::clamp(ratio - 1.0, 0.0, 1.0);
  return std::clamp(0.55 + 0.35 * margin + 0.1 * corroborated, 0.05, 1.0);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

verdict make(incident_class c, double conf, std::vector<uint32_t> nodes, int64_t from, int64_t to,
             std::string summary, std::vector<evidence> ev) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  return {c, conf, std::move(nodes), from, to, std::move(summary), std::move(ev)};
}

// Times the leader changed to another node (a gap without a leader in between included).
int leader_changes(const telemetry_view& v, int64_t from_us = INT64_MIN,
                   int64_t to_us = INT64_MAX) {
  int changes = 0;
  uint32_t last = 0;
  for (const auto& l : v.leaders()) {
    if (l.leader == 0 || l.at_us < from_us || l.at_us > to_us) continue;
    if (last != 0 && l.leader != last) ++changes;
    last = l.leader;
  }
  return changes;
}

double max_term(const telemetry_view& v, bool at_end) {
  double best = 0;
  for (uint32_t n : v.nodes()) {
    const auto s = v.series(n, "aegis_raft_term");
    if (s.empty()) continue;
    double t = at_end ? s.back().value : s.front().value;
    if (!at_end) t = std::min(t, s.front().value);
    best = std::max(best, t);
  }
  return best;
}

// ---- election storm --------------------------------------------------------------------------

// When the storm began: a second before any node first reported a term above the highest term at
// the window's start (the window's start when none did). The round trips that matter are the ones
// from then on; a healthy stretch before the storm would dilute them.
int64_t storm_start_us(const telemetry_view& v) {
  const double start_term = max_term(v, false);
  int64_t first = v.to_us();
  for (uint32_t n : v.nodes())
    for (const point& p : v.series(n, "aegis_raft_term"))
      if (p.value > start_term) {
        first = std::min(first, p.at_us);
        break;
      }
  return std::max(v.from_us(), first - kSecondUs);
}

// Heartbeat round trips (mean, ms) from `from_us` to the window's end, and their count.
std::pair<double, double> heartbeat_rtt_ms(const telemetry_view& v, int64_t from_us) {
  double sum = 0, count = 0;
  for (uint32_t n : v.nodes())
    for (uint32_t p : v.peers(n, "aegis_raft_heartbeat_rtt_seconds_count")) {
      count +=
          v.increase(n, peer_key("aegis_raft_heartbeat_rtt_seconds_count", p), from_us, v.to_us());
      sum += v.increase(n, peer_key("aegis_raft_heartbeat_rtt_seconds_sum", p), from_us, v.to_us());
    }
  return {count > 0 ? 1000 * sum / count : 0, count};
}

std::optional<verdict> election_storm(const telemetry_view& v) {
  const double growth = max_term(v, true) - max_term(v, false);
  const auto& ls = v.leaders();
  const double leaderless =
      ls.empty() ? 0
                 : double(std::count_if(ls.begin(), ls.end(),
                                        [](const auto& l) { return l.leader == 0; })) /
                       double(ls.size());
  const bool strong = growth >= kStormTermGrowth;
  const bool weak = growth >= kStormTermGrowthWeak && leaderless >= kStormLeaderlessShare;
  if (!strong && !weak) return std::nullopt;
  std::vector<evidence> ev{
      {"aegis_raft_term (max at end - max at start)", 0, v.from_us(), v.to_us(), growth,
       ">=", strong ? kStormTermGrowth : kStormTermGrowthWeak, "terms started in the window"},
      {"rounds without a leader (share)", 0, v.from_us(), v.to_us(), leaderless, ">=",
       kStormLeaderlessShare, "scrape rounds in which no node reported aegis_raft_is_leader=1"}};
  // Corroboration: heartbeat round trips during the storm close to the election timeout.
  const int64_t storm_from = storm_start_us(v);
  const auto [rtt_ms, rtt_count] = heartbeat_rtt_ms(v, storm_from);
  double corroborated = 0;
  if (auto et = v.config_number("election_timeout_ms_min"); et && rtt_count > 0) {
    ev.push_back({"heartbeat RTT mean during the storm (ms)", 0, storm_from, v.to_us(), rtt_ms,
                  ">=", *et / 10, "the election timeout should be >= 10x the peer round trip"});
    corroborated = rtt_ms >= *et / 10 ? 1 : 0;
  }
  const double ratio = std::max(growth / kStormTermGrowth, leaderless / kStormLeaderlessShare);
  return make(
      incident_class::election_storm, confidence(ratio, corroborated), {}, v.from_us(), v.to_us(),
      "elections keep repeating: " + std::to_string(int(growth)) + " new terms and no leader in " +
          std::to_string(int(100 * leaderless)) + "% of the rounds",
      std::move(ev));
}

// ---- disk stall on the leader ---------------------------------------------------------------

std::optional<verdict> leader_disk_stall(const telemetry_view& v) {
  std::set<uint32_t> stalled;
  double worst = 0;
  int64_t first = -1, last = -1;
  uint32_t worst_node = 0;
  for (uint32_t n : v.nodes()) {
    for (int64_t t : v.rounds()) {
      const int64_t from = t - kSecondUs;
      const double count = v.increase(n, "aegis_log_fsync_duration_seconds_count", from, t);
      const double sum = v.increase(n, "aegis_log_fsync_duration_seconds_sum", from, t);
      if (count <= 0 || sum / count < kStallFsyncMeanS) continue;
      // Only a node that led during or just before the stall counts.
      bool led = false;
      for (const auto& l : v.leaders())
        led = led || (l.leader == n && l.at_us >= t - 2 * kSecondUs && l.at_us <= t);
      if (!led) continue;
      stalled.insert(n);
      if (sum / count > worst) worst = sum / count, worst_node = n;
      if (first < 0) first = t;
      last = std::max(last, t);
    }
  }
  if (stalled.empty()) return std::nullopt;
  const int changes = leader_changes(v, first - 2 * kSecondUs);
  if (changes < 1) return std::nullopt;
  std::vector<evidence> ev{
      {"aegis_log_fsync_duration_seconds mean over 1 s", worst_node, first, last, worst,
       ">=", kStallFsyncMeanS, "fsync latency on a node while it led"},
      {"leader changes after the stall began", 0, first, v.to_us(), double(changes), ">=", 1,
       "leadership moved away from the stalled disk"}};
  return make(incident_class::leader_disk_stall,
              confidence(worst / kStallFsyncMeanS, changes >= 2 ? 1.0 : 0.0),
              {stalled.begin(), stalled.end()}, first, last,
              "the leader's disk stalls (fsync " + std::to_string(int(worst * 1000)) +
                  " ms) and leadership flapped " + std::to_string(changes) + " times",
              std::move(ev));
}

// ---- slow follower ---------------------------------------------------------------------------

// Whether peer p, when it answers, is cut off: it knows no leader or lags the leader's term.
bool cut_off(const telemetry_view& v, uint32_t p, int64_t t, double leader_term) {
  if (!v.up_at(p, t)) return false;
  const auto has = v.at(p, "aegis_raft_has_leader", t);
  const auto term = v.at(p, "aegis_raft_term", t);
  return (has && *has == 0) || (term && *term < leader_term);
}

struct lag_run {
  uint32_t leader = 0, peer = 0;
  double max_lag = 0;
  int64_t from_us = 0, to_us = 0;
};

// The longest stretch in which a leader reports a peer's match lag >= kSlowLagEntries / 2 and
// reaching kSlowLagEntries, while that peer is not cut off (partitions are another class).
std::vector<lag_run> lag_runs(const telemetry_view& v) {
  std::vector<lag_run> out;
  for (uint32_t l : v.nodes())
    for (uint32_t p : v.peers(l, "aegis_raft_follower_match_lag")) {
      if (v.restarted(p)) continue;  // a crash and restart, not a slow node
      lag_run run{l, p};
      for (const auto& lead : v.leaders()) {
        const auto lag = lead.leader == l
                             ? v.at(l, peer_key("aegis_raft_follower_match_lag", p), lead.at_us)
                             : std::nullopt;
        const bool lagging =
            lag && *lag >= kSlowLagEntries / 2 && !cut_off(v, p, lead.at_us, lead.term);
        if (lagging) {
          if (run.max_lag == 0) run.from_us = lead.at_us;
          run.max_lag = std::max(run.max_lag, *lag);
          run.to_us = lead.at_us;
        } else if (run.max_lag > 0) {
          if (run.max_lag >= kSlowLagEntries && run.to_us - run.from_us >= kSlowLagSustainUs)
            out.push_back(run);
          run = lag_run{l, p};
        }
      }
      if (run.max_lag >= kSlowLagEntries && run.to_us - run.from_us >= kSlowLagSustainUs)
        out.push_back(run);
    }
  return out;
}

std::optional<verdict> slow_follower(const telemetry_view& v) {
  const auto runs = lag_runs(v);
  if (runs.empty()) return std::nullopt;
  const auto worst = *std::max_element(
      runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.max_lag < b.max_lag; });
  std::vector<evidence> ev{
      {"aegis_raft_follower_match_lag{peer=\"" + std::to_string(worst.peer) + "\"} on the leader",
       worst.leader, worst.from_us, worst.to_us, worst.max_lag, ">=", kSlowLagEntries,
       "entries the follower is behind, sustained"}};
  double snapshots = 0;
  for (uint32_t l : v.nodes())
    snapshots +=
        v.increase(l, peer_key("aegis_snapshots_sent_total", worst.peer), v.from_us(), v.to_us());
  ev.push_back({"aegis_snapshots_sent_total{peer=\"" + std::to_string(worst.peer) + "\"}", 0,
                v.from_us(), v.to_us(), snapshots, ">=", 1,
                "the leader had compacted past it and sent a snapshot"});
  const double down = 1 - v.up_share(worst.peer);
  ev.push_back({"failed scrapes of the follower (share)", worst.peer, v.from_us(), v.to_us(), down,
                ">", 0, "a hung process does not answer its scrapes either"});
  std::vector<uint32_t> nodes;
  for (const auto& r : runs)
    nodes.push_back(r.peer);
  return make(incident_class::slow_follower,
              confidence(worst.max_lag / kSlowLagEntries, snapshots >= 1 ? 1.0 : 0.0), nodes,
              worst.from_us, worst.to_us,
              "follower " + std::to_string(worst.peer) + " fell " +
                  std::to_string(int(worst.max_lag)) + " entries behind" +
                  (snapshots >= 1 ? " and needed a snapshot" : ""),
              std::move(ev));
}

// ---- partition with a stale former leader ----------------------------------------------------

std::optional<verdict> partition_stale_leader(const telemetry_view& v) {
  std::optional<verdict> best;
  for (uint32_t p : v.nodes()) {
    int run = 0, longest = 0, two_leaders = 0;
    int64_t run_from = 0, from = 0, to = 0;
    bool led_before = false, stale_led = false, was_up = false, rejoining = false;
    for (const auto& l : v.leaders()) {
      if (l.leader == p) led_before = true;
      const bool leader_elsewhere = l.leader != 0 && l.leader != p;
      const bool cut = leader_elsewhere && cut_off(v, p, l.at_us, l.term);
      // A node answering again after a crash or pause needs a moment to hear the leader: a
      // stretch that starts right after it was down is a rejoin, not a partition.
      if (!cut)
        rejoining = false;
      else if (run == 0 && !rejoining && !was_up)
        rejoining = true;
      was_up = v.up_at(p, l.at_us);
      if (rejoining) continue;  // until the node hears the leader again
      if (cut) {
        if (run++ == 0) run_from = l.at_us;
        if (run > longest) longest = run, from = run_from, to = l.at_us;
        if (v.at(p, "aegis_raft_is_leader", l.at_us).value_or(0) == 1) ++two_leaders;
        stale_led = stale_led || led_before;
      } else {
        run = 0;
      }
    }
    if (longest < kStaleRounds) continue;
    std::vector<evidence> ev{
        {"rounds in a row cut off (no leader known or an older term) while another node leads", p,
         from, to, double(longest), ">=", double(kStaleRounds),
         "the node answers its scrapes but cannot reach the leader"},
        {"rounds still claiming leadership in an older term", p, from, to, double(two_leaders),
         ">=", 1, "a stale leader: two nodes report aegis_raft_is_leader=1"}};
    const double corroborated = (stale_led ? 0.5 : 0.0) + (two_leaders > 0 ? 0.5 : 0.0);
    verdict vd =
        make(incident_class::partition_stale_leader,
             confidence(double(longest) / kStaleRounds, corroborated), {p}, from, to,
             "node " + std::to_string(p) + (stale_led ? ", a former leader," : "") +
                 " is cut off from the leader for " + std::to_string((to - from) / 1000) + " ms",
             std::move(ev));
    if (!best || vd.confidence > best->confidence) best = std::move(vd);
  }
  return best;
}

// ---- lease starvation ------------------------------------------------------------------------

std::optional<verdict> lease_starvation(const telemetry_view& v) {
  double expired = 0, active_drop = 0;
  int64_t first_expiry = -1;
  uint32_t node = 0;
  for (uint32_t n : v.nodes()) {
    const double e = v.increase(n, "aegis_lease_expired_total", v.from_us(), v.to_us());
    if (e > expired) expired = e, node = n;
    const auto active = v.series(n, "aegis_lease_active");
    if (!active.empty()) {
      double hi = 0;
      for (const auto& a : active)
        hi = std::max(hi, a.value), active_drop = std::max(active_drop, hi - a.value);
    }
  }
  if (expired < 1) return std::nullopt;
  const auto counts = v.series(node, "aegis_lease_expired_total");  // non-empty: expired >= 1
  int64_t last_expiry = -1;
  for (const auto& p : counts) {
    if (p.value <= counts.front().value) continue;
    if (first_expiry < 0) first_expiry = p.at_us;
    last_expiry = p.at_us;
  }
  // Only a change before the expiries can explain them.
  const int changes = leader_changes(v, first_expiry - kLeaseChangeWindowUs, last_expiry);
  if (changes < 1) return std::nullopt;
  std::vector<evidence> ev{
      {"aegis_lease_expired_total (increase)", node, v.from_us(), v.to_us(), expired, ">=", 1,
       "leases revoked by expiry"},
      {"leader changes from 15 s before the first expiry to the last", 0,
       first_expiry - kLeaseChangeWindowUs, last_expiry, double(changes), ">=", 1,
       "keep-alives go through the leader: a leader change is when they get lost"},
      {"aegis_lease_active (largest drop)", node, v.from_us(), v.to_us(), active_drop, ">=", 1,
       "live leases lost"}};
  return make(incident_class::lease_starvation, confidence(expired / 2, active_drop >= 1 ? 1 : 0),
              {}, first_expiry, v.to_us(),
              std::to_string(int(expired)) + " leases expired around a leader change",
              std::move(ev));
}

// ---- clock skew ------------------------------------------------------------------------------

std::optional<verdict> clock_skew(const telemetry_view& v) {
  std::map<uint32_t, double> offsets;
  for (uint32_t n : v.nodes()) {
    std::vector<double> xs;
    for (const auto& p : v.series(n, "aegis_clock_stamp_offset_seconds"))
      xs.push_back(p.value);
    if (!xs.empty()) offsets[n] = median(xs);
  }
  if (offsets.size() < 2) return std::nullopt;
  std::vector<double> all;
  for (const auto& [n, o] : offsets)
    all.push_back(o);
  const double mid = median(all);
  std::vector<evidence> ev;
  std::vector<uint32_t> nodes;
  double worst = 0;
  for (const auto& [n, o] : offsets) {
    const double off = std::abs(o - mid);
    if (off < kSkewOffsetS) continue;
    nodes.push_back(n);
    worst = std::max(worst, off);
    ev.push_back({"aegis_clock_stamp_offset_seconds (median) minus the cluster's median", n,
                  v.from_us(), v.to_us(), o - mid, ">= |x|", kSkewOffsetS,
                  "the node's clock disagrees with the leader's stamps"});
  }
  if (nodes.empty()) return std::nullopt;
  return make(incident_class::clock_skew, confidence(worst / kSkewOffsetS, nodes.size() > 1), nodes,
              v.from_us(), v.to_us(),
              std::to_string(nodes.size()) + " node(s) with a clock off by up to " +
                  std::to_string(int(worst * 1000)) + " ms",
              std::move(ev));
}

// ---- overload --------------------------------------------------------------------------------

std::optional<verdict> overload(const telemetry_view& v) {
  int led = 0, backlog = 0, lagging = 0, measured = 0;
  double peak = 0;
  for (const auto& l : v.leaders()) {
    if (l.leader == 0) continue;
    ++led;
    const double pending = v.at(l.leader, "aegis_proposals_pending", l.at_us).value_or(0);
    peak = std::max(peak, pending);
    if (pending >= kOverloadPending) ++backlog;
    for (uint32_t n : v.nodes()) {
      const auto c = v.at(n, "aegis_raft_commit_index", l.at_us);
      const auto a = v.at(n, "aegis_raft_applied_index", l.at_us);
      if (!c || !a) continue;
      ++measured;
      if (*c - *a >= kApplyLagEntries) ++lagging;
    }
  }
  const double share = led ? double(backlog) / led : 0;
  if (share < kOverloadShare) return std::nullopt;
  const double lag_share = measured ? double(lagging) / measured : 0;
  std::vector<evidence> ev{
      {"rounds with aegis_proposals_pending >= 16 on the leader (share)", 0, v.from_us(), v.to_us(),
       share, ">=", kOverloadShare, "writes queue faster than they commit"},
      {"aegis_proposals_pending on the leader (peak)", 0, v.from_us(), v.to_us(), peak,
       ">=", kOverloadPending, ""},
      {"samples with commit - applied >= 5 (share)", 0, v.from_us(), v.to_us(), lag_share,
       ">=", 0.25, "apply falls behind commit"}};
  return make(incident_class::overload, confidence(share / kOverloadShare, lag_share >= 0.25), {},
              v.from_us(), v.to_us(),
              "proposal backlog of up to " + std::to_string(int(peak)) + " at the leader in " +
                  std::to_string(int(100 * share)) + "% of the rounds",
              std::move(ev));
}

// ---- flaky link ------------------------------------------------------------------------------

struct stint {
  uint32_t leader = 0;
  double term = 0;
  int64_t from_us = 0, to_us = 0;
};

std::vector<stint> stints(const telemetry_view& v) {
  std::vector<stint> out;
  for (const auto& l : v.leaders()) {
    if (!out.empty() && out.back().leader == l.leader && out.back().term == l.term) {
      out.back().to_us = l.at_us;
    } else {
      out.push_back({l.leader, l.term, l.at_us, l.at_us});
    }
  }
  std::erase_if(
      out, [](const stint& s) { return s.leader == 0 || s.to_us - s.from_us < kFlakyStintUs; });
  return out;
}

// Whether p answered and followed the stint's leader in every round of it.
bool steady_follower(const telemetry_view& v, uint32_t p, const stint& s) {
  for (const auto& l : v.leaders()) {
    if (l.at_us < s.from_us || l.at_us > s.to_us) continue;
    if (!v.up_at(p, l.at_us) || cut_off(v, p, l.at_us, s.term)) return false;
  }
  return true;
}

// A slow disk delays every answer a node sends (it answers after its fsync): not the link.
bool slow_disk(const telemetry_view& v, uint32_t p, const stint& s) {
  for (int64_t t : v.rounds()) {
    if (t < s.from_us || t > s.to_us) continue;
    const double c = v.increase(p, "aegis_log_fsync_duration_seconds_count", t - kSecondUs, t);
    const double sum = v.increase(p, "aegis_log_fsync_duration_seconds_sum", t - kSecondUs, t);
    if (c > 0 && sum / c >= kStallFsyncMeanS / 2) return true;
  }
  return false;
}

std::optional<verdict> flaky_link(const telemetry_view& v) {
  std::optional<verdict> best;
  for (const stint& s : stints(v)) {
    std::map<uint32_t, double> rate;
    for (uint32_t p : v.peers(s.leader, "aegis_raft_heartbeat_rtt_seconds_count"))
      if (steady_follower(v, p, s) && !slow_disk(v, p, s))
        rate[p] = v.increase(s.leader, peer_key("aegis_raft_heartbeat_rtt_seconds_count", p),
                             s.from_us, s.to_us);
    if (rate.size() < 2) continue;
    for (const auto& [p, r] : rate) {
      std::vector<double> others;
      for (const auto& [q, rq] : rate)
        if (q != p) others.push_back(rq);
      const double m = median(others);
      if (m <= 0 || r > kFlakyRateRatio * m) continue;
      const double ratio = r / m;
      std::vector<evidence> ev{{"heartbeat answers from the peer / median of the other peers",
                                s.leader, s.from_us, s.to_us, ratio, "<=", kFlakyRateRatio,
                                "peer " + std::to_string(p) + " answered " +
                                    std::to_string(int(r)) + " heartbeats, " +
                                    "the others a median of " + std::to_string(int(m))}};
      verdict vd =
          make(incident_class::flaky_link, confidence(kFlakyRateRatio / std::max(ratio, 1e-3), 0),
               {s.leader, p}, s.from_us, s.to_us,
               "the link between leader " + std::to_string(s.leader) + " and node " +
                   std::to_string(p) + " loses messages (" +
                   std::to_string(int(100 * (1 - ratio))) + "% fewer heartbeat answers)",
               std::move(ev));
      if (!best || vd.confidence > best->confidence) best = std::move(vd);
    }
  }
  return best;
}

}  // namespace

std::vector<verdict> classify(const telemetry_view& view) {
  // No answered scrape: nothing is known, which is not the same as healthy.
  const bool any_answer = std::any_of(view.nodes().begin(), view.nodes().end(),
                                      [&](uint32_t n) { return view.up_share(n) > 0; });
  if (!any_answer) return {};
  using rule = std::optional<verdict> (*)(const telemetry_view&);
  static constexpr rule kRules[] = {
      election_storm,   leader_disk_stall, slow_follower, partition_stale_leader,
      lease_starvation, clock_skew,        overload,      flaky_link};
  std::vector<verdict> out;
  for (rule r : kRules)
    if (auto v = r(view)) out.push_back(std::move(*v));
  if (out.empty()) {
    out.push_back(make(incident_class::healthy, 0.9, {}, view.from_us(), view.to_us(),
                       "no rule fired over " + std::to_string(view.span_us() / kSecondUs) + " s",
                       {}));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const verdict& a, const verdict& b) { return a.confidence > b.confidence; });
  return out;
}

}  // namespace aegis::control
