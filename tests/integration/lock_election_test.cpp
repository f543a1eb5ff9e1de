// Locks and elections on a real 3-node cluster: etcd's v3lock and v3election services (served by
// each node's lock manager) and Debian's etcdctl `lock` / `elect`, which run etcd's client-side
// recipes over KV, Lease and Watch on the same keys, so both must agree on who holds what.
//   (a) two etcdctl lock processes contend: the second runs its command only after the first ends
//   (a') a gRPC Lock waits behind an etcdctl lock and gets it when etcdctl lets go
//   (b) a lock whose lease expires (nobody keeps it alive) passes to the waiter
//   (c) Unlock hands the lock on; fencing revisions increase; a cancelled waiter withdraws its key
//   (d) an election: campaign, leader, proclaim, observe, resign, and etcdctl elect -l watching
//   (e) a waiter on a follower keeps its place through a leader crash
// Every wait has a deadline; "has not happened yet" is checked only once the cluster shows the
// waiter queued (its key exists), never after a sleep that hopes.
#define BOOST_TEST_MODULE integration_lock_election
#include <boost/test/unit_test.hpp>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include "protocol/etcd/rpc.grpc.pb.h"
#include "protocol/etcd/v3election.grpc.pb.h"
#include "protocol/etcd/v3lock.grpc.pb.h"
#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;

namespace {

// Debian's etcdctl (CTest passes where it found it).
std::string etcdctl_bin() {
  const char* bin = std::getenv("AEGIS_ETCDCTL");
  return bin && *bin ? bin : "/usr/bin/etcdctl";
}
constexpr auto step_deadline = 15s;  // any single expected change

std::string hex(int64_t lease) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%" PRIx64, static_cast<uint64_t>(lease));
  return buf;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lock, election, lease and KV stubs of one node.
struct client {
  explicit client(const std::string& address)
      : channel(loopback_channel(address)),
        lock(v3lockpb::Lock::NewStub(channel)),
        election(v3electionpb::Election::NewStub(channel)),
        lease(etcdserverpb::Lease::NewStub(channel)),
        kv(etcdserverpb::KV::NewStub(channel)) {}

  int64_t grant(int64_t ttl_s) {
    grpc::ClientContext ctx;
    set_deadline(ctx, steady::now() + 5s);
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(ttl_s);
    etcdserverpb::LeaseGrantResponse resp;
    const auto s = lease->LeaseGrant(&ctx, req, &resp);
    BOOST_REQUIRE_MESSAGE(s.ok(), "LeaseGrant failed: " << s.error_message());
    return resp.id();
  }

  grpc::Status put(const std::string& key, const std::string& value) {
    grpc::ClientContext ctx;
    set_deadline(ctx, steady::now() + 5s);
    etcdserverpb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    etcdserverpb::PutResponse resp;
    return kv->Put(&ctx, req, &resp);
  }

  // The keys under name + "/", oldest first.
  std::vector<std::string> keys(const std::string& name) {
    grpc::ClientContext ctx;
    set_deadline(ctx, steady::now() + 5s);
    etcdserverpb::RangeRequest req;
    req.set_key(name + "/");
    req.set_range_end(name + "0");
    req.set_sort_target(etcdserverpb::RangeRequest::CREATE);
    req.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
    etcdserverpb::RangeResponse resp;
    std::vector<std::string> out;
    if (!kv->Range(&ctx, req, &resp).ok()) return {"(range failed)"};
    for (const auto& kv : resp.kvs())
      out.push_back(kv.key());
    return out;
  }

  std::pair<grpc::Status, v3lockpb::LockResponse> lock_call(const std::string& name, int64_t lease,
                                                            steady::time_point deadline) {
    grpc::ClientContext ctx;
    set_deadline(ctx, deadline);
    v3lockpb::LockRequest req;
    req.set_name(name);
    req.set_lease(lease);
    v3lockpb::LockResponse resp;
    auto s = lock->Lock(&ctx, req, &resp);
    return {s, resp};
  }

  grpc::Status unlock(const std::string& key) {
    grpc::ClientContext ctx;
    set_deadline(ctx, steady::now() + 5s);
    v3lockpb::UnlockRequest req;
    req.set_key(key);
    v3lockpb::UnlockResponse resp;
    return lock->Unlock(&ctx, req, &resp);
  }

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v3lockpb::Lock::Stub> lock;
  std::unique_ptr<v3electionpb::Election::Stub> election;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
};

using lock_result = std::pair<grpc::Status, v3lockpb::LockResponse>;

std::future<lock_result> lock_async(client& c, const std::string& name, int64_t lease,
                                    steady::time_point deadline) {
  return std::async(std::launch::async,
                    [&c, name, lease, deadline] { return c.lock_call(name, lease, deadline); });
}

bool ready(std::future<lock_result>& f) {
  return f.wait_for(0s) == std::future_status::ready;
}

struct started_cluster {
  started_cluster() : c({.name = "lock", .nodes = 3}) {
    c.start_all();
    BOOST_REQUIRE_MESSAGE(c.wait_for_leader(steady::now() + step_deadline), "no leader:\n"
                                                                                << c.describe());
  }
  std::string endpoints() const {
    return c.client_address(1) + "," + c.client_address(2) + "," + c.client_address(3);
  }
  // An etcdctl process with its stdout and stderr in files named after `tag`.
  child_process etcdctl(const std::string& tag, std::vector<std::string> args) const {
    std::vector<std::string> argv{etcdctl_bin(), "--endpoints=" + endpoints()};
    argv.insert(argv.end(), args.begin(), args.end());
    return child_process::spawn(argv, out(tag), c.dir() + "/" + tag + ".err");
  }
  std::string out(const std::string& tag) const { return c.dir() + "/" + tag + ".out"; }

  cluster c;
};

}  // namespace

// (a) etcdctl against etcdctl: the second runs its command only once the first has let go.
BOOST_AUTO_TEST_CASE(etcdctl_locks_take_turns) {
  started_cluster s;
  client n1(s.c.client_address(1));
  auto first = s.etcdctl("first", {"lock", "lk-a"});
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return slurp(s.out("first")).find("lk-a/") == 0; },
                                   steady::now() + step_deadline),
                        "the first etcdctl lock did not report the lock: "
                            << slurp(s.out("first")) << slurp(s.c.dir() + "/first.err"));
  auto second = s.etcdctl("second", {"lock", "lk-a", "echo", "got-it"});
  // Queued: its key is in the store behind the first one's.
  BOOST_REQUIRE_MESSAGE(
      wait_until([&] { return n1.keys("lk-a").size() == 2; }, steady::now() + step_deadline),
      "the second etcdctl lock never queued");
  BOOST_CHECK_MESSAGE(
      second.running() && slurp(s.out("second")).empty(),
      "the second etcdctl ran while the first held the lock: " << slurp(s.out("second")));
  first.signal(SIGTERM);  // etcdctl unlocks on SIGTERM
  const auto first_end = first.wait_until(steady::now() + step_deadline);
  BOOST_REQUIRE_MESSAGE(first_end, "the first etcdctl did not exit on SIGTERM");
  const auto second_end = second.wait_until(steady::now() + step_deadline);
  BOOST_REQUIRE_MESSAGE(
      second_end, "the second etcdctl never got the lock: " << slurp(s.c.dir() + "/second.err"));
  BOOST_CHECK_MESSAGE(second_end->code == 0, "second etcdctl: " << second_end->str());
  BOOST_CHECK_EQUAL(slurp(s.out("second")), "got-it\n");
  BOOST_CHECK(wait_until([&] { return n1.keys("lk-a").empty(); }, steady::now() + step_deadline));
}

// (a') a gRPC Lock (served on another node) waits behind an etcdctl lock: one key layout.
BOOST_AUTO_TEST_CASE(grpc_lock_waits_for_etcdctl) {
  started_cluster s;
  client n2(s.c.client_address(2));
  auto holder = s.etcdctl("holder", {"lock", "lk-mixed"});
  BOOST_REQUIRE(wait_until([&] { return slurp(s.out("holder")).find("lk-mixed/") == 0; },
                           steady::now() + step_deadline));
  const int64_t lease = n2.grant(30);
  auto waiting = lock_async(n2, "lk-mixed", lease, steady::now() + 30s);
  BOOST_REQUIRE(
      wait_until([&] { return n2.keys("lk-mixed").size() == 2; }, steady::now() + step_deadline));
  BOOST_CHECK_MESSAGE(!ready(waiting), "Lock answered while etcdctl held the lock");
  holder.signal(SIGTERM);
  BOOST_REQUIRE(waiting.wait_until(steady::now() + step_deadline) == std::future_status::ready);
  const auto [status, resp] = waiting.get();
  BOOST_REQUIRE_MESSAGE(status.ok(), "Lock failed: " << status.error_message());
  BOOST_CHECK_EQUAL(resp.key(), "lk-mixed/" + hex(lease));
  BOOST_CHECK(n2.keys("lk-mixed") == std::vector<std::string>{resp.key()});
}

// (b) the holder's lease expires (never kept alive): the state machine deletes its key and the
// waiter, on another node, gets the lock.
BOOST_AUTO_TEST_CASE(expired_lease_passes_the_lock) {
  started_cluster s;
  client n1(s.c.client_address(1)), n3(s.c.client_address(3));
  const int64_t short_lease = n1.grant(2);  // the cluster's minimum TTL, a few seconds
  const int64_t long_lease = n3.grant(60);
  const auto [st1, held] = n1.lock_call("lk-b", short_lease, steady::now() + step_deadline);
  BOOST_REQUIRE_MESSAGE(st1.ok(), "Lock failed: " << st1.error_message());
  BOOST_CHECK_EQUAL(held.key(), "lk-b/" + hex(short_lease));
  auto waiting = lock_async(n3, "lk-b", long_lease, steady::now() + 30s);
  const auto started = steady::now();
  BOOST_REQUIRE(waiting.wait_until(steady::now() + 20s) == std::future_status::ready);
  const auto [st2, next] = waiting.get();
  BOOST_REQUIRE_MESSAGE(st2.ok(), "Lock failed: " << st2.error_message());
  BOOST_TEST_MESSAGE(
      "the waiter got the lock "
      << std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started).count()
      << " ms after queueing");
  BOOST_CHECK_EQUAL(next.key(), "lk-b/" + hex(long_lease));
  BOOST_CHECK_GT(next.header().revision(), held.header().revision());
  BOOST_CHECK(n1.keys("lk-b") == std::vector<std::string>{next.key()});
}

// (c) Unlock hands the lock to the next in line; the answers' revisions (fencing tokens) grow;
// a waiter whose client gives up withdraws its key and does not block the line.
BOOST_AUTO_TEST_CASE(unlock_hands_on_and_cancelled_waiters_withdraw) {
  started_cluster s;
  client n1(s.c.client_address(1)), n2(s.c.client_address(2)), n3(s.c.client_address(3));
  const int64_t la = n1.grant(60), lb = n2.grant(60), lc = n3.grant(60);
  const auto [sa, a] = n1.lock_call("lk-c", la, steady::now() + step_deadline);
  BOOST_REQUIRE_MESSAGE(sa.ok(), sa.error_message());
  // C gives up after a second: its key must go again.
  const auto [sc, c] = n3.lock_call("lk-c", lc, steady::now() + 1s);
  BOOST_CHECK_EQUAL(sc.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  BOOST_CHECK_MESSAGE(
      wait_until([&] { return n1.keys("lk-c").size() == 1; }, steady::now() + step_deadline),
      "the cancelled waiter's key stayed: " << n1.keys("lk-c").size() << " keys");
  auto waiting = lock_async(n2, "lk-c", lb, steady::now() + 30s);
  BOOST_REQUIRE(
      wait_until([&] { return n1.keys("lk-c").size() == 2; }, steady::now() + step_deadline));
  BOOST_CHECK(!ready(waiting));
  BOOST_REQUIRE(n1.unlock(a.key()).ok());
  BOOST_REQUIRE(waiting.wait_until(steady::now() + step_deadline) == std::future_status::ready);
  const auto [sb, b] = waiting.get();
  BOOST_REQUIRE_MESSAGE(sb.ok(), sb.error_message());
  BOOST_CHECK_EQUAL(b.key(), "lk-c/" + hex(lb));
  BOOST_CHECK_GT(b.header().revision(), a.header().revision());
  // Locking again with the lease that holds: the same key, at once.
  const auto [sb2, b2] = n1.lock_call("lk-c", lb, steady::now() + step_deadline);
  BOOST_CHECK(sb2.ok() && b2.key() == b.key());
  BOOST_CHECK(n2.unlock(b.key()).ok());
  BOOST_CHECK(n1.keys("lk-c").empty());
  // Requests AEGIS refuses before they reach the log.
  const auto [bad, unused] = n1.lock_call("", la, steady::now() + 5s);
  BOOST_CHECK_EQUAL(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const auto [nolease, unused2] = n1.lock_call("lk-c", 12345, steady::now() + 5s);
  BOOST_CHECK_EQUAL(nolease.error_message(), "etcdserver: requested lease not found");
}

namespace {

using campaign_result = std::pair<grpc::Status, v3electionpb::CampaignResponse>;

campaign_result campaign(client& c, const std::string& name, int64_t lease,
                         const std::string& value, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline);
  v3electionpb::CampaignRequest req;
  req.set_name(name);
  req.set_lease(lease);
  req.set_value(value);
  v3electionpb::CampaignResponse resp;
  auto s = c.election->Campaign(&ctx, req, &resp);
  return {s, resp};
}

std::pair<grpc::Status, std::string> leader_value(client& c, const std::string& name) {
  grpc::ClientContext ctx;
  set_deadline(ctx, steady::now() + 5s);
  v3electionpb::LeaderRequest req;
  req.set_name(name);
  v3electionpb::LeaderResponse resp;
  auto s = c.election->Leader(&ctx, req, &resp);
  return {s, resp.kv().value()};
}

grpc::Status proclaim(client& c, const v3electionpb::LeaderKey& leader, const std::string& value) {
  grpc::ClientContext ctx;
  set_deadline(ctx, steady::now() + 5s);
  v3electionpb::ProclaimRequest req;
  *req.mutable_leader() = leader;
  req.set_value(value);
  v3electionpb::ProclaimResponse resp;
  return c.election->Proclaim(&ctx, req, &resp);
}

grpc::Status resign(client& c, const v3electionpb::LeaderKey& leader) {
  grpc::ClientContext ctx;
  set_deadline(ctx, steady::now() + 5s);
  v3electionpb::ResignRequest req;
  *req.mutable_leader() = leader;
  v3electionpb::ResignResponse resp;
  return c.election->Resign(&ctx, req, &resp);
}

// An Observe stream read on its own thread; its values are collected in order.
class observer {
 public:
  observer(client& c, const std::string& name) {
    set_deadline(ctx_, steady::now() + 150s);
    thread_ = std::thread([this, &c, name] {
      v3electionpb::LeaderRequest req;
      req.set_name(name);
      auto reader = c.election->Observe(&ctx_, req);
      v3electionpb::LeaderResponse resp;
      while (reader->Read(&resp)) {
        std::lock_guard<std::mutex> lock(mu_);
        values_.push_back(resp.kv().value());
      }
      reader->Finish();
    });
  }
  ~observer() {
    ctx_.TryCancel();
    thread_.join();
  }
  std::vector<std::string> values() {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }
  bool saw(const std::string& value) {
    const auto v = values();
    return std::find(v.begin(), v.end(), value) != v.end();
  }

 private:
  grpc::ClientContext ctx_;
  std::mutex mu_;
  std::vector<std::string> values_;
  std::thread thread_;
};

// Both observers (our Observe stream and etcdctl elect -l) heard exactly these values, in order.
void check_heard_in_order(const started_cluster& s, observer& watching,
                          const std::vector<std::string>& expected) {
  BOOST_CHECK(
      wait_until([&] { return watching.saw(expected.back()); }, steady::now() + step_deadline));
  const auto seen = watching.values();
  BOOST_CHECK_EQUAL_COLLECTIONS(seen.begin(), seen.end(), expected.begin(), expected.end());
  BOOST_CHECK_MESSAGE(
      wait_until(
          [&] { return slurp(s.out("listener")).find(expected.back()) != std::string::npos; },
          steady::now() + step_deadline),
      "etcdctl elect -l output: " << slurp(s.out("listener")));
  // etcdctl prints each leader as two lines: its key, then its value.
  std::vector<std::string> heard;
  std::istringstream lines(slurp(s.out("listener")));
  for (std::string key, value; std::getline(lines, key) && std::getline(lines, value);)
    heard.push_back(value);
  BOOST_CHECK_EQUAL_COLLECTIONS(heard.begin(), heard.end(), expected.begin(), expected.end());
}

}  // namespace

// (d) an election through the gRPC service, watched by an Observe stream and by etcdctl elect -l,
// with an etcdctl candidate queued behind a gRPC one.
BOOST_AUTO_TEST_CASE(election_campaign_proclaim_observe_resign) {
  started_cluster s;
  client n1(s.c.client_address(1)), n2(s.c.client_address(2)), n3(s.c.client_address(3));
  const auto none = leader_value(n2, "el");
  BOOST_CHECK_EQUAL(none.first.error_code(), grpc::StatusCode::UNKNOWN);
  BOOST_CHECK_EQUAL(none.first.error_message(), "election: no leader");
  observer watching(n3, "el");
  auto listener = s.etcdctl("listener", {"elect", "-l", "el"});

  const int64_t la = n1.grant(60), lb = n2.grant(60);
  const auto [sa, a] = campaign(n1, "el", la, "alice", steady::now() + step_deadline);
  BOOST_REQUIRE_MESSAGE(sa.ok(), sa.error_message());
  BOOST_CHECK_EQUAL(a.leader().key(), "el/" + hex(la));
  BOOST_CHECK_EQUAL(a.leader().lease(), la);
  BOOST_CHECK_EQUAL(leader_value(n2, "el").second, "alice");
  // Both observers follow alice before anything changes (etcd's Observe reports the latest value,
  // not every one, to an observer that starts late).
  BOOST_REQUIRE(wait_until([&] { return watching.saw("alice"); }, steady::now() + step_deadline));
  BOOST_REQUIRE_MESSAGE(
      wait_until([&] { return slurp(s.out("listener")).find("alice\n") != std::string::npos; },
                 steady::now() + step_deadline),
      "etcdctl elect -l did not report alice: " << slurp(s.c.dir() + "/listener.err"));
  BOOST_REQUIRE(proclaim(n1, a.leader(), "alice-2").ok());
  BOOST_CHECK_EQUAL(leader_value(n3, "el").second, "alice-2");

  auto bob = std::async(std::launch::async,
                        [&] { return campaign(n2, "el", lb, "bob", steady::now() + 30s); });
  BOOST_REQUIRE(
      wait_until([&] { return n1.keys("el").size() == 2; }, steady::now() + step_deadline));
  BOOST_CHECK(bob.wait_for(0s) != std::future_status::ready);
  BOOST_REQUIRE(resign(n1, a.leader()).ok());
  BOOST_REQUIRE(bob.wait_until(steady::now() + step_deadline) == std::future_status::ready);
  const auto [sb, b] = bob.get();
  BOOST_REQUIRE_MESSAGE(sb.ok(), sb.error_message());
  BOOST_CHECK_GT(b.leader().rev(), a.leader().rev());
  const auto stale = proclaim(n1, a.leader(), "stale");
  BOOST_CHECK_EQUAL(stale.error_code(), grpc::StatusCode::UNKNOWN);
  BOOST_CHECK_EQUAL(stale.error_message(), "election: not leader");

  // etcdctl's own campaign (client-side recipe) queues behind bob's and wins once bob resigns
  // (after both observers have seen bob: a late observer would see only the latest leader).
  BOOST_REQUIRE(wait_until([&] { return watching.saw("bob"); }, steady::now() + step_deadline));
  BOOST_REQUIRE(
      wait_until([&] { return slurp(s.out("listener")).find("bob\n") != std::string::npos; },
                 steady::now() + step_deadline));
  auto carol = s.etcdctl("carol", {"elect", "el", "carol"});
  BOOST_REQUIRE(
      wait_until([&] { return n1.keys("el").size() == 2; }, steady::now() + step_deadline));
  BOOST_REQUIRE(resign(n2, b.leader()).ok());
  BOOST_CHECK_MESSAGE(
      wait_until([&] { return slurp(s.out("carol")).find("carol") != std::string::npos; },
                 steady::now() + step_deadline),
      "etcdctl elect never won: " << slurp(s.c.dir() + "/carol.err"));
  BOOST_CHECK_EQUAL(leader_value(n1, "el").second, "carol");

  check_heard_in_order(s, watching, {"alice", "alice-2", "bob", "carol"});
  carol.signal(SIGTERM);  // etcdctl resigns on SIGTERM
  BOOST_CHECK(carol.wait_until(steady::now() + step_deadline));
  BOOST_CHECK(wait_until([&] { return n1.keys("el").empty(); }, steady::now() + step_deadline));
  listener.signal(SIGTERM);
  listener.wait_until(steady::now() + step_deadline);
}

// (e) a waiter on a follower keeps its place through a leader crash: its watch lives on its own
// node, and a step that fails for want of a leader runs again once there is one.
BOOST_AUTO_TEST_CASE(waiter_survives_leader_failover) {
  started_cluster s;
  const auto leader = s.c.wait_for_leader(steady::now() + step_deadline);
  BOOST_REQUIRE(leader);
  const int old_leader = static_cast<int>(*leader);
  const int holder_node = old_leader % 3 + 1, waiter_node = holder_node % 3 + 1;
  client holder(s.c.client_address(holder_node)), waiter(s.c.client_address(waiter_node));
  const int64_t la = holder.grant(60), lb = waiter.grant(60);
  const auto [sa, a] = holder.lock_call("lk-e", la, steady::now() + step_deadline);
  BOOST_REQUIRE_MESSAGE(sa.ok(), sa.error_message());
  auto waiting = lock_async(waiter, "lk-e", lb, steady::now() + 60s);
  BOOST_REQUIRE(
      wait_until([&] { return holder.keys("lk-e").size() == 2; }, steady::now() + step_deadline));
  s.c.kill(old_leader);
  BOOST_REQUIRE_MESSAGE(s.c.wait_for_leader(steady::now() + step_deadline), "no new leader:\n"
                                                                                << s.c.describe());
  BOOST_CHECK(!ready(waiting));
  BOOST_REQUIRE_MESSAGE(
      wait_until([&] { return holder.unlock(a.key()).ok(); }, steady::now() + step_deadline),
      "Unlock never succeeded after the failover");
  BOOST_REQUIRE(waiting.wait_until(steady::now() + step_deadline) == std::future_status::ready);
  const auto [sb, b] = waiting.get();
  BOOST_REQUIRE_MESSAGE(sb.ok(), sb.error_message());
  BOOST_CHECK_EQUAL(b.key(), "lk-e/" + hex(lb));
  BOOST_CHECK_GT(b.header().revision(), a.header().revision());
}
