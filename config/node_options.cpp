#include "config/node_options.hpp"

#include <caf/all.hpp>

#include "config/schema.hpp"

namespace aegis::config {

namespace {

using caf::timespan;

std::string str(caf::string_view v) {
  return std::string(v.data(), v.size());
}

template <class T>
std::optional<T> lookup(const caf::settings& s, const std::string& key) {
  if (auto v = caf::get_if<T>(&s, key)) return *v;
  return std::nullopt;
}

// A timespan as whole ms, or an error naming the key.
std::variant<uint64_t, std::string> whole_ms(const std::string& key, timespan t) {
  const auto ns = t.count();
  if (ns < 0 || ns % 1000000 != 0) return key + ": must be a whole number of ms (e.g. 150ms)";
  return static_cast<uint64_t>(ns / 1000000);
}

std::string unit_help(const field& f, const raft_config& defaults) {
  std::string d = get_field(defaults, f);
  if (f.unit == "ms") d += "ms";
  return std::string(f.help) + " [" + std::string(f.unit) + ", default " + d + "]";
}

// CAF renders a parse error as "parser_error(kind, context)"; keep it, prefixed with where.
std::string describe(const std::string& where, const caf::error& err) {
  return where + ": " + caf::to_string(err);
}

std::optional<std::string> config_file_arg(int argc, char** argv) {
  const std::string flag = "--config-file=";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind(flag, 0) == 0) return a.substr(flag.size());
  }
  return std::nullopt;
}

bool wants_help(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h" || a == "-?" || a == "--long-help") return true;
  }
  return false;
}

bool ours(const caf::config_option& opt) {
  return opt.category() == "node" || opt.category() == "raft" || opt.category() == "agent";
}

// Keys in our groups that no option declares (typos in a config file).
std::optional<std::string> unknown_key(const caf::settings& s, const caf::config_option_set& opts) {
  for (const char* group : {"node", "raft", "agent"}) {
    const auto g = caf::get_if<caf::settings>(&s, group);
    if (!g) continue;
    for (const auto& [key, value] : *g)
      if (!opts.qualified_name_lookup(group, key))
        return std::string(group) + "." + str(key) + ": unknown key";
  }
  return std::nullopt;
}

// A value of the wrong type (CAF would drop it without a word, leaving the default).
std::optional<std::string> wrong_type(const caf::settings& s, const caf::config_option_set& opts) {
  for (const auto& opt : opts) {
    if (!ours(opt)) continue;
    const std::string key = str(opt.full_name());
    const auto* value = caf::get_if(&s, key);
    if (value && opt.check(*value))
      return key + ": expected " + str(opt.type_name()) +
             (opt.type_name() == "timespan" ? " such as 150ms" : "") + ", got " +
             caf::to_string(*value);
  }
  return std::nullopt;
}

std::optional<std::string> read_raft(const caf::settings& s, raft_config& rc) {
  for (const auto& f : raft_fields()) {
    const std::string key = "raft." + std::string(f.key);
    std::string text;
    if (f.unit == "ms") {
      const auto t = lookup<timespan>(s, key);
      if (!t) continue;
      auto ms = whole_ms(key, *t);
      if (auto* e = std::get_if<std::string>(&ms)) return *e;
      text = std::to_string(std::get<uint64_t>(ms));
    } else if (f.unit == "bool") {
      const auto b = lookup<bool>(s, key);
      if (!b) continue;
      text = *b ? "true" : "false";
    } else {
      const auto n = lookup<uint64_t>(s, key);
      if (!n) continue;
      text = std::to_string(*n);
    }
    if (auto err = set_field(rc, f.key, text)) return "raft." + *err;
  }
  return std::nullopt;
}

std::optional<std::string> read_endpoint(const caf::settings& s, const std::string& key,
                                         endpoint& out) {
  const auto text = lookup<std::string>(s, key);
  if (!text) return std::nullopt;
  auto e = parse_endpoint(*text);
  if (!e) return key + ": expected HOST:PORT, got \"" + *text + "\"";
  out = *e;
  return std::nullopt;
}

uint32_t clamp_u32(uint64_t v) {
  return static_cast<uint32_t>(std::min<uint64_t>(v, UINT32_MAX));
}

std::optional<std::string> read_node(const caf::settings& s, node_config& c) {
  if (const auto v = lookup<uint64_t>(s, "node.id")) c.node_id = *v;
  if (const auto v = lookup<std::vector<std::string>>(s, "node.peers")) {
    for (const auto& text : *v) {
      auto p = parse_peer(text);
      if (!p) return "node.peers: expected \"ID=HOST:PORT\", got \"" + text + "\"";
      c.peers.push_back(*p);
    }
  }
  if (const auto v = lookup<std::vector<std::string>>(s, "node.clients")) {
    for (const auto& text : *v) {
      auto p = parse_peer(text);
      if (!p) return "node.clients: expected \"ID=HOST:PORT\", got \"" + text + "\"";
      c.clients.push_back(*p);
    }
  }
  for (auto [key, ep] : {std::pair{"node.client_listen", &c.client_listen},
                         std::pair{"node.metrics_listen", &c.metrics_listen}})
    if (auto err = read_endpoint(s, key, *ep)) return err;
  if (const auto v = lookup<std::string>(s, "node.data_dir")) c.data_dir = *v;
  if (const auto v = lookup<bool>(s, "node.bootstrap")) c.bootstrap = *v;
  if (const auto v = lookup<bool>(s, "node.fault_injection")) c.fault_injection = *v;
  if (const auto v = lookup<uint64_t>(s, "node.seed")) c.seed = *v;
  if (const auto v = lookup<timespan>(s, "node.request_timeout_ms")) {
    auto ms = whole_ms("node.request_timeout_ms", *v);
    if (auto* e = std::get_if<std::string>(&ms)) return *e;
    c.request_timeout_ms = clamp_u32(std::get<uint64_t>(ms));
  }
  if (const auto v = lookup<uint64_t>(s, "node.max_request_bytes"))
    c.max_request_bytes = clamp_u32(*v);
  if (const auto v = lookup<uint64_t>(s, "node.peer_queue_messages"))
    c.peer_queue_messages = clamp_u32(*v);
  if (const auto v = lookup<timespan>(s, "node.watch_progress_notify_ms")) {
    auto ms = whole_ms("node.watch_progress_notify_ms", *v);
    if (auto* e = std::get_if<std::string>(&ms)) return *e;
    c.watch_progress_notify_ms = clamp_u32(std::get<uint64_t>(ms));
  }
  return std::nullopt;
}

std::optional<std::string> read_agent(const caf::settings& s, agent_config& a) {
  if (const auto v = lookup<bool>(s, "agent.enabled")) a.enabled = *v;
  if (const auto v = lookup<std::string>(s, "agent.out_dir")) a.out_dir = *v;
  if (const auto v = lookup<std::string>(s, "agent.scripts_dir")) a.scripts_dir = *v;
  if (const auto v = lookup<uint64_t>(s, "agent.cycles")) a.cycles = *v;
  for (auto [key, ms] :
       {std::pair{"agent.window_ms", &a.window_ms}, std::pair{"agent.period_ms", &a.period_ms}}) {
    const auto t = lookup<timespan>(s, key);
    if (!t) continue;
    auto whole = whole_ms(key, *t);
    if (auto* e = std::get_if<std::string>(&whole)) return *e;
    *ms = clamp_u32(std::get<uint64_t>(whole));
  }
  return std::nullopt;
}

}  // namespace

const char* node_options::keep(std::string text) {
  help_.push_back(std::move(text));
  return help_.back().c_str();
}

node_options::node_options() {
  // CAF's default work-stealing scheduler lets idle workers sleep up to 10 ms between polls,
  // which lands on every commit round; the sharing policy wakes a worker at once.
  set("scheduler.policy", caf::atom("sharing"));
  const node_config d;
  opt_group{custom_options_, "node"}
      .add<uint64_t>("id", "this node's Raft id, one of node.peers [required]")
      .add<std::vector<std::string>>("peers", "initial members as \"ID=HOST:PORT\" (peer address)")
      .add<std::vector<std::string>>("clients",
                                     "members' client addresses as \"ID=HOST:PORT\" (MemberList)")
      .add<std::string>("client_listen", "gRPC client address HOST:PORT (etcd v3 API) [required]")
      .add<std::string>("metrics_listen", "Prometheus /metrics address HOST:PORT")
      .add<std::string>("data_dir", "this node's data directory [required]")
      .add<bool>("bootstrap", "create the data dir of a founding member (refused if it exists)")
      .add<bool>("fault_injection", "accept fault settings through the admin API [default false]")
      .add<uint64_t>("seed", "seed of the election-timeout jitter [default 0: drawn, logged]")
      .add<timespan>("request_timeout_ms", keep("a write not applied by then fails [ms, default " +
                                                std::to_string(d.request_timeout_ms) + "ms]"))
      .add<uint64_t>("max_request_bytes", keep("largest client request [bytes, default " +
                                               std::to_string(d.max_request_bytes) + "]"))
      .add<uint64_t>("peer_queue_messages",
                     keep("messages a peer link queues while disconnected [count, default " +
                          std::to_string(d.peer_queue_messages) + "]"))
      .add<timespan>("watch_progress_notify_ms",
                     keep("progress notification interval of idle watches [ms, default " +
                          std::to_string(d.watch_progress_notify_ms) + "ms]"));
  const agent_config a;
  opt_group{custom_options_, "agent"}
      .add<bool>("enabled",
                 "run the control-plane agent in this process (dry-run, read-only "
                 "telemetry) [default false]")
      .add<std::string>("out_dir", "where the agent writes proposals and postmortems")
      .add<timespan>("window_ms", keep("telemetry per agent cycle [ms, default " +
                                       std::to_string(a.window_ms) + "ms]"))
      .add<timespan>("period_ms", keep("agent scrape period [ms, default " +
                                       std::to_string(a.period_ms) + "ms]"))
      .add<uint64_t>("cycles", "agent cycles to run [count, default 0: as long as the node]")
      .add<std::string>("scripts_dir",
                        keep("chaos scripts the agent replays [default " + a.scripts_dir + "]"));
  caf::config_option_adder raft{custom_options_, "raft"};
  for (const auto& f : raft_fields()) {
    const char* help = keep(unit_help(f, d.raft));
    if (f.unit == "ms")
      raft.add<timespan>(f.key, help);
    else if (f.unit == "bool")
      raft.add<bool>(f.key, help);
    else
      raft.add<uint64_t>(f.key, help);
  }
}

std::string node_options::help_text() const {
  std::string out =
      "usage: aegis-node --config-file=FILE [--node.KEY=VALUE] [--raft.KEY=VALUE]...\n"
      "Flags override the file. Keys (file section [node], [agent] or [raft]):\n";
  std::string group;
  for (const auto& opt : custom_options_) {
    if (!ours(opt)) continue;
    if (str(opt.category()) != group) out += "[" + (group = str(opt.category())) + "]\n";
    std::string name = str(opt.long_name());
    name.resize(std::max<size_t>(name.size(), 28), ' ');
    out += "  " + name + " " + str(opt.description()) + "\n";
  }
  return out;
}

std::optional<std::string> node_options::check_keys(const caf::settings& s) const {
  if (auto err = unknown_key(s, custom_options_)) return err;
  return wrong_type(s, custom_options_);
}

// CAF 0.17 takes a boolean flag only bare (--node.bootstrap); also accept --KEY=true|false.
std::vector<std::string> node_options::take_bool_flags(int argc, char** argv) {
  std::vector<std::string> rest;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto eq = a.find('=');
    const std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    const auto* opt = a.rfind("--", 0) == 0 && eq != std::string::npos
                          ? custom_options_.qualified_name_lookup(a.substr(2, eq - 2))
                          : nullptr;
    if (opt && opt->is_flag() && (value == "true" || value == "false"))
      bool_flags_.emplace_back(a.substr(2, eq - 2), value == "true");
    else
      rest.push_back(a);
  }
  return rest;
}

load_outcome node_options::read(int argc, char** argv) {
  if (wants_help(argc, argv)) return {std::nullopt, 0, help_text()};
  if (auto file = config_file_arg(argc, argv)) {
    // Checked raw first: CAF would drop a value of the wrong type without a word.
    auto raw = parse_config_file(file->c_str());
    if (!raw) return {std::nullopt, 2, describe(*file, raw.error())};
    if (auto err = check_keys(*raw)) return {std::nullopt, 2, *file + ": " + *err};
  }
  if (auto err = parse(take_bool_flags(argc, argv)))
    return {std::nullopt, 2, describe("command line", err)};
  for (const auto& [key, value] : bool_flags_)
    caf::put(content, key, value);
  auto c = extract();
  if (auto* why = std::get_if<std::string>(&c)) return {std::nullopt, 2, *why};
  return {std::get<node_config>(c), 0, {}};
}

std::variant<node_config, std::string> node_options::extract() const {
  node_config c;
  if (auto err = check_keys(content)) return *err;
  if (auto err = read_node(content, c)) return *err;
  if (auto err = read_raft(content, c.raft)) return *err;
  if (auto err = read_agent(content, c.agent)) return *err;
  const auto errs = validate(c);
  if (!errs.empty()) return errs.front().key + ": " + errs.front().rule;
  return c;
}

}  // namespace aegis::config
