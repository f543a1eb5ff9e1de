// Keep-alives of every stream on a node, batched into LeaseRenew entries the way a group commit
// batches writes: while `max_in_flight` renewals are on their way through Raft, new keep-alives
// wait and go together in the next entry (at most `max_batch` ids). No timer and no added wait
// when the node is idle; under load one entry renews many leases. Each keep-alive is still
// answered only once its renewal has applied. Thread-safe (gRPC threads add, the state machine's
// thread completes); shared-owned, since answers may arrive while the gateway shuts down.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/node/messages.hpp"
#include "protocol/command.pb.h"

namespace aegis::gateway {

class renew_batcher : public std::enable_shared_from_this<renew_batcher> {
 public:
  // ttl_s: the renewed TTL (0: no such lease); `r` not ok: the renewal failed (r says why).
  using done_fn = std::function<void(const node::call_result& r, int64_t ttl_s,
                                     const etcdserverpb::ResponseHeader& header)>;

  renew_batcher(node::consensus_actor consensus, int max_in_flight = 2, size_t max_batch = 1000)
      : consensus_(std::move(consensus)), max_in_flight_(max_in_flight), max_batch_(max_batch) {}

  void renew(int64_t id, done_fn done);

 private:
  struct waiting {
    int64_t id;
    done_fn done;
  };
  // Proposes queued keep-alives while fewer than max_in_flight are out. Call without the lock.
  void flush();
  void finished(std::vector<waiting> batch, const node::call_result& r);

  node::consensus_actor consensus_;
  const int max_in_flight_;
  const size_t max_batch_;
  std::mutex mu_;
  std::vector<waiting> queued_;
  int in_flight_ = 0;
};

}  // namespace aegis::gateway
