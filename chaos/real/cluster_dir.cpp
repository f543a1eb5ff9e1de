// See cluster_dir.hpp. The INI files are the ones cluster.sh writes: `[section]` headers,
// `key=value` lines, string values in double quotes, `;` comments.
#include "chaos/real/cluster_dir.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>

#include "config/schema.hpp"

namespace aegis::chaos::real {

namespace {

// section -> key -> value (quotes removed), with the line of each value for error messages.
struct ini_value {
  std::string text;
  uint32_t line = 0;
};
using ini_file = std::map<std::string, std::map<std::string, ini_value>>;

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  s = s.substr(first, last - first + 1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::variant<ini_file, std::string> read_ini(const std::string& path) {
  std::ifstream in(path);
  if (!in) return path + ": cannot read it";
  ini_file ini;
  std::string section, line;
  for (uint32_t n = 1; std::getline(in, line); ++n) {
    const std::string t = trim(line);
    if (t.empty() || t[0] == ';' || t[0] == '#') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = t.substr(1, t.size() - 2);
      continue;
    }
    const auto eq = t.find('=');
    if (eq == std::string::npos) return path + ":" + std::to_string(n) + ": expected key=value";
    ini[section][trim(t.substr(0, eq))] = {trim(t.substr(eq + 1)), n};
  }
  return ini;
}

// The value of [section] key, if the file has it.
std::optional<std::string> value_of(const ini_file& ini, const std::string& section,
                                    const std::string& key) {
  auto s = ini.find(section);
  if (s == ini.end()) return std::nullopt;
  auto v = s->second.find(key);
  if (v == s->second.end()) return std::nullopt;
  return v->second.text;
}

std::optional<uint64_t> to_number(const std::string& s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The node count `up` recorded in DIR/.aegis-cluster.
std::variant<uint32_t, std::string> read_marker(const std::string& dir) {
  const std::string path = dir + "/.aegis-cluster";
  std::ifstream in(path);
  if (!in)
    return "no cluster in " + dir + " (start one: ./aegis cluster up --dir " + dir +
           " --fault-injection)";
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("nodes=")) continue;
    auto n = to_number(trim(line.substr(6)));
    if (!n || *n < 1 || *n > 99) return path + ": nodes= is not a node count";
    return static_cast<uint32_t>(*n);
  }
  return path + ": no nodes= line";
}

// The [raft] section on top of the schema defaults.
std::variant<config::raft_config, std::string> raft_of(const ini_file& ini,
                                                       const std::string& path) {
  config::raft_config c;
  auto s = ini.find("raft");
  if (s == ini.end()) return c;
  for (const auto& [key, v] : s->second)
    if (auto err = config::set_field(c, key, v.text))
      return path + ":" + std::to_string(v.line) + ": " + *err;
  return c;
}

// Node k's entry and Raft config from its INI file.
std::variant<node_info, std::string> read_node(const std::string& dir, uint32_t k,
                                               config::raft_config& raft, bool& fault) {
  const std::string path = dir + "/node" + std::to_string(k) + ".ini";
  auto parsed = read_ini(path);
  if (auto* e = std::get_if<std::string>(&parsed)) return *e;
  const auto& ini = std::get<ini_file>(parsed);
  node_info n{.index = k};
  auto id = to_number(value_of(ini, "node", "id").value_or(""));
  if (!id || *id == 0) return path + ": [node] id is missing or not a positive number";
  n.member_id = *id;
  auto client = value_of(ini, "node", "client_listen");
  auto metrics = value_of(ini, "node", "metrics_listen");
  if (!client || !metrics) return path + ": [node] needs client_listen and metrics_listen";
  n.client_addr = *client;
  n.metrics_addr = *metrics;
  fault = value_of(ini, "node", "fault_injection") == "true";
  auto r = raft_of(ini, path);
  if (auto* e = std::get_if<std::string>(&r)) return *e;
  raft = std::get<config::raft_config>(r);
  return n;
}

// The first key on which two nodes' Raft configs differ, or "".
std::string first_difference(const config::raft_config& a, const config::raft_config& b) {
  for (const auto& f : config::raft_fields())
    if (config::get_field(a, f) != config::get_field(b, f)) return std::string(f.key);
  return "";
}

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return out;
}

}  // namespace

bool node_process_running(const std::string& dir, uint32_t k) {
  const std::string node = "node" + std::to_string(k);
  const auto pid = to_number(trim(read_all(dir + "/" + node + ".pid")));
  if (!pid || *pid == 0) return false;
  const std::string proc = "/proc/" + std::to_string(*pid);
  const std::string stat = read_all(proc + "/stat");
  const auto paren = stat.rfind(") ");
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  if (stat[paren + 2] == 'Z' || stat[paren + 2] == 'X') return false;  // exited, not reaped
  // Arguments are NUL-separated; a recycled PID would not carry this node's config file.
  const std::string cmdline = read_all(proc + "/cmdline");
  return cmdline.find("--config-file=" + dir + "/" + node + ".ini") != std::string::npos;
}

std::variant<cluster_info, std::string> load_cluster(const std::string& dir) {
  auto count = read_marker(dir);
  if (auto* e = std::get_if<std::string>(&count)) return *e;
  cluster_info c{.dir = dir, .nodes = std::get<uint32_t>(count), .fault_injection = true};
  for (uint32_t k = 1; k <= c.nodes; ++k) {
    config::raft_config raft;
    bool fault = false;
    auto n = read_node(dir, k, raft, fault);
    if (auto* e = std::get_if<std::string>(&n)) return *e;
    if (k == 1) c.raft = raft;
    const std::string diff = first_difference(c.raft, raft);
    if (!diff.empty())
      return dir + "/node" + std::to_string(k) + ".ini: raft." + diff +
             " differs from node1's; the runner needs one config for the whole cluster";
    c.fault_injection = c.fault_injection && fault;
    c.members.push_back(std::get<node_info>(std::move(n)));
  }
  return c;
}

}  // namespace aegis::chaos::real
