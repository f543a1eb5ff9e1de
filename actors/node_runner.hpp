// The whole life of one AEGIS node process -- config, data dir, actors, peer port, etcd v3 API,
// stop on SIGTERM/SIGINT -- as a function, so that a binary can start a node with a component
// beside it without actors/ knowing that component: aegis-node starts nothing extra;
// control/aegis_node_agent.cpp starts the embedded agent ([agent] enabled=true), handing it the
// node's read-only telemetry reader and nothing else.
//
// Exit codes: 0 clean stop, 1 cannot start (data dir refused, address in use), 2 bad config.
#pragma once

#include <caf/actor.hpp>
#include <functional>
#include <string>
#include <variant>

#include "actors/node/telemetry_reader.hpp"
#include "config/node_config.hpp"

namespace aegis::node {

// Started once the node serves, given only the node's read-only telemetry. Returns the handle
// the node stops at shutdown (an empty one when nothing was started), or the error, which makes
// the node exit with code 2.
using node_extension = std::function<std::variant<caf::actor, std::string>(
    caf::actor_system& sys, const config::node_config& cfg, telemetry_reader_actor reader)>;

// Runs the node until a stop signal; returns the process exit code. Without an extension a
// config that enables the agent is refused (this binary has none).
int run_node(int argc, char** argv, const node_extension& extension = {});

}  // namespace aegis::node
