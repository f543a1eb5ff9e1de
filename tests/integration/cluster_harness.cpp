// See cluster_harness.hpp.
#include "tests/integration/cluster_harness.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/integration/metrics_scrape.hpp"
#include "tests/integration/port_reservation.hpp"
#include "tests/integration/test_outcome.hpp"

namespace aegis::it {

namespace fs = std::filesystem;

namespace {

constexpr int default_election_timeout_ms_max = 2000;  // the node's default (raft_config.hpp)
constexpr auto poll_interval = 10ms;
constexpr auto status_call = 300ms;  // one Status call while polling for agreement
// CAF 0.17 takes a bool option on the command line as a bare flag; "--node.bootstrap=true" is
// refused by its parser (illegal_argument).
constexpr const char* bootstrap_flag = "--node.bootstrap";

std::string node_binary() {
  const char* bin = std::getenv("AEGIS_NODE_BIN");
  if (!bin || !*bin) throw std::runtime_error("AEGIS_NODE_BIN is not set (CTest sets it)");
  if (::access(bin, X_OK) != 0)
    throw std::runtime_error(std::string("node binary not found or not executable: ") + bin);
  return bin;
}

std::string make_temp_dir(const std::string& name) {
  std::string tmpl = "/tmp/aegis-it-" + name + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  return tmpl;
}

// "[harness +12.345s]": seconds since the test process started, to read timings off the output.
std::string stamp() {
  static const auto t0 = steady::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0);
  std::ostringstream out;
  out << "[harness +" << ms.count() / 1000 << "." << std::setw(3) << std::setfill('0')
      << ms.count() % 1000 << "s] ";
  return out.str();
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

std::string endpoint(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

}  // namespace

std::map<std::string, std::string> fast_raft() {
  return {{"heartbeat_interval_ms", "50ms"},
          {"election_timeout_ms_min", "500ms"},
          {"election_timeout_ms_max", "1000ms"}};
}

bool wait_until(const std::function<bool()>& pred, steady::time_point deadline) {
  for (;;) {
    if (pred()) return true;
    if (steady::now() >= deadline) return false;
    std::this_thread::sleep_for(poll_interval);
  }
}

std::string file_tail(const std::string& path, int lines) {
  std::ifstream in(path);
  if (!in) return "(no file " + path + ")\n";
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);)
    all.push_back(line);
  std::string out;
  const size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - lines : 0;
  for (size_t i = from; i < all.size(); ++i)
    out += all[i] + "\n";
  return out;
}

cluster::cluster(cluster_options opts)
    : opts_(std::move(opts)), node_bin_(node_binary()), dir_(make_temp_dir(opts_.name)) {
  nodes_.resize(opts_.nodes);
  for (auto& n : nodes_) {
    n.peer_port = reserve_port();
    n.client_port = reserve_port();
    n.metrics_port = reserve_port();
  }
  for (int id = 1; id <= size(); ++id) {
    fs::create_directories(dir_ + "/node" + std::to_string(id));
    write_config(id);
  }
  std::clog << stamp() << size() << "-node cluster in " << dir_ << "\n";
}

cluster::~cluster() {
  stop_everything();
  std::clog << stamp() << "cluster stopped\n";
  if (current_test_failed()) {
    std::clog << stamp() << "test failed: kept " << dir_ << "\n" << log_tails(40);
  } else if (std::getenv("AEGIS_IT_KEEP")) {
    std::clog << stamp() << "AEGIS_IT_KEEP is set: kept " << dir_ << "\n";
  } else {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

// SIGTERM to every running node, then wait; reports what a passing test would not show (a node
// that exited on its own earlier, ignored SIGTERM, or failed while stopping).
void cluster::stop_everything() {
  std::vector<int> stopping;
  for (int id = 1; id <= size(); ++id) {
    auto& n = slot(id);
    if (n.proc.running()) {
      n.proc.signal(SIGTERM);
      stopping.push_back(id);
    } else if (n.started && !n.ended_by_harness) {
      std::clog << stamp() << "note: node " << id << " had exited on its own ("
                << n.proc.exit()->str() << ")\n";
    }
  }
  const auto deadline = steady::now() + 5s;
  for (int id : stopping) {
    auto& proc = slot(id).proc;
    const auto e = proc.wait_until(deadline);
    if (!e)
      std::clog << stamp() << "note: node " << id
                << " ignored SIGTERM for 5 s: " << proc.kill().str() << "\n";
    else if (e->signaled || e->code != 0)
      std::clog << stamp() << "note: node " << id << " stopped with " << e->str() << "\n";
  }
}

cluster::node_slot& cluster::slot(int node) {
  if (node < 1 || node > size()) throw std::out_of_range("no node " + std::to_string(node));
  return nodes_[node - 1];
}

const cluster::node_slot& cluster::slot(int node) const {
  return const_cast<cluster*>(this)->slot(node);
}

std::string cluster::data_dir(int node) const {
  return dir_ + "/node" + std::to_string(node) + "/data";
}
std::string cluster::config_path(int node) const {
  return dir_ + "/node" + std::to_string(node) + "/node.ini";
}
std::string cluster::log_path(int node) const {
  return dir_ + "/node" + std::to_string(node) + "/node.log";
}
std::string cluster::stderr_path(int node) const {
  return dir_ + "/node" + std::to_string(node) + "/stderr.txt";
}
std::string cluster::client_address(int node) const {
  return endpoint(slot(node).client_port);
}

std::chrono::milliseconds cluster::election_timeout_max() const {
  const auto it = opts_.raft.find("election_timeout_ms_max");
  if (it == opts_.raft.end()) return std::chrono::milliseconds(default_election_timeout_ms_max);
  return std::chrono::milliseconds(std::stoul(it->second));  // "1000ms": stoul stops at "ms"
}

void cluster::write_config(int node) const {
  std::ofstream out(config_path(node));
  out << "[node]\nid=" << node << "\npeers=[";
  for (int id = 1; id <= size(); ++id)
    out << (id > 1 ? "," : "") << quoted(std::to_string(id) + "=" + endpoint(slot(id).peer_port));
  out << "]\nclients=[";
  for (int id = 1; id <= size(); ++id)
    out << (id > 1 ? "," : "") << quoted(std::to_string(id) + "=" + endpoint(slot(id).client_port));
  out << "]\nclient_listen=" << quoted(endpoint(slot(node).client_port))
      << "\nmetrics_listen=" << quoted(endpoint(slot(node).metrics_port))
      << "\ndata_dir=" << quoted(data_dir(node)) << "\n";
  if (!opts_.node_extra.count("fault_injection")) out << "fault_injection=false\n";
  for (const auto& [key, value] : opts_.node_extra)
    out << key << "=" << value << "\n";
  out << "[raft]\n";
  for (const auto& [key, value] : opts_.raft)
    out << key << "=" << value << "\n";
  if (!out) throw std::runtime_error("cannot write " + config_path(node));
}

void cluster::start_all() {
  for (int id = 1; id <= size(); ++id)
    start(id, {.bootstrap = true});
}

void cluster::start(int node, const start_options& opts) {
  auto& n = slot(node);
  std::lock_guard procs(procs_mu_);
  if (n.proc.running())
    throw std::logic_error("node " + std::to_string(node) + " is already running");
  std::vector<std::string> argv{node_bin_, "--config-file=" + config_path(node)};
  if (opts.bootstrap) argv.push_back(bootstrap_flag);
  argv.insert(argv.end(), opts.extra_args.begin(), opts.extra_args.end());
  if (opts.capture_stderr) std::ofstream(stderr_path(node), std::ios::trunc);
  {
    std::ofstream log(log_path(node), std::ios::app);
    log << "==== harness: start" << (opts.bootstrap ? " (bootstrap)" : "") << " ====\n";
  }
  n.proc = child_process::spawn(argv, log_path(node),
                                opts.capture_stderr ? stderr_path(node) : log_path(node));
  n.started = true;
  n.ended_by_harness = false;
  {
    std::lock_guard lock(clients_mu_);
    n.client = std::make_shared<etcd_client>(client_address(node));
  }
  std::clog << stamp() << "node " << node << " started, pid " << n.proc.pid()
            << (opts.bootstrap ? " (bootstrap)" : "") << "\n";
}

void cluster::kill(int node) {
  std::lock_guard procs(procs_mu_);
  slot(node).ended_by_harness = true;
  const auto e = slot(node).proc.kill();
  std::clog << stamp() << "node " << node << " killed (" << e.str() << ")\n";
}

void cluster::kill_all() {
  std::lock_guard procs(procs_mu_);
  for (auto& n : nodes_) {
    n.ended_by_harness = true;
    n.proc.signal(SIGKILL);
  }
  for (auto& n : nodes_)
    n.proc.kill();  // reaps
  std::clog << stamp() << "all nodes killed\n";
}

bool cluster::stop(int node, std::chrono::milliseconds grace) {
  std::lock_guard procs(procs_mu_);
  slot(node).ended_by_harness = true;
  const auto [e, clean] = slot(node).proc.terminate(steady::now() + grace);
  std::clog << stamp() << "node " << node << " stopped (" << e.str()
            << (clean ? "" : ", needed SIGKILL") << ")\n";
  return clean;
}

bool cluster::running(int node) {
  std::lock_guard procs(procs_mu_);
  return slot(node).proc.running();
}
pid_t cluster::pid(int node) const {
  std::lock_guard procs(procs_mu_);
  return slot(node).proc.pid();
}

std::optional<exit_info> cluster::wait_exit(int node, steady::time_point deadline) {
  std::lock_guard procs(procs_mu_);
  return slot(node).proc.wait_until(deadline);
}

const std::optional<exit_info>& cluster::exit(int node) const {
  return slot(node).proc.exit();
}

std::vector<int> cluster::live_nodes() {
  std::vector<int> live;
  for (int id = 1; id <= size(); ++id)
    if (running(id)) live.push_back(id);
  return live;
}

std::string cluster::stderr_text(int node) const {
  std::ifstream in(stderr_path(node));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<etcd_client> cluster::client(int node) {
  std::lock_guard lock(clients_mu_);
  auto& c = slot(node).client;
  if (!c) c = std::make_shared<etcd_client>(client_address(node));
  return c;
}

grpc::Status cluster::put(int node, const std::string& key, const std::string& value,
                          steady::time_point deadline) {
  return client(node)->put(key, value, deadline);
}

std::optional<std::string> cluster::get(int node, const std::string& key,
                                        steady::time_point deadline) {
  return client(node)->get(key, false, deadline).value;
}

read_result cluster::read(int node, const std::string& key, bool serializable,
                          steady::time_point deadline) {
  return client(node)->get(key, serializable, deadline);
}

std::optional<node_status> cluster::status(int node, steady::time_point deadline) {
  return client(node)->status(deadline);
}

uint16_t cluster::metrics_port(int node) const {
  return slot(node).metrics_port;
}

std::optional<double> cluster::metric(int node, const std::string& name) {
  const auto page = scrape_metrics(slot(node).metrics_port, 2s);
  if (!page) return std::nullopt;
  return metric_value(*page, name);
}

std::optional<uint64_t> cluster::agreed_leader() {
  const auto live = live_nodes();
  std::optional<node_status> first;
  for (int id : live) {
    const auto s = status(id, steady::now() + status_call);
    if (!s || s->leader == 0) return std::nullopt;
    if (first && (s->leader != first->leader || s->term != first->term)) return std::nullopt;
    if (!first) first = s;
  }
  if (!first) return std::nullopt;
  const auto leader = static_cast<int>(first->leader);
  if (std::find(live.begin(), live.end(), leader) == live.end()) return std::nullopt;
  return first->leader;
}

std::optional<uint64_t> cluster::wait_for_leader(steady::time_point deadline) {
  std::optional<uint64_t> leader;
  wait_until([&] { return (leader = agreed_leader()).has_value(); }, deadline);
  std::clog << stamp() << (leader ? "leader agreed: node " + std::to_string(*leader) : "no leader")
            << "\n";
  return leader;
}

std::string cluster::describe() {
  std::ostringstream out;
  for (int id = 1; id <= size(); ++id) {
    out << "node " << id << ": ";
    if (!slot(id).started) {
      out << "never started";
    } else if (!running(id)) {
      out << "not running (" << exit(id)->str() << ")";
    } else if (const auto s = status(id, steady::now() + status_call)) {
      out << "leader=" << s->leader << " term=" << s->term << " commit=" << s->raft_index
          << " applied=" << s->applied_index;
    } else {
      out << "running, no answer to Status";
    }
    out << "\n";
  }
  return out.str();
}

std::string cluster::log_tails(int lines) const {
  std::ostringstream out;
  for (int id = 1; id <= size(); ++id) {
    out << "---- node " << id << " log " << log_path(id) << " (last " << lines << " lines)\n"
        << file_tail(log_path(id), lines);
    if (fs::exists(stderr_path(id)))
      out << "---- node " << id << " stderr " << stderr_path(id) << "\n"
          << file_tail(stderr_path(id), lines);
  }
  return out.str();
}

}  // namespace aegis::it
