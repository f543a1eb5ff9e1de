#include "actors/node/heartbeat_timer.hpp"

namespace aegis::node {

void heartbeat_timer::sent(uint64_t peer, uint64_t seq, clock::time_point at) {
  if (seq == 0) return;
  auto& q = waiting_[peer];
  q.insert_or_assign(seq, at);
  if (q.size() > max_waiting) q.erase(q.begin());
}

std::optional<double> heartbeat_timer::answered(uint64_t from, uint64_t seq, clock::time_point at) {
  auto peer = waiting_.find(from);
  if (peer == waiting_.end()) return std::nullopt;
  auto it = peer->second.find(seq);
  if (it == peer->second.end()) return std::nullopt;
  const auto rtt = std::chrono::duration<double>(at - it->second).count();
  peer->second.erase(it);
  return rtt;
}

}  // namespace aegis::node
