// The agent embedded in a node process ([agent] enabled=true): the pipeline of roles.hpp on this
// node's telemetry, read through the node's telemetry_reader -- the only node handle it is given
// -- in dry-run, writing under agent.out_dir. aegis-node calls this and nothing else of control/.
#pragma once

#include <string>
#include <variant>

#include "config/node_config.hpp"
#include "control/actors/roles.hpp"

namespace aegis::control::actors {

// The agent's settings for node `cfg` (source "node", its Raft config, dry-run), or the error.
std::variant<agent_settings, std::string> embedded_settings(const config::node_config& cfg);

// Spawns the pipeline; the error names the [agent] key that is wrong.
std::variant<agent_actor, std::string> spawn_embedded_agent(caf::actor_system& sys,
                                                            const config::node_config& cfg,
                                                            node::telemetry_reader_actor reader,
                                                            status_sink sink);

}  // namespace aegis::control::actors
