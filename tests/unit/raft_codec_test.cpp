// Peer messages survive the wire unchanged, and bytes that are not a well-formed message are
// refused with a reason, never handed to the core and never a crash.
#define BOOST_TEST_MODULE raft_codec
#include <boost/test/unit_test.hpp>
#include <random>

#include "protocol/raft.pb.h"
#include "protocol/raft_codec.hpp"

using namespace aegis;
using raft::message;
using raft::msg_type;

namespace {

message random_message(std::mt19937_64& rng) {
  auto u = [&](uint64_t n) { return rng() % n; };
  message m{.type = static_cast<msg_type>(u(13)),
            .from = u(9) + 1,
            .to = u(9) + 1,
            .term = u(100),
            .index = u(1000),
            .log_term = u(100)};
  const uint64_t first = u(1000) + 1;
  for (uint64_t i = 0; i < u(4); ++i)
    m.entries.push_back({u(100), first + i, static_cast<raft::entry_type>(u(3)),
                         std::string(u(40), char('a' + u(26)))});
  m.commit = u(1000);
  m.reject = u(2);
  m.reject_hint = u(1000);
  m.hint_term = u(100);
  m.transfer = u(2);
  m.context = rng();
  m.heartbeat_seq = rng();
  m.snap_meta = {u(1000), u(100), raft::conf_state{{1, 2, 3}, {7}}};
  m.snap_offset = u(1 << 20);
  m.snap_data = std::string(u(100), '\0');  // binary-safe, NULs included
  m.snap_done = u(2);
  return m;
}

std::string refusal(const std::string& bytes) {
  auto r = protocol::decode(bytes);
  BOOST_REQUIRE(std::holds_alternative<protocol::decode_error>(r));
  return std::get<protocol::decode_error>(r).reason;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_message_round_trips) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 2000; ++i) {
    const message m = random_message(rng);
    auto r = protocol::decode(protocol::encode(m));
    BOOST_REQUIRE(std::holds_alternative<message>(r));
    BOOST_TEST((std::get<message>(r) == m));
  }
}

BOOST_AUTO_TEST_CASE(garbage_is_refused_never_a_crash) {
  std::mt19937_64 rng(7);
  size_t refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (auto& ch : bytes)
      ch = static_cast<char>(rng());
    if (std::holds_alternative<protocol::decode_error>(protocol::decode(bytes))) ++refused;
  }
  BOOST_TEST(refused > 10000u);  // most random bytes are not a message at all
}

BOOST_AUTO_TEST_CASE(structurally_bad_messages_are_refused_with_a_reason) {
  aegis::raftpb::Message pb;
  pb.set_type(static_cast<aegis::raftpb::MessageType>(99));
  BOOST_TEST(refusal(pb.SerializeAsString()).find("unknown message type") != std::string::npos);

  pb.set_type(aegis::raftpb::APPEND);
  auto* e1 = pb.add_entries();
  e1->set_index(5);
  auto* e2 = pb.add_entries();
  e2->set_index(7);
  BOOST_TEST(refusal(pb.SerializeAsString()).find("not consecutive") != std::string::npos);

  pb.clear_entries();
  pb.mutable_snap_meta()->mutable_conf()->add_voters(3);
  pb.mutable_snap_meta()->mutable_conf()->add_voters(1);
  BOOST_TEST(refusal(pb.SerializeAsString()).find("configuration") != std::string::npos);

  BOOST_TEST(refusal(std::string(protocol::max_message_bytes + 1, 'x')).find("limit") !=
             std::string::npos);
}
