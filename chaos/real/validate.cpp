// See validate.hpp.
#include "chaos/real/validate.hpp"

#include "config/schema.hpp"

namespace aegis::chaos::real {

namespace {

parse_error at(const script& s, source_pos pos, std::string message) {
  return parse_error{s.name, pos, std::move(message)};
}

// Where the `nodes` directive's value is in the source, or 1:1 when the script has none.
source_pos nodes_value_pos(std::string_view text) {
  uint32_t line = 1;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view l = text.substr(start, end - start);
    const size_t kw = l.find_first_not_of(" \t");
    if (kw != std::string_view::npos && l.substr(kw).starts_with("nodes") &&
        (kw + 5 == l.size() || l[kw + 5] == ' ' || l[kw + 5] == '\t')) {
      const size_t value = l.find_first_not_of(" \t", kw + 5);
      return {line, static_cast<uint32_t>((value == std::string_view::npos ? kw : value) + 1)};
    }
    start = end + 1;
    ++line;
  }
  return {1, 1};
}

// The first node id a fault names that the cluster does not have.
std::optional<parse_error> check_ids(const script& s, const fault& f, const cluster_info& c) {
  auto bad = [&](const node_ref& r) { return r.k == node_ref::kind::id && r.id > c.nodes; };
  auto refuse = [&](source_pos pos, uint32_t id) {
    return at(s, pos,
              "no node " + std::to_string(id) + ": the cluster in " + c.dir + " has nodes 1.." +
                  std::to_string(c.nodes));
  };
  if (bad(f.target)) return refuse(f.target.pos, f.target.id);
  if (f.link && bad(f.link->from)) return refuse(f.link->from.pos, f.link->from.id);
  if (f.link && bad(f.link->to)) return refuse(f.link->to.pos, f.link->to.id);
  for (const auto& g : f.groups)
    for (uint32_t id : g)
      if (id > c.nodes) return refuse(f.pos, id);
  return std::nullopt;
}

std::optional<parse_error> check_supported(const script& s, const fault& f) {
  switch (f.kind) {
    case fault_kind::duplicate:
    case fault_kind::transfer_leader:
    case fault_kind::remove_node:
    case fault_kind::add_node:
      return at(
          s, f.pos,
          "'" + std::string(keyword(f.kind)) +
              "' is not supported on a real cluster (the simulator runs it: ./aegis sim run)");
    default:
      return std::nullopt;
  }
}

// A `set` line must describe the config the cluster already runs: the runner does not restart
// nodes with other settings.
std::optional<parse_error> check_setting(const script& s, const setting& st,
                                         const cluster_info& c) {
  const config::field* f = config::find_field(st.key);
  config::raft_config wanted = c.raft;
  if (auto err = config::set_field(wanted, st.key, st.value)) return at(s, st.pos, *err);
  const std::string runs = config::get_field(c.raft, *f);
  if (config::get_field(wanted, *f) == runs) return std::nullopt;
  return at(s, st.pos,
            "the cluster in " + c.dir + " runs " + st.key + "=" + runs +
                "; start a cluster with it: ./aegis cluster up --raft." + st.key + "=" + st.value +
                " (in a new --dir, or after ./aegis cluster down --wipe)");
}

const fault* first_admin_fault(const script& s) {
  for (const auto& f : s.faults)
    if (uses_admin_api(f.kind)) return &f;
  return nullptr;
}

std::string no_fault_injection(const cluster_info& c) {
  return "this fault needs the admin fault API, but the cluster in " + c.dir +
         " runs without it; start it with: ./aegis cluster up --fault-injection --dir " + c.dir;
}

}  // namespace

bool uses_admin_api(fault_kind k) {
  switch (k) {
    case fault_kind::partition:
    case fault_kind::isolate:
    case fault_kind::drop:
    case fault_kind::delay:
    case fault_kind::heal:
    case fault_kind::slow_fsync:
    case fault_kind::skew:
      return true;
    default:
      return false;
  }
}

std::optional<parse_error> check_against_cluster(const script& s, std::string_view text,
                                                 const cluster_info& c) {
  for (const auto& f : s.faults)
    if (auto e = check_ids(s, f, c)) return e;
  if (s.nodes != c.nodes)
    return at(s, nodes_value_pos(text),
              "the script is for " + std::to_string(s.nodes) + " nodes but the cluster in " +
                  c.dir + " has " + std::to_string(c.nodes) + " (write `nodes " +
                  std::to_string(c.nodes) + "`, or start a cluster with --nodes " +
                  std::to_string(s.nodes) + ")");
  for (const auto& f : s.faults)
    if (auto e = check_supported(s, f)) return e;
  for (const auto& st : s.settings)
    if (auto e = check_setting(s, st, c)) return e;
  if (const fault* f = first_admin_fault(s); f && !c.fault_injection)
    return at(s, f->pos, no_fault_injection(c));
  return std::nullopt;
}

std::optional<parse_error> probe_nodes(const script& s, const cluster_info& c, node_api& api) {
  const auto views = api.status_all(steady::now() + std::chrono::seconds(3));
  for (uint32_t k = 1; k <= c.nodes; ++k)
    if (!views[k - 1])
      return at(s, {},
                "node " + std::to_string(k) + " (" + c.members[k - 1].client_addr +
                    ") does not answer; every node must run before a chaos run (./aegis cluster "
                    "up --dir " +
                    c.dir + ")");
  const fault* f = first_admin_fault(s);
  if (!f) return std::nullopt;
  for (uint32_t k = 1; k <= c.nodes; ++k) {
    const auto st = api.clear_faults(k, steady::now() + std::chrono::seconds(3));
    if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
      return at(s, f->pos, no_fault_injection(c));
    if (!st.ok())
      return at(s, f->pos,
                "node " + std::to_string(k) + " refused ClearFaults: " + st.error_message());
  }
  return std::nullopt;
}

}  // namespace aegis::chaos::real
