// Timeline and impact from a trace (incident_timeline.hpp).
#include "control/proposer/incident_timeline.hpp"

#include <algorithm>
#include <map>

namespace aegis::control::proposer {

namespace {

std::string summary_value(const chaos::trace::trace& t, const std::string& key) {
  for (const auto& [k, v] : t.summary)
    if (k == key) return v;
  return "";
}

int64_t summary_count(const chaos::trace::trace& t, const std::string& key) {
  const auto v = summary_value(t, key);
  try {
    return v.empty() ? -1 : std::stoll(v);
  } catch (const std::exception&) {
    return -1;  // an informative field: a bad one is unknown, not an error
  }
}

int64_t end_of(const chaos::trace::trace& t) {
  int64_t end = 0;
  if (!t.faults.empty()) end = std::max(end, t.faults.back().at_us);
  if (!t.roles.empty()) end = std::max(end, t.roles.back().at_us);
  if (!t.metrics.empty()) end = std::max(end, t.metrics.back().at_us);
  return end;
}

// Counts from the client history when the summary lacks them.
void count_ops(const chaos::trace::trace& t, impact& im) {
  if (im.ops_ok >= 0 || t.ops.empty()) return;
  im.ops_ok = im.ops_fail = im.ops_unknown = 0;
  for (const auto& op : t.ops)
    ++(op.status == chaos::op_status::ok     ? im.ops_ok
       : op.status == chaos::op_status::fail ? im.ops_fail
                                             : im.ops_unknown);
}

}  // namespace

std::vector<timeline_line> build_timeline(const chaos::trace::trace& t) {
  std::vector<timeline_line> out;
  for (const auto& f : t.faults)
    out.push_back({f.at_us, "fault", "fault: " + f.text});
  std::map<uint32_t, std::string> role;  // node -> last role seen
  for (const auto& r : t.roles) {
    const std::string before = role.count(r.node) ? role[r.node] : "";
    role[r.node] = r.role;
    const std::string node = "node " + std::to_string(r.node);
    if (r.role == "leader" && before != "leader")
      out.push_back(
          {r.at_us, "leader", node + " became leader (term " + std::to_string(r.term) + ")"});
    else if (r.role == "down" && before != "down")
      out.push_back({r.at_us, "down", node + " is down (killed, paused or unreachable)"});
    else if (before == "down" && r.role != "down")
      out.push_back({r.at_us, "up", node + " is back as " + r.role});
  }
  std::stable_sort(out.begin(), out.end(), [](const timeline_line& a, const timeline_line& b) {
    return a.at_us < b.at_us;
  });
  return out;
}

impact measure_impact(const chaos::trace::trace& t) {
  impact im;
  im.duration_us = end_of(t);
  std::map<uint32_t, bool> leading;
  bool ever = false;
  int64_t since = -1;  // start of the current leaderless span, -1: a leader exists
  auto any_leader = [&] {
    return std::any_of(leading.begin(), leading.end(), [](const auto& kv) { return kv.second; });
  };
  for (const auto& r : t.roles) {
    const bool was = leading[r.node];
    leading[r.node] = r.role == "leader";
    if (!was && leading[r.node]) ++im.elections;
    ever = ever || leading[r.node];
    if (!ever) continue;
    const bool has = any_leader();
    if (!has && since < 0) since = r.at_us;
    if (has && since >= 0) {
      im.windows.push_back({since, r.at_us});
      since = -1;
    }
  }
  if (since >= 0 && im.duration_us > since) im.windows.push_back({since, im.duration_us});
  for (const auto& w : im.windows) {
    im.unavailable_us += w.to_us - w.from_us;
    im.longest_us = std::max(im.longest_us, w.to_us - w.from_us);
  }
  im.leader_changes = summary_count(t, "leader_changes");
  if (im.leader_changes < 0) im.leader_changes = std::max<int64_t>(0, im.elections - 1);
  im.ops_ok = summary_count(t, "ops_ok");
  im.ops_fail = summary_count(t, "ops_fail");
  im.ops_unknown = summary_count(t, "ops_unknown");
  count_ops(t, im);
  im.availability = summary_value(t, "availability");
  im.commit_p99_ms = summary_value(t, "commit_p99_ms");
  return im;
}

}  // namespace aegis::control::proposer
