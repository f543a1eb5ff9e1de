#include "config/envelope.hpp"

#include <algorithm>
#include <set>

#include "config/envelope_rules.hpp"
#include "config/schema.hpp"

namespace aegis::config {

using envelope_detail::rule_def;
using envelope_detail::rule_input;

namespace envelope_detail {

const std::vector<rule_def>& rule_table() {
  static const std::vector<rule_def> table = [] {
    std::vector<rule_def> t;
    for (auto group : {patch_rules, timing_rules, lease_rules, cluster_rules})
      for (auto& r : group())
        t.push_back(r);
    return t;
  }();
  return table;
}

std::string ms(uint64_t v) {
  return std::to_string(v) + " ms";
}

}  // namespace envelope_detail

namespace {

// The patch split into what can be applied and what is refused, and the entries computed
// against another config than the one in force.
struct sorted_patch {
  std::vector<patch_entry> applicable;
  std::vector<std::string> bad;
  std::vector<std::string> stale;
};

// Whether `from` names the value in force: compared after parsing, so "150ms" matches "150".
bool from_matches(const raft_config& current, const field& f, const std::string& from) {
  raft_config probe = current;
  if (set_field(probe, f.key, from)) return false;
  return get_field(probe, f) == get_field(current, f);
}

sorted_patch sort_patch(const raft_config& current, const std::vector<patch_entry>& patch) {
  sorted_patch out;
  std::set<std::string> seen;
  for (const auto& e : patch) {
    const field* f = find_field(e.key);
    raft_config probe = current;
    if (!f) {
      out.bad.push_back("unknown key '" + e.key + "'");
    } else if (!seen.insert(e.key).second) {
      out.bad.push_back("key '" + e.key + "' appears twice");
    } else if (auto err = set_field(probe, e.key, e.to)) {
      out.bad.push_back(*err);
    } else {
      out.applicable.push_back(e);
      if (!e.from.empty() && !from_matches(current, *f, e.from))
        out.stale.push_back(e.key + ": patch says from " + e.from + ", in force " +
                            get_field(current, *f));
    }
  }
  return out;
}

// Entries were checked by sort_patch, so set_field cannot fail here.
raft_config apply(raft_config c, const std::vector<patch_entry>& entries) {
  for (const auto& e : entries)
    set_field(c, e.key, e.to);
  return c;
}

envelope_report run_rules(const rule_input& in) {
  envelope_report rep;
  rep.proposed = in.proposed;
  for (const auto& r : envelope_detail::rule_table()) {
    auto o = r.check(in);
    rep.results.push_back(
        {std::string(r.info.id), o.passed, std::string(r.info.reason), std::move(o.detail)});
  }
  return rep;
}

}  // namespace

bool envelope_report::passed() const {
  return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.passed; });
}

std::vector<std::string> envelope_report::broken_rules() const {
  std::vector<std::string> ids;
  for (const auto& r : results)
    if (!r.passed) ids.push_back(r.rule);
  return ids;
}

const std::vector<rule_info>& envelope_rules() {
  static const std::vector<rule_info> infos = [] {
    std::vector<rule_info> v;
    for (const auto& r : envelope_detail::rule_table())
      v.push_back(r.info);
    return v;
  }();
  return infos;
}

envelope_report check_patch(const raft_config& current, const std::vector<patch_entry>& patch,
                            const cluster_facts& facts) {
  const sorted_patch sp = sort_patch(current, patch);
  const raft_config proposed = apply(current, sp.applicable);
  std::vector<raft_config> nodes_after;
  for (const auto& n : facts.node_configs)
    nodes_after.push_back(apply(n, sp.applicable));
  return run_rules({proposed, current, facts, nodes_after, sp.bad, sp.stale});
}

envelope_report check_config(const raft_config& proposed, const raft_config& current,
                             const cluster_facts& facts) {
  return check_patch(current, diff(current, proposed), facts);
}

std::vector<patch_entry> diff(const raft_config& from, const raft_config& to) {
  std::vector<patch_entry> out;
  for (const auto& f : raft_fields()) {
    std::string a = get_field(from, f), b = get_field(to, f);
    if (a != b) out.push_back({std::string(f.key), std::move(a), std::move(b)});
  }
  return out;
}

uint64_t min_lease_ttl_ms(const raft_config& c) {
  const uint64_t s = (uint64_t(c.election_timeout_ms_max) * 3 / 2 + 999) / 1000;
  return std::max<uint64_t>(1, s) * 1000;
}

}  // namespace aegis::config
