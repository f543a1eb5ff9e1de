#include "config/schema.hpp"

#include <charconv>
#include <limits>

namespace aegis::config {

const std::vector<field>& raft_fields() {
  using c = raft_config;
  static const std::vector<field> fields = {
      {"heartbeat_interval_ms", "ms", "interval between leader heartbeats",
       &c::heartbeat_interval_ms},
      {"election_timeout_ms_min", "ms", "lower bound of the randomized election timeout",
       &c::election_timeout_ms_min},
      {"election_timeout_ms_max", "ms", "upper bound of the randomized election timeout",
       &c::election_timeout_ms_max},
      {"pre_vote", "bool", "ask before raising the term (thesis 9.6)", &c::pre_vote},
      {"check_quorum", "bool", "leader steps down without a live quorum; lease on votes",
       &c::check_quorum},
      {"max_inflight_appends", "count", "unacknowledged appends per follower",
       &c::max_inflight_appends},
      {"max_append_bytes", "bytes", "entry payload per append message", &c::max_append_bytes},
      {"max_uncommitted_bytes", "bytes", "uncommitted tail above which proposals are refused",
       &c::max_uncommitted_bytes},
      {"max_proposal_bytes", "bytes", "largest single proposal", &c::max_proposal_bytes},
      {"max_pending_reads", "count", "ReadIndex requests waiting at the leader",
       &c::max_pending_reads},
      {"snapshot_threshold_entries", "entries", "applied entries between snapshots",
       &c::snapshot_threshold_entries},
      {"snapshot_catchup_entries", "entries", "entries kept behind a snapshot",
       &c::snapshot_catchup_entries},
      {"snapshot_chunk_bytes", "bytes", "InstallSnapshot chunk size", &c::snapshot_chunk_bytes},
      {"learner_catchup_entries", "entries", "lag under which a learner is promoted",
       &c::learner_catchup_entries},
  };
  return fields;
}

const field* find_field(std::string_view key) {
  for (const auto& f : raft_fields())
    if (f.key == key) return &f;
  return nullptr;
}

namespace {

template <class T>
std::optional<std::string> parse_uint(std::string_view key, std::string_view unit,
                                      std::string_view text, T& out) {
  if (unit == "ms" && text.ends_with("ms")) text.remove_suffix(2);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || text.empty())
    return std::string(key) + ": expected a whole number" + (unit == "ms" ? " of ms" : "");
  if (v > std::numeric_limits<T>::max()) return std::string(key) + ": value too large";
  out = static_cast<T>(v);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> set_field(raft_config& c, std::string_view key, std::string_view value) {
  const field* f = find_field(key);
  if (!f) return "unknown config key '" + std::string(key) + "'";
  return std::visit(
      [&](auto member) -> std::optional<std::string> {
        using T = std::remove_reference_t<decltype(c.*member)>;
        if constexpr (std::is_same_v<T, bool>) {
          if (value == "true")
            c.*member = true;
          else if (value == "false")
            c.*member = false;
          else
            return std::string(key) + ": expected true or false";
          return std::nullopt;
        } else {
          return parse_uint(key, f->unit, value, c.*member);
        }
      },
      f->member);
}

std::string get_field(const raft_config& c, const field& f) {
  return std::visit(
      [&](auto member) -> std::string {
        using T = std::remove_cvref_t<decltype(c.*member)>;
        if constexpr (std::is_same_v<T, bool>)
          return c.*member ? "true" : "false";
        else
          return std::to_string(c.*member);
      },
      f.member);
}

std::vector<std::pair<std::string, std::string>> field_pairs(const raft_config& c) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : raft_fields())
    out.emplace_back(std::string(f.key), get_field(c, f));
  return out;
}

}  // namespace aegis::config
