// aegis-node-agent: an AEGIS node with the control-plane agent embedded in its process
// ([agent] enabled=true; without it, exactly aegis-node). The node's life is
// actors/node_runner.hpp; the one thing this main adds is the agent, handed the node's read-only
// telemetry reader and no other handle of the node (tests/unit/capability_test.cpp proves the
// handle types). Its main lives here, beside what it starts: nothing in actors/ knows control/.
#include "actors/node/log_line.hpp"
#include "actors/node_runner.hpp"
#include "control/actors/embedded.hpp"

namespace {

std::variant<caf::actor, std::string> start_agent(caf::actor_system& sys,
                                                  const aegis::config::node_config& cfg,
                                                  aegis::node::telemetry_reader_actor reader) {
  auto spawned = aegis::control::actors::spawn_embedded_agent(
      sys, cfg, std::move(reader), [id = cfg.node_id](const std::string& line) {
        aegis::node::log_line(id) << "agent: " << line << std::endl;
      });
  if (auto* why = std::get_if<std::string>(&spawned)) return *why;
  aegis::node::log_line(cfg.node_id) << "agent: on, dry-run, window " << cfg.agent.window_ms
                                     << "ms, files in " << cfg.agent.out_dir << std::endl;
  // The node only ever stops it: an untyped handle for the exit message, nothing else.
  return caf::actor_cast<caf::actor>(std::get<aegis::control::actors::agent_actor>(spawned));
}

}  // namespace

int main(int argc, char** argv) {
  return aegis::node::run_node(argc, argv, start_agent);
}
