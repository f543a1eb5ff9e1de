// aegis-chaos: runs chaos scripts against a real local cluster (one started by ./aegis cluster).
//   aegis-chaos run SCRIPT [--dir DIR] [--seed N] [--trace FILE] [--sample-ms MS] [--launcher SH]
// Ctrl-C or SIGTERM ends a run early: the load stops, paused nodes resume, every node's faults
// are cleared and the trace is still written.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>

#include "chaos/real/runner.hpp"

namespace {

std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void on_signal(int) {
  stop_requested = true;
}

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a closed pipe to the launcher must not end the run
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"aegis-chaos: chaos scripts against a real local AEGIS cluster"};
  app.require_subcommand(1);
  auto* run = app.add_subcommand("run", "run a chaos script against the cluster in --dir");
  aegis::chaos::real::run_options o;
  o.launcher = std::string(AEGIS_SOURCE_DIR) + "/config/cluster.sh";
  run->add_option("script", o.script_path, "chaos script file")->required();
  run->add_option("--dir", o.cluster_dir, "cluster directory (./aegis cluster up --dir)")
      ->capture_default_str();
  run->add_option("--seed", o.seed, "seed (default: the script's, else 1)");
  run->add_option("--trace", o.trace_path, "trace file (default traces/<script>-<seed>.trace)");
  run->add_option("--sample-ms", o.sample_ms, "metrics sampling period in ms")
      ->capture_default_str();
  run->add_option("--launcher", o.launcher, "the cluster launcher script")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  install_handlers();
  return aegis::chaos::real::run_chaos(o, stop_requested);
}
