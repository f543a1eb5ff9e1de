#include "control/advisor/advisor.hpp"

#include <algorithm>

#include "config/schema.hpp"
#include "control/advisor/advice_parts.hpp"

namespace aegis::control {

using namespace advisor_detail;

advice advise(const verdict& v, const config::raft_config& current,
              const config::cluster_facts& facts) {
  const advice_input in{v, current, facts};
  advice a;
  switch (v.cls) {
    case incident_class::healthy:
      a = healthy(in);
      break;
    case incident_class::election_storm:
      a = election_storm(in);
      break;
    case incident_class::leader_disk_stall:
      a = leader_disk_stall(in);
      break;
    case incident_class::slow_follower:
      a = slow_follower(in);
      break;
    case incident_class::partition_stale_leader:
      a = partition_stale_leader(in);
      break;
    case incident_class::lease_starvation:
      a = lease_starvation(in);
      break;
    case incident_class::clock_skew:
      a = clock_skew(in);
      break;
    case incident_class::overload:
      a = overload(in);
      break;
    case incident_class::flaky_link:
      a = flaky_link(in);
      break;
    default:
      // A class value outside the enum (a newer classifier, a corrupt verdict): say so rather
      // than guess a patch.
      a.recommendation = "unknown incident class " + std::to_string(int(v.cls)) +
                         ": no advice; update the advisor";
      break;
  }
  a.cls = v.cls;
  fill_rollback(a);
  return a;
}

std::vector<config_change> rollback_of(const std::vector<config_change>& patch) {
  std::vector<config_change> back;
  for (auto it = patch.rbegin(); it != patch.rend(); ++it)
    back.push_back({it->key, it->to, it->from});
  return back;
}

std::variant<config::raft_config, std::string> apply_patch(
    config::raft_config current, const std::vector<config_change>& patch) {
  for (const auto& c : patch)
    if (auto err = config::set_field(current, c.key, c.to)) return *err;
  return current;
}

}  // namespace aegis::control
