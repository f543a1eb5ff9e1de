// One line of the node's own log on stderr, prefixed with the UTC wall-clock time to the
// millisecond, so role changes and restarts can be lined up across nodes and with client logs.
#pragma once

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>

namespace aegis::node {

inline std::string log_time() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

// Starts a log line: "2026-11-28T01:02:03.456Z aegis-node 3: ".
inline std::ostream& log_line(uint64_t node_id) {
  return std::cerr << log_time() << " aegis-node " << node_id << ": ";
}

}  // namespace aegis::node
