// Append-only JSON lines (ledger.hpp).
#include "control/proposer/ledger.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace aegis::control::proposer {

using nlohmann::json;

namespace {

json to_line(const ledger_entry& e) {
  json patch = json::array();
  for (const auto& c : e.patch)
    patch.push_back({{"key", c.key}, {"from", c.from}, {"to", c.to}});
  json j = {{"at", e.at},
            {"id", e.id},
            {"status", e.status},
            {"class", e.cls},
            {"confidence", e.confidence},
            {"summary", e.summary},
            {"patch", patch},
            {"rationale", e.rationale},
            {"target_metric", e.target_metric},
            {"explanation", e.explanation},
            {"failed_rules", e.failed_rules},
            {"config_file", e.config_file},
            {"outcome", e.outcome}};
  j["improved"] = e.improved ? json(*e.improved) : json(nullptr);
  return j;
}

ledger_entry from_line(const json& j) {
  ledger_entry e;
  e.at = j.at("at").get<std::string>();
  e.id = j.at("id").get<std::string>();
  e.status = j.at("status").get<std::string>();
  e.cls = j.value("class", "");
  e.confidence = j.value("confidence", 0.0);
  e.summary = j.value("summary", "");
  for (const auto& c : j.value("patch", json::array()))
    e.patch.push_back({c.at("key").get<std::string>(), c.value("from", ""), c.value("to", "")});
  e.rationale = j.value("rationale", "");
  e.target_metric = j.value("target_metric", "");
  if (j.contains("improved") && j["improved"].is_boolean()) e.improved = j["improved"].get<bool>();
  e.explanation = j.value("explanation", "");
  e.failed_rules = j.value("failed_rules", std::vector<std::string>{});
  e.config_file = j.value("config_file", "");
  e.outcome = j.value("outcome", "");
  return e;
}

[[noreturn]] void io_fail(const std::string& what, const std::string& path) {
  throw std::runtime_error("ledger " + path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ledger_entry ledger_entry_for(const proposal& p, const std::string& outcome) {
  ledger_entry e;
  e.at = utc_now();
  e.id = p.id;
  e.status = p.status;
  e.cls = std::string(name_of(p.incident.cls));
  e.confidence = p.incident.confidence;
  e.summary = p.incident.summary;
  e.patch = p.advice.patch;
  e.rationale = p.advice.rationale;
  e.target_metric = p.advice.target_metric;
  if (p.verified) {
    e.improved = p.verified->improved;
    e.explanation = p.verified->explanation;
  }
  for (const auto& c : p.envelope)
    if (!c.passed) e.failed_rules.push_back(c.rule);
  e.config_file = p.config_file;
  e.outcome = outcome;
  return e;
}

void append_to_ledger(const std::string& path, const ledger_entry& e) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // One line per write(): with O_APPEND each write lands whole at the end, even with several
  // writers, and nothing before it is ever touched.
  const std::string line = to_line(e).dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) io_fail("cannot open", path);
  const ssize_t n = write(fd, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    const int saved = errno;
    close(fd);
    errno = n < 0 ? saved : EIO;
    io_fail("short write", path);
  }
  if (fsync(fd) != 0) {
    close(fd);
    io_fail("fsync failed", path);
  }
  close(fd);
}

std::vector<ledger_entry> read_ledger(const std::string& path, std::vector<std::string>* errors) {
  std::vector<ledger_entry> out;
  std::ifstream in(path);
  std::string line;
  for (uint32_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    try {
      out.push_back(from_line(json::parse(line)));
    } catch (const std::exception&) {
      if (errors) errors->push_back(path + ":" + std::to_string(n) + ": not a ledger entry");
    }
  }
  return out;
}

}  // namespace aegis::control::proposer
