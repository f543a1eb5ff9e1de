// The observer actor: keeps the newest window of telemetry and answers each cycle's request with
// it. A trace source is read once; live and node sources are sampled every period by the actor
// itself (a self-message, never a sleep), so a cycle never waits for its window to fill.
#include <algorithm>
#include <chrono>
#include <optional>

#include "chaos/real/sampler.hpp"
#include "control/actors/internal.hpp"
#include "control/actors/roles.hpp"
#include "control/actors/stages.hpp"

namespace aegis::control::actors {

namespace {

using clock_type = std::chrono::steady_clock;

struct observer_state {
  source_settings s;
  node::telemetry_reader_actor reader;  // kind "node" only
  rolling_window recent{0, 1};
  clock_type::time_point origin;
  int64_t started_unix_ms = 0;
  bool scrape_pending = false;  // kind "node": at most one scrape in flight (bounded)
  std::optional<window> trace;  // kind "trace": read on the first request
};
using observer_pointer = observer_actor::stateful_pointer<observer_state>;

int64_t now_us(const observer_state& st) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - st.origin)
      .count();
}

// Every node's /metrics at once; a node that does not answer within most of a period is down
// for this round, so one hung node cannot stall the others.
void sample_endpoints(observer_state& st) {
  const auto timeout = std::chrono::milliseconds(std::max<int64_t>(50, st.s.period_s * 800));
  const int64_t at_us = now_us(st);
  const auto pages = chaos::real::scrape_all(st.s.endpoints, timeout);
  std::vector<chaos::trace::metric_sample> round;
  for (size_t k = 0; k < pages.size(); ++k)
    round.push_back(sample_from_page(at_us, uint32_t(k + 1), pages[k]));
  st.recent.push(std::move(round));
}

void sample_reader(observer_pointer self) {
  auto& st = self->state;
  if (st.scrape_pending) return;  // the last scrape is still out: skip rather than queue
  st.scrape_pending = true;
  const int64_t at_us = now_us(st);
  self->request(st.reader, ms_of(st.s.period_s), node::scrape_atom::value)
      .then(
          [=](std::string& page) {
            self->state.scrape_pending = false;
            self->state.recent.push({sample_from_page(at_us, self->state.s.node_id, page)});
          },
          [=](caf::error&) {
            self->state.scrape_pending = false;
            self->state.recent.push({sample_from_page(at_us, self->state.s.node_id, {})});
          });
}

void on_sample(observer_pointer self) {
  auto& st = self->state;
  if (st.s.kind == "live") sample_endpoints(st);
  if (st.s.kind == "node") sample_reader(self);
  self->delayed_send(self, ms_of(st.s.period_s), sample_atom::value);
}

window on_observe(observer_pointer self, uint64_t cycle) {
  auto& st = self->state;
  window w;
  if (st.s.kind == "trace") {
    if (!st.trace) st.trace = window_from_trace(st.s.trace_path);
    w = *st.trace;
  } else {
    w.kind = st.s.kind;
    w.source = st.s.kind == "node" ? "node " + std::to_string(st.s.node_id) : "";
    for (const auto& e : st.s.endpoints)
      w.source += (w.source.empty() ? "" : ",") + e;
    w.endpoints = st.s.endpoints;
    w.config = st.s.config;
    w.sample_period_us = int64_t(st.s.period_s * 1e6);
    w.started_unix_ms = st.started_unix_ms;
    w.samples = st.recent.samples();
    const bool any_up = std::any_of(w.samples.begin(), w.samples.end(),
                                    [](const chaos::trace::metric_sample& m) { return m.up; });
    // A window in which nothing answered tells nothing about the cluster: not "healthy".
    if (w.samples.empty())
      w.error = "no telemetry sampled yet from " + w.source;
    else if (!any_up)
      w.error = "no scrape of " + w.source + " answered in the window";
  }
  w.cycle = cycle;
  return w;
}

observer_actor::behavior_type observer_fn(observer_pointer self, source_settings s,
                                          node::telemetry_reader_actor reader) {
  auto& st = self->state;
  st.recent = rolling_window(int64_t(s.window_s * 1e6), rounds_for(s.window_s, s.period_s));
  st.origin = clock_type::now();
  st.started_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  st.s = std::move(s);
  st.reader = std::move(reader);
  if (st.s.kind != "trace") self->send(self, sample_atom::value);
  return {
      [=](observe_atom, uint64_t cycle) { return on_observe(self, cycle); },
      [=](sample_atom) { on_sample(self); },
  };
}

}  // namespace

observer_actor spawn_observer(caf::actor_system& sys, source_settings s,
                              node::telemetry_reader_actor reader) {
  // Detached: an HTTP scrape blocks its thread for up to most of a period.
  return sys.spawn<caf::detached>(observer_fn, std::move(s), std::move(reader));
}

}  // namespace aegis::control::actors
