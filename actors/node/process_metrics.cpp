#include "actors/node/process_metrics.hpp"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

namespace aegis::node {

namespace {

// The fields of /proc/self/stat after the command name (which may hold spaces and parentheses,
// hence the split at the last ')'); fields()[0] is field 3 of proc(5), "state".
std::vector<std::string> stat_fields() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> out;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream rest(line.substr(close + 1));
  for (std::string f; rest >> f;)
    out.push_back(f);
  return out;
}

// proc(5) field number -> index into stat_fields().
constexpr size_t field(size_t n) {
  return n - 3;
}

double field_value(const std::vector<std::string>& f, size_t n) {
  // strtod, not stod: a scrape must never throw on the exposer's thread.
  return field(n) < f.size() ? std::strtod(f[field(n)].c_str(), nullptr) : 0.0;
}

// Boot time from /proc/stat's btime line, seconds since the epoch.
double boot_time_s() {
  std::ifstream in("/proc/stat");
  for (std::string key; in >> key;) {
    if (key == "btime") {
      double v = 0;
      in >> v;
      return v;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

size_t open_fds() {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n > 0 ? n - 1 : 0;  // the directory iterator's own descriptor is in the listing
}

prometheus::MetricFamily family(const std::string& name, const std::string& help,
                                prometheus::MetricType type, const std::string& node,
                                double value) {
  prometheus::ClientMetric m;
  m.label.push_back({"node", node});
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return {name, help, type, {m}};
}

class process_collector : public prometheus::Collectable {
 public:
  explicit process_collector(std::string node) : node_(std::move(node)) {
    // The start time never changes: compute it once (it needs /proc/stat as well).
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    start_time_s_ = boot_time_s() + field_value(stat_fields(), 22) / ticks;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    using T = prometheus::MetricType;
    const auto f = stat_fields();
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    return {
        family("process_resident_memory_bytes", "resident memory size in bytes", T::Gauge, node_,
               field_value(f, 24) * page),
        family("process_cpu_seconds_total", "user and system CPU time spent in seconds", T::Counter,
               node_, (field_value(f, 14) + field_value(f, 15)) / ticks),
        family("process_start_time_seconds", "start time of the process since unix epoch", T::Gauge,
               node_, start_time_s_),
        family("process_open_fds", "number of open file descriptors", T::Gauge, node_,
               static_cast<double>(open_fds())),
    };
  }

 private:
  std::string node_;
  double start_time_s_ = 0;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> make_process_collector(const std::string& node_label) {
  return std::make_shared<process_collector>(node_label);
}

}  // namespace aegis::node
