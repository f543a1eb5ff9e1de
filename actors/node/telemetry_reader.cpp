#include "actors/node/telemetry_reader.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <caf/all.hpp>

#include "actors/node/metrics.hpp"

namespace aegis::node {

std::string exposition_text(const node_metrics& m) {
  std::vector<prometheus::MetricFamily> families;
  if (m.registry) families = m.registry->Collect();
  if (m.process) {
    auto more = m.process->Collect();
    families.insert(families.end(), more.begin(), more.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

namespace {

struct reader_state {
  std::shared_ptr<const node_metrics> metrics;
};

telemetry_reader_actor::behavior_type reader(
    telemetry_reader_actor::stateful_pointer<reader_state> self,
    std::shared_ptr<const node_metrics> metrics) {
  self->state.metrics = std::move(metrics);
  return {
      [=](scrape_atom) { return exposition_text(*self->state.metrics); },
  };
}

}  // namespace

telemetry_reader_actor spawn_telemetry_reader(caf::actor_system& sys,
                                              std::shared_ptr<const node_metrics> metrics) {
  return sys.spawn(reader, std::move(metrics));
}

}  // namespace aegis::node
