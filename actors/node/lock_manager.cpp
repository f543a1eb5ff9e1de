// The lock manager actor (lock_manager.hpp): its behaviour, the dispatch of calls, the calls that
// take one step (Unlock, Proclaim, Resign, Leader), and the plumbing to consensus and the watch
// hub that the waiting calls and the Observe streams share.
#include "actors/node/lock_manager.hpp"

#include <cinttypes>
#include <cstdio>

#include "actors/node/lock_manager_impl.hpp"
#include "protocol/etcd/v3election.pb.h"
#include "protocol/etcd/v3lock.pb.h"

namespace aegis::node::lockmgr {

// ---- etcd's key layout and the requests over it ----------------------------------------------

std::string prefix(const std::string& name) {
  return name + "/";
}

std::string owner_key(const std::string& name, int64_t lease) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%" PRIx64, static_cast<uint64_t>(lease));
  return prefix(name) + hex;
}

namespace {

// The end of the prefix range: the byte after '/' is '0'.
std::string prefix_end(const std::string& name) {
  return name + "0";
}

etcdserverpb::Compare created_at(const std::string& key, int64_t rev) {
  etcdserverpb::Compare c;
  c.set_result(etcdserverpb::Compare::EQUAL);
  c.set_target(etcdserverpb::Compare::CREATE);
  c.set_key(key);
  c.set_create_revision(rev);
  return c;
}

void add_put(etcdserverpb::TxnRequest& t, const std::string& key, const std::string& value,
             int64_t lease) {
  auto* put = t.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
}

}  // namespace

etcdserverpb::RangeRequest oldest(const std::string& name) {
  etcdserverpb::RangeRequest r;
  r.set_key(prefix(name));
  r.set_range_end(prefix_end(name));
  r.set_sort_target(etcdserverpb::RangeRequest::CREATE);
  r.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  r.set_limit(1);
  return r;
}

etcdserverpb::RangeRequest youngest_before(const std::string& name, int64_t rev) {
  etcdserverpb::RangeRequest r = oldest(name);
  r.set_sort_order(etcdserverpb::RangeRequest::DESCEND);
  r.set_max_create_revision(rev - 1);
  return r;
}

etcdserverpb::RangeRequest one_key(const std::string& key) {
  etcdserverpb::RangeRequest r;
  r.set_key(key);
  return r;
}

etcdserverpb::WatchCreateRequest watch_prefix(const std::string& name) {
  etcdserverpb::WatchCreateRequest w;
  w.set_key(prefix(name));
  w.set_range_end(prefix_end(name));
  return w;
}

aegis::smpb::Command acquire_command(const std::string& name, const std::string& key,
                                     const std::string& value, int64_t lease) {
  aegis::smpb::Command cmd;
  auto& t = *cmd.mutable_txn();
  *t.add_compare() = created_at(key, 0);
  add_put(t, key, value, lease);
  *t.add_success()->mutable_request_range() = oldest(name);
  *t.add_failure()->mutable_request_range() = one_key(key);
  *t.add_failure()->mutable_request_range() = oldest(name);
  return cmd;
}

aegis::smpb::Command proclaim_command(const std::string& key, int64_t rev, const std::string& value,
                                      int64_t lease) {
  aegis::smpb::Command cmd;
  *cmd.mutable_txn()->add_compare() = created_at(key, rev);
  add_put(*cmd.mutable_txn(), key, value, lease);
  return cmd;
}

aegis::smpb::Command release_command(const std::string& key, int64_t rev) {
  aegis::smpb::Command cmd;
  *cmd.mutable_txn()->add_compare() = created_at(key, rev);
  cmd.mutable_txn()->add_success()->mutable_request_delete_range()->set_key(key);
  return cmd;
}

call_result ok_answer(const google::protobuf::Message& m) {
  return {call_code::ok, {}, m.SerializeAsString()};
}

call_result malformed() {
  return call_result::error(call_code::internal, "aegis: malformed answer from the state machine");
}

bool transient(const call_result& r) {
  return r.code == call_code::unavailable || r.code == call_code::resource_exhausted;
}

// ---- Plumbing ----------------------------------------------------------------------------------

namespace {

// Hands the watch hub's responses for one of our watches to the actor (runs on the state
// machine's thread). Responses with nothing to act on (created, progress) stop here.
class event_sink final : public state::watch_sink {
 public:
  event_sink(lock_manager_actor mgr, uint64_t call, uint64_t stream,
             std::shared_ptr<std::atomic<uint32_t>> backlog, uint32_t max_backlog)
      : mgr_(std::move(mgr)),
        call_(call),
        stream_(stream),
        backlog_(std::move(backlog)),
        max_backlog_(max_backlog) {}

  bool offer(etcdserverpb::WatchResponse resp, bool force) override {
    if (!resp.canceled() && resp.events_size() == 0) return true;
    if (backlog_) {
      if (!force && backlog_->load() >= max_backlog_) return false;  // the hub cancels the watch
      backlog_->fetch_add(1);
    }
    caf::anon_send(mgr_, watch_atom::value, lock_event{call_, stream_, std::move(resp)});
    return true;
  }

 private:
  lock_manager_actor mgr_;
  uint64_t call_;
  uint64_t stream_;
  std::shared_ptr<std::atomic<uint32_t>> backlog_;
  uint32_t max_backlog_;
};

}  // namespace

reply_ptr step_reply(lm_pointer self, uint64_t call) {
  auto me = caf::actor_cast<lock_manager_actor>(self);
  return std::make_shared<reply_slot>([me, call](call_result r) {
    caf::anon_send(me, lock_atom::value, lock_step{call, std::move(r)});
  });
}

void propose(lm_pointer self, const aegis::smpb::Command& cmd, reply_ptr reply) {
  self->send(self->state.consensus, propose_atom::value, cmd.SerializeAsString(), std::move(reply));
}

void read(lm_pointer self, const etcdserverpb::RangeRequest& r, reply_ptr reply) {
  self->send(self->state.consensus, read_atom::value, false,
             read_query{read_kind::range, r.SerializeAsString(), 0}, std::move(reply));
}

uint64_t open_watch(lm_pointer self, uint64_t call, etcdserverpb::WatchCreateRequest req,
                    int64_t from, std::shared_ptr<std::atomic<uint32_t>> backlog) {
  auto& st = self->state;
  const uint64_t stream = st.next_stream++;
  req.set_start_revision(from);
  auto sink = std::make_shared<event_sink>(caf::actor_cast<lock_manager_actor>(self), call, stream,
                                           std::move(backlog), st.p.max_observer_backlog);
  self->send(st.consensus, watch_atom::value,
             watch_command{watch_command::kind::create, stream, req.SerializeAsString(), sink});
  return stream;
}

void close_watch(lm_pointer self, uint64_t& stream) {
  if (stream == 0) return;
  self->send(self->state.consensus, watch_atom::value,
             watch_command{watch_command::kind::close, stream, {}, nullptr});
  stream = 0;
}

namespace {

// ---- Calls that take one step ---------------------------------------------------------------

// A reply slot that turns the step's answer (a `From` message) into the call's answer with `fn`.
// It runs where the step finishes (the state machine's thread): parsing and nothing else.
template <class From, class Fn>
reply_ptr reshape(reply_ptr client, Fn fn) {
  return std::make_shared<reply_slot>([client = std::move(client), fn](call_result r) {
    From from;
    if (r.code != call_code::ok)
      client->finish(std::move(r));
    else if (!from.ParseFromString(r.response))
      client->finish(malformed());
    else
      client->finish(fn(from));
  });
}

template <class Response>
call_result header_only(const etcdserverpb::ResponseHeader& h) {
  Response out;
  *out.mutable_header() = h;
  return ok_answer(out);
}

void unlock(lm_pointer self, const v3lockpb::UnlockRequest& req, reply_ptr reply) {
  aegis::smpb::Command cmd;
  cmd.mutable_delete_range()->set_key(req.key());
  propose(self, cmd,
          reshape<etcdserverpb::DeleteRangeResponse>(std::move(reply), [](const auto& d) {
            return header_only<v3lockpb::UnlockResponse>(d.header());
          }));
}

void proclaim(lm_pointer self, const v3electionpb::ProclaimRequest& req, reply_ptr reply) {
  const auto& l = req.leader();
  propose(self, proclaim_command(l.key(), l.rev(), req.value(), l.lease()),
          reshape<etcdserverpb::TxnResponse>(std::move(reply), [](const auto& t) {
            if (!t.succeeded()) return call_result::error(recipe_error, "election: not leader");
            return header_only<v3electionpb::ProclaimResponse>(t.header());
          }));
}

// As etcd: resigning a leadership already lost is no error (the key is simply left alone).
void resign(lm_pointer self, const v3electionpb::ResignRequest& req, reply_ptr reply) {
  propose(self, release_command(req.leader().key(), req.leader().rev()),
          reshape<etcdserverpb::TxnResponse>(std::move(reply), [](const auto& t) {
            return header_only<v3electionpb::ResignResponse>(t.header());
          }));
}

void leader(lm_pointer self, const v3electionpb::LeaderRequest& req, reply_ptr reply) {
  read(self, oldest(req.name()),
       reshape<etcdserverpb::RangeResponse>(std::move(reply), [](const auto& r) {
         if (r.kvs_size() == 0) return call_result::error(recipe_error, "election: no leader");
         v3electionpb::LeaderResponse out;
         *out.mutable_header() = r.header();
         *out.mutable_kv() = r.kvs(0);
         return ok_answer(out);
       }));
}

// ---- The actor ---------------------------------------------------------------------------------

template <class Request>
bool parse(const std::string& bytes, Request& req, const reply_ptr& reply) {
  if (req.ParseFromString(bytes)) return true;
  reply->finish(call_result::error(call_code::invalid_argument, "aegis: malformed request"));
  return false;
}

void on_call(lm_pointer self, const lock_call& c, reply_ptr reply) {
  switch (c.op) {
    case lock_op::lock: {
      v3lockpb::LockRequest req;
      if (parse(c.request, req, reply))
        admit_waiter(self, c.call,
                     waiter{.name = req.name(), .lease = req.lease(), .reply = reply});
      return;
    }
    case lock_op::campaign: {
      v3electionpb::CampaignRequest req;
      if (parse(c.request, req, reply))
        admit_waiter(self, c.call,
                     waiter{.campaign = true,
                            .name = req.name(),
                            .value = req.value(),
                            .lease = req.lease(),
                            .reply = reply});
      return;
    }
    case lock_op::unlock: {
      v3lockpb::UnlockRequest req;
      if (parse(c.request, req, reply)) unlock(self, req, std::move(reply));
      return;
    }
    case lock_op::proclaim: {
      v3electionpb::ProclaimRequest req;
      if (parse(c.request, req, reply)) proclaim(self, req, std::move(reply));
      return;
    }
    case lock_op::resign: {
      v3electionpb::ResignRequest req;
      if (parse(c.request, req, reply)) resign(self, req, std::move(reply));
      return;
    }
    case lock_op::leader: {
      v3electionpb::LeaderRequest req;
      if (parse(c.request, req, reply)) leader(self, req, std::move(reply));
      return;
    }
  }
}

void on_step(lm_pointer self, lock_step& s) {
  auto& st = self->state;
  if (auto w = st.waiters.find(s.call); w != st.waiters.end())
    return waiter_step(self, s.call, w->second, std::move(s.result));
  if (auto o = st.observers.find(s.call); o != st.observers.end())
    observer_step(self, s.call, o->second, std::move(s.result));
  // Neither: an observer that has ended since; its step's answer has no one to go to.
}

void on_event(lm_pointer self, const lock_event& ev) {
  auto& st = self->state;
  if (auto w = st.waiters.find(ev.call); w != st.waiters.end())
    return waiter_event(self, ev.call, w->second, ev);
  if (auto o = st.observers.find(ev.call); o != st.observers.end())
    observer_event(self, ev.call, o->second, ev);
}

void on_retry(lm_pointer self, uint64_t call) {
  auto& st = self->state;
  if (auto w = st.waiters.find(call); w != st.waiters.end())
    return waiter_retry(self, call, w->second);
  if (auto o = st.observers.find(call); o != st.observers.end())
    observer_retry(self, call, o->second);
}

// The gRPC call's client went away. A waiter withdraws its key first; an observer just ends (the
// gateway has already finished its stream). Calls that take one step are not tracked: ignored.
void on_cancel(lm_pointer self, uint64_t call) {
  auto& st = self->state;
  if (auto w = st.waiters.find(call); w != st.waiters.end())
    return withdraw_waiter(self, call, w->second);
  if (auto o = st.observers.find(call); o != st.observers.end()) {
    close_watch(self, o->second.stream);
    o->second.sink.reset();  // the gateway has ended the stream itself
    st.observers.erase(o);
  }
}

lock_manager_actor::behavior_type lm_behavior(lm_pointer self, lock_manager_params p,
                                              consensus_actor consensus) {
  // Our watch streams on the state machine's hub are numbered from 2^63 up; the gateway numbers
  // its clients' watch streams from 1 up, so the two never meet.
  self->state.next_stream = uint64_t{1} << 63;
  self->state.p = p;
  self->state.consensus = consensus;
  // Stops with consensus (the node's root actor): its calls then answer "node stopping".
  self->link_to(consensus);
  return {
      [=](lock_atom, const lock_call& c, reply_ptr& reply) { on_call(self, c, std::move(reply)); },
      [=](observe_atom, observe_call& c) { start_observer(self, std::move(c)); },
      [=](cancel_atom, uint64_t call) { on_cancel(self, call); },
      [=](lock_atom, lock_step& s) { on_step(self, s); },
      [=](watch_atom, const lock_event& ev) { on_event(self, ev); },
      [=](tick_atom, uint64_t call) { on_retry(self, call); },
  };
}

}  // namespace

}  // namespace aegis::node::lockmgr

namespace aegis::node {

lock_manager_actor spawn_lock_manager(caf::actor_system& sys, lock_manager_params p,
                                      consensus_actor consensus) {
  return sys.spawn(lockmgr::lm_behavior, p, std::move(consensus));
}

}  // namespace aegis::node
