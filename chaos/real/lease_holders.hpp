// Lease holders on a real cluster (`load leases N lease-ttl D`): each holder grants a lease with
// that TTL, puts key `lease/<i>` attached to it, and keeps it alive on a LeaseKeepAlive stream
// through ONE node (holder i -> node (i % n) + 1), as an application configured with a single
// endpoint does. When that node is down the keep-alives fail; when it answers again the holder
// learns whether its lease survived (TTL > 0 and its key still there) or was lost, and re-grants.
//
// One worker thread per node runs that node's holders in turn (a paused node stalls only its own
// holders); a watchdog cancels a keep-alive round that got no answer within the round timeout.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "chaos/real/node_api.hpp"

namespace aegis::chaos::real {

struct lease_stats {
  uint64_t grants = 0;              // leases granted (first ones and re-grants)
  uint64_t keepalive_failures = 0;  // rounds without an answer (node down, stream broken)
  uint64_t leases_lost = 0;         // leases the cluster expired: TTL 0 or the key gone
};

class lease_holders {
 public:
  lease_holders(uint32_t holders, int64_t ttl_us, node_api& api,
                std::chrono::milliseconds round_timeout);
  ~lease_holders();  // = stop()

  void start();
  void stop();  // cancels open streams, joins the workers
  lease_stats stats() const;

 private:
  struct holder;
  void work(uint32_t node);
  void watchdog();
  void serve(holder& h);
  bool grant(holder& h);
  void revoke(holder& h);
  void keep_alive(holder& h);
  bool key_present(holder& h);

  uint32_t count_;
  int64_t ttl_s_;
  node_api& api_;
  std::chrono::milliseconds round_timeout_;
  std::vector<std::unique_ptr<holder>> holders_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex stats_mu_;
  lease_stats stats_;
};

}  // namespace aegis::chaos::real
