#include "protocol/raft_codec.hpp"

#include <algorithm>

#include "protocol/raft.pb.h"

namespace aegis::protocol {

namespace {

void to_pb(const raft::conf_state& c, raftpb::ConfState& pb) {
  for (auto v : c.voters)
    pb.add_voters(v);
  for (auto l : c.learners)
    pb.add_learners(l);
}

bool sorted_unique(const std::vector<raft::node_id>& ids) {
  return std::is_sorted(ids.begin(), ids.end()) &&
         std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}

bool from_pb(const raftpb::ConfState& pb, raft::conf_state& c) {
  c.voters.assign(pb.voters().begin(), pb.voters().end());
  c.learners.assign(pb.learners().begin(), pb.learners().end());
  if (!sorted_unique(c.voters) || !sorted_unique(c.learners)) return false;
  return std::none_of(c.learners.begin(), c.learners.end(),
                      [&](raft::node_id l) { return c.is_voter(l); });
}

}  // namespace

std::string encode(const raft::message& m) {
  raftpb::Message pb;
  pb.set_type(static_cast<raftpb::MessageType>(m.type));
  pb.set_from(m.from);
  pb.set_to(m.to);
  pb.set_term(m.term);
  pb.set_index(m.index);
  pb.set_log_term(m.log_term);
  for (const auto& e : m.entries) {
    raftpb::Entry* pe = pb.add_entries();
    pe->set_term(e.term);
    pe->set_index(e.index);
    pe->set_type(static_cast<raftpb::EntryType>(e.type));
    pe->set_data(e.data);
  }
  pb.set_commit(m.commit);
  pb.set_reject(m.reject);
  pb.set_reject_hint(m.reject_hint);
  pb.set_hint_term(m.hint_term);
  pb.set_transfer(m.transfer);
  pb.set_context(m.context);
  pb.set_heartbeat_seq(m.heartbeat_seq);
  pb.mutable_snap_meta()->set_index(m.snap_meta.index);
  pb.mutable_snap_meta()->set_term(m.snap_meta.term);
  to_pb(m.snap_meta.conf, *pb.mutable_snap_meta()->mutable_conf());
  pb.set_snap_offset(m.snap_offset);
  pb.set_snap_data(m.snap_data);
  pb.set_snap_done(m.snap_done);
  return pb.SerializeAsString();
}

std::variant<raft::message, decode_error> decode(std::string_view bytes) {
  if (bytes.size() > max_message_bytes) return decode_error{"message larger than the limit"};
  raftpb::Message pb;
  if (!pb.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return decode_error{"not a raft message (protobuf parse failed)"};
  if (!raftpb::MessageType_IsValid(pb.type()) || pb.type() > raftpb::READ_INDEX_RESPONSE)
    return decode_error{"unknown message type " + std::to_string(pb.type())};
  raft::message m{.type = static_cast<raft::msg_type>(pb.type()),
                  .from = pb.from(),
                  .to = pb.to(),
                  .term = pb.term(),
                  .index = pb.index(),
                  .log_term = pb.log_term()};
  m.entries.reserve(pb.entries_size());
  for (const auto& pe : pb.entries()) {
    if (!raftpb::EntryType_IsValid(pe.type()))
      return decode_error{"unknown entry type " + std::to_string(pe.type())};
    m.entries.push_back(
        {pe.term(), pe.index(), static_cast<raft::entry_type>(pe.type()), pe.data()});
  }
  // Entries of one append are consecutive: the core's log relies on it.
  for (size_t i = 1; i < m.entries.size(); ++i)
    if (m.entries[i].index != m.entries[i - 1].index + 1)
      return decode_error{"append entries are not consecutive"};
  m.commit = pb.commit();
  m.reject = pb.reject();
  m.reject_hint = pb.reject_hint();
  m.hint_term = pb.hint_term();
  m.transfer = pb.transfer();
  m.context = pb.context();
  m.heartbeat_seq = pb.heartbeat_seq();
  m.snap_meta.index = pb.snap_meta().index();
  m.snap_meta.term = pb.snap_meta().term();
  if (!from_pb(pb.snap_meta().conf(), m.snap_meta.conf))
    return decode_error{"snapshot configuration is not sorted and disjoint"};
  m.snap_offset = pb.snap_offset();
  m.snap_data = pb.snap_data();
  m.snap_done = pb.snap_done();
  return m;
}

}  // namespace aegis::protocol
