// The node's read-only telemetry interface (actors/node/telemetry_reader.hpp): a scrape answers
// with the registry's text exposition, the same series GET /metrics serves.
#define BOOST_TEST_MODULE telemetry_reader_test
#include <boost/test/unit_test.hpp>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <caf/all.hpp>

#include "actors/node/metrics.hpp"
#include "actors/node/telemetry_reader.hpp"

namespace {

std::shared_ptr<aegis::node::node_metrics> metrics_of_node(uint64_t id) {
  std::string error;
  auto m = aegis::node::make_metrics(id, "", error);  // registry only: no HTTP server
  BOOST_TEST_REQUIRE(error.empty());
  return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(exposition_has_the_node_series) {
  auto m = metrics_of_node(7);
  m->term->Set(5);
  m->leader_changes->Increment();
  const auto text = aegis::node::exposition_text(*m);
  BOOST_TEST(text.find("# TYPE aegis_raft_term gauge") != std::string::npos);
  BOOST_TEST(text.find("aegis_raft_term{node=\"7\"} 5") != std::string::npos);
  BOOST_TEST(text.find("aegis_raft_leader_changes_total{node=\"7\"} 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(scrape_answers_with_current_values) {
  auto m = metrics_of_node(3);
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto reader = aegis::node::spawn_telemetry_reader(sys, m);
  caf::scoped_actor self{sys};
  auto scrape = [&] {
    std::string page;
    self->request(reader, std::chrono::seconds(5), aegis::node::scrape_atom::value)
        .receive([&](std::string& text) { page = std::move(text); },
                 [&](caf::error& e) { BOOST_FAIL("scrape failed: " << caf::to_string(e)); });
    return page;
  };
  m->commit_index->Set(10);
  BOOST_TEST(scrape().find("aegis_raft_commit_index{node=\"3\"} 10") != std::string::npos);
  m->commit_index->Set(11);  // a later scrape sees the change: nothing is cached
  BOOST_TEST(scrape().find("aegis_raft_commit_index{node=\"3\"} 11") != std::string::npos);
  self->send_exit(reader, caf::exit_reason::user_shutdown);
}
