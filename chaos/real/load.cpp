// See load.hpp.
#include "chaos/real/load.hpp"

#include <map>
#include <random>

namespace aegis::chaos::real {

// What one client thread keeps between operations.
struct client_load::client_state {
  uint32_t id = 0;
  uint32_t node = 1;  // the node it talks to now
  uint64_t sequence = 0;
  std::mt19937_64 rng;
  // The last value this client read per key: a cas compares against it, as an application's
  // read-modify-write does.
  std::map<std::string, std::string> last_read;
};

namespace {

grpc::Status do_put(etcdserverpb::KV::Stub& kv, const operation& op, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  etcdserverpb::PutRequest req;
  req.set_key(op.key);
  req.set_value(op.value);
  etcdserverpb::PutResponse resp;
  return kv.Put(&ctx, req, &resp);
}

grpc::Status do_get(etcdserverpb::KV::Stub& kv, operation& op, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  etcdserverpb::RangeRequest req;
  req.set_key(op.key);  // serializable=false: a linearizable read (ReadIndex)
  etcdserverpb::RangeResponse resp;
  auto st = kv.Range(&ctx, req, &resp);
  if (st.ok() && resp.kvs_size() > 0) op.output = resp.kvs(0).value();
  return st;
}

grpc::Status do_cas(etcdserverpb::KV::Stub& kv, operation& op, steady::time_point deadline) {
  grpc::ClientContext ctx;
  set_deadline(ctx, deadline, false);
  etcdserverpb::TxnRequest req;
  auto* cmp = req.add_compare();
  cmp->set_key(op.key);
  cmp->set_target(etcdserverpb::Compare::VALUE);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  cmp->set_value(op.expected);
  auto* put = req.add_success()->mutable_request_put();
  put->set_key(op.key);
  put->set_value(op.value);
  etcdserverpb::TxnResponse resp;
  auto st = kv.Txn(&ctx, req, &resp);
  op.cas_ok = st.ok() && resp.succeeded();
  return st;
}

op_kind pick_kind(const load_spec& s, std::mt19937_64& rng) {
  const uint64_t total = uint64_t{s.mix_put} + s.mix_get + s.mix_cas;
  const uint64_t r = rng() % total;
  if (r < s.mix_put) return op_kind::put;
  if (r < uint64_t{s.mix_put} + s.mix_get) return op_kind::get;
  return op_kind::cas;
}

}  // namespace

client_load::client_load(const load_spec& spec, node_api& api, uint64_t seed,
                         steady::time_point origin, std::string key_prefix)
    : spec_(spec), api_(api), seed_(seed), origin_(origin), key_prefix_(std::move(key_prefix)) {}

client_load::~client_load() {
  stop();
}

void client_load::start() {
  for (uint32_t i = 0; i < spec_.clients; ++i)
    threads_.emplace_back([this, i] { run(i); });
}

void client_load::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

history client_load::take() {
  std::lock_guard lock(mu_);
  return std::move(history_);
}

int64_t client_load::now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - origin_).count();
}

bool client_load::record(operation op) {
  std::lock_guard lock(mu_);
  if (history_.size() >= kMaxOps) {
    truncated_ = true;
    return false;
  }
  op.id = history_.size() + 1;
  history_.push_back(std::move(op));
  return true;
}

// One operation against the client's current node, recorded as the client saw it.
operation client_load::issue(client_state& c) {
  operation op;
  op.client = c.id;
  op.key = key_prefix_ + "k" + std::to_string(c.rng() % spec_.keys);
  op.kind = pick_kind(spec_, c.rng);
  auto last = c.last_read.find(op.key);
  // A cas needs a value to compare against, and etcd's value compare never matches an absent
  // key while the checker reads an absent key as "": without a non-empty read, read instead.
  if (op.kind == op_kind::cas && (last == c.last_read.end() || last->second.empty()))
    op.kind = op_kind::get;
  if (op.kind != op_kind::get)
    op.value = "c" + std::to_string(c.id) + "-" + std::to_string(++c.sequence);
  if (op.kind == op_kind::cas) op.expected = last->second;
  const auto stub = api_.kv(c.node);
  auto& kv = *stub;
  op.invoke_us = now_us();
  const auto deadline = steady::now() + std::chrono::microseconds(spec_.timeout_us);
  grpc::Status st = op.kind == op_kind::put   ? do_put(kv, op, deadline)
                    : op.kind == op_kind::get ? do_get(kv, op, deadline)
                                              : do_cas(kv, op, deadline);
  if (st.ok()) {
    op.status = op_status::ok;
    op.return_us = now_us();
    if (op.kind == op_kind::get) c.last_read[op.key] = op.output;
    if (op.kind != op_kind::get && (op.kind == op_kind::put || op.cas_ok))
      c.last_read[op.key] = op.value;
  } else {
    // A failed read observed nothing; a failed write may still apply later.
    op.status = op.kind == op_kind::get ? op_status::fail : op_status::unknown;
    const auto code = st.error_code();
    if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED)
      c.node = c.node % api_.nodes() + 1;
  }
  return op;
}

void client_load::run(uint32_t client) {
  client_state c;
  c.id = client;
  c.node = client % api_.nodes() + 1;
  c.rng.seed(seed_ * 1'000'003 + client);
  // Each client paces itself to its share of the rate; a late operation does not cause a burst.
  const auto period = std::chrono::duration_cast<steady::duration>(
      std::chrono::duration<double>(spec_.clients / spec_.rate_per_s));
  auto next = steady::now();
  while (!stop_) {
    if (!record(issue(c))) return;
    next = std::max(next + period, steady::now());
    while (!stop_ && steady::now() < next)
      std::this_thread::sleep_for(
          std::min<steady::duration>(next - steady::now(), std::chrono::milliseconds(50)));
  }
}

}  // namespace aegis::chaos::real
