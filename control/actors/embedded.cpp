#include "control/actors/embedded.hpp"

#include "config/schema.hpp"

#include "control/actors/stages.hpp"

namespace aegis::control::actors {

std::variant<agent_settings, std::string> embedded_settings(const config::node_config& cfg) {
  agent_settings s;
  s.source.kind = "node";
  s.source.node_id = uint32_t(cfg.node_id);
  s.source.config = config::field_pairs(cfg.raft);
  s.source.window_s = cfg.agent.window_ms / 1000.0;
  s.source.period_s = cfg.agent.period_ms / 1000.0;
  s.cycles = cfg.agent.cycles;
  s.out_dir = cfg.agent.out_dir;
  s.scripts_dir = cfg.agent.scripts_dir;
  s.config_file = "node" + std::to_string(cfg.node_id) + ".ini";
  s.proposer.dry_run = true;  // an agent inside a node only ever writes files
  s.proposer.ledger_path = s.out_dir + "/ledger.jsonl";
  if (auto why = settings_error(s); !why.empty()) return "agent: " + why;
  return s;
}

std::variant<agent_actor, std::string> spawn_embedded_agent(caf::actor_system& sys,
                                                            const config::node_config& cfg,
                                                            node::telemetry_reader_actor reader,
                                                            status_sink sink) {
  auto s = embedded_settings(cfg);
  if (auto* why = std::get_if<std::string>(&s)) return *why;
  return spawn_pipeline(sys, std::get<agent_settings>(s), std::move(reader), std::move(sink));
}

}  // namespace aegis::control::actors
