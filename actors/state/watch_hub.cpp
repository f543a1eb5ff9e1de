#include "actors/state/watch_hub.hpp"

namespace aegis::state {

etcdserverpb::WatchResponse watch_hub::response(int64_t watch_id) const {
  etcdserverpb::WatchResponse r;
  header_(*r.mutable_header());
  r.set_watch_id(watch_id);
  return r;
}

void watch_hub::create(uint64_t stream, const etcdserverpb::WatchCreateRequest& req,
                       const watch_sink_ptr& sink) {
  int64_t id = req.watch_id();
  if (id != 0 && watches_.count({stream, id})) {
    auto r = response(-1);
    r.set_created(true);
    r.set_canceled(true);
    r.set_cancel_reason("mvcc: duplicate watch ID provided on the WatchStream");
    sink->offer(std::move(r), true);
    return;
  }
  if (id == 0) {
    int64_t& next = next_id_[stream];
    while (watches_.count({stream, next}))
      ++next;
    id = next++;
  }
  watch w;
  w.id = id;
  w.range = key_range{req.key(), req.range_end()};
  w.next_revision = req.start_revision() > 0 ? req.start_revision() : kv_.revision() + 1;
  w.prev_kv = req.prev_kv();
  for (int f : req.filters()) {
    if (f == etcdserverpb::WatchCreateRequest::NOPUT) w.no_put = true;
    if (f == etcdserverpb::WatchCreateRequest::NODELETE) w.no_delete = true;
  }
  w.progress_notify = req.progress_notify();
  w.sink = sink;
  auto created = response(id);
  created.set_created(true);
  sink->offer(std::move(created), true);
  if (req.start_revision() > 0 && req.start_revision() < kv_.compact_revision()) {
    // etcd's answer for history that is gone: the watch is cancelled with the compacted revision.
    auto gone = response(id);
    gone.set_canceled(true);
    gone.set_compact_revision(kv_.compact_revision());
    gone.set_cancel_reason("etcdserver: mvcc: required revision has been compacted");
    sink->offer(std::move(gone), true);
    return;
  }
  const watch_key key{stream, id};
  auto& stored = watches_[key] = std::move(w);
  if (stored.next_revision <= kv_.revision()) catch_up(key, stored);
}

bool watch_hub::catch_up(const watch_key& key, watch& w) {
  std::vector<aegis::smpb::RevisionEvents> batch;
  bool ok = true;
  auto flush = [&] {
    std::vector<const aegis::smpb::RevisionEvents*> revs;
    for (const auto& r : batch)
      revs.push_back(&r);
    ok = deliver(key, w, revs);
    batch.clear();
  };
  size_t events = 0;
  kv_.events_since(w.next_revision, [&](const aegis::smpb::RevisionEvents& evs) {
    batch.push_back(evs);
    events += static_cast<size_t>(evs.events_size());
    if (events >= max_events_per_response) {
      flush();
      events = 0;
    }
    return ok;
  });
  if (ok && !batch.empty()) flush();
  return ok;
}

namespace {

bool wanted(const mvccpb::Event& ev, bool no_put, bool no_delete) {
  if (ev.type() == mvccpb::Event::PUT) return !no_put;
  return !no_delete;
}

}  // namespace

bool watch_hub::deliver(const watch_key& key, watch& w,
                        const std::vector<const aegis::smpb::RevisionEvents*>& revs) {
  etcdserverpb::WatchResponse out = response(w.id);
  const int64_t first = w.next_revision;  // the first revision this delivery covers
  int64_t last = 0;
  for (const auto* rev : revs) {
    if (rev->revision() < w.next_revision) continue;
    last = rev->revision();
    for (const auto& ev : rev->events()) {
      if (!w.range.contains(ev.kv().key()) || !wanted(ev, w.no_put, w.no_delete)) continue;
      auto* copy = out.add_events();
      *copy = ev;
      if (!w.prev_kv) copy->clear_prev_kv();
    }
  }
  if (last == 0) return true;
  w.next_revision = last + 1;
  if (out.events_size() == 0) return true;
  w.sent_since_progress = true;
  if (w.sink->offer(std::move(out), false)) return true;
  w.next_revision = first;  // nothing from here on reached the client
  cancel_slow(key, w);
  return false;
}

void watch_hub::cancel_slow(const watch_key& key, watch& w) {
  auto r = response(w.id);
  r.set_canceled(true);
  r.set_cancel_reason(
      "aegis: watcher too slow: its stream fell too far behind; watch again from "
      "revision " +
      std::to_string(w.next_revision));
  w.sink->offer(std::move(r), true);
  watches_.erase(key);
}

void watch_hub::cancel(uint64_t stream, int64_t watch_id) {
  auto it = watches_.find({stream, watch_id});
  if (it == watches_.end()) return;
  auto r = response(watch_id);
  r.set_canceled(true);
  it->second.sink->offer(std::move(r), true);
  watches_.erase(it);
}

void watch_hub::progress(const watch_sink_ptr& sink) {
  sink->offer(response(-1), true);
}

void watch_hub::close(uint64_t stream) {
  watches_.erase(watches_.lower_bound({stream, INT64_MIN}),
                 watches_.lower_bound({stream + 1, INT64_MIN}));
  next_id_.erase(stream);
}

void watch_hub::publish(const std::vector<aegis::smpb::RevisionEvents>& revisions) {
  if (revisions.empty() || watches_.empty()) return;
  std::vector<const aegis::smpb::RevisionEvents*> revs;
  for (const auto& r : revisions)
    revs.push_back(&r);
  for (auto it = watches_.begin(); it != watches_.end();) {
    auto next = std::next(it);
    deliver(it->first, it->second, revs);  // may erase *it (a slow watcher)
    it = next;
  }
}

void watch_hub::notify_progress() {
  for (auto& [key, w] : watches_) {
    if (w.progress_notify && !w.sent_since_progress) w.sink->offer(response(w.id), false);
    w.sent_since_progress = false;
  }
}

}  // namespace aegis::state
