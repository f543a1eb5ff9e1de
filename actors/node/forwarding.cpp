#include "actors/node/forwarding.hpp"

#include "protocol/command.pb.h"

namespace aegis::node {

void forward_tracker::add(std::string command, reply_ptr reply, raft::node_id leader,
                          uint64_t deadline_ms) {
  if (!queued_.empty() && queued_for_ != leader) leader_changed(leader);
  const uint64_t id = next_id_++;
  calls_[id] = {std::move(reply), leader, deadline_ms};
  queued_.emplace_back(id, std::move(command));
  queued_for_ = leader;
}

std::optional<std::pair<raft::node_id, std::string>> forward_tracker::take_batch() {
  if (queued_.empty()) return std::nullopt;
  aegis::smpb::ForwardBatch b;
  b.set_origin_node(self_id_);
  for (auto& [id, command] : queued_) {
    auto* item = b.add_items();
    item->set_request(id);
    item->set_command(std::move(command));
  }
  queued_.clear();
  return std::pair{queued_for_, b.SerializeAsString()};
}

std::string forward_tracker::where(raft::node_id leader) const {
  auto it = peers_.find(leader);
  return " (forwarded to the leader, node " + std::to_string(leader) +
         (it != peers_.end() ? " at " + it->second : std::string()) + ")";
}

reply_ptr forward_tracker::take(uint64_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return nullptr;
  reply_ptr r = std::move(it->second.reply);
  calls_.erase(it);
  return r;
}

void forward_tracker::refused(const std::string& refusals) {
  aegis::smpb::ForwardRefusals rs;
  if (!rs.ParseFromString(refusals)) return;
  for (const auto& r : rs.items())
    if (auto reply = take(r.request()))
      reply->finish(call_result::error(static_cast<call_code>(r.code()), r.message()));
}

size_t forward_tracker::expire(uint64_t now_ms) {
  size_t n = 0;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.deadline_ms > now_ms) {
      ++it;
      continue;
    }
    it->second.reply->finish(call_result::error(
        call_code::unavailable, "etcdserver: request timed out" + where(it->second.leader)));
    it = calls_.erase(it);
    ++n;
  }
  return n;
}

size_t forward_tracker::leader_changed(raft::node_id leader) {
  size_t n = 0;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.leader == leader) {
      ++it;
      continue;
    }
    it->second.reply->finish(call_result::error(
        call_code::unavailable, "etcdserver: leader changed" + where(it->second.leader)));
    it = calls_.erase(it);
    ++n;
  }
  if (queued_for_ != leader) queued_.clear();
  return n;
}

}  // namespace aegis::node
