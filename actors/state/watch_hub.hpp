// Watches as etcd v3 serves them, as plain code hosted by the state_machine actor: every watch of
// every client stream, matched against the events of each applied revision. A watch that starts
// in the past is caught up from the stored events first; one on a compacted revision gets etcd's
// compaction answer. Each stream's sink is bounded: a watcher that cannot keep up is cancelled
// with a reason instead of growing memory (etcd would park it and catch it up later; AEGIS says
// so and lets the client re-watch from its last revision).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/state/mvcc.hpp"
#include "protocol/etcd/rpc.pb.h"

namespace aegis::state {

// Where one stream's responses go (the gateway's bounded outbox, or an actor inside the node).
class watch_sink {
 public:
  virtual ~watch_sink() = default;
  // Queues a response; false when the stream is over its limit (or closed). `force` queues a
  // control response (created, canceled) even over the limit.
  virtual bool offer(etcdserverpb::WatchResponse resp, bool force) = 0;
};
using watch_sink_ptr = std::shared_ptr<watch_sink>;

class watch_hub {
 public:
  using header_fn = std::function<void(etcdserverpb::ResponseHeader&)>;
  // Events per response while catching up (one revision is never split unless it alone is larger).
  static constexpr size_t max_events_per_response = 1000;

  watch_hub(const mvcc& kv, header_fn header) : kv_(kv), header_(std::move(header)) {}

  // A create request on `stream`: answers created (or an error), then catches up from
  // start_revision if it is in the past.
  void create(uint64_t stream, const etcdserverpb::WatchCreateRequest& req,
              const watch_sink_ptr& sink);
  void cancel(uint64_t stream, int64_t watch_id);
  // Answers a progress request: one header-only response (watch_id -1) with the revision.
  void progress(const watch_sink_ptr& sink);
  // The stream is gone: drop its watches.
  void close(uint64_t stream);
  // Fans out the events of newly applied revisions (oldest first).
  void publish(const std::vector<aegis::smpb::RevisionEvents>& revisions);
  // Sends a progress notification to every idle watch that asked for them.
  void notify_progress();

  size_t watch_count() const { return watches_.size(); }

 private:
  struct watch {
    int64_t id = 0;
    key_range range;
    int64_t next_revision = 0;  // events below this are not sent (already sent or before start)
    bool prev_kv = false;
    bool no_put = false;
    bool no_delete = false;
    bool progress_notify = false;
    bool sent_since_progress = false;
    watch_sink_ptr sink;
  };
  using watch_key = std::pair<uint64_t, int64_t>;  // stream, watch id

  // Sends the matching events of `revs` to `w`; false if the sink refused (w was cancelled).
  bool deliver(const watch_key& key, watch& w,
               const std::vector<const aegis::smpb::RevisionEvents*>& revs);
  bool catch_up(const watch_key& key, watch& w);
  void cancel_slow(const watch_key& key, watch& w);
  etcdserverpb::WatchResponse response(int64_t watch_id) const;

  const mvcc& kv_;
  header_fn header_;
  std::map<watch_key, watch> watches_;
  std::map<uint64_t, int64_t> next_id_;  // per stream: the next id the server picks
};

}  // namespace aegis::state
