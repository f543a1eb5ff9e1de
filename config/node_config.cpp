#include "config/node_config.hpp"

#include <algorithm>

#include <charconv>
#include <set>

namespace aegis::config {

namespace {

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && p == text.data() + text.size() && !text.empty();
}

}  // namespace

std::optional<endpoint> parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  endpoint e;
  e.host = text.substr(0, colon);
  if (!parse_number(std::string_view(text).substr(colon + 1), e.port)) return std::nullopt;
  return e;
}

std::optional<peer_entry> parse_peer(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos) return std::nullopt;
  peer_entry p;
  if (!parse_number(std::string_view(text).substr(0, eq), p.id) || p.id == 0) return std::nullopt;
  auto e = parse_endpoint(text.substr(eq + 1));
  if (!e || e->port == 0) return std::nullopt;
  p.peer = *e;
  return p;
}

const peer_entry* node_config::self() const {
  for (const auto& p : peers)
    if (p.id == node_id) return &p;
  return nullptr;
}

uint64_t node_config::cluster_id() const {
  // FNV-1a over the sorted initial membership: every member computes the same id.
  std::set<std::string> members;
  for (const auto& p : peers)
    members.insert(std::to_string(p.id) + "=" + p.peer.str());
  uint64_t h = 1469598103934665603ull;
  for (const auto& m : members)
    for (unsigned char ch : m + ";")
      h = (h ^ ch) * 1099511628211ull;
  return h;
}

std::vector<config_error> validate(const node_config& c) {
  std::vector<config_error> errs = validate(c.raft);
  for (auto& e : errs)
    e.key = "raft." + e.key;
  auto rule = [&](bool ok, const char* key, const std::string& why) {
    if (!ok) errs.push_back({key, why});
  };
  rule(c.node_id > 0, "node.id", "must be set to this node's id (> 0)");
  rule(!c.peers.empty(), "node.peers", "must list every initial member as \"ID=HOST:PORT\"");
  std::set<uint64_t> ids;
  std::set<std::string> addresses;
  for (const auto& p : c.peers) {
    rule(ids.insert(p.id).second, "node.peers", "lists an id twice");
    rule(addresses.insert(p.peer.str()).second, "node.peers", "lists an address twice");
  }
  rule(c.peers.size() <= 7, "node.peers", "at most 7 initial members");
  for (const auto& cl : c.clients) {
    const bool member = std::any_of(c.peers.begin(), c.peers.end(),
                                    [&](const peer_entry& p) { return p.id == cl.id; });
    rule(member, "node.clients", "names id " + std::to_string(cl.id) + ", not in node.peers");
  }
  rule(c.watch_progress_notify_ms >= 100, "node.watch_progress_notify_ms", "must be >= 100ms");
  rule(c.node_id == 0 || c.self() != nullptr, "node.id", "must be one of the ids in node.peers");
  rule(!c.client_listen.host.empty(), "node.client_listen", "must be HOST:PORT");
  rule(!c.data_dir.empty(), "node.data_dir", "must name this node's data directory");
  rule(c.request_timeout_ms >= c.raft.election_timeout_ms_max, "node.request_timeout_ms",
       "must be >= raft.election_timeout_ms_max so a write can outlive one election");
  rule(c.max_request_bytes >= 1024 && c.max_request_bytes <= 64 * 1024 * 1024,
       "node.max_request_bytes", "must be between 1 KiB and 64 MiB");
  rule(c.max_request_bytes <= c.raft.max_proposal_bytes, "node.max_request_bytes",
       "must be <= raft.max_proposal_bytes (a request becomes one proposal)");
  rule(c.peer_queue_messages > 0, "node.peer_queue_messages", "must be > 0");
  if (c.agent.enabled) {
    rule(!c.agent.out_dir.empty(), "agent.out_dir", "must name a directory when the agent is on");
    rule(c.agent.period_ms >= 10, "agent.period_ms", "must be >= 10ms");
    rule(c.agent.window_ms >= c.agent.period_ms, "agent.window_ms",
         "must be >= agent.period_ms (a window holds at least one scrape)");
  }
  return errs;
}

}  // namespace aegis::config
