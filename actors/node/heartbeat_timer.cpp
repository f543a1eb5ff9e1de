#include "actors/node/heartbeat_timer.hpp"

namespace aegis::node {

void heartbeat_timer::sent(uint64_t peer, uint64_t context, clock::time_point at) {
  auto& q = waiting_[peer];
  if (q.size() >= max_waiting) q.pop_front();
  q.push_back({context, at});
}

std::optional<double> heartbeat_timer::answered(uint64_t peer, uint64_t context,
                                                clock::time_point at) {
  auto it = waiting_.find(peer);
  if (it == waiting_.end()) return std::nullopt;
  auto& q = it->second;
  // Contexts never decrease within a leadership: older rounds still waiting were lost.
  while (!q.empty() && q.front().context < context)
    q.pop_front();
  if (q.empty() || q.front().context != context) return std::nullopt;  // one we did not time
  const auto rtt = std::chrono::duration<double>(at - q.front().at).count();
  q.pop_front();
  return rtt;
}

}  // namespace aegis::node
