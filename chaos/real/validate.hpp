// The checks a script must pass before `aegis-chaos run` touches a real cluster: everything that
// can be known from the script, the cluster directory and one round of questions to the nodes.
// A refusal is a parse_error at the offending token, like a syntax error, so the author fixes the
// script (or restarts the cluster as told) without guessing.
#pragma once

#include <optional>
#include <string>

#include "chaos/real/cluster_dir.hpp"
#include "chaos/real/node_api.hpp"
#include "chaos/script.hpp"

namespace aegis::chaos::real {

// Whether a fault goes through the nodes' admin API (needs --fault-injection).
bool uses_admin_api(fault_kind k);

// Static checks against the cluster: node ids and count, faults a real cluster cannot do,
// `set` lines against the cluster's config, admin faults on a cluster started without fault
// injection. `text` is the script's source (to point at its `nodes` line).
std::optional<parse_error> check_against_cluster(const script& s, std::string_view text,
                                                 const cluster_info& c);

// Asks every node: each must answer Status, and when the script has admin faults each must accept
// ClearFaults (which also starts the run from a clean state).
std::optional<parse_error> probe_nodes(const script& s, const cluster_info& c, node_api& api);

}  // namespace aegis::chaos::real
