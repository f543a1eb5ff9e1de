#include "actors/raft/types.hpp"

#include "actors/raft/bytes.hpp"

#include <algorithm>

namespace aegis::raft {

bool conf_state::is_voter(node_id id) const {
  return std::binary_search(voters.begin(), voters.end(), id);
}

bool conf_state::is_learner(node_id id) const {
  return std::binary_search(learners.begin(), learners.end(), id);
}

namespace {

bool get_ids(const std::string& in, size_t& pos, std::vector<node_id>& ids) {
  uint64_t n = 0;
  if (!get_u64(in, pos, n) || n > (in.size() - pos) / 8) return false;
  ids.resize(n);
  for (auto& id : ids)
    if (!get_u64(in, pos, id)) return false;
  return std::is_sorted(ids.begin(), ids.end()) &&
         std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}

}  // namespace

// Layout: u64 voter count, voters, u64 learner count, learners (little-endian).
std::string encode_conf(const conf_state& c) {
  std::string out;
  put_u64(out, c.voters.size());
  for (auto id : c.voters)
    put_u64(out, id);
  put_u64(out, c.learners.size());
  for (auto id : c.learners)
    put_u64(out, id);
  return out;
}

bool decode_conf(const std::string& data, conf_state& out) {
  conf_state c;
  size_t pos = 0;
  if (!get_ids(data, pos, c.voters) || !get_ids(data, pos, c.learners) || pos != data.size())
    return false;
  out = std::move(c);
  return true;
}

const char* to_string(msg_type t) {
  switch (t) {
    case msg_type::pre_vote:
      return "pre_vote";
    case msg_type::pre_vote_response:
      return "pre_vote_response";
    case msg_type::vote:
      return "vote";
    case msg_type::vote_response:
      return "vote_response";
    case msg_type::append:
      return "append";
    case msg_type::append_response:
      return "append_response";
    case msg_type::heartbeat:
      return "heartbeat";
    case msg_type::heartbeat_response:
      return "heartbeat_response";
    case msg_type::snapshot_chunk:
      return "snapshot_chunk";
    case msg_type::snapshot_response:
      return "snapshot_response";
    case msg_type::timeout_now:
      return "timeout_now";
    case msg_type::read_index:
      return "read_index";
    case msg_type::read_index_response:
      return "read_index_response";
  }
  return "unknown";
}

}  // namespace aegis::raft
