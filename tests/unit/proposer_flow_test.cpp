// The proposer and postmortem end to end: run_proposer in dry-run (files, ledger, refusals),
// live against a fake GitHub and a temporary git repo (twice: no duplicate), the postmortem of a
// fixture trace, and the opt-in Anthropic client with its fallbacks; no secret in any output.
#define BOOST_TEST_MODULE proposer_flow
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "control/proposer/anthropic_client.hpp"
#include "control/proposer/ledger.hpp"
#include "control/proposer/postmortem.hpp"
#include "control/proposer/process.hpp"
#include "control/proposer/proposer.hpp"
#include "tests/unit/fake_github.hpp"
#include "tests/unit/sample_proposal.hpp"
#include "tests/unit/temp_dir.hpp"

namespace cp = aegis::control::proposer;
using aegis::test::fake_github;

namespace {

const std::string kKey = "sk-ant-TESTKEY-do-not-print";

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

aegis::chaos::trace::trace fixture(const std::string& name) {
  auto t = aegis::chaos::trace::load_trace(std::string(AEGIS_FIXTURES_DIR) + "/" + name);
  BOOST_REQUIRE(std::holds_alternative<aegis::chaos::trace::trace>(t));
  return std::get<aegis::chaos::trace::trace>(t);
}

aegis::control::verdict disk_verdict() {
  aegis::control::verdict v;
  v.cls = aegis::control::incident_class::leader_disk_stall;
  v.confidence = 0.85;
  v.nodes = {2};
  v.from_us = 3'000'000;
  v.to_us = 17'000'000;
  v.summary = "The leader's fsync stalled for 1.5 s and leadership moved.";
  v.evidence = {{"aegis_log_fsync_duration_seconds (mean)", 2, 3'000'000, 7'000'000, 1.5, ">=", 0.5,
                 "fsync stall on the leader disk"}};
  return v;
}

// A fake Anthropic Messages API: answers `status` with `text`, records what it was sent.
struct fake_anthropic {
  int status = 200;
  std::string text = "A calm narrative.";
  aegis::test::local_http_server http;
  fake_anthropic() {
    http.server.Post("/v1/messages", [this](const httplib::Request&, httplib::Response& r) {
      r.status = status;
      nlohmann::json body = status == 200
                                ? nlohmann::json{{"content", {{{"type", "text"}, {"text", text}}}}}
                                : nlohmann::json{{"error", {{"message", "overloaded " + kKey}}}};
      r.set_content(body.dump(), "application/json");
    });
    http.start();
  }
  cp::llm_config config() const {
    cp::llm_config c;
    c.enabled = true;
    c.api_key = kKey;
    c.base_url = http.base_url();
    c.retry.sleep = [](std::chrono::milliseconds) {};
    return c;
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(dry_run_writes_files_and_ledger_keeps_everything) {
  aegis::test::temp_dir dir;
  auto proposed = aegis::test::sample_proposal("p1");
  auto negative = aegis::test::sample_proposal("p2");
  negative.status = "negative_result";
  auto sneaky = aegis::test::sample_proposal("p3");  // says "proposed" but an envelope rule failed
  sneaky.envelope[1].passed = false;
  std::ostringstream out, log;
  cp::proposer_options opt;
  opt.out_dir = dir.path + "/out";
  opt.ledger_path = dir.path + "/ledger.jsonl";
  opt.out = &out;
  opt.log = &log;
  BOOST_TEST(cp::run_proposer({proposed, negative, sneaky}, opt) == 0);
  BOOST_TEST(has(out.str(), "## Safety envelope"));
  BOOST_TEST(has(slurp(opt.out_dir + "/proposals/p1.md"), "## Verification"));
  BOOST_TEST(has(slurp(opt.out_dir + "/proposals/p1.json"), "\"id\": \"p1\""));
  BOOST_TEST(has(slurp(opt.out_dir + "/proposals/p1/node1.ini"), "election_timeout_ms_min=2000ms"));
  BOOST_TEST(!std::filesystem::exists(opt.out_dir + "/proposals/p3.md"));
  const auto entries = cp::read_ledger(opt.ledger_path);
  BOOST_TEST_REQUIRE(entries.size() == 3u);
  BOOST_TEST(entries[0].status == "proposed");
  BOOST_TEST(entries[1].status == "negative_result");
  BOOST_TEST(entries[2].status == "rejected_by_envelope");
  BOOST_TEST(has(log.str(), "envelope rule fsync_on failed"));
}

BOOST_AUTO_TEST_CASE(live_run_twice_opens_one_pull_request) {
  aegis::test::temp_dir dir;
  const auto repo = dir.path + "/configs";
  std::filesystem::create_directories(repo + "/cluster");
  std::ofstream(repo + "/cluster/node1.ini") << "[raft]\nelection_timeout_ms_min=1000ms\n";
  for (std::vector<std::string> args :
       {std::vector<std::string>{"init", "-q", "-b", "main"},
        {"add", "."},
        {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init"}}) {
    args.insert(args.begin(), {"git", "-C", repo});
    BOOST_REQUIRE(cp::run_process(args).exit_code == 0);
  }
  fake_github fake;
  std::ostringstream log;
  cp::curl_http_client http;
  cp::proposer_options opt;
  opt.dry_run = false;
  opt.config_repo = repo;
  opt.github = {"acme/configs", fake_github::kToken, fake.base_url(), "aegis-test", {}};
  opt.github.retry.sleep = [](std::chrono::milliseconds) {};
  opt.ledger_path = dir.path + "/ledger.jsonl";
  opt.http = &http;
  opt.log = &log;
  const auto p = aegis::test::sample_proposal("p9");
  BOOST_TEST(cp::run_proposer({p}, opt) == 0);
  BOOST_TEST(cp::run_proposer({p}, opt) == 0);
  BOOST_TEST(fake.pulls.size() == 1u);
  BOOST_TEST(fake.problems.empty());
  BOOST_TEST(has(fake.pulls[0].body, "git revert "));
  BOOST_TEST(has(log.str(), "existing pr https://github.com/acme/configs/pull/1"));
  BOOST_TEST(!has(log.str(), fake_github::kToken));
  BOOST_TEST(cp::read_ledger(opt.ledger_path).size() == 2u);
  // A bad token: a clear failure, recorded, and the token nowhere.
  opt.github.token = "ghp_BADTOKEN_zzz";
  BOOST_TEST(cp::run_proposer({aegis::test::sample_proposal("p10")}, opt) == 1);
  BOOST_TEST(has(log.str(), "401 Unauthorized"));
  BOOST_TEST(!has(log.str(), "ghp_BADTOKEN_zzz"));
  BOOST_TEST(!has(slurp(opt.ledger_path), "ghp_BADTOKEN_zzz"));
}

BOOST_AUTO_TEST_CASE(postmortem_of_a_disk_stall_fixture) {
  aegis::test::temp_dir dir;
  cp::append_to_ledger(dir.path + "/ledger.jsonl", [] {
    auto p = aegis::test::sample_proposal("old1");
    p.incident.cls = aegis::control::incident_class::leader_disk_stall;
    p.status = "negative_result";
    return cp::ledger_entry_for(p, "not proposed");
  }());
  std::ostringstream log;
  cp::postmortem_options opt;
  opt.out_dir = dir.path + "/out";
  opt.ledger_path = dir.path + "/ledger.jsonl";
  opt.log = &log;
  const auto md = cp::write_postmortem(fixture("leader_disk_stall.trace"), {disk_verdict()}, opt);
  for (const char* s : {"## Summary", "## Timeline", "## Impact", "## What the classifier found",
                        "## Root causes (ranked)", "## Lessons", "## Proposals on record"})
    BOOST_TEST(has(md, s), s);
  BOOST_TEST(has(md, "fault: slow-fsync 2 1500ms"));
  BOOST_TEST(has(md, "became leader"));
  BOOST_TEST(has(md, "**Leader changes:** 4"));
  BOOST_TEST(has(md, "69 failed"));
  BOOST_TEST(has(md, "1. **Leader disk stall"));  // the disk runbook ranks first
  BOOST_TEST(has(md, "negative_result: 1"));
  BOOST_TEST(
      has(slurp(opt.out_dir + "/postmortems/postmortem-leader_disk_stall-103.md"), "## Impact"));
}

BOOST_AUTO_TEST_CASE(postmortem_becomes_an_issue) {
  fake_github fake;
  cp::curl_http_client http;
  std::ostringstream log;
  cp::postmortem_options opt;
  opt.dry_run = false;
  opt.github = {"acme/configs", fake_github::kToken, fake.base_url(), "aegis-test", {}};
  opt.http = &http;
  opt.log = &log;
  cp::write_postmortem(fixture("leader_disk_stall.trace"), {disk_verdict()}, opt);
  BOOST_TEST_REQUIRE(fake.issues.size() == 1u);
  BOOST_TEST(has(fake.issues[0]["body"].get<std::string>(), "## Root causes"));
  BOOST_TEST(has(log.str(), "opened https://github.com/acme/configs/issues/101"));
}

BOOST_AUTO_TEST_CASE(anthropic_call_sends_what_the_api_wants) {
  fake_anthropic api;
  cp::curl_http_client http;
  std::string why;
  auto text = cp::ask_llm(http, api.config(), "sys", "prompt", &why);
  BOOST_TEST(text.value() == "A calm narrative.");
  const auto reqs = api.http.requests();
  BOOST_TEST_REQUIRE(reqs.size() == 1u);
  BOOST_TEST(reqs[0].header("x-api-key") == kKey);
  BOOST_TEST(reqs[0].header("anthropic-version") == "2023-06-01");
  BOOST_TEST(has(reqs[0].header("content-type"), "application/json"));
  const auto body = nlohmann::json::parse(reqs[0].body);
  BOOST_TEST(body["model"] == "claude-sonnet-4-5");
  BOOST_TEST(body["messages"][0]["role"] == "user");
  BOOST_TEST(body["messages"][0]["content"] == "prompt");
  BOOST_TEST(!has(reqs[0].body, kKey));
}

BOOST_AUTO_TEST_CASE(anthropic_falls_back_on_500_and_without_key) {
  fake_anthropic api;
  api.status = 500;
  cp::curl_http_client http;
  bool used = true;
  std::string why;
  auto text = cp::llm_or(http, api.config(), "s", "p", "deterministic", &used, &why);
  BOOST_TEST(text == "deterministic");
  BOOST_TEST(!used);
  BOOST_TEST(has(why, "500"));
  BOOST_TEST(!has(why, kKey));                   // the server echoed the key; the message must not
  BOOST_TEST(api.http.requests().size() == 2u);  // one retry on 5xx
  auto no_key = api.config();
  no_key.api_key.clear();
  text = cp::llm_or(http, no_key, "s", "p", "deterministic", &used, &why);
  BOOST_TEST(text == "deterministic");
  BOOST_TEST(has(why, "ANTHROPIC_API_KEY is not set"));
  BOOST_TEST(api.http.requests().size() == 2u);  // no call without a key
}

BOOST_AUTO_TEST_CASE(postmortem_with_llm_uses_it_or_falls_back) {
  fake_anthropic api;
  cp::curl_http_client http;
  std::ostringstream log;
  cp::postmortem_options opt;
  opt.llm = api.config();
  opt.http = &http;
  opt.log = &log;
  const auto trace = fixture("leader_disk_stall.trace");
  api.text = "runbook-leader-disk-stall\npostmortem-example-disk-stall\n";  // a valid ranking
  auto md = cp::write_postmortem(trace, {disk_verdict()}, opt);
  BOOST_TEST(has(md, "order suggested by an LLM"));
  api.status = 500;
  md = cp::write_postmortem(trace, {disk_verdict()}, opt);
  BOOST_TEST(!has(md, "order suggested by an LLM"));
  BOOST_TEST(has(md, "the classifier found leader_disk_stall"));  // deterministic narrative
  BOOST_TEST(has(log.str(), "keeping the BM25 order"));
  BOOST_TEST(!has(md + log.str(), kKey));
}
