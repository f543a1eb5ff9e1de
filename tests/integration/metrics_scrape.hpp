// Reads one value from a node's Prometheus /metrics page (plain HTTP/1.0 over a loopback
// socket), so tests can confirm internal events the etcd API does not show, such as snapshots.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aegis::it {

// The whole /metrics page served on 127.0.0.1:port, or nullopt (no answer by the deadline).
std::optional<std::string> scrape_metrics(uint16_t port, std::chrono::milliseconds timeout);

// The value of the first sample of metric `name` (with or without labels) in a metrics page.
std::optional<double> metric_value(const std::string& page, const std::string& name);

// The sum of the samples of metric `name` whose labels include every one of `labels` (each
// written as in the page: `method="Put"`); nullopt when no sample matches.
std::optional<double> metric_sum(const std::string& page, const std::string& name,
                                 const std::vector<std::string>& labels);

// Whether the page declares a metric family `name` (its "# TYPE name ..." line).
bool has_family(const std::string& page, const std::string& name);

}  // namespace aegis::it
