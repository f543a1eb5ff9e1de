// Issue 3, integration (e): a node restarted (without bootstrap) on a missing data dir, or on
// one whose RocksDB files are damaged (CURRENT, MANIFEST), refuses to start: it exits non-zero
// within a deadline with a one-line message on stderr that names the data dir, and never serves
// or joins the cluster. Restoring its data then lets it rejoin, so the refusal was about the
// data and nothing else.
#define BOOST_TEST_MODULE integration_refuse_start
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;
namespace fs = std::filesystem;

namespace {

constexpr auto refusal_deadline = 15s;

// Overwrites every file under `dir` whose name satisfies `match`; how many it found.
int damage_files(const std::string& dir, const std::function<bool(const std::string&)>& match) {
  int found = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || !match(e.path().filename().string())) continue;
    const auto size = std::max<uintmax_t>(e.file_size(), 64);
    std::ofstream(e.path(), std::ios::trunc) << std::string(size, '\x5a');  // not RocksDB's
    ++found;
  }
  return found;
}

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return "";
  const auto begin = text.rfind('\n', end);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end + 1 - (begin + 1));
}

// Starts `node` on damaged data and checks that it refuses.
void expect_refusal(cluster& c, int node, const std::string& what) {
  c.start(node, {.capture_stderr = true});
  bool served = false;
  const bool exited = wait_until(
      [&] {
        if (c.status(node, steady::now() + 100ms)) served = true;
        return !c.running(node);
      },
      steady::now() + refusal_deadline);
  BOOST_REQUIRE_MESSAGE(exited, what << ": node " << node << " still runs "
                                     << refusal_deadline.count() << " s after the start");
  const auto& e = *c.exit(node);
  BOOST_CHECK_MESSAGE(!e.signaled && e.code != 0,
                      what << ": node " << node << " should exit non-zero, got " << e.str());
  BOOST_CHECK_MESSAGE(!served, what << ": node " << node << " answered Status before exiting");
  const auto line = last_line(c.stderr_text(node));
  const bool names_dir = line.find(c.data_dir(node)) != std::string::npos ||
                         line.find("data dir") != std::string::npos ||
                         line.find("data_dir") != std::string::npos;
  BOOST_CHECK_MESSAGE(names_dir, what << ": the last stderr line does not name the data dir: \""
                                      << line << "\"\nstderr:\n"
                                      << c.stderr_text(node));
  BOOST_TEST_MESSAGE(what << ": refused with " << e.str() << ": " << line);
}

void refuse_then_recover(const std::string& what,
                         const std::function<void(const std::string& data_dir)>& damage) {
  cluster c({.name = "refuse", .nodes = 3});
  c.start_all();
  const auto leader = c.wait_for_leader(steady::now() + 15s);
  BOOST_REQUIRE_MESSAGE(leader, "no leader after start:\n" << c.describe());
  const int victim = static_cast<int>(*leader) % c.size() + 1;
  auto st = c.put(static_cast<int>(*leader), "refuse/before", "1", steady::now() + 5s);
  BOOST_REQUIRE_MESSAGE(st.ok(), "put failed: " << st.error_message());
  BOOST_REQUIRE(wait_until(
      [&] { return c.read(victim, "refuse/before", true, steady::now() + 300ms).value == "1"; },
      steady::now() + 10s));
  BOOST_REQUIRE_MESSAGE(c.stop(victim), "node " << victim << " ignored SIGTERM");

  const std::string backup = c.dir() + "/backup";
  fs::copy(c.data_dir(victim), backup, fs::copy_options::recursive);
  damage(c.data_dir(victim));
  expect_refusal(c, victim, what);

  // The survivors never saw it: they still have a leader and take writes.
  st = c.put(static_cast<int>(*leader), "refuse/after", "2", steady::now() + 5s);
  BOOST_CHECK_MESSAGE(st.ok(), "cluster stopped taking writes: " << st.error_message() << "\n"
                                                                 << c.describe());

  fs::remove_all(c.data_dir(victim));
  fs::copy(backup, c.data_dir(victim), fs::copy_options::recursive);
  c.restart(victim);
  const bool rejoined = wait_until(
      [&] { return c.read(victim, "refuse/after", true, steady::now() + 300ms).value == "2"; },
      steady::now() + 15s);
  BOOST_CHECK_MESSAGE(rejoined, "node " << victim << " did not rejoin on its restored data:\n"
                                        << c.describe());
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_missing_data_dir_is_refused) {
  refuse_then_recover("missing data dir", [](const std::string& dir) { fs::remove_all(dir); });
}

BOOST_AUTO_TEST_CASE(a_corrupt_current_file_is_refused) {
  refuse_then_recover("corrupt CURRENT", [](const std::string& dir) {
    BOOST_REQUIRE_MESSAGE(damage_files(dir, [](const std::string& f) { return f == "CURRENT"; }),
                          "no RocksDB CURRENT file under " << dir);
  });
}

BOOST_AUTO_TEST_CASE(a_corrupt_state_store_alone_is_refused) {
  // Only the key-value store's CURRENT (data/state/): the Raft log beside it is intact.
  refuse_then_recover("corrupt state store", [](const std::string& dir) {
    BOOST_REQUIRE_MESSAGE(
        damage_files(dir + "/state", [](const std::string& f) { return f == "CURRENT"; }),
        "no RocksDB CURRENT file under " << dir << "/state");
  });
}

BOOST_AUTO_TEST_CASE(a_corrupt_manifest_is_refused) {
  refuse_then_recover("corrupt MANIFEST", [](const std::string& dir) {
    const int n =
        damage_files(dir, [](const std::string& f) { return f.starts_with("MANIFEST-"); });
    BOOST_REQUIRE_MESSAGE(n > 0, "no RocksDB MANIFEST file under " << dir);
  });
}
