// aegis-classifier: classifies a window of telemetry and prints its verdicts as JSON.
//   aegis-classifier --once --trace FILE         a recorded trace (the whole run is the window)
//   aegis-classifier --once --endpoints H:P,...  scrape live /metrics endpoints for --window-s
//   aegis-classifier --once --cluster-dir DIR    the same for a cluster of ./aegis cluster, whose
//                                                Raft config then goes into the document too
// The JSON on stdout is what `aegis-proposer --dry-run` reads on stdin.
#include <CLI/CLI.hpp>
#include <iostream>

#include "chaos/real/cluster_dir.hpp"
#include "config/schema.hpp"
#include "control/classifier.hpp"
#include "control/observer.hpp"

using namespace aegis;

int main(int argc, char** argv) {
  CLI::App app{"aegis-classifier: name the incident in a window of AEGIS telemetry"};
  bool once = false;
  std::string trace_path;
  std::vector<std::string> endpoints;
  double window_s = 20, period_s = 0.25;
  app.add_flag("--once", once, "classify one window and exit (the only mode)")->required();
  auto* t = app.add_option("--trace", trace_path, "a recorded trace (chaos/TRACE-FORMAT.md)");
  auto* e = app.add_option("--endpoints", endpoints, "metrics endpoints host:port, one per node")
                ->delimiter(',');
  std::string cluster_dir;
  auto* d =
      app.add_option("--cluster-dir", cluster_dir, "a cluster directory (./aegis cluster up)");
  t->excludes(e);
  d->excludes(t);
  d->excludes(e);
  app.add_option("--window-s", window_s, "live: seconds of scrapes to classify")
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--period-s", period_s, "live: seconds between scrape rounds")
      ->check(CLI::Range(0.05, 60.0));
  CLI11_PARSE(app, argc, argv);
  std::vector<std::pair<std::string, std::string>> config;
  if (!cluster_dir.empty()) {
    auto c = chaos::real::load_cluster(cluster_dir);
    if (auto* err = std::get_if<std::string>(&c)) {
      std::cerr << "aegis-classifier: " << *err << "\n";
      return 2;
    }
    const auto& info = std::get<chaos::real::cluster_info>(c);
    for (const auto& m : info.members)
      endpoints.push_back(m.metrics_addr);
    config = config::field_pairs(info.raft);
  }
  if (trace_path.empty() && endpoints.empty()) {
    std::cerr << "aegis-classifier: give --trace FILE, --endpoints H:P,... or --cluster-dir DIR\n";
    return 2;
  }
  auto obs = trace_path.empty() ? control::observe_live(endpoints, window_s, period_s, config)
                                : control::observe_trace(trace_path);
  if (auto* err = std::get_if<std::string>(&obs)) {
    std::cerr << "aegis-classifier: " << *err << "\n";
    return 2;
  }
  const auto& o = std::get<control::observation>(obs);
  const auto verdicts = control::classify(o.view);
  std::cout << control::to_json(o, verdicts).dump(2) << "\n";
  return 0;
}
