// The waiting calls of the lock manager: Lock and Campaign, as etcd's Mutex.Lock and
// Election.Campaign run them. Each call advances one consensus step at a time:
//
//   [grant] -> acquire -> [proclaim] -> check <-> wait -> confirm -> answer
//                   \-- our key is already the oldest: answer at once
//   a step failing for good, or the client going away -> release (delete our key) -> answer
//
//   grant     (lease 0 only) a lease of session_ttl_s, as etcd's server makes a session for it
//   acquire   one txn: create our key unless it exists, and read the holder in the same revision
//   proclaim  (Campaign whose key existed with another value) put the new value
//   check     read the youngest key older than ours; none: we hold it
//   wait      watch that key for its deletion, from just after the check's revision
//   confirm   read our own key: still there with our create revision? (the lease may have ended)
//
// At most one step of a call is under way at once (`busy`, which a pending retry also sets), so a
// step's answer always belongs to the call's current step, and a cancellation that arrives while
// a step is under way is acted on when the step answers. Watch events name their stream: one from
// a watch already closed is dropped.
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "actors/node/lock_manager_impl.hpp"
#include "protocol/etcd/v3election.pb.h"
#include "protocol/etcd/v3lock.pb.h"

namespace aegis::node::lockmgr {

namespace {

// Runs (or runs again) the call's current step.
void run(lm_pointer self, uint64_t call, waiter& w) {
  w.busy = true;
  switch (w.at) {
    case step::grant: {
      aegis::smpb::Command cmd;
      auto& g = *cmd.mutable_lease_grant();
      g.set_ttl(self->state.p.session_ttl_s);
      g.set_id(static_cast<int64_t>(self->state.rng() >> 1) | 1);  // positive, never 0
      return propose(self, cmd, step_reply(self, call));
    }
    case step::acquire:
      return propose(self, acquire_command(w.name, w.key, w.value, w.lease),
                     step_reply(self, call));
    case step::proclaim:
      return propose(self, proclaim_command(w.key, w.rev, w.value, w.lease),
                     step_reply(self, call));
    case step::check:
      // No key is older than one made in the first write's revision or before (and
      // max_create_revision 0 would mean "no bound", finding our own key).
      if (w.rev <= 1) {
        w.at = step::confirm;
        return run(self, call, w);
      }
      return read(self, youngest_before(w.name, w.rev), step_reply(self, call));
    case step::confirm:
      return read(self, one_key(w.key), step_reply(self, call));
    case step::release:
      return propose(self, release_command(w.key, w.rev), step_reply(self, call));
    case step::wait:
      w.busy = false;  // not a step: a watch, which open_watch started
      return;
  }
}

void go(lm_pointer self, uint64_t call, waiter& w, step next) {
  w.at = next;
  w.retries = 0;
  run(self, call, w);
}

void count_waiters(const lm_state& st) {
  if (st.p.metrics) st.p.metrics->lock_waiters->Set(static_cast<double>(st.waiters.size()));
}

// Answers the call and forgets it.
void finish(lm_pointer self, uint64_t call, waiter& w, call_result r) {
  auto& st = self->state;
  w.reply->finish(std::move(r));
  close_watch(self, w.stream);
  if (auto q = st.queues.find(w.name); q != st.queues.end()) {
    q->second.erase({w.rev, call});
    if (q->second.empty()) st.queues.erase(q);
  }
  st.waiters.erase(call);
  count_waiters(st);
}

// Gives our key back (if we made or found one) before answering with w.failure.
void release(lm_pointer self, uint64_t call, waiter& w) {
  close_watch(self, w.stream);
  if (w.rev == 0) return finish(self, call, w, w.failure);
  go(self, call, w, step::release);
}

void fail(lm_pointer self, uint64_t call, waiter& w, call_result why) {
  if (w.at == step::release) return finish(self, call, w, w.failure);  // the key stays to its lease
  w.failure = std::move(why);
  release(self, call, w);
}

void held(lm_pointer self, uint64_t call, waiter& w, const etcdserverpb::ResponseHeader& h) {
  if (const auto& m = self->state.p.metrics)
    m->lock_wait_seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - w.admitted).count());
  if (!w.campaign) {
    v3lockpb::LockResponse out;
    *out.mutable_header() = h;
    out.set_key(w.key);
    return finish(self, call, w, ok_answer(out));
  }
  v3electionpb::CampaignResponse out;
  *out.mutable_header() = h;
  auto& l = *out.mutable_leader();
  l.set_name(w.name);
  l.set_key(w.key);
  l.set_rev(w.rev);
  l.set_lease(w.lease);
  finish(self, call, w, ok_answer(out));
}

// Our key is gone (its lease ended, or someone deleted it) before we got to hold it.
call_result lost(const waiter& w) {
  return call_result::error(recipe_error,
                            w.campaign ? "election: not leader" : "mutex: session is expired");
}

void set_rev(lm_pointer self, uint64_t call, waiter& w, int64_t rev) {
  auto& q = self->state.queues[w.name];
  q.erase({w.rev, call});
  w.rev = rev;
  q.insert({w.rev, call});
}

void after_grant(lm_pointer self, uint64_t call, waiter& w, const std::string& bytes) {
  etcdserverpb::LeaseGrantResponse g;
  if (!g.ParseFromString(bytes) || g.id() == 0) return fail(self, call, w, malformed());
  w.lease = g.id();
  w.key = owner_key(w.name, w.lease);
  if (w.withdrawn) return release(self, call, w);
  go(self, call, w, step::acquire);
}

void after_acquire(lm_pointer self, uint64_t call, waiter& w, const std::string& bytes) {
  etcdserverpb::TxnResponse t;
  if (!t.ParseFromString(bytes) || t.responses_size() != 2) return fail(self, call, w, malformed());
  const auto& mine = t.responses(0).response_range();
  if (!t.succeeded() && mine.kvs_size() == 0) return fail(self, call, w, malformed());
  set_rev(self, call, w, t.succeeded() ? t.header().revision() : mine.kvs(0).create_revision());
  if (w.withdrawn) return release(self, call, w);
  // As etcd's Campaign: a key the lease already had gets our value before we wait.
  if (w.campaign && !t.succeeded() && mine.kvs(0).value() != w.value)
    return go(self, call, w, step::proclaim);
  const auto& owner = t.responses(1).response_range();
  if (owner.kvs_size() > 0 && owner.kvs(0).key() == w.key) return held(self, call, w, t.header());
  go(self, call, w, step::check);
}

void after_proclaim(lm_pointer self, uint64_t call, waiter& w, const std::string& bytes) {
  etcdserverpb::TxnResponse t;
  if (!t.ParseFromString(bytes)) return fail(self, call, w, malformed());
  if (!t.succeeded()) return finish(self, call, w, lost(w));  // the key is not ours any more
  if (w.withdrawn) return release(self, call, w);
  go(self, call, w, step::check);
}

// Nothing older than our key: ours is the oldest for good (a new key is always younger).
// Otherwise wait for the youngest older key to go, watching from just after this look.
void after_check(lm_pointer self, uint64_t call, waiter& w, const std::string& bytes) {
  etcdserverpb::RangeResponse r;
  if (!r.ParseFromString(bytes)) return fail(self, call, w, malformed());
  if (w.withdrawn) return release(self, call, w);
  if (r.kvs_size() == 0) return go(self, call, w, step::confirm);
  etcdserverpb::WatchCreateRequest req;
  req.set_key(r.kvs(0).key());
  req.add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  w.at = step::wait;
  w.stream = open_watch(self, call, std::move(req), r.header().revision() + 1);
}

void after_confirm(lm_pointer self, uint64_t call, waiter& w, const std::string& bytes) {
  etcdserverpb::RangeResponse r;
  if (!r.ParseFromString(bytes)) return fail(self, call, w, malformed());
  if (w.withdrawn) return release(self, call, w);
  if (r.kvs_size() == 0 || r.kvs(0).create_revision() != w.rev)
    return finish(self, call, w, lost(w));
  held(self, call, w, r.header());
}

}  // namespace

void admit_waiter(lm_pointer self, uint64_t call, waiter w) {
  auto& st = self->state;
  if (st.waiters.size() >= st.p.max_waiters)
    return w.reply->finish(
        call_result::error(call_code::resource_exhausted,
                           "aegis: too many Lock/Campaign calls waiting on this node "
                           "(limit " +
                               std::to_string(st.p.max_waiters) + ")"));
  auto& q = st.queues[w.name];
  if (q.size() >= st.p.max_waiters_per_name)
    return w.reply->finish(
        call_result::error(call_code::resource_exhausted,
                           "aegis: too many Lock/Campaign calls waiting on this node "
                           "for one name (limit " +
                               std::to_string(st.p.max_waiters_per_name) + ")"));
  if (st.waiters.count(call))
    return w.reply->finish(call_result::error(call_code::internal, "aegis: duplicate call id"));
  w.at = w.lease == 0 ? step::grant : step::acquire;
  if (w.lease != 0) w.key = owner_key(w.name, w.lease);
  q.insert({0, call});
  w.admitted = std::chrono::steady_clock::now();
  auto& admitted = st.waiters.emplace(call, std::move(w)).first->second;
  count_waiters(st);
  run(self, call, admitted);
}

void waiter_step(lm_pointer self, uint64_t call, waiter& w, call_result r) {
  w.busy = false;
  if (r.code != call_code::ok) {
    if (!transient(r) || w.retries >= self->state.p.max_retries)
      return fail(self, call, w, std::move(r));
    ++w.retries;
    w.busy = true;
    self->delayed_send(self, std::chrono::milliseconds(self->state.p.retry_ms), tick_atom::value,
                       call);
    return;
  }
  switch (w.at) {
    case step::grant:
      return after_grant(self, call, w, r.response);
    case step::acquire:
      return after_acquire(self, call, w, r.response);
    case step::proclaim:
      return after_proclaim(self, call, w, r.response);
    case step::check:
      return after_check(self, call, w, r.response);
    case step::confirm:
      return after_confirm(self, call, w, r.response);
    case step::release:
      return finish(self, call, w, w.failure);
    case step::wait:
      return;  // a wait has no step
  }
}

// The predecessor was deleted, or its watch ended (a compacted start): look again either way.
void waiter_event(lm_pointer self, uint64_t call, waiter& w, const lock_event& ev) {
  if (w.at != step::wait || ev.stream != w.stream) return;
  close_watch(self, w.stream);
  go(self, call, w, step::check);
}

void waiter_retry(lm_pointer self, uint64_t call, waiter& w) {
  w.busy = false;
  if (w.withdrawn && w.at != step::release) return release(self, call, w);
  run(self, call, w);
}

void withdraw_waiter(lm_pointer self, uint64_t call, waiter& w) {
  if (w.withdrawn) return;
  w.withdrawn = true;
  w.failure = call_result::error(cancelled_code, "aegis: the client went away");
  if (!w.busy) release(self, call, w);
}

}  // namespace aegis::node::lockmgr
