// See runner.hpp.
#include "chaos/real/runner.hpp"

#include <curl/curl.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "chaos/real/cluster_dir.hpp"
#include "chaos/real/fault_timeline.hpp"
#include "chaos/real/lease_holders.hpp"
#include "chaos/real/load.hpp"
#include "chaos/real/sampler.hpp"
#include "chaos/real/summary.hpp"
#include "chaos/real/validate.hpp"
#include "config/schema.hpp"

namespace aegis::chaos::real {

namespace {

// Everything the checks before the run established.
struct prepared {
  script s;
  cluster_info cluster;
  uint64_t seed = 1;
  std::string trace_path;
};

int refuse(const std::string& message) {
  std::cerr << message << "\n";
  return 2;
}

// Reads, parses and checks the script against the cluster; 0 or the exit code of a refusal.
int prepare(const run_options& o, prepared& p) {
  if (o.sample_ms < 10 || o.sample_ms > 60'000)
    return refuse("aegis-chaos: --sample-ms must be 10..60000, got " + std::to_string(o.sample_ms));
  std::ifstream in(o.script_path);
  if (!in) return refuse(o.script_path + ":0:0: cannot read the script");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_script(text.str(), o.script_path);
  if (auto* e = std::get_if<parse_error>(&parsed)) return refuse(e->to_string());
  p.s = std::get<script>(std::move(parsed));
  // Resolved as the launcher resolves it (realpath -m), so the node command lines match.
  std::error_code ec;
  auto dir = std::filesystem::weakly_canonical(std::filesystem::absolute(o.cluster_dir, ec), ec);
  auto c = load_cluster(ec ? o.cluster_dir : dir.string());
  if (auto* e = std::get_if<std::string>(&c)) return refuse("aegis-chaos: " + *e);
  p.cluster = std::get<cluster_info>(std::move(c));
  if (auto e = check_against_cluster(p.s, text.str(), p.cluster)) return refuse(e->to_string());
  if (!std::filesystem::exists(o.launcher))
    return refuse("aegis-chaos: no launcher at " + o.launcher + " (--launcher PATH)");
  p.seed = o.seed.value_or(p.s.seed.value_or(1));
  p.trace_path = o.trace_path;
  if (p.trace_path.empty())
    p.trace_path = "traces/" + std::filesystem::path(o.script_path).stem().string() + "-" +
                   std::to_string(p.seed) + ".trace";
  return 0;
}

void note_ignored(const script& s) {
  const script defaults;
  if (s.network.latency_min_us != defaults.network.latency_min_us ||
      s.network.latency_max_us != defaults.network.latency_max_us || s.network.drop_percent != 0 ||
      s.network.duplicate_percent != 0 || s.fsync_us != defaults.fsync_us)
    std::cerr << "aegis-chaos: note: `network` and `fsync` describe the simulator's healthy "
                 "cluster; a real cluster has its own (use drop/delay/slow-fsync faults)\n";
}

int64_t since_us(steady::time_point origin) {
  return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - origin).count();
}

// The faults at their times until the script's duration or a stop request.
void run_timeline(fault_timeline& timeline, const script& s, steady::time_point origin,
                  const std::atomic<bool>& stop) {
  while (!stop) {
    const int64_t now = since_us(origin);
    if (now >= s.duration_us) break;
    timeline.step(now);
    // Short sleeps: faults fire on time and a signal is noticed within ~50 ms.
    const int64_t wake = std::min({timeline.next_due_us(), s.duration_us, now + 50'000});
    if (wake > since_us(origin))
      std::this_thread::sleep_for(std::chrono::microseconds(wake - since_us(origin)));
  }
}

}  // namespace

namespace {

// The trace's header: what ran, where, with which config.
trace::trace base_trace(const prepared& p, uint32_t sample_ms) {
  trace::trace t;
  t.source = "real";
  t.script_name = p.s.name;
  t.seed = p.seed;
  t.nodes = p.cluster.nodes;
  t.started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  t.sample_period_us = int64_t{sample_ms} * 1000;
  t.config = config::field_pairs(p.cluster.raft);
  t.script_text = format_script(p.s);
  return t;
}

// The client load and lease holders of the script, if it has a load line.
struct load_parts {
  std::unique_ptr<client_load> clients;
  std::unique_ptr<lease_holders> leases;

  void start(const script& s, node_api& api, uint64_t seed, steady::time_point origin,
             int64_t started_unix_ms) {
    if (!s.load) return;
    const std::string prefix = "chaos/" + std::to_string(started_unix_ms) + "/";
    clients = std::make_unique<client_load>(*s.load, api, seed, origin, prefix);
    clients->start();
    if (s.load->leases == 0) return;
    // A keep-alive round waits at most the op timeout, and at most a third of the TTL (so a
    // silent node is noticed before the lease could expire).
    const auto round =
        std::chrono::milliseconds(std::min(s.load->timeout_us, s.load->lease_ttl_us / 3) / 1000);
    leases = std::make_unique<lease_holders>(s.load->leases, s.load->lease_ttl_us, api,
                                             std::max(round, std::chrono::milliseconds(100)));
    leases->start();
  }
  void stop(run_facts& f) {
    if (clients) clients->stop();
    if (leases) leases->stop();
    f.load = clients != nullptr;
    f.history_truncated = clients && clients->truncated();
    f.leases = leases != nullptr;
    if (leases) f.lease = leases->stats();
  }
};

void print_summary(const trace::trace& t, const std::string& path) {
  std::cout << "summary:\n";
  for (const auto& [k, v] : t.summary)
    std::cout << "  " << k << " = " << v << "\n";
  std::cout << "trace: " << path << " (digest " << t.digest << ")\n";
}

// The outcome: checks the history, writes the trace, prints the summary; the exit code.
int finish(trace::trace& t, run_facts& f, const std::string& path) {
  if (f.load && !f.history_truncated) f.lin = check_linearizable(t.ops);
  t.summary = summarize(t, f);
  const std::string err = trace::save_text(path, trace::write_trace(t));
  print_summary(t, path);
  if (f.load && f.lin.verdict != lin_verdict::linearizable)
    std::cerr << "aegis-chaos: history not proven linearizable (key " << f.lin.key << "):\n"
              << f.lin.explanation << "\n";
  if (!err.empty()) {
    std::cerr << "aegis-chaos: writing the trace failed: " << err << "\n";
    return 1;
  }
  if (f.interrupted) return 130;
  return f.load && (f.history_truncated || f.lin.verdict != lin_verdict::linearizable) ? 1 : 0;
}

// After each launcher command (on its worker thread).
void on_launched(uint32_t node, const std::string& cmd, const launcher_result& r, node_api& api,
                 fault_timeline& timeline) {
  if (cmd == "restart") timeline.restart_done(node, r.ok);
  if (!r.ok) {
    std::cerr << "aegis-chaos: launcher " << cmd << " " << node << " failed: " << r.output << "\n";
    return;
  }
  // A channel whose connection attempt hung on the stopping process can stay failed for ~20 s
  // (gRPC's minimum connect timeout) after the node listens again: start a fresh one.
  if (cmd == "restart" || cmd == "resume") api.reconnect(node);
}

int execute(const prepared& p, const run_options& o, const std::atomic<bool>& stop) {
  node_api api(p.cluster);
  if (auto e = probe_nodes(p.s, p.cluster, api)) return refuse(e->to_string());
  if (stop) return 130;
  note_ignored(p.s);
  std::cout << "aegis-chaos: " << p.s.name << " on the " << p.cluster.nodes << "-node cluster in "
            << p.cluster.dir << ", seed " << p.seed << ", " << p.s.duration_us / 1000 << " ms"
            << std::endl;
  const auto origin = steady::now();
  trace::trace t = base_trace(p, o.sample_ms);
  std::vector<std::string> addrs;
  for (const auto& m : p.cluster.members)
    addrs.push_back(m.metrics_addr);
  metrics_sampler sampler(addrs, std::chrono::milliseconds(o.sample_ms), origin);
  sampler.start();
  fault_timeline* timeline_ptr = nullptr;  // set before the first launcher command is posted
  launcher_queue launcher(
      o.launcher, p.cluster.dir, p.cluster.nodes,
      [&timeline_ptr, &api](uint32_t node, const std::string& cmd, const launcher_result& r) {
        on_launched(node, cmd, r, api, *timeline_ptr);
      });
  fault_timeline timeline(p.s, p.cluster.dir, api, launcher, p.seed, stop);
  timeline_ptr = &timeline;
  load_parts load;
  load.start(p.s, api, p.seed, origin, t.started_unix_ms);
  run_timeline(timeline, p.s, origin, stop);
  run_facts f;
  f.interrupted = stop;
  if (f.interrupted) std::cout << "aegis-chaos: interrupted; healing and writing the trace\n";
  load.stop(f);
  timeline.cleanup(since_us(origin), f.interrupted);
  sampler.stop();
  f.ran_us = since_us(origin);
  f.faults_fired = timeline.fired();
  f.faults_skipped = timeline.skipped();
  f.samples_dropped = sampler.dropped();
  t.faults = timeline.take_events();
  t.roles = sampler.take_roles();
  t.metrics = sampler.take_samples();
  if (load.clients) t.ops = load.clients->take();
  return finish(t, f, p.trace_path);
}

}  // namespace

int run_chaos(const run_options& o, const std::atomic<bool>& stop) {
  prepared p;
  if (int rc = prepare(o, p); rc != 0) return rc;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = execute(p, o, stop);
  curl_global_cleanup();
  return rc;
}

}  // namespace aegis::chaos::real
