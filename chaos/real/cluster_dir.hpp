// What a cluster directory written by config/cluster.sh (`./aegis cluster up`) says about the
// cluster: its size, each node's id and endpoints, whether fault injection is on, and the Raft
// config its nodes run. The runner reads it instead of asking the user to repeat any of it.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/raft_config.hpp"

namespace aegis::chaos::real {

struct node_info {
  uint32_t index = 0;        // 1..nodes, the K of DIR/nodeK.ini
  uint64_t member_id = 0;    // [node] id: the Raft id the node reports in headers
  std::string client_addr;   // host:port of the etcd v3 gRPC API (and the admin service)
  std::string metrics_addr;  // host:port serving /metrics
};

struct cluster_info {
  std::string dir;
  uint32_t nodes = 0;
  bool fault_injection = false;    // every node's [node] fault_injection=true
  config::raft_config raft;        // schema defaults overridden by the nodes' [raft] sections
  std::vector<node_info> members;  // index order: members[k-1] is node k
};

// Reads DIR/.aegis-cluster and DIR/nodeK.ini for every node. An error names the file (and line)
// and what is wrong with it; it never throws.
std::variant<cluster_info, std::string> load_cluster(const std::string& dir);

// Whether node k's process runs (paused counts as running): DIR/nodeK.pid names a live process
// whose command line carries node k's config file, the check the launcher makes.
bool node_process_running(const std::string& dir, uint32_t k);

}  // namespace aegis::chaos::real
