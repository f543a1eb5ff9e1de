// aegis-agent: the control plane running continuously (control/actors/roles.hpp). Each cycle
// takes a window of telemetry, classifies it, takes every anomaly through advisor, envelope and
// verifier, hands the proposals to the proposer (dry-run by default) and writes a postmortem for
// a new incident, then prints one status line.
//
//   aegis-agent --endpoints H:P,... | --cluster-dir DIR | --trace FILE
//               [--window-s 20] [--period-s 0.25] [--cycles N] [--out DIR] [--no-dry-run]
//               [--config-repo R --config-file F] [--github-repo O/N] [--ledger PATH]
//               [--scripts-dir chaos/scripts]
//
// Exit codes: 0 done (N cycles, or SIGINT/SIGTERM), 2 bad arguments.
#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <csignal>
#include <iostream>

#include "chaos/real/cluster_dir.hpp"
#include "config/schema.hpp"
#include "control/actors/roles.hpp"
#include "control/actors/stages.hpp"

namespace {

using namespace aegis;
using namespace aegis::control::actors;

struct cli {
  std::vector<std::string> endpoints;
  std::string cluster_dir;
  std::string trace;
  bool no_dry_run = false;
  agent_settings s;
};

[[noreturn]] void bad_usage(const std::string& why) {
  std::cerr << "aegis-agent: " << why << std::endl;
  std::exit(2);
}

// The source options into the settings: endpoints (and Raft config) from a cluster directory.
void resolve_source(cli& c) {
  auto& src = c.s.source;
  if (!c.trace.empty()) {
    src.kind = "trace";
    src.trace_path = c.trace;
    return;
  }
  src.kind = "live";
  if (c.cluster_dir.empty()) {
    src.endpoints = c.endpoints;
    return;
  }
  auto loaded = chaos::real::load_cluster(c.cluster_dir);
  if (auto* err = std::get_if<std::string>(&loaded)) bad_usage("--cluster-dir: " + *err);
  const auto& info = std::get<chaos::real::cluster_info>(loaded);
  for (const auto& m : info.members)
    src.endpoints.push_back(m.metrics_addr);
  src.config = config::field_pairs(info.raft);
}

int wait_for_stop(caf::scoped_actor& self, const agent_actor& agent) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  self->monitor(agent);
  for (;;) {
    bool ended = false;
    self->receive([&](caf::down_msg&) { ended = true; },
                  caf::after(std::chrono::milliseconds(100)) >> [] {});
    if (ended) return 0;
    timespec none{0, 0};
    const int sig = sigtimedwait(&stop, nullptr, &none);
    if (sig == SIGINT || sig == SIGTERM) {
      std::cerr << "aegis-agent: stopping on signal " << sig
                << " (after the stage now running returns)" << std::endl;
      self->send_exit(agent, caf::exit_reason::user_shutdown);
      return 0;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Blocked before any thread starts, so only sigtimedwait() above receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  cli c;
  auto& s = c.s;
  s.out_dir = "aegis-agent-out";
  s.scripts_dir = "chaos/scripts";
  CLI::App app{"aegis-agent: observe, classify, verify and propose, one cycle per window"};
  auto* e = app.add_option("--endpoints", c.endpoints, "metrics endpoints HOST:PORT, node k at k")
                ->delimiter(',');
  auto* d = app.add_option("--cluster-dir", c.cluster_dir,
                           "a cluster directory (./aegis cluster up): endpoints and Raft config");
  auto* t = app.add_option("--trace", c.trace, "a recorded trace (chaos/TRACE-FORMAT.md)");
  e->excludes(d)->excludes(t);
  d->excludes(t);
  app.add_option("--window-s", s.source.window_s, "seconds of telemetry per cycle (and between)")
      ->check(CLI::Range(0.5, 3600.0))
      ->capture_default_str();
  app.add_option("--period-s", s.source.period_s, "seconds between scrape rounds")
      ->check(CLI::Range(0.05, 60.0))
      ->capture_default_str();
  auto* n = app.add_option("--cycles", s.cycles, "cycles to run (0: until stopped; --trace: 1)");
  app.add_option("--out", s.out_dir, "folder for proposals, postmortems and logs")
      ->capture_default_str();
  app.add_flag("--dry-run", s.proposer.dry_run, "write files only, no git or GitHub (default)");
  app.add_flag("--no-dry-run", c.no_dry_run,
               "branch + commit in --config-repo, PR with --github-repo (GITHUB_TOKEN)");
  app.add_option("--config-repo", s.proposer.config_repo, "local git repository of node configs");
  app.add_option("--config-file", s.proposer.config_file, "the config file a patch edits");
  app.add_option("--github-repo", s.proposer.github.repo, "owner/name (token from GITHUB_TOKEN)");
  app.add_option("--ledger", s.proposer.ledger_path,
                 "append-only ledger (default OUT/ledger.jsonl)");
  app.add_option("--scripts-dir", s.scripts_dir, "chaos scripts (fixtures for live incidents)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints the help, or the error with a hint
    return code == 0 ? 0 : 2;
  }

  if (c.endpoints.empty() && c.cluster_dir.empty() && c.trace.empty())
    bad_usage("give --endpoints H:P,..., --cluster-dir DIR or --trace FILE");
  resolve_source(c);
  if (s.source.kind == "trace" && n->count() == 0) s.cycles = 1;  // a trace does not change
  s.proposer.dry_run = !c.no_dry_run;
  if (const char* token = std::getenv("GITHUB_TOKEN")) s.proposer.github.token = token;
  if (s.proposer.ledger_path.empty()) s.proposer.ledger_path = s.out_dir + "/ledger.jsonl";
  if (auto why = settings_error(s); !why.empty()) bad_usage(why);

  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  const std::string source = s.source.kind == "trace" ? s.source.trace_path
                             : c.cluster_dir.empty()
                                 ? std::to_string(s.source.endpoints.size()) + " endpoints"
                                 : c.cluster_dir;
  std::cout << "aegis-agent: " << source << ", window " << s.source.window_s << "s, "
            << (s.cycles ? std::to_string(s.cycles) + " cycle(s)" : std::string("until stopped"))
            << ", " << (s.proposer.dry_run ? "dry-run" : "proposing") << ", files in " << s.out_dir
            << (s.source.kind == "live" && s.source.config.empty()
                    ? "; no Raft config given: the schema defaults are assumed"
                    : "")
            << std::endl;
  auto agent =
      spawn_pipeline(sys, s, {}, [](const std::string& line) { std::cout << line << std::endl; });
  caf::scoped_actor self{sys};
  return wait_for_stop(self, agent);
}
