// See fault_timeline.hpp.
#include "chaos/real/fault_timeline.hpp"

#include <algorithm>
#include <cmath>
#include <future>
#include <iostream>
#include <map>
#include <thread>

namespace aegis::chaos::real {

namespace {

constexpr auto kAdminDeadline = std::chrono::milliseconds(500);
constexpr int64_t kRetryEveryUs = 1'000'000;
constexpr auto kLeaderWait = std::chrono::seconds(5);  // an election after a kill takes ~1-2 s

// Whole ms for the admin API, rounded up so a sub-ms delay is not silently dropped.
uint32_t ceil_ms(int64_t us) {
  return static_cast<uint32_t>((std::max<int64_t>(us, 0) + 999) / 1000);
}

std::string seconds_text(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.3fs", static_cast<double>(us) / 1e6);
  return buf;
}

}  // namespace

std::string fault_text(const fault& f, uint32_t /*nodes*/) {
  return format_fault_action(f);
}

fault_timeline::fault_timeline(const script& s, std::string cluster_dir, node_api& api,
                               launcher_queue& launcher, uint64_t seed,
                               const std::atomic<bool>& stop)
    : script_(s),
      cluster_dir_(std::move(cluster_dir)),
      api_(api),
      launcher_(launcher),
      stop_(stop),
      rng_(seed),
      links_(api.nodes()),
      disk_ms_(api.nodes() + 1, 0),
      skew_ms_(api.nodes() + 1, 0) {}

int64_t fault_timeline::next_due_us() const {
  int64_t next = never;
  if (next_fault_ < script_.faults.size()) next = script_.faults[next_fault_].at_us;
  for (const auto& u : undos_)
    next = std::min(next, u.at_us);
  return next;
}

void fault_timeline::step(int64_t now_us) {
  std::vector<std::pair<uint32_t, bool>> restarted;
  {
    std::lock_guard lock(restarted_mu_);
    restarted.swap(restarted_);
  }
  for (auto [k, ok] : restarted) {
    restarting_.erase(k);
    if (!ok) continue;
    killed_.erase(k);
    for (const auto& l : links_.faulty_links_from(k))
      failed_links_.insert(l);
    if (disk_ms_[k] != 0 || skew_ms_[k] != 0) failed_nodes_.insert(k);
  }
  while (!stop_) {
    auto u = std::min_element(undos_.begin(), undos_.end(),
                              [](const undo& a, const undo& b) { return a.at_us < b.at_us; });
    const bool fault_due =
        next_fault_ < script_.faults.size() && script_.faults[next_fault_].at_us <= now_us;
    if (u != undos_.end() && u->at_us <= now_us &&
        (!fault_due || u->at_us <= script_.faults[next_fault_].at_us)) {
      const undo due = *u;
      undos_.erase(u);
      revert(due, now_us);
    } else if (fault_due) {
      fire(script_.faults[next_fault_++], now_us);
    } else {
      break;
    }
  }
  retry_failed(now_us);
}

void fault_timeline::restart_done(uint32_t node, bool ok) {
  std::lock_guard lock(restarted_mu_);
  restarted_.emplace_back(node, ok);
}

void fault_timeline::record(int64_t now_us, std::string text) {
  std::cout << "  " << seconds_text(now_us) << "  " << text << std::endl;
  events_.push_back({now_us, std::move(text)});
}

void fault_timeline::fire(const fault& f, int64_t now_us) {
  auto resolved = resolve(f);
  if (!resolved) {
    ++skipped_;
    std::cerr << "aegis-chaos: " << seconds_text(now_us) << " skipped '"
              << fault_text(f, api_.nodes()) << "' (line " << f.pos.line
              << "): no node to aim it at (no leader / follower answered)\n";
    return;
  }
  ++fired_;
  record(now_us, fault_text(*resolved, api_.nodes()));
  const uint64_t handle = apply(*resolved);
  if (f.for_us) undos_.push_back({std::max(now_us, f.at_us + *f.for_us), *resolved, handle});
}

std::optional<uint32_t> fault_timeline::wait_for_leader(
    std::vector<std::optional<node_view>>& views) {
  const auto deadline = steady::now() + kLeaderWait;
  while (true) {
    std::optional<uint32_t> best;
    for (uint32_t k = 1; k <= views.size(); ++k) {
      const auto& v = views[k - 1];
      if (v && v->leader != 0 && v->leader == v->member_id &&
          (!best || v->term > views[*best - 1]->term))
        best = k;
    }
    if (best || stop_ || steady::now() >= deadline) return best;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    views = api_.status_all(steady::now() + kAdminDeadline);
  }
}

std::optional<uint32_t> fault_timeline::pick_follower(
    const std::vector<std::optional<node_view>>& views, std::optional<uint32_t> leader) {
  std::vector<uint32_t> followers;
  for (uint32_t k = 1; k <= views.size(); ++k)
    if (views[k - 1] && k != leader && views[k - 1]->leader != views[k - 1]->member_id)
      followers.push_back(k);
  if (followers.empty()) return std::nullopt;
  return followers[rng_() % followers.size()];
}

// The fault with `leader` and `follower` replaced by the node ids they name right now.
std::optional<fault> fault_timeline::resolve(const fault& f) {
  std::vector<node_ref*> refs;
  fault r = f;
  refs.push_back(&r.target);
  if (r.link) refs.insert(refs.end(), {&r.link->from, &r.link->to});
  bool dynamic = false;
  for (auto* ref : refs)
    dynamic = dynamic || ref->k == node_ref::kind::leader || ref->k == node_ref::kind::follower;
  if (!dynamic) return r;
  auto views = api_.status_all(steady::now() + kAdminDeadline);
  const auto leader = wait_for_leader(views);
  for (auto* ref : refs) {
    std::optional<uint32_t> id;
    if (ref->k == node_ref::kind::leader) id = leader;
    if (ref->k == node_ref::kind::follower) id = pick_follower(views, leader);
    if (ref->k != node_ref::kind::leader && ref->k != node_ref::kind::follower) continue;
    if (!id) return std::nullopt;
    *ref = node_ref{.k = node_ref::kind::id, .id = *id, .pos = ref->pos};
  }
  if (r.link && r.link->from.id == r.link->to.id) return std::nullopt;
  return r;
}

std::vector<uint32_t> fault_timeline::nodes_of(const node_ref& target) const {
  if (target.k != node_ref::kind::all) return {target.id};
  std::vector<uint32_t> all;
  for (uint32_t k = 1; k <= api_.nodes(); ++k)
    all.push_back(k);
  return all;
}

void fault_timeline::launch(const std::string& cmd, const node_ref& target) {
  for (uint32_t k : nodes_of(target)) {
    if (cmd == "restart") {
      // As in the simulator, restarting a running node does nothing (the launcher would stop
      // and start it). A node this run killed is restarted even if its kill is still queued.
      if (restarting_.contains(k)) continue;
      if (!killed_.contains(k) && node_process_running(cluster_dir_, k)) continue;
      restarting_.insert(k);
      paused_.erase(k);  // the launcher resumes a paused node before stopping it
    }
    if (cmd == "kill") killed_.insert(k), paused_.erase(k);
    if (cmd == "pause") paused_.insert(k);
    if (cmd == "resume") paused_.erase(k);
    if (launcher_.post(k, cmd)) continue;
    std::cerr << "aegis-chaos: launcher queue of node " << k << " is full; '" << cmd
              << "' dropped\n";
    restarting_.erase(k);
  }
}

net_fault fault_timeline::network_fault(const fault& f) const {
  net_fault n;
  std::vector<link> one;
  if (f.link) one = {{f.link->from.id, f.link->to.id}};
  switch (f.kind) {
    case fault_kind::partition:
      n = {links_.partition_links(f.groups), true};
      break;
    case fault_kind::isolate:
      n = {links_.isolate_links(f.target.id), true};
      break;
    case fault_kind::drop:
      n.links = f.link ? one : links_.all_links();
      n.drop_percent = static_cast<uint32_t>(std::lround(f.percent));
      break;
    default:  // delay
      n.links = f.link ? one : links_.all_links();
      n.delay_ms = std::pair{ceil_ms(f.amount_us), ceil_ms(f.jitter_us)};
      break;
  }
  return n;
}

// Makes a (resolved) fault happen; returns its network handle, if it is a network fault.
uint64_t fault_timeline::apply(const fault& f) {
  uint64_t handle = 0;
  switch (f.kind) {
    case fault_kind::kill:
    case fault_kind::restart:
    case fault_kind::pause:
    case fault_kind::resume:
      launch(std::string(keyword(f.kind)), f.target);
      break;
    case fault_kind::partition:
    case fault_kind::isolate:
    case fault_kind::drop:
    case fault_kind::delay:
      send_links(links_.add(network_fault(f), handle));
      break;
    case fault_kind::heal:
      send_links(links_.clear());
      break;
    case fault_kind::slow_fsync:
      disk_ms_[f.target.id] = ceil_ms(f.amount_us);
      send_node_state(f.target.id);
      break;
    case fault_kind::skew:
      skew_ms_[f.target.id] = f.amount_us / 1000;
      send_node_state(f.target.id);
      break;
    default:  // refused before the run (validate.cpp)
      break;
  }
  return handle;
}

void fault_timeline::revert(const undo& u, int64_t now_us) {
  record(now_us, "end " + fault_text(u.resolved, api_.nodes()));
  switch (u.resolved.kind) {
    case fault_kind::kill:
      launch("restart", u.resolved.target);
      break;
    case fault_kind::restart:
      launch("kill", u.resolved.target);
      break;
    case fault_kind::pause:
      launch("resume", u.resolved.target);
      break;
    case fault_kind::slow_fsync:
      disk_ms_[u.resolved.target.id] = 0;
      send_node_state(u.resolved.target.id);
      break;
    case fault_kind::skew:
      skew_ms_[u.resolved.target.id] = 0;
      send_node_state(u.resolved.target.id);
      break;
    default:  // network faults (a `heal` since may have ended them already: then a no-op)
      send_links(links_.remove(u.net_handle));
      break;
  }
}

bool fault_timeline::reachable(uint32_t node) const {
  return !paused_.contains(node) && !killed_.contains(node) && !restarting_.contains(node);
}

void fault_timeline::send_links(const std::vector<link>& links) {
  // One task per sending node, so a slow node delays only its own links. A node that is not
  // running gets its links when it runs again (retry_failed, restart_done).
  std::map<uint32_t, std::vector<link>> by_node;
  for (const auto& l : links) {
    failed_links_.erase(l);
    if (reachable(l.first))
      by_node[l.first].push_back(l);
    else
      failed_links_.insert(l);
  }
  std::vector<std::future<std::vector<link>>> tasks;
  for (auto& [node, ls] : by_node)
    tasks.push_back(std::async(std::launch::async, [this, ls = ls] {
      std::vector<link> failed;  // after the first failure the node is not answering: skip
      for (const auto& l : ls)
        if (!failed.empty() ||
            !api_.set_link(l, links_.state(l), steady::now() + kAdminDeadline).ok())
          failed.push_back(l);
      return failed;
    }));
  for (auto& t : tasks)
    for (const auto& l : t.get())
      failed_links_.insert(l);
}

void fault_timeline::send_node_state(uint32_t node) {
  failed_nodes_.insert(node);
  if (!reachable(node)) return;
  const auto deadline = steady::now() + kAdminDeadline;
  if (api_.set_disk(node, disk_ms_[node], deadline).ok() &&
      api_.set_skew(node, skew_ms_[node], deadline).ok())
    failed_nodes_.erase(node);
}

void fault_timeline::retry_failed(int64_t now_us) {
  if (now_us - last_retry_us_ < kRetryEveryUs) return;
  last_retry_us_ = now_us;
  std::vector<link> links;
  for (const auto& l : failed_links_)
    if (reachable(l.first)) links.push_back(l);
  if (!links.empty()) send_links(links);
  const std::set<uint32_t> nodes = failed_nodes_;
  for (uint32_t k : nodes)
    if (reachable(k)) send_node_state(k);
}

void fault_timeline::cleanup(int64_t now_us, bool interrupted) {
  for (const auto& u : undos_) {
    if (u.resolved.kind == fault_kind::kill || u.resolved.kind == fault_kind::restart) continue;
    record(now_us, "end " + fault_text(u.resolved, api_.nodes()));
  }
  undos_.clear();
  if (!interrupted) launcher_.wait_idle(steady::now() + std::chrono::seconds(60));
  launcher_.stop();
  for (uint32_t k : paused_) {
    const auto r = launcher_.run_now("resume", k);
    if (!r.ok) std::cerr << "aegis-chaos: resuming node " << k << " failed: " << r.output << "\n";
  }
  paused_.clear();
  // Every node, not only those the model says it touched: a send that timed out may still
  // have landed.
  std::vector<std::future<grpc::Status>> clears;
  for (uint32_t k = 1; k <= api_.nodes(); ++k)
    clears.push_back(std::async(std::launch::async, [this, k] {
      return api_.clear_faults(k, steady::now() + std::chrono::seconds(3));
    }));
  for (uint32_t k = 1; k <= api_.nodes(); ++k) {
    const auto st = clears[k - 1].get();
    if (!st.ok() && !killed_.contains(k) && !restarting_.contains(k) &&
        st.error_code() != grpc::StatusCode::FAILED_PRECONDITION)
      std::cerr << "aegis-chaos: ClearFaults on node " << k << " failed: " << st.error_message()
                << " (its faults end when it restarts)\n";
  }
}

}  // namespace aegis::chaos::real
