// The proposer's pure parts: [raft] rewriting, the PR body's sections, base64, the ledger's
// append/read, BM25 ranking over the shipped corpus.
#define BOOST_TEST_MODULE proposer_text
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "control/proposer/bm25.hpp"
#include "control/proposer/config_patch.hpp"
#include "control/proposer/corpus.hpp"
#include "control/proposer/encoding.hpp"
#include "control/proposer/ledger.hpp"
#include "control/proposer/postmortem.hpp"
#include "control/proposer/pr_body.hpp"
#include "tests/unit/sample_proposal.hpp"
#include "tests/unit/temp_dir.hpp"

namespace cp = aegis::control::proposer;
using aegis::control::config_change;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(patch_keeps_comments_and_adds_missing_keys) {
  const std::string ini = "[node]\nid=1\n[raft]\n; why\n  heartbeat_interval_ms = 100ms\n\n";
  auto r = cp::patch_raft_section(
      ini, {{"heartbeat_interval_ms", "100", "50"}, {"pre_vote", "true", "false"}});
  BOOST_TEST(r.text ==
             "[node]\nid=1\n[raft]\n; why\n  heartbeat_interval_ms=50ms\npre_vote=false\n\n");
  BOOST_TEST(r.warnings.empty());
  r = cp::patch_raft_section("[node]\nid=1\n", {{"heartbeat_interval_ms", "100", "50"}});
  BOOST_TEST(r.text == "[node]\nid=1\n\n[raft]\nheartbeat_interval_ms=50ms\n");
  r = cp::patch_raft_section("[raft]\nheartbeat_interval_ms=70ms\n",
                             {{"heartbeat_interval_ms", "100", "50"}});
  BOOST_TEST(r.warnings.size() == 1u);  // the file is not what the advice was made against
  BOOST_CHECK_THROW(cp::patch_raft_section(ini, {{"no_such_key", "1", "2"}}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(cp::patch_raft_section(ini, {{"pre_vote", "true", "false\n[node]"}}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(pr_body_has_every_section) {
  const auto p = aegis::test::sample_proposal();
  const auto pr = cp::render_pr(p, {"aegis/election_storm-p0a1b2c3", "abc123", ""});
  BOOST_TEST(has(pr.title, "election_storm"));
  BOOST_TEST(has(pr.title, "election_timeout_ms_min 1000 → 2000"));
  for (const char* section :
       {"## Incident", "### Evidence", "## Patch", "## Safety envelope", "## Verification",
        "## Rationale", "## Expected effect", "## Rollback", "must review and merge"})
    BOOST_TEST(has(pr.body, section), section);
  BOOST_TEST(
      has(pr.body, "| aegis_raft_term (max - min) | cluster | 1.000s – 9.000s | 12 | >= | 5 |"));
  BOOST_TEST(has(pr.body, "terms rise \\| fast"));  // table cells are escaped
  BOOST_TEST(has(pr.body, "`election_timeout_ms_min`: `1000` → `2000`"));
  BOOST_TEST(has(pr.body, "2 of 2 rules passed"));
  BOOST_TEST(has(pr.body, "| `election_timeout_vs_heartbeat` | yes | 2000 ms >= 10 x 100 ms |"));
  BOOST_TEST(has(pr.body, "seeds 1, 2, 3"));
  BOOST_TEST(has(pr.body, "| leader_changes (target) | 14 | 2 | -12 (better) |"));
  BOOST_TEST(has(pr.body, "`election_timeout_ms_min`: `2000` → `1000`"));  // inverse patch
  BOOST_TEST(has(pr.body, "git revert abc123"));
  BOOST_TEST(has(pr.body, "never merges"));
}

BOOST_AUTO_TEST_CASE(base64_round_trips) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "[raft]\nx=1\n\xff\x01"})
    BOOST_TEST(cp::base64_decode(cp::base64_encode(s)).value() == s);
  BOOST_TEST(cp::base64_encode("hello") == "aGVsbG8=");
  BOOST_TEST(cp::base64_decode("aGVs\nbG8=").value() == "hello");  // GitHub wraps lines
  BOOST_TEST(!cp::base64_decode("a$==").has_value());
  BOOST_TEST(cp::url_encode("acme:aegis/x y", false) == "acme%3Aaegis%2Fx%20y");
}

BOOST_AUTO_TEST_CASE(ledger_appends_and_reads_back) {
  aegis::test::temp_dir dir;
  const auto path = dir.path + "/ledger/ledger.jsonl";
  BOOST_TEST(cp::read_ledger(path).empty());  // no file yet: an empty ledger
  auto p = aegis::test::sample_proposal();
  cp::append_to_ledger(path, cp::ledger_entry_for(p, "dry-run: x.md"));
  std::ifstream first_in(path);
  const std::string first_line{std::istreambuf_iterator<char>(first_in), {}};
  p.status = "negative_result";
  p.verified->improved = false;
  p.verified->explanation = "no seed improved";
  cp::append_to_ledger(path, cp::ledger_entry_for(p, "not proposed"));
  std::ofstream(path, std::ios::app) << "not json\n";
  p.status = "rejected_by_envelope";
  p.envelope[0].passed = false;
  p.verified.reset();
  cp::append_to_ledger(path, cp::ledger_entry_for(p, "not proposed"));
  std::vector<std::string> errors;
  const auto entries = cp::read_ledger(path, &errors);
  BOOST_TEST_REQUIRE(entries.size() == 3u);
  BOOST_TEST(errors.size() == 1u);
  BOOST_TEST(has(errors[0], ":3: not a ledger entry"));
  BOOST_TEST(entries[0].status == "proposed");
  BOOST_TEST(entries[0].rationale == p.advice.rationale);
  BOOST_TEST(entries[0].patch.size() == 2u);
  BOOST_TEST(entries[1].status == "negative_result");
  BOOST_TEST((entries[1].improved == std::optional<bool>(false)));
  BOOST_TEST(
      (entries[2].failed_rules == std::vector<std::string>{"election_timeout_vs_heartbeat"}));
  BOOST_TEST(!entries[2].improved.has_value());
  BOOST_TEST(entries[0].at.size() == 20u);  // 2024-01-01T00:00:00Z
  std::ifstream again(path);
  const std::string all{std::istreambuf_iterator<char>(again), {}};
  BOOST_TEST(all.substr(0, first_line.size()) == first_line);  // earlier lines untouched
}

BOOST_AUTO_TEST_CASE(tokenizer_and_bm25_basics) {
  BOOST_TEST((cp::tokenize("The leader_disk_stall stalls!") ==
              std::vector<std::string>{"leader", "disk", "stall", "stall"}));
  cp::bm25_index idx;
  idx.add("disk fsync stall on the leader");
  idx.add("election timeout heartbeat");
  idx.add("election election election storm term");
  BOOST_TEST(idx.idf("disk") > idx.idf("election"));
  auto hits = idx.rank("election storm", 5);
  BOOST_TEST_REQUIRE(hits.size() == 2u);
  BOOST_TEST(hits[0].doc == 2u);
  BOOST_TEST(idx.rank("zookeeper", 5).empty());
}

BOOST_AUTO_TEST_CASE(disk_stall_query_ranks_the_disk_runbook_first) {
  std::vector<std::string> errors;
  const auto docs = cp::load_corpus_dir(cp::default_corpus_dir(), &errors);
  BOOST_TEST(errors.empty());
  BOOST_TEST(docs.size() >= 10u);
  cp::bm25_index idx;
  for (const auto& d : docs)
    idx.add(d.title + "\n" + d.text);
  const auto rank_first = [&](const std::string& q) { return docs[idx.rank(q, 3).at(0).doc].id; };
  BOOST_TEST(rank_first("leader disk stall: fsync duration 1.5 s on the leader, slow-fsync") ==
             "runbook-leader-disk-stall");
  BOOST_TEST(rank_first("election storm: term climbs, split votes, candidates") ==
             "runbook-election-storm");
  BOOST_TEST(rank_first("follower match lag grows, snapshot sends repeat") ==
             "runbook-slow-follower");
  const auto& disk = *std::find_if(docs.begin(), docs.end(), [](const cp::corpus_doc& d) {
    return d.id == "runbook-leader-disk-stall";
  });
  BOOST_TEST(!disk.lessons.empty());
  BOOST_TEST(!disk.synopsis.empty());
}
