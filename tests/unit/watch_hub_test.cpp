// The watch hub against etcd's Watch contract (api/etcdserverpb/rpc.proto, WatchCreateRequest and
// WatchResponse comments): created before any event, events from start_revision inclusive, prev_kv
// only when asked, filters, a compacted start cancels with compact_revision, server-picked ids per
// stream, cancel, progress; and AEGIS's bound: a sink that refuses gets the watch cancelled with a
// reason naming the revision to resume from.
#define BOOST_TEST_MODULE watch_hub
#include <boost/test/unit_test.hpp>

#include "actors/state/kv_machine.hpp"
#include "actors/state/watch_hub.hpp"
#include "protocol/command.pb.h"
#include "tests/unit/temp_dir.hpp"

using namespace aegis;
using persistence::kv_store;
using persistence::rocks_storage;

namespace {

using test::temp_dir;

// Records what the hub offers; refuses non-forced responses once `capacity` were taken.
struct recording_sink final : state::watch_sink {
  std::vector<etcdserverpb::WatchResponse> got;
  size_t capacity = SIZE_MAX;
  bool offer(etcdserverpb::WatchResponse r, bool force) override {
    if (!force && got.size() >= capacity) return false;
    got.push_back(r);
    return true;
  }
  std::vector<std::string> event_keys() const {
    std::vector<std::string> out;
    for (const auto& r : got)
      for (const auto& e : r.events())
        out.push_back((e.type() == mvccpb::Event::PUT ? "put " : "del ") + e.kv().key());
    return out;
  }
};

struct fixture {
  temp_dir dir;
  std::unique_ptr<kv_store> store;
  std::unique_ptr<state::kv_machine> machine;
  std::unique_ptr<state::watch_hub> hub;
  raft::index_t next = 1;

  fixture() {
    auto opened = kv_store::open(dir.path + "/state", rocks_storage::mode::create);
    store = std::move(std::get<std::unique_ptr<kv_store>>(opened));
    machine = std::make_unique<state::kv_machine>(*store, 1, 1);
    hub = std::make_unique<state::watch_hub>(
        machine->store_view(),
        [this](etcdserverpb::ResponseHeader& h) { machine->fill_header(h, 1); });
  }
  void run(const aegis::smpb::Command& cmd) {
    aegis::smpb::Envelope env;
    env.set_stamp_unix_ms(1000);
    env.set_command(cmd.SerializeAsString());
    const raft::index_t i = next++;
    machine->apply(raft::entry{1, i, raft::entry_type::command, env.SerializeAsString()}, 1);
    machine->commit_batch(i);
    hub->publish(machine->take_events());
  }
  void put(const std::string& k, const std::string& v) {
    aegis::smpb::Command c;
    c.mutable_put()->set_key(k);
    c.mutable_put()->set_value(v);
    run(c);
  }
  void del(const std::string& k) {
    aegis::smpb::Command c;
    c.mutable_delete_range()->set_key(k);
    run(c);
  }
  void compact(int64_t rev) {
    aegis::smpb::Command c;
    c.mutable_compaction()->set_revision(rev);
    run(c);
  }
};

etcdserverpb::WatchCreateRequest watch_on(const std::string& key, const std::string& end = {},
                                          int64_t start = 0) {
  etcdserverpb::WatchCreateRequest w;
  w.set_key(key);
  w.set_range_end(end);
  w.set_start_revision(start);
  return w;
}

}  // namespace

// "created is set to true if the response is for a create watch request. The client should
// record the watch_id and expect to receive events for the created watcher from the same stream."
BOOST_AUTO_TEST_CASE(a_watch_is_acknowledged_before_any_event_and_sees_later_writes) {
  fixture f;
  auto sink = std::make_shared<recording_sink>();
  f.hub->create(1, watch_on("p/", "p0"), sink);
  BOOST_REQUIRE_EQUAL(sink->got.size(), 1u);
  BOOST_TEST(sink->got[0].created());
  BOOST_TEST(sink->got[0].watch_id() == 0);  // etcd picks ids from 0 per stream
  f.put("p/a", "1");
  f.put("q", "x");  // outside the range
  f.del("p/a");
  BOOST_TEST(sink->event_keys() == (std::vector<std::string>{"put p/a", "del p/a"}),
             boost::test_tools::per_element());
  BOOST_TEST(!sink->got[1].events(0).has_prev_kv());  // not asked for
}

// "start_revision is an optional revision to watch from (inclusive)."; "If prev_kv is set,
// created watcher gets the previous KV before the event happens."
BOOST_AUTO_TEST_CASE(a_past_start_revision_is_caught_up_with_prev_kv_and_filters) {
  fixture f;
  f.put("k", "1");  // rev 2 (a new store is at 1)
  f.put("k", "2");  // rev 3
  f.del("k");       // rev 4
  auto all = std::make_shared<recording_sink>();
  auto req = watch_on("k", {}, 3);
  req.set_prev_kv(true);
  f.hub->create(1, req, all);
  BOOST_TEST(all->event_keys() == (std::vector<std::string>{"put k", "del k"}),
             boost::test_tools::per_element());
  BOOST_TEST(all->got[1].events(0).prev_kv().value() == "1");
  BOOST_TEST(all->got[1].events(1).prev_kv().value() == "2");
  auto no_delete = std::make_shared<recording_sink>();
  auto filtered = watch_on("k", {}, 1);  // the new store's revision: every write from 2 on
  filtered.add_filters(etcdserverpb::WatchCreateRequest::NODELETE);
  f.hub->create(2, filtered, no_delete);
  BOOST_TEST(no_delete->event_keys() == (std::vector<std::string>{"put k", "put k"}),
             boost::test_tools::per_element());
}

// "compact_revision is set to the minimum index if a watcher tries to watch at a compacted
// index ... The client should treat the watcher as canceled".
BOOST_AUTO_TEST_CASE(a_start_below_the_compacted_revision_is_cancelled_with_it) {
  fixture f;
  f.put("k", "1");  // rev 2 (a new store is at 1)
  f.put("k", "2");  // rev 3
  f.put("k", "3");  // rev 4
  f.compact(4);
  auto sink = std::make_shared<recording_sink>();
  f.hub->create(1, watch_on("k", {}, 1), sink);
  BOOST_REQUIRE_EQUAL(sink->got.size(), 2u);
  BOOST_TEST(sink->got[0].created());
  BOOST_TEST(sink->got[1].canceled());
  BOOST_TEST(sink->got[1].compact_revision() == 4);
  BOOST_TEST(f.hub->watch_count() == 0u);
}

// etcd's store starts at revision 1 and its first write is revision 2: a watch from revision 1
// on a new store sees every write, and compacting to 1 takes no history from it.
BOOST_AUTO_TEST_CASE(a_watch_from_revision_1_sees_every_write_even_after_compacting_to_1) {
  fixture f;
  auto early = std::make_shared<recording_sink>();
  f.hub->create(1, watch_on("k", {}, 1), early);  // nothing written yet: no catch-up
  BOOST_REQUIRE_EQUAL(early->got.size(), 1u);
  BOOST_TEST(early->got[0].created());
  BOOST_TEST(early->got[0].header().revision() == 1);
  f.compact(1);
  f.put("k", "1");  // rev 2
  f.put("k", "2");  // rev 3
  BOOST_TEST(early->event_keys() == (std::vector<std::string>{"put k", "put k"}),
             boost::test_tools::per_element());
  BOOST_TEST(early->got[1].events(0).kv().mod_revision() == 2);
  auto late = std::make_shared<recording_sink>();
  f.hub->create(2, watch_on("k", {}, 1), late);  // caught up from the first write
  BOOST_TEST(!late->got.back().canceled());
  BOOST_TEST(late->event_keys() == (std::vector<std::string>{"put k", "put k"}),
             boost::test_tools::per_element());
  BOOST_TEST(late->got[1].events(0).kv().mod_revision() == 2);
  BOOST_TEST(f.hub->watch_count() == 2u);
}

// "watch_id ... If watch_id is provided and non-zero, it will be assigned to this watcher";
// a duplicate on the same stream is refused; cancel ends the watch with canceled=true.
BOOST_AUTO_TEST_CASE(client_ids_duplicates_and_cancel) {
  fixture f;
  auto sink = std::make_shared<recording_sink>();
  auto req = watch_on("a");
  req.set_watch_id(7);
  f.hub->create(1, req, sink);
  f.hub->create(1, req, sink);
  BOOST_TEST(sink->got[1].canceled());
  BOOST_TEST(sink->got[1].watch_id() == -1);
  f.hub->create(2, req, sink);  // another stream may use the same id
  BOOST_TEST(f.hub->watch_count() == 2u);
  f.hub->cancel(1, 7);
  BOOST_TEST(sink->got.back().canceled());
  BOOST_TEST(sink->got.back().watch_id() == 7);
  f.hub->close(2);
  BOOST_TEST(f.hub->watch_count() == 0u);
}

// AEGIS's bound: a stream that stops reading is never buffered without limit; its watch is
// cancelled with a reason that names where to resume.
BOOST_AUTO_TEST_CASE(a_slow_watcher_is_cancelled_with_the_revision_to_resume_from) {
  fixture f;
  auto slow = std::make_shared<recording_sink>();
  slow->capacity = 2;  // created + one batch of events
  auto fast = std::make_shared<recording_sink>();
  f.hub->create(1, watch_on("k"), slow);
  f.hub->create(2, watch_on("k"), fast);
  f.put("k", "1");  // rev 2 (a new store is at 1): delivered
  f.put("k", "2");  // rev 3: refused
  f.put("k", "3");
  BOOST_TEST(f.hub->watch_count() == 1u);
  BOOST_TEST(slow->got.back().canceled());
  BOOST_TEST(slow->got.back().cancel_reason().find("too slow") != std::string::npos);
  BOOST_TEST(slow->got.back().cancel_reason().find("from revision 3") != std::string::npos);
  BOOST_TEST(fast->event_keys().size() == 3u);
}

// "progress_notify is set so that the etcd server will periodically send a WatchResponse with
// no events to the new watcher if there are no recent events."
BOOST_AUTO_TEST_CASE(progress_notifications_go_only_to_idle_watchers_that_asked) {
  fixture f;
  auto asked = std::make_shared<recording_sink>();
  auto silent = std::make_shared<recording_sink>();
  auto req = watch_on("k");
  req.set_progress_notify(true);
  f.hub->create(1, req, asked);
  f.hub->create(2, watch_on("k"), silent);
  f.hub->notify_progress();
  BOOST_REQUIRE_EQUAL(asked->got.size(), 2u);
  BOOST_TEST(asked->got[1].events_size() == 0);
  BOOST_TEST(silent->got.size() == 1u);
  f.put("k", "1");
  f.hub->notify_progress();  // not idle since the last one: nothing
  BOOST_TEST(asked->got.size() == 3u);
  f.hub->progress(silent);  // a progress request: a header-only answer with watch_id -1
  BOOST_TEST(silent->got.back().watch_id() == -1);
  BOOST_TEST(silent->got.back().header().revision() == 2);  // the put's (a new store is at 1)
}
