// The proposer's git side in a real temporary repository: one branch and one commit with the
// patched config, idempotent on a second call, the user's checkout (HEAD, index, working tree)
// untouched; clear errors for a missing base branch or file and a bad proposal id.
#define BOOST_TEST_MODULE proposer_git
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "control/proposer/git_repo.hpp"
#include "control/proposer/process.hpp"
#include "tests/unit/sample_proposal.hpp"
#include "tests/unit/temp_dir.hpp"

namespace cp = aegis::control::proposer;

namespace {

const char* kConfig =
    "; node 1\n[node]\nid=1\n[raft]\n; tuned for the LAN\nheartbeat_interval_ms=100ms\n"
    "election_timeout_ms_min=1000ms\n\n[other]\nx=1\n";

std::string git_out(const std::string& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"git", "-C", repo});
  auto r = cp::run_process(args);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "git failed: " + r.err);
  return r.out;
}

// A repository on branch main with cluster/node1.ini committed, plus an uncommitted edit the
// user is in the middle of (which the proposer must leave alone).
struct repo_fixture {
  aegis::test::temp_dir dir;
  std::string repo = dir.path + "/configs";
  repo_fixture() {
    std::filesystem::create_directories(repo + "/cluster");
    std::ofstream(repo + "/cluster/node1.ini") << kConfig;
    git_out(repo, {"init", "-q", "-b", "main"});
    git_out(repo, {"add", "cluster/node1.ini"});
    git_out(repo, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init"});
    std::ofstream(repo + "/notes.txt") << "user's work in progress\n";
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(commits_on_a_branch_without_touching_the_checkout, repo_fixture) {
  const auto status_before = git_out(repo, {"status", "--porcelain"});
  const auto p = aegis::test::sample_proposal();
  const auto c = cp::commit_proposal({repo, "main", "cluster/node1.ini"}, p);
  BOOST_TEST(c.created);
  BOOST_TEST(c.branch == "aegis/election_storm-p0a1b2c3");
  const auto text = git_out(repo, {"show", c.branch + ":cluster/node1.ini"});
  BOOST_TEST(text.find("election_timeout_ms_min=2000ms\n") != std::string::npos);
  BOOST_TEST(text.find("; tuned for the LAN\n") != std::string::npos);
  // The missing key lands at the end of [raft], before the blank line and [other].
  BOOST_TEST(
      text.find("election_timeout_ms_min=2000ms\nelection_timeout_ms_max=4000ms\n\n[other]") !=
      std::string::npos);
  BOOST_TEST(git_out(repo, {"log", "-1", "--format=%s", c.branch}).find("election_storm") !=
             std::string::npos);
  BOOST_TEST(git_out(repo, {"rev-parse", c.branch + "^"}) == git_out(repo, {"rev-parse", "main"}));
  // The user's checkout: still on main, same status, file on disk unchanged.
  BOOST_TEST(git_out(repo, {"symbolic-ref", "HEAD"}) == "refs/heads/main\n");
  BOOST_TEST(git_out(repo, {"status", "--porcelain"}) == status_before);
  std::ifstream in(repo + "/cluster/node1.ini");
  BOOST_TEST(std::string(std::istreambuf_iterator<char>(in), {}) == kConfig);
}

BOOST_FIXTURE_TEST_CASE(same_proposal_twice_makes_one_commit, repo_fixture) {
  const auto p = aegis::test::sample_proposal();
  const auto first = cp::commit_proposal({repo, "main", "cluster/node1.ini"}, p);
  const auto second = cp::commit_proposal({repo, "main", "cluster/node1.ini"}, p);
  BOOST_TEST(!second.created);
  BOOST_TEST(second.commit == first.commit);
  BOOST_TEST(git_out(repo, {"rev-list", "--count", first.branch}) == "2\n");
  BOOST_TEST(git_out(repo, {"branch", "--list", "aegis/*"}).find('\n') ==
             git_out(repo, {"branch", "--list", "aegis/*"}).size() - 1);
}

BOOST_FIXTURE_TEST_CASE(clear_errors, repo_fixture) {
  const auto p = aegis::test::sample_proposal();
  try {
    cp::commit_proposal({repo, "release", "cluster/node1.ini"}, p);
    BOOST_FAIL("expected an error");
  } catch (const cp::git_error& e) {
    BOOST_TEST(std::string(e.what()).find("base branch 'release' not found") != std::string::npos);
  }
  BOOST_CHECK_THROW(cp::commit_proposal({repo, "main", "cluster/none.ini"}, p), cp::git_error);
  BOOST_CHECK_THROW(cp::commit_proposal({repo, "main", "../etc/passwd"}, p), std::invalid_argument);
  BOOST_CHECK_THROW(cp::commit_proposal({repo, "--upload-pack=x", "cluster/node1.ini"}, p),
                    std::invalid_argument);
  auto bad = p;
  bad.id = "x; rm -rf /";
  BOOST_CHECK_THROW(cp::commit_proposal({repo, "main", "cluster/node1.ini"}, bad),
                    std::invalid_argument);
  BOOST_CHECK_THROW(cp::commit_proposal({dir.path + "/nope", "main", "cluster/node1.ini"}, p),
                    cp::git_error);
  BOOST_TEST(git_out(repo, {"branch", "--list", "aegis/*"}).empty());
}
