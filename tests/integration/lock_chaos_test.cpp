// Issue 4, lock safety under chaos: clients contend for one lock (v3lockpb.Lock) through every
// node while the leader is killed and, later, partitioned away through the fault hooks. Checked:
//   - fencing: the tokens (LockResponse header revisions) handed out, in the order the holds
//     began, are strictly increasing;
//   - mutual exclusion: no two holds overlap. A hold is counted from the Lock answer to the
//     moment its holder, still holding, sent a keep-alive that came back alive (the key existed
//     at that renewal: a lease past its expiry is never renewed). Both ends are taken on the safe
//     side of the server's linearization points, so an overlap here is an overlap there. A holder
//     whose lease was lost (it could not keep it alive through the chaos) holds nothing it can
//     prove and is only checked for fencing.
#define BOOST_TEST_MODULE integration_lock_chaos
#include <grpcpp/grpcpp.h>

#include <boost/test/unit_test.hpp>
#include <mutex>
#include <thread>

#include "protocol/etcd/v3lock.grpc.pb.h"
#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;

namespace {

constexpr int contenders = 4;
constexpr int64_t lease_ttl_s = 2;  // the minimum with the harness's 1 s election timeout

struct hold {
  int client = 0;
  int64_t token = 0;
  steady::time_point from;                  // the Lock answer arrived
  std::optional<steady::time_point> until;  // a still-alive keep-alive was sent (proven hold)
};

// One contender: lease, Lock, hold a little while proving the lease alive, Unlock; again.
class contender {
 public:
  contender(cluster& c, int id, std::mutex& mu, std::vector<hold>& holds)
      : c_(c), id_(id), mu_(mu), holds_(holds) {}
  void run(const std::atomic<bool>& done) {
    for (uint64_t round = 0; !done; ++round) {
      auto nodes = c_.live_nodes();
      if (nodes.empty()) continue;
      const int node = nodes[(static_cast<size_t>(id_) + round) % nodes.size()];
      once(node);
    }
  }

 private:
  void once(int node) {
    auto lease = c_.client(node)->lease_grant(lease_ttl_s, steady::now() + 2s);
    if (!lease) return;
    auto stub = v3lockpb::Lock::NewStub(loopback_channel(c_.client_address(node)));
    grpc::ClientContext ctx;
    set_deadline(ctx, steady::now() + 4s);
    v3lockpb::LockRequest req;
    req.set_name("chaos-lock");
    req.set_lease(*lease);
    v3lockpb::LockResponse resp;
    if (!stub->Lock(&ctx, req, &resp).ok()) return;
    hold h{id_, resp.header().revision(), steady::now(), std::nullopt};
    std::this_thread::sleep_for(50ms);  // the work done under the lock
    const auto sent = steady::now();
    auto ttl = c_.client(node)->lease_keepalive(*lease, steady::now() + 2s);
    if (ttl && *ttl > 0) h.until = sent;
    {
      std::lock_guard<std::mutex> lock(mu_);
      holds_.push_back(h);
    }
    grpc::ClientContext uctx;
    set_deadline(uctx, steady::now() + 2s);
    v3lockpb::UnlockRequest ureq;
    ureq.set_key(resp.key());
    v3lockpb::UnlockResponse uresp;
    stub->Unlock(&uctx, ureq, &uresp);
  }

  cluster& c_;
  int id_;
  std::mutex& mu_;
  std::vector<hold>& holds_;
};

// Cuts `node` off from every other node (both directions), or heals every node.
void partition(cluster& c, int node) {
  for (int peer = 1; peer <= c.size(); ++peer) {
    if (peer == node) continue;
    c.client(node)->set_link_faults(static_cast<uint64_t>(peer), true, 0, steady::now() + 2s);
    c.client(peer)->set_link_faults(static_cast<uint64_t>(node), true, 0, steady::now() + 2s);
  }
}

void heal(cluster& c) {
  for (int node : c.live_nodes())
    c.client(node)->clear_faults(steady::now() + 2s);
}

size_t count(std::mutex& mu, const std::vector<hold>& holds) {
  std::lock_guard<std::mutex> lock(mu);
  return holds.size();
}

}  // namespace

BOOST_AUTO_TEST_CASE(tokens_increase_and_holds_never_overlap_under_kills_and_partitions) {
  cluster c({.name = "lock_chaos", .nodes = 3, .node_extra = {{"fault_injection", "true"}}});
  c.start_all();
  BOOST_REQUIRE_MESSAGE(c.wait_for_leader(steady::now() + 15s), "no leader:\n" << c.describe());
  std::mutex mu;
  std::vector<hold> holds;
  std::atomic<bool> done{false};
  std::vector<std::unique_ptr<contender>> cs;
  std::vector<std::thread> threads;
  for (int i = 0; i < contenders; ++i) {
    cs.push_back(std::make_unique<contender>(c, i, mu, holds));
    threads.emplace_back([&, i] { cs[static_cast<size_t>(i)]->run(done); });
  }
  auto progress = [&](size_t more) {
    const size_t before = count(mu, holds);
    return wait_until([&] { return count(mu, holds) >= before + more; }, steady::now() + 30s);
  };
  BOOST_CHECK_MESSAGE(progress(10), "no lock progress before the chaos");
  auto leader = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE(leader);
  c.kill(static_cast<int>(*leader));
  BOOST_CHECK_MESSAGE(progress(5), "no lock progress after killing the leader");
  c.restart(static_cast<int>(*leader));
  leader = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE(leader);
  partition(c, static_cast<int>(*leader));
  BOOST_CHECK_MESSAGE(progress(5), "no lock progress with the leader partitioned away");
  heal(c);
  BOOST_CHECK_MESSAGE(progress(5), "no lock progress after healing");
  done = true;
  for (auto& t : threads)
    t.join();

  std::sort(holds.begin(), holds.end(),
            [](const hold& a, const hold& b) { return a.from < b.from; });
  size_t proven = 0;
  for (size_t i = 1; i < holds.size(); ++i)
    BOOST_CHECK_MESSAGE(holds[i].token > holds[i - 1].token,
                        "fencing token " << holds[i].token << " (client " << holds[i].client
                                         << ") not above the previous holder's "
                                         << holds[i - 1].token);
  for (size_t i = 0; i < holds.size(); ++i) {
    if (!holds[i].until) continue;
    ++proven;
    for (size_t j = i + 1; j < holds.size() && holds[j].from < *holds[i].until; ++j)
      BOOST_CHECK_MESSAGE(false, "client " << holds[j].client << " (token " << holds[j].token
                                           << ") got the lock while client " << holds[i].client
                                           << " (token " << holds[i].token << ") provably held it");
  }
  BOOST_TEST_MESSAGE(holds.size() << " holds, " << proven << " proven to the end");
  BOOST_CHECK(proven > holds.size() / 2);
}
