#include <algorithm>
#include <cctype>
#include <cmath>

#include "config/schema.hpp"
#include "control/advisor/advice_parts.hpp"

namespace aegis::control::advisor_detail {

namespace {

void push_change(std::vector<config_change>& patch, const config::raft_config& current,
                 std::string_view key, std::string to) {
  const config::field* f = config::find_field(key);
  if (!f) return;  // the advisor names schema keys only; a typo must not become a patch
  std::string from = config::get_field(current, *f);
  if (from != to) patch.push_back({std::string(key), std::move(from), std::move(to)});
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out)
    ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

void set_key(std::vector<config_change>& patch, const config::raft_config& current,
             std::string_view key, uint64_t value) {
  push_change(patch, current, key, std::to_string(value));
}

void set_key(std::vector<config_change>& patch, const config::raft_config& current,
             std::string_view key, bool value) {
  push_change(patch, current, key, value ? "true" : "false");
}

std::string as_settings(const std::vector<config_change>& patch, bool use_from) {
  std::string out;
  for (const auto& c : patch)
    out += (out.empty() ? "" : " ") + c.key + "=" + (use_from ? c.from : c.to);
  return out;
}

void fill_rollback(advice& a) {
  if (a.patch.empty()) {
    a.rollback = "nothing to undo: no config change is proposed";
    return;
  }
  a.rollback = "set " + as_settings(a.patch, true) +
               " on every node (the values in force before this change), then restart them one "
               "at a time";
}

std::optional<double> max_evidence(const verdict& v, std::string_view needle) {
  std::optional<double> best;
  const std::string want = lower(needle);
  for (const auto& e : v.evidence) {
    if (lower(e.metric).find(want) == std::string::npos) continue;
    if (!std::isfinite(e.value) || e.value < 0) continue;  // bad evidence proves nothing
    if (!best || e.value > *best) best = e.value;
  }
  return best;
}

std::optional<uint64_t> rtt_ms(const advice_input& in) {
  std::optional<double> ms;
  if (in.facts.peer_rtt_p99_ms) ms = double(*in.facts.peer_rtt_p99_ms);
  for (const auto& e : in.v.evidence) {
    const std::string m = lower(e.metric);
    if (m.find("rtt") == std::string::npos || !std::isfinite(e.value) || e.value < 0) continue;
    const double v = m.find("seconds") != std::string::npos ? e.value * 1000 : e.value;
    if (!ms || v > *ms) ms = v;
  }
  // Above a minute no Raft timeout can help; clamp so the arithmetic below cannot overflow.
  if (!ms) return std::nullopt;
  return uint64_t(std::ceil(std::min(*ms, 60'000.0)));
}

std::string nodes_text(const verdict& v) {
  if (v.nodes.empty()) return "the nodes involved";
  std::string out = v.nodes.size() == 1 ? "node " : "nodes ";
  for (size_t i = 0; i < v.nodes.size(); ++i) {
    if (i > 0) out += i + 1 == v.nodes.size() ? " and " : ", ";
    out += std::to_string(v.nodes[i]);
  }
  return out;
}

uint64_t round_up(uint64_t v, uint64_t step) {
  return step == 0 ? v : (v + step - 1) / step * step;
}

}  // namespace aegis::control::advisor_detail
