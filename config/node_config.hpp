// The configuration of one real node (aegis-node): who it is, where it listens, where its data
// lives, who its peers are, and the Raft tunables. Plain data with one validate(); the CAF option
// layer that fills it from a config file and flags is node_options.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/raft_config.hpp"

namespace aegis::config {

// host:port, as written in configs ("127.0.0.1:7001").
struct endpoint {
  std::string host;
  uint16_t port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
};
std::optional<endpoint> parse_endpoint(const std::string& text);

// One initial member: its Raft id and the address its peer inbox is published on.
struct peer_entry {
  uint64_t id = 0;
  endpoint peer;
};
// "2=127.0.0.1:7002" -> {2, 127.0.0.1:7002}.
std::optional<peer_entry> parse_peer(const std::string& text);

// An agent embedded in the node process ([agent]): the control plane's pipeline
// (control/actors/) reading only this node's telemetry through its read-only telemetry reader,
// dry-run, writing its proposals and postmortems under out_dir. Off by default.
struct agent_config {
  bool enabled = false;
  std::string out_dir;         // required when enabled
  uint32_t window_ms = 20000;  // telemetry per cycle, and the time between cycles
  uint32_t period_ms = 250;    // one scrape of the node's registry this often
  uint64_t cycles = 0;         // stop the agent after this many; 0: run with the node
  std::string scripts_dir = "chaos/scripts";  // fixtures replayed for a live incident
};

struct node_config {
  uint64_t node_id = 0;           // this node's Raft id: > 0 and listed in `peers`
  std::vector<peer_entry> peers;  // every initial voter, this node included, ids unique
  // Client (gRPC) address of members, for Cluster.MemberList; ids must be in `peers`. Optional:
  // a member not listed shows no client URL (this node always shows its own client_listen).
  std::vector<peer_entry> clients;
  endpoint client_listen;              // gRPC (etcd v3 API); port 0 picks a free port
  endpoint metrics_listen;             // Prometheus /metrics
  std::string data_dir;                // holds raft/ (log, hard state) and state/ (the KV store)
  bool bootstrap = false;              // create a new member's data dir (refused if one exists)
  bool fault_injection = false;        // accept fault settings through the admin API
  uint64_t seed = 0;                   // election-jitter seed; 0: drawn at start and logged
  uint32_t request_timeout_ms = 5000;  // a client write not applied by then fails
  uint32_t max_request_bytes = 1536 * 1024;  // larger gRPC requests are refused (etcd's limit)
  uint32_t peer_queue_messages = 4096;       // messages a peer link holds while disconnected
  // Idle watches that asked for progress notifications get one this often (etcd: 10 minutes).
  uint32_t watch_progress_notify_ms = 600000;
  raft_config raft;
  agent_config agent;

  const peer_entry* self() const;
  // A stable cluster id derived from the initial membership (same on every member).
  uint64_t cluster_id() const;
};

// Every broken rule as {key, rule}; empty when the config can start a node.
std::vector<config_error> validate(const node_config& c);

}  // namespace aegis::config
