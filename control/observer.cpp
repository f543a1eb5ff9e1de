#include "control/observer.hpp"

#include <chrono>
#include <thread>

#include "chaos/real/sampler.hpp"

namespace aegis::control {

std::variant<observation, std::string> observe_trace(const std::string& path) {
  auto loaded = chaos::trace::load_trace(path);
  if (auto* err = std::get_if<chaos::trace::read_error>(&loaded)) return err->to_string();
  auto& t = std::get<chaos::trace::trace>(loaded);
  return observation{.kind = "trace",
                     .trace_path = path,
                     .script_name = t.script_name,
                     .script_text = t.script_text,
                     .seed = t.seed,
                     .config = t.config,
                     .view = telemetry_view(std::move(t.metrics), t.config)};
}

namespace {

bool valid_endpoint(const std::string& e) {
  const auto colon = e.rfind(':');
  return colon != std::string::npos && colon > 0 && colon + 1 < e.size() &&
         e.find_first_of(" /?#@") == std::string::npos;
}

}  // namespace

std::variant<observation, std::string> observe_live(
    const std::vector<std::string>& endpoints, double window_s, double period_s,
    std::vector<std::pair<std::string, std::string>> config) {
  if (endpoints.empty()) return std::string("no endpoints");
  for (const auto& e : endpoints)
    if (!valid_endpoint(e)) return "bad endpoint '" + e + "' (expected host:port)";
  using clock = std::chrono::steady_clock;
  const auto period =
      std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(period_s));
  const auto timeout = std::chrono::milliseconds(std::max<int64_t>(
      50, int64_t(period_s * 800)));  // below the period, so a hung node cannot stall a round
  const auto start = clock::now();
  const int rounds = std::max(1, int(window_s / period_s + 0.5));
  std::vector<chaos::trace::metric_sample> samples;
  for (int r = 0; r < rounds; ++r) {
    std::this_thread::sleep_until(start + r * period);  // pacing of the scrape rounds
    const int64_t at_us =
        std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - start).count();
    const auto bodies = chaos::real::scrape_all(endpoints, timeout);
    for (size_t k = 0; k < bodies.size(); ++k) {
      chaos::trace::metric_sample m{.at_us = at_us, .node = uint32_t(k + 1), .up = bool(bodies[k])};
      if (bodies[k]) m.values = chaos::trace::series_from_exposition(*bodies[k]);
      samples.push_back(std::move(m));
    }
  }
  return observation{.kind = "live",
                     .endpoints = endpoints,
                     .config = config,
                     .view = telemetry_view(std::move(samples), config)};
}

nlohmann::json to_json(const observation& o, const std::vector<verdict>& verdicts) {
  nlohmann::json source = {{"kind", o.kind}};
  if (o.kind == "trace") {
    source["trace"] = o.trace_path;
    source["script"] = o.script_name;
    source["seed"] = o.seed;
  } else {
    source["endpoints"] = o.endpoints;
  }
  nlohmann::json config = nlohmann::json::object();
  for (const auto& [k, v] : o.config)
    config[k] = v;
  nlohmann::json vs = nlohmann::json::array();
  for (const auto& v : verdicts)
    vs.push_back(to_json(v));
  return {{"source", source},
          {"window", {{"from_us", o.view.from_us()}, {"to_us", o.view.to_us()}}},
          {"nodes", o.view.nodes()},
          {"config", config},
          {"verdicts", vs}};
}

}  // namespace aegis::control
