// Election.Observe streams, as etcd's Election.Observe runs them: send the current leader, then
// every new value the leader proclaims, and when its key goes, the next leader. Each stream moves
// between three phases:
//
//   fetch      read the oldest key under the election's prefix (the leader);
//              found: send it, then follow it; none: first_put
//   first_put  watch the prefix from just after the read for the first put (the new leader);
//              send it, then follow it
//   follow     watch the leader's key: send each put (a proclamation); on its deletion, fetch
//
// A stream is bounded twice: the gateway's outbox refuses what the client has not read, and the
// watch sink refuses once max_observer_backlog responses wait in our mailbox; either ends the
// stream with RESOURCE_EXHAUSTED rather than letting memory grow (etcd would stall instead).
#include "actors/node/lock_manager_impl.hpp"
#include "protocol/etcd/v3election.pb.h"

namespace aegis::node::lockmgr {

namespace {

void end(lm_pointer self, uint64_t call, observer& o, const call_result& why) {
  o.sink->end(why);
  o.sink.reset();
  close_watch(self, o.stream);
  self->state.observers.erase(call);
}

void end_slow(lm_pointer self, uint64_t call, observer& o) {
  end(self, call, o,
      call_result::error(
          call_code::resource_exhausted,
          "aegis: observer too slow: its stream fell too far behind; observe again"));
}

void fetch(lm_pointer self, uint64_t call, observer& o) {
  close_watch(self, o.stream);
  o.at = observing::fetch;
  read(self, oldest(o.name), step_reply(self, call));
}

// Sends one leader value; false if the stream refused it (the client is not reading).
bool tell(observer& o, const etcdserverpb::ResponseHeader& h, const mvccpb::KeyValue& kv) {
  v3electionpb::LeaderResponse out;
  *out.mutable_header() = h;
  *out.mutable_kv() = kv;
  return o.sink->offer(out);
}

void follow(lm_pointer self, uint64_t call, observer& o, const std::string& key, int64_t from) {
  etcdserverpb::WatchCreateRequest req;
  req.set_key(key);
  o.at = observing::follow;
  o.stream = open_watch(self, call, std::move(req), from, o.backlog);
}

// While there is no leader: the first put under the prefix makes one.
void on_first_put(lm_pointer self, uint64_t call, observer& o,
                  const etcdserverpb::WatchResponse& resp) {
  for (const auto& ev : resp.events()) {
    if (ev.type() != mvccpb::Event::PUT) continue;
    auto h = resp.header();
    h.set_revision(ev.kv().mod_revision());  // as etcd: the revision of this put, not the batch's
    if (!tell(o, h, ev.kv())) return end_slow(self, call, o);
    close_watch(self, o.stream);
    return follow(self, call, o, ev.kv().key(), ev.kv().mod_revision() + 1);
  }
}

void on_follow(lm_pointer self, uint64_t call, observer& o,
               const etcdserverpb::WatchResponse& resp) {
  for (const auto& ev : resp.events()) {
    if (ev.type() == mvccpb::Event::DELETE) return fetch(self, call, o);
    if (!tell(o, resp.header(), ev.kv())) return end_slow(self, call, o);
  }
}

}  // namespace

void start_observer(lm_pointer self, observe_call c) {
  auto& st = self->state;
  if (st.observers.size() >= st.p.max_observers)
    return c.sink->end(call_result::error(call_code::resource_exhausted,
                                          "aegis: too many Observe streams on this node (limit " +
                                              std::to_string(st.p.max_observers) + ")"));
  if (st.observers.count(c.call))
    return c.sink->end(call_result::error(call_code::internal, "aegis: duplicate call id"));
  auto& o = st.observers[c.call];
  o.name = std::move(c.name);
  o.sink = std::move(c.sink);
  fetch(self, c.call, o);
}

void observer_step(lm_pointer self, uint64_t call, observer& o, call_result r) {
  if (o.at != observing::fetch) return;  // cannot happen: only fetch reads
  if (r.code != call_code::ok) {
    if (!transient(r) || o.retries >= self->state.p.max_retries) return end(self, call, o, r);
    ++o.retries;
    self->delayed_send(self, std::chrono::milliseconds(self->state.p.retry_ms), tick_atom::value,
                       call);
    return;
  }
  o.retries = 0;
  etcdserverpb::RangeResponse rr;
  if (!rr.ParseFromString(r.response)) return end(self, call, o, malformed());
  const int64_t next = rr.header().revision() + 1;
  if (rr.kvs_size() == 0) {
    etcdserverpb::WatchCreateRequest req = watch_prefix(o.name);
    req.add_filters(etcdserverpb::WatchCreateRequest::NODELETE);
    o.at = observing::first_put;
    o.stream = open_watch(self, call, std::move(req), next, o.backlog);
    return;
  }
  if (!tell(o, rr.header(), rr.kvs(0))) return end_slow(self, call, o);
  follow(self, call, o, rr.kvs(0).key(), next);
}

void observer_event(lm_pointer self, uint64_t call, observer& o, const lock_event& ev) {
  o.backlog->fetch_sub(1);
  if (ev.stream != o.stream) return;  // a watch we have closed since
  const auto& resp = ev.response;
  if (resp.canceled()) {
    // Its start revision was compacted away: look again. Otherwise the hub found it too slow.
    if (resp.compact_revision() > 0) return fetch(self, call, o);
    return end_slow(self, call, o);
  }
  if (o.at == observing::first_put) return on_first_put(self, call, o, resp);
  if (o.at == observing::follow) on_follow(self, call, o, resp);
}

void observer_retry(lm_pointer self, uint64_t call, observer& o) {
  fetch(self, call, o);
}

}  // namespace aegis::node::lockmgr
