// aegis-classifier: classifies a window of telemetry and prints its verdicts as JSON.
//   aegis-classifier --once --trace FILE         a recorded trace (the whole run is the window)
//   aegis-classifier --once --endpoints H:P,...  scrape live /metrics endpoints for --window-s
// The JSON on stdout is what `aegis-proposer --dry-run` reads on stdin.
#include <CLI/CLI.hpp>
#include <iostream>

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
  t->excludes(e);
  app.add_option("--window-s", window_s, "live: seconds of scrapes to classify")
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--period-s", period_s, "live: seconds between scrape rounds")
      ->check(CLI::Range(0.05, 60.0));
  CLI11_PARSE(app, argc, argv);
  if (trace_path.empty() && endpoints.empty()) {
    std::cerr << "aegis-classifier: give --trace FILE or --endpoints H:P,...\n";
    return 2;
  }
  auto obs = trace_path.empty() ? control::observe_live(endpoints, window_s, period_s)
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
