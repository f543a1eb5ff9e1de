// See node_runner.hpp. Reads the config (a CAF config file given with --config-file plus flag
// overrides), opens or creates the data dir, starts the actors, publishes the consensus actor on
// the peer port and serves the etcd v3 API until SIGTERM or SIGINT.
#include "actors/node_runner.hpp"

#include <caf/io/all.hpp>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <random>

#include "actors/node/consensus.hpp"
#include "actors/node/lock_manager.hpp"
#include "actors/node/log_line.hpp"
#include "actors/node/peer_link.hpp"
#include "actors/node/telemetry_reader.hpp"
#include "actors/state/kv_machine.hpp"
#include "config/node_options.hpp"
#include "gateway/etcd_server.hpp"

namespace {

using aegis::config::node_config;
using aegis::persistence::kv_store;
using aegis::persistence::rocks_storage;

[[noreturn]] void die(int code, const std::string& why) {
  std::cerr << "aegis-node: " << why << std::endl;
  std::exit(code);
}

template <class T>
T take(std::variant<T, aegis::persistence::storage_error> v) {
  if (auto* err = std::get_if<aegis::persistence::storage_error>(&v)) die(1, err->message);
  return std::move(std::get<T>(v));
}

// Opens (or, for a bootstrapping member, creates) both stores and works out where Raft resumes.
aegis::node::consensus_params open_data(const node_config& cfg) {
  namespace fs = std::filesystem;
  const auto mode = cfg.bootstrap ? rocks_storage::mode::create : rocks_storage::mode::existing;
  if (cfg.bootstrap) fs::create_directories(cfg.data_dir);
  aegis::node::consensus_params p;
  p.cfg = cfg;
  p.raft_store = take(rocks_storage::open(cfg.data_dir + "/raft", cfg.node_id, mode));
  p.kv_store = take(kv_store::open(cfg.data_dir + "/state", mode));
  if (cfg.bootstrap) {
    aegis::raft::conf_state initial;
    for (const auto& peer : cfg.peers)
      initial.voters.push_back(peer.id);
    std::sort(initial.voters.begin(), initial.voters.end());
    p.restore = aegis::raft::restore_state::bootstrap(initial);
    return p;
  }
  p.restore = take(p.raft_store->restore());
  auto& rs = p.restore;
  if (rs.snap && p.kv_store->applied_index() < rs.snap->meta.index) {
    // The state store lost writes after the snapshot was taken (it is not fsynced): start from
    // the snapshot, then the log replays the rest.
    aegis::state::kv_machine m(*p.kv_store, cfg.cluster_id(), cfg.node_id);
    if (!m.restore(rs.snap->data)) die(1, "snapshot in " + cfg.data_dir + " does not decode");
    m.commit_batch(rs.snap->meta.index);
  }
  rs.applied = std::max(rs.applied, p.kv_store->applied_index());
  rs.hs.commit = std::max(rs.hs.commit, rs.applied);  // applied entries were committed
  if (rs.applied > rs.offset.index + rs.entries.size())
    die(1, "data dir " + cfg.data_dir + " is inconsistent: state applied past the log's end");
  return p;
}

uint64_t pick_seed(const node_config& cfg) {
  if (cfg.seed != 0) return cfg.seed;
  std::random_device rd;
  return (uint64_t{rd()} << 32) | rd();
}

// Everything consensus starts from: the stores, the seeds and the metrics registry (served on
// the metrics port from here on).
aegis::node::consensus_params consensus_inputs(const node_config& cfg) {
  auto params = open_data(cfg);
  params.seed = pick_seed(cfg);
  params.incarnation = pick_seed(node_config{});  // always drawn, never configured
  std::string metrics_error;
  params.metrics = aegis::node::make_metrics(
      cfg.node_id, cfg.metrics_listen.host.empty() ? "" : cfg.metrics_listen.str(), metrics_error);
  if (!metrics_error.empty()) die(1, metrics_error);
  return params;
}

// SIGTERM and SIGINT: blocked in every thread, so only sigwait() takes them.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

int wait_for_stop_signal() {
  const sigset_t set = stop_signals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

// The extension's handle (empty when the config enables no agent), or why it cannot start.
std::variant<caf::actor, std::string> start_extension(const aegis::node::node_extension& extension,
                                                      caf::actor_system& sys,
                                                      const node_config& cfg,
                                                      aegis::node::telemetry_reader_actor reader) {
  if (!cfg.agent.enabled) return caf::actor{};
  if (!extension)
    return std::string(
        "[agent] enabled=true needs the node binary with the agent: aegis-node-agent "
        "(control/aegis_node_agent.cpp)");
  return extension(sys, cfg, std::move(reader));
}

}  // namespace

namespace aegis::node {

int run_node(int argc, char** argv, const node_extension& extension) {
  // Block the stop signals before any thread starts, so only sigwait() below receives them.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  aegis::config::node_options opts;
  opts.load<caf::io::middleman>();
  auto loaded = opts.read(argc, argv);
  if (!loaded.cfg) {
    if (loaded.exit_code == 0) {
      std::cout << loaded.message;
      return 0;
    }
    die(loaded.exit_code, loaded.message);
  }
  const node_config cfg = *loaded.cfg;

  auto params = consensus_inputs(cfg);
  const auto metrics = params.metrics;  // params moves into consensus; the gateway counts too
  const uint64_t seed = params.seed;
  caf::actor_system sys{opts};
  auto consensus = aegis::node::spawn_consensus(sys, std::move(params));
  // Linked to consensus: it stops with it.
  aegis::node::lock_manager_params lock_params;
  lock_params.metrics = metrics;
  auto locks = aegis::node::spawn_lock_manager(sys, lock_params, consensus);
  const auto& self = *cfg.self();
  // From here on the actors run: a failure stops them and returns (no exit() under their feet).
  auto stop_actors = [&] { caf::anon_send_exit(consensus, caf::exit_reason::user_shutdown); };
  // Published untyped: peers reach only what they can serialize (peer_inbox_actor's messages).
  auto published = sys.middleman().publish(caf::actor_cast<caf::actor>(consensus), self.peer.port,
                                           self.peer.host.c_str(), true);
  if (!published) {
    std::cerr << "aegis-node: cannot listen for peers on " << self.peer.str() << ": "
              << sys.render(published.error()) << std::endl;
    stop_actors();
    return 1;
  }
  auto server = aegis::gateway::etcd_server::start(cfg, consensus, locks, metrics);
  if (auto* why = std::get_if<std::string>(&server)) {
    std::cerr << "aegis-node: " << *why << std::endl;
    stop_actors();
    return 1;
  }
  auto& grpc_server = std::get<std::unique_ptr<aegis::gateway::etcd_server>>(server);
  // Read-only telemetry for in-process readers: a scrape answered with the /metrics text.
  auto telemetry = aegis::node::spawn_telemetry_reader(sys, metrics);
  auto started = start_extension(extension, sys, cfg, telemetry);
  if (auto* why = std::get_if<std::string>(&started)) {
    std::cerr << "aegis-node: " << *why << std::endl;
    caf::anon_send_exit(telemetry, caf::exit_reason::user_shutdown);
    stop_actors();
    grpc_server->shutdown();
    return 2;
  }
  const caf::actor extra = std::get<caf::actor>(started);
  aegis::node::log_line(cfg.node_id)
      << "serving clients on " << cfg.client_listen.host << ":" << grpc_server->port()
      << ", peers on " << self.peer.str() << ", seed " << seed
      << " (replay with --node.seed=" << seed << ")" << std::endl;

  const int sig = wait_for_stop_signal();
  aegis::node::log_line(cfg.node_id) << "stopping on signal " << sig << std::endl;
  // Actors first: the calls they hold are answered ("node stopping") as their reply slots are
  // dropped, so gRPC's shutdown finds no call waiting for an answer.
  if (extra) caf::anon_send_exit(extra, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(telemetry, caf::exit_reason::user_shutdown);
  stop_actors();
  grpc_server->shutdown();
  return 0;
}

}  // namespace aegis::node
