// Issue 4, leases on leader-stamped time (DESIGN.md "Determinism and time"): leases expire by a
// replicated command, so after expiries every replica holds the same state at the same revision;
// and a new leader extends live leases by its election gap, so a leader change never expires a
// lease whose holder kept it alive.
#define BOOST_TEST_MODULE integration_lease_determinism
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>

#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;

namespace {

constexpr int leases_per_group = 8;
constexpr int keys_per_lease = 3;
constexpr int64_t ttl_s = 2;  // the minimum with the harness's 1 s election timeout

// Grants leases_per_group leases on `node` and attaches keys_per_lease keys under `prefix` to
// each; returns the lease IDs.
std::vector<int64_t> grant_group(cluster& c, int node, const std::string& prefix) {
  std::vector<int64_t> ids;
  for (int i = 0; i < leases_per_group; ++i) {
    auto id = c.client(node)->lease_grant(ttl_s, steady::now() + 5s);
    BOOST_REQUIRE_MESSAGE(id, "lease grant failed on node " << node);
    ids.push_back(*id);
    for (int k = 0; k < keys_per_lease; ++k) {
      auto st = c.client(node)->put(prefix + std::to_string(i) + "/" + std::to_string(k), "v", *id,
                                    steady::now() + 5s);
      BOOST_REQUIRE_MESSAGE(st.ok(), "put with lease failed: " << st.error_message());
    }
  }
  return ids;
}

// Keeps leases alive from a thread, every 300 ms, through any live node.
class keeper {
 public:
  keeper(cluster& c, std::vector<int64_t> ids) : c_(c), ids_(std::move(ids)) {
    thread_ = std::thread([this] { run(); });
  }
  ~keeper() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t rounds() const { return rounds_; }

 private:
  void run() {
    while (!done_) {
      for (int64_t id : ids_)
        for (int node : c_.live_nodes())
          if (c_.client(node)->lease_keepalive(id, steady::now() + 500ms)) break;
      ++rounds_;
      std::this_thread::sleep_for(300ms);  // the client's keep-alive period, not a wait
    }
  }
  cluster& c_;
  std::vector<int64_t> ids_;
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> rounds_{0};
  std::thread thread_;
};

std::optional<int64_t> count(cluster& c, const std::string& prefix) {
  for (int node : c.live_nodes())
    if (auto n = c.client(node)->count_prefix(prefix, steady::now() + 2s)) return n;
  return std::nullopt;
}

}  // namespace

BOOST_AUTO_TEST_CASE(expiry_is_replicated_and_survives_a_leader_change_for_kept_leases) {
  cluster c({.name = "lease_determinism", .nodes = 3});
  c.start_all();
  auto leader = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(leader, "no leader:\n" << c.describe());
  const int first = static_cast<int>(*leader);
  keeper kept(c, grant_group(c, first, "kept/"));
  grant_group(c, first, "dropped/");

  // Unrenewed leases expire on every replica: their keys are gone.
  const bool dropped = wait_until([&] { return count(c, "dropped/") == 0; }, steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(dropped, "keys of unrenewed leases still present:\n" << c.describe());

  // The leader dies; kept leases must survive the election and the TTL after it.
  c.kill(first);
  auto next = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(next, "no new leader:\n" << c.describe());
  const uint64_t rounds_at_change = kept.rounds();
  const auto survived_until = steady::now() + std::chrono::seconds(2 * ttl_s + 1);
  bool intact = true;
  wait_until(
      [&] {
        // No answer (every node busy with the election) is no evidence either way.
        if (const auto n = count(c, "kept/"))
          intact = intact && *n == leases_per_group * keys_per_lease;
        return !intact || steady::now() >= survived_until;
      },
      survived_until + 5s);
  BOOST_CHECK_MESSAGE(intact, "a kept-alive lease lost keys across the leader change");
  BOOST_CHECK(kept.rounds() > rounds_at_change);

  // Back to three replicas; stop renewing: the rest expires too.
  c.restart(first);
  kept.stop();
  const bool all_gone = wait_until([&] { return count(c, "kept/") == 0; }, steady::now() + 20s);
  BOOST_REQUIRE_MESSAGE(all_gone, "kept leases did not expire once no longer renewed");

  // Every replica applied the same entries: same revision, same hash of the whole state
  // (keys, history, leases).
  std::map<int, std::pair<uint32_t, int64_t>> hashes;
  const bool agreed = wait_until(
      [&] {
        hashes.clear();
        for (int node = 1; node <= c.size(); ++node)
          if (auto h = c.client(node)->hash(steady::now() + 2s)) hashes[node] = *h;
        if (hashes.size() != static_cast<size_t>(c.size())) return false;
        for (const auto& [node, h] : hashes)
          if (h != hashes.begin()->second) return false;
        return true;
      },
      steady::now() + 20s);
  std::ostringstream seen;
  for (const auto& [node, h] : hashes)
    seen << " node" << node << "=" << h.first << "@" << h.second;
  BOOST_CHECK_MESSAGE(agreed, "replica hashes differ:" << seen.str());
  BOOST_TEST_MESSAGE("replica hashes:" << seen.str());

  // The telemetry says the same: no lease is left, and a node that applied every expiry since
  // it started (one never restarted) counted each of them.
  const int witness = first == 1 ? 2 : 1;
  BOOST_CHECK_EQUAL(c.metric(witness, "aegis_lease_active").value_or(-1), 0);
  BOOST_CHECK_EQUAL(c.metric(witness, "aegis_lease_granted_total").value_or(-1),
                    2 * leases_per_group);
  BOOST_CHECK_EQUAL(c.metric(witness, "aegis_lease_expired_total").value_or(-1),
                    2 * leases_per_group);
}
