// Envelope rules about the patch itself: it names real keys, was computed against the config
// in force, stays small, moves each value by a bounded step, and yields a valid config.
#include <algorithm>
#include <variant>

#include "config/envelope_rules.hpp"
#include "config/schema.hpp"

namespace aegis::config::envelope_detail {

namespace {

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += (out.empty() ? "" : "; ") + l;
  return out;
}

rule_outcome schema_keys_known(const rule_input& in) {
  if (in.bad_entries.empty()) return {true, "every key is in the schema and every value parses"};
  return {false, joined(in.bad_entries)};
}

rule_outcome patch_base_current(const rule_input& in) {
  if (in.stale_entries.empty()) return {true, "every entry starts from the value in force"};
  return {false, joined(in.stale_entries)};
}

rule_outcome patch_size(const rule_input& in) {
  const auto n = diff(in.current, in.proposed).size();
  return {n <= kMaxPatchKeys,
          std::to_string(n) + " keys change, at most " + std::to_string(kMaxPatchKeys)};
}

// Empty when the step from `a` to `b` is bounded; else why not.
std::string step_problem(std::string_view key, uint64_t a, uint64_t b) {
  if (a == b) return {};
  if (a == 0 || b == 0)
    return std::string(key) + ": " + std::to_string(a) + " -> " + std::to_string(b) +
           " switches a limit on or off (0 = unlimited)";
  const uint64_t lo = std::min(a, b), hi = std::max(a, b);
  if (hi <= lo * kMaxStepFactor) return {};
  return std::string(key) + ": " + std::to_string(a) + " -> " + std::to_string(b) +
         " is more than " + std::to_string(kMaxStepFactor) + "x";
}

bool timing_key(std::string_view key) {
  return key == "heartbeat_interval_ms" || key == "election_timeout_ms_min" ||
         key == "election_timeout_ms_max";
}

// The config in force already times out faster than 10 x the observed round trip: it is outside
// the envelope, and its nearest safe point may be more than one step away. Timing keys may then
// move straight there (election_timeout_vs_rtt still has to pass for the result).
bool timing_outside_envelope(const rule_input& in) {
  return in.facts.peer_rtt_p99_ms && uint64_t(in.current.election_timeout_ms_min) <
                                         uint64_t(kTimeoutPerHeartbeat) * *in.facts.peer_rtt_p99_ms;
}

rule_outcome step_bounded(const rule_input& in) {
  std::vector<std::string> problems;
  const bool timing_exempt = timing_outside_envelope(in);
  for (const auto& f : raft_fields()) {
    if (timing_exempt && timing_key(f.key)) continue;
    std::visit(
        [&](auto member) {
          using T = std::remove_cvref_t<decltype(in.current.*member)>;
          if constexpr (!std::is_same_v<T, bool>) {
            auto p = step_problem(f.key, in.current.*member, in.proposed.*member);
            if (!p.empty()) problems.push_back(std::move(p));
          }
        },
        f.member);
  }
  if (problems.empty())
    return {true, "every numeric change is within " + std::to_string(kMaxStepFactor) + "x" +
                      (timing_exempt ? " (timing keys exempt: the config in force times out "
                                       "faster than 10x the observed RTT)"
                                     : "")};
  return {false, joined(problems)};
}

rule_outcome config_valid(const rule_input& in) {
  const auto errs = validate(in.proposed);
  if (errs.empty()) return {true, "config::validate finds nothing"};
  std::vector<std::string> lines;
  for (const auto& e : errs)
    lines.push_back(e.key + " " + e.rule);
  return {false, joined(lines)};
}

}  // namespace

std::vector<rule_def> patch_rules() {
  return {
      {{"schema_keys_known",
        "A key outside the schema or a value that does not parse would be ignored or refused "
        "by the nodes, so the reviewed change would not be the one that runs.",
        "every patched key is in config/schema.hpp and its value parses"},
       schema_keys_known},
      {{"patch_base_current",
        "A patch computed against another config than the one in force could undo a change "
        "nobody reviewed together with it.",
        "every entry's `from` equals the value in force"},
       patch_base_current},
      {{"patch_size",
        "A patch that changes many keys at once cannot be attributed or rolled back one cause "
        "at a time.",
        "at most 4 keys change"},
       patch_size},
      {{"step_bounded",
        "The verifier replays one incident; a big jump leaves that evidence behind, so large "
        "changes (and switching a limit on or off) are for humans.",
        "each numeric key changes by at most 4x; never from or to 0; timing keys exempt "
        "while the config in force breaks election_timeout_vs_rtt"},
       step_bounded},
      {{"config_valid",
        "The node refuses to start with a config that breaks config::validate, so proposing "
        "one would take the cluster down on rollout.",
        "config::validate(proposed) is empty"},
       config_valid},
  };
}

}  // namespace aegis::config::envelope_detail
