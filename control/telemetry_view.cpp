#include "control/telemetry_view.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace aegis::control {

telemetry_view::telemetry_view(std::vector<chaos::trace::metric_sample> samples,
                               std::vector<std::pair<std::string, std::string>> config)
    : config_(std::move(config)) {
  std::set<int64_t> rounds;
  for (auto& s : samples) {
    rounds.insert(s.at_us);
    by_node_[s.node].push_back(std::move(s));
  }
  for (const auto& [n, v] : by_node_)
    nodes_.push_back(n);
  rounds_.assign(rounds.begin(), rounds.end());
  if (!rounds_.empty()) {
    from_us_ = rounds_.front();
    to_us_ = rounds_.back();
  }
  for (int64_t t : rounds_) {
    leadership l{.at_us = t};
    for (uint32_t n : nodes_) {
      const auto* s = sample(n, t);
      if (!s || !s->up) continue;
      auto lead = s->values.find("aegis_raft_is_leader");
      auto term = s->values.find("aegis_raft_term");
      if (lead == s->values.end() || lead->second != 1 || term == s->values.end()) continue;
      if (l.leader == 0 || term->second > l.term) l = {t, n, term->second};
    }
    leaders_.push_back(l);
  }
}

const chaos::trace::metric_sample* telemetry_view::sample(uint32_t node, int64_t t) const {
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return nullptr;
  const auto& v = it->second;
  auto s = std::lower_bound(v.begin(), v.end(), t,
                            [](const auto& m, int64_t at) { return m.at_us < at; });
  return s != v.end() && s->at_us == t ? &*s : nullptr;
}

std::vector<point> telemetry_view::series(uint32_t node, std::string_view key) const {
  std::vector<point> out;
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return out;
  const std::string k(key);
  for (const auto& s : it->second) {
    if (!s.up) continue;
    auto v = s.values.find(k);
    if (v != s.values.end()) out.push_back({s.at_us, v->second});
  }
  return out;
}

std::optional<double> telemetry_view::at(uint32_t node, std::string_view key, int64_t t) const {
  const auto* s = sample(node, t);
  if (!s || !s->up) return std::nullopt;
  auto v = s->values.find(std::string(key));
  if (v == s->values.end()) return std::nullopt;
  return v->second;
}

double telemetry_view::increase(uint32_t node, std::string_view key, int64_t from_us,
                                int64_t to_us) const {
  double total = 0;
  std::optional<double> prev;
  for (const auto& p : series(node, key)) {
    if (p.at_us < from_us || p.at_us > to_us) continue;
    if (prev) total += p.value >= *prev ? p.value - *prev : p.value;  // a drop: a restart
    prev = p.value;
  }
  return total;
}

bool telemetry_view::restarted(uint32_t node) const {
  // Counters that only a restart can lower; fsync and proposal counts move on every node.
  for (const char* key : {"aegis_log_fsync_duration_seconds_count", "aegis_proposals_applied_total",
                          "aegis_raft_applied_index"}) {
    const auto s = series(node, key);
    for (size_t i = 1; i < s.size(); ++i)
      if (s[i].value < s[i - 1].value) return true;
  }
  return false;
}

double telemetry_view::up_share(uint32_t node) const {
  auto it = by_node_.find(node);
  if (it == by_node_.end() || it->second.empty()) return 0;
  const auto up =
      std::count_if(it->second.begin(), it->second.end(), [](const auto& s) { return s.up; });
  return double(up) / double(it->second.size());
}

bool telemetry_view::up_at(uint32_t node, int64_t t) const {
  const auto* s = sample(node, t);
  return s && s->up;
}

std::vector<uint32_t> telemetry_view::peers(uint32_t node, std::string_view family) const {
  std::set<uint32_t> out;
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return {};
  for (const auto& s : it->second)
    for (const auto& [k, v] : s.values)
      if (auto p = split_peer_key(k); p && p->first == family) out.insert(p->second);
  return {out.begin(), out.end()};
}

std::optional<std::string> telemetry_view::config(std::string_view key) const {
  for (const auto& [k, v] : config_)
    if (k == key) return v;
  return std::nullopt;
}

std::optional<double> telemetry_view::config_number(std::string_view key) const {
  auto v = config(key);
  if (!v) return std::nullopt;
  double d = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), d);
  if (r.ec != std::errc()) return std::nullopt;
  return d;
}

std::optional<std::pair<std::string, uint32_t>> split_peer_key(std::string_view key) {
  const size_t open = key.find("{peer=\"");
  if (open == std::string_view::npos || key.size() < open + 10 ||
      key.substr(key.size() - 2) != "\"}")
    return std::nullopt;
  const std::string_view id = key.substr(open + 7, key.size() - open - 9);
  uint32_t peer = 0;
  auto r = std::from_chars(id.data(), id.data() + id.size(), peer);
  if (r.ec != std::errc() || r.ptr != id.data() + id.size()) return std::nullopt;
  return std::make_pair(std::string(key.substr(0, open)), peer);
}

std::string peer_key(std::string_view family, uint32_t peer) {
  return std::string(family) + "{peer=\"" + std::to_string(peer) + "\"}";
}

}  // namespace aegis::control
