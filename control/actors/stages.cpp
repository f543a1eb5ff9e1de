#include "control/actors/stages.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "chaos/real/sampler.hpp"
#include "config/schema.hpp"
#include "control/advisor/advisor.hpp"

namespace aegis::control::actors {

// ---- Observing -----------------------------------------------------------------------------

rolling_window::rolling_window(int64_t window_us, size_t max_rounds)
    : window_us_(window_us), max_rounds_(std::max<size_t>(1, max_rounds)) {}

void rolling_window::push(std::vector<chaos::trace::metric_sample> round) {
  if (round.empty()) return;
  const int64_t newest_us = round.front().at_us;
  rounds_.push_back(std::move(round));
  while (rounds_.size() > max_rounds_ ||
         (!rounds_.empty() && rounds_.front().front().at_us < newest_us - window_us_))
    rounds_.pop_front();
}

std::vector<chaos::trace::metric_sample> rolling_window::samples() const {
  std::vector<chaos::trace::metric_sample> out;
  for (const auto& round : rounds_)
    out.insert(out.end(), round.begin(), round.end());
  return out;
}

size_t rounds_for(double window_s, double period_s) {
  if (period_s <= 0) return 1;
  return size_t(std::ceil(window_s / period_s)) + 1;
}

window window_from_trace(const std::string& path) {
  window w{.kind = "trace", .source = path};
  auto loaded = chaos::trace::load_trace(path);
  if (auto* err = std::get_if<chaos::trace::read_error>(&loaded)) {
    w.error = err->to_string();
    return w;
  }
  auto& t = std::get<chaos::trace::trace>(loaded);
  w.script_name = t.script_name;
  w.seed = t.seed;
  w.config = t.config;
  w.sample_period_us = t.sample_period_us;
  w.started_unix_ms = t.started_unix_ms;
  w.samples = std::move(t.metrics);
  return w;
}

chaos::trace::metric_sample sample_from_page(int64_t at_us, uint32_t node,
                                             const std::optional<std::string>& page) {
  chaos::trace::metric_sample s{.at_us = at_us, .node = node, .up = page.has_value()};
  if (page) s.values = chaos::trace::series_from_exposition(*page);
  return s;
}

// ---- Stages --------------------------------------------------------------------------------

observation observation_of(const window& w) {
  return observation{.kind = w.kind == "trace" ? "trace" : "live",
                     .trace_path = w.kind == "trace" ? w.source : "",
                     .script_name = w.script_name,
                     .seed = w.seed,
                     .endpoints = w.endpoints,
                     .config = w.config,
                     .view = telemetry_view(w.samples, w.config)};
}

namespace {

// The window's config over the schema defaults; a key the schema refuses is left at its default
// (the trace reader and the cluster loader have validated these already).
config::raft_config config_of(const window& w) {
  config::raft_config c;
  for (const auto& [k, v] : w.config)
    (void)config::set_field(c, k, v);
  return c;
}

}  // namespace

stage_inputs inputs_for(const window& w, const std::string& config_file) {
  stage_inputs in;
  in.current = config_of(w);
  in.facts = facts_from(telemetry_view(w.samples, w.config));
  in.config_file = config_file;
  return in;
}

std::optional<chaos::script> incident_for(const window& w, incident_class c,
                                          const std::string& scripts_dir, std::string& name) {
  if (w.kind == "trace") {
    auto loaded = chaos::trace::load_trace(w.source);
    if (auto* t = std::get_if<chaos::trace::trace>(&loaded)) {
      auto s = chaos::trace::script_of(*t);
      if (auto* sc = std::get_if<chaos::script>(&s)) {
        name = w.source;
        return std::move(*sc);
      }
    }
  }
  name = "fixture " + std::string(name_of(c)) + ".chaos";
  return fixture_script(c, scripts_dir);
}

namespace {

std::string compact_utc(int64_t unix_ms) {
  const std::time_t t = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

// Role changes as a real run's sampler records them: one event per node whenever its role or
// term as read from its metrics changes ("down" for a failed scrape).
std::vector<chaos::trace::role_event> roles_of(const std::vector<chaos::trace::metric_sample>& ss) {
  std::vector<chaos::trace::role_event> out;
  std::map<uint32_t, std::pair<std::string, uint64_t>> last;
  for (const auto& s : ss) {
    auto role = s.up ? chaos::real::role_of(s.values) : std::pair<std::string, uint64_t>{"down", 0};
    auto it = last.find(s.node);
    if (it != last.end() && it->second == role) continue;
    last[s.node] = role;
    out.push_back({.at_us = s.at_us, .node = s.node, .role = role.first, .term = role.second});
  }
  return out;
}

}  // namespace

chaos::trace::trace trace_for(const window& w) {
  if (w.kind == "trace") {
    auto loaded = chaos::trace::load_trace(w.source);
    if (auto* t = std::get_if<chaos::trace::trace>(&loaded)) return std::move(*t);
  }
  chaos::trace::trace t;
  t.source = "live";
  t.script_name = "live-" + compact_utc(w.started_unix_ms +
                                        (w.samples.empty() ? 0 : w.samples.back().at_us / 1000));
  t.seed = w.cycle;
  std::set<uint32_t> nodes;
  for (const auto& s : w.samples)
    nodes.insert(s.node);
  t.nodes = uint32_t(nodes.size());
  t.started_unix_ms = w.started_unix_ms;
  t.sample_period_us = w.sample_period_us;
  t.config = w.config.empty() ? config::field_pairs(config::raft_config{}) : w.config;
  t.roles = roles_of(w.samples);
  t.metrics = w.samples;
  return t;
}

// ---- Reporting -----------------------------------------------------------------------------

std::vector<std::pair<std::string, uint32_t>> count_by_status(const std::vector<proposal>& ps) {
  std::vector<std::pair<std::string, uint32_t>> out;
  for (const auto& p : ps) {
    auto it =
        std::find_if(out.begin(), out.end(), [&](const auto& e) { return e.first == p.status; });
    if (it == out.end())
      out.emplace_back(p.status, 1);
    else
      ++it->second;
  }
  return out;
}

namespace {

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

template <class T, class F>
std::string joined(const std::vector<T>& xs, const char* sep, F&& f) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : sep) + f(x);
  return out;
}

}  // namespace

std::string status_line(const cycle_outcome& o, const std::string& utc_time) {
  std::ostringstream line;
  line << utc_time << " cycle " << o.cycle;
  if (!o.window_error.empty()) {
    line << " no window: " << o.window_error;
    return line.str();
  }
  line << " window " << fixed(o.window_s, 1) << "s (" << o.source_kind << ", " << o.nodes
       << (o.nodes == 1 ? " node" : " nodes") << ")";
  line << " verdicts "
       << (o.verdicts.empty() ? std::string("none") : joined(o.verdicts, ",", [](const verdict& v) {
            return std::string(name_of(v.cls)) + ":" + fixed(v.confidence, 2);
          }));
  line << " proposals "
       << (o.by_status.empty() ? std::string("none") : joined(o.by_status, ",", [](const auto& e) {
            return e.first + "=" + std::to_string(e.second);
          }));
  if (!o.causes.empty())
    line << " causes " << joined(o.causes, ",", [](const auto& c) { return c; });
  if (!o.files.empty()) line << " files " << joined(o.files, ",", [](const auto& f) { return f; });
  if (!o.errors.empty())
    line << " errors: " << joined(o.errors, "; ", [](const auto& e) { return e; });
  line << " took " << fixed(o.took_s, 2) << "s";
  return line.str();
}

}  // namespace aegis::control::actors
