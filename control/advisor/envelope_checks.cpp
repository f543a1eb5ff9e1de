// The advisor's bridge to the safety envelope (config/envelope.hpp): config/ knows nothing of
// the control plane, so its rule results are mapped here to control::envelope_check.
#include <algorithm>

#include "control/advisor/advisor.hpp"

namespace aegis::control {

std::vector<envelope_check> envelope_checks(const advice& a, const config::raft_config& current,
                                            const config::cluster_facts& facts) {
  std::vector<config::patch_entry> patch;
  for (const auto& c : a.patch)
    patch.push_back({c.key, c.from, c.to});
  std::vector<envelope_check> checks;
  for (auto& r : config::check_patch(current, patch, facts).results)
    checks.push_back({std::move(r.rule), r.passed, std::move(r.reason), std::move(r.detail)});
  return checks;
}

bool envelope_passed(const std::vector<envelope_check>& checks) {
  return std::all_of(checks.begin(), checks.end(), [](const auto& c) { return c.passed; });
}

}  // namespace aegis::control
