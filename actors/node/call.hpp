// How a client call ends, without CAF or gRPC: the gateway creates a reply_slot per RPC, the
// actors finish it, and the gateway maps the result onto a gRPC status and response.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace aegis::node {

// Outcome of a client call; the numbers are grpc::StatusCode's, so the gateway maps 1:1.
enum class call_code : int {
  ok = 0,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  resource_exhausted = 8,
  failed_precondition = 9,
  out_of_range = 11,
  internal = 13,
  unavailable = 14,
};

struct call_result {
  call_code code = call_code::ok;
  std::string message;   // for errors: what the client sees (etcd's wording where etcd has one)
  std::string response;  // for ok: the serialized etcd response message
  static call_result error(call_code c, std::string msg) { return {c, std::move(msg), {}}; }
};

// The completion of one client call, finished exactly once by whichever actor resolves it. A
// slot dropped unfinished (an actor stopped with it queued) answers UNAVAILABLE, so a client is
// never left hanging.
class reply_slot {
 public:
  explicit reply_slot(std::function<void(call_result)> done) : done_(std::move(done)) {}
  reply_slot(const reply_slot&) = delete;
  reply_slot& operator=(const reply_slot&) = delete;
  ~reply_slot() {
    if (!finished_.load()) done_(call_result::error(call_code::unavailable, "node stopping"));
  }
  void finish(call_result r) {
    if (!finished_.exchange(true)) done_(std::move(r));
  }

 private:
  std::function<void(call_result)> done_;
  std::atomic<bool> finished_{false};
};
using reply_ptr = std::shared_ptr<reply_slot>;

}  // namespace aegis::node
