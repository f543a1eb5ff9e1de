// The standard Prometheus process metrics for the node: process_resident_memory_bytes,
// process_cpu_seconds_total, process_start_time_seconds and process_open_fds, labelled node="K".
// Read from /proc/self when /metrics is scraped (on the exposer's HTTP thread), so no actor does
// any of this work and the values are as fresh as the scrape.
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace aegis::node {

std::shared_ptr<prometheus::Collectable> make_process_collector(const std::string& node_label);

}  // namespace aegis::node
