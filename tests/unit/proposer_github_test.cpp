// The HTTP client and the GitHub REST client against a local fake of GitHub: headers and bodies
// as GitHub wants them, clear errors for 401/403/422/5xx without the token, retries only on 5xx
// and transport errors, and no duplicate pull request when a proposal is retried.
#define BOOST_TEST_MODULE proposer_github
#include <boost/test/unit_test.hpp>

#include "control/proposer/github_pr.hpp"
#include "tests/unit/fake_github.hpp"

namespace cp = aegis::control::proposer;
using aegis::test::fake_github;

namespace {

cp::retry_policy fast_retry() {
  cp::retry_policy r;
  r.attempts = 3;
  r.sleep = [](std::chrono::milliseconds) {};  // no real waiting in tests
  return r;
}

cp::github_config config_for(const fake_github& gh,
                             const std::string& token = fake_github::kToken) {
  cp::github_config c;
  c.repo = "acme/configs";
  c.token = token;
  c.base_url = gh.base_url();
  c.retry = fast_retry();
  return c;
}

cp::pr_request sample_request() {
  return {"aegis/election_storm-p1",
          "main",
          "cluster/node1.ini",
          "[raft]\nelection_timeout_ms_min=2000ms\n",
          "aegis: election_storm: timeouts",
          "aegis: election_storm: raise timeouts",
          "body",
          {"aegis", "aegis:election_storm"}};
}

// Runs f, expecting a github_error; returns its message.
template <typename F>
std::string error_of(F f, long* status = nullptr) {
  try {
    f();
  } catch (const cp::github_error& e) {
    if (status) *status = e.status;
    return e.what();
  }
  BOOST_FAIL("expected a github_error");
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(http_client_gets_and_limits_size) {
  aegis::test::local_http_server srv;
  srv.server.Get("/big", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(std::string(4096, 'x'), "text/plain");
  });
  srv.start();
  cp::curl_http_client ok_client;
  auto r = ok_client.send({"GET", srv.base_url() + "/big", {}, ""});
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body.size() == 4096u);
  cp::curl_limits small;
  small.max_response_bytes = 100;
  cp::curl_http_client small_client(small);
  r = small_client.send({"GET", srv.base_url() + "/big", {}, ""});
  BOOST_TEST(r.transport_failed());
  BOOST_TEST(r.error.find("larger than 100 bytes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(http_client_reports_connection_refused) {
  int port = 0;
  {
    aegis::test::local_http_server srv;  // a port that was free a moment ago
    srv.start();
    port = std::stoi(srv.base_url().substr(std::string("http://127.0.0.1:").size()));
  }
  cp::curl_http_client client;
  int tries = 0;
  auto r = cp::send_with_retry(
      client, {"GET", "http://127.0.0.1:" + std::to_string(port) + "/x?q=1"}, fast_retry(), &tries);
  BOOST_TEST(r.transport_failed());
  BOOST_TEST(tries == 3);  // transport errors are retried
  BOOST_TEST(r.error.find("GET http://127.0.0.1") != std::string::npos);
  BOOST_TEST(r.error.find("q=1") == std::string::npos);  // no query string in messages
}

BOOST_AUTO_TEST_CASE(retries_5xx_never_4xx) {
  aegis::test::local_http_server srv;
  int calls = 0;
  srv.server.Get("/flaky", [&](const httplib::Request&, httplib::Response& r) {
    r.status = ++calls < 3 ? 502 : 200;
  });
  srv.server.Get("/bad", [](const httplib::Request&, httplib::Response& r) { r.status = 400; });
  srv.start();
  cp::curl_http_client client;
  int tries = 0;
  auto r = cp::send_with_retry(client, {"GET", srv.base_url() + "/flaky"}, fast_retry(), &tries);
  BOOST_TEST(r.status == 200);
  BOOST_TEST(tries == 3);
  r = cp::send_with_retry(client, {"GET", srv.base_url() + "/bad"}, fast_retry(), &tries);
  BOOST_TEST(r.status == 400);
  BOOST_TEST(tries == 1);
  BOOST_TEST(srv.count("GET", "/bad") == 1u);
}

BOOST_AUTO_TEST_CASE(opens_a_pull_request_like_github_wants) {
  fake_github fake;
  cp::curl_http_client http;
  cp::github_client gh(config_for(fake), http);
  auto pr = cp::open_proposal_pr(gh, sample_request());
  BOOST_TEST(pr.number == 1);
  BOOST_TEST(!pr.reused);
  BOOST_TEST(pr.url == "https://github.com/acme/configs/pull/1");
  BOOST_TEST(fake.problems.empty());
  BOOST_TEST(fake.refs.count("aegis/election_storm-p1") == 1u);
  BOOST_TEST(fake.files["aegis/election_storm-p1:cluster/node1.ini"].second ==
             "[raft]\nelection_timeout_ms_min=2000ms\n");
  BOOST_TEST(fake.pulls[0].base == "main");
  BOOST_TEST(fake.pulls[0].labels.size() == 2u);
  for (const auto& r : fake.http.requests()) {
    BOOST_TEST(r.header("Authorization") == std::string("Bearer ") + fake_github::kToken);
    BOOST_TEST(r.body.find(fake_github::kToken) == std::string::npos);  // only in the header
    for (const auto& [k, v] : r.params)
      BOOST_TEST(v.find(fake_github::kToken) == std::string::npos);
  }
  BOOST_TEST(fake.http.count("PUT", "/contents/cluster/node1.ini") == 1u);
}

BOOST_AUTO_TEST_CASE(a_second_run_reuses_the_pull_request) {
  fake_github fake;
  cp::curl_http_client http;
  cp::github_client gh(config_for(fake), http);
  cp::open_proposal_pr(gh, sample_request());
  auto again = cp::open_proposal_pr(gh, sample_request());
  BOOST_TEST(again.reused);
  BOOST_TEST(again.number == 1);
  BOOST_TEST(fake.pulls.size() == 1u);
  BOOST_TEST(fake.http.count("POST", "/pulls") == 1u);
}

BOOST_AUTO_TEST_CASE(a_lost_answer_and_5xx_make_no_duplicate) {
  fake_github fake;
  fake.server_errors = 2;      // the first calls hit a busy GitHub and are retried
  fake.lose_pull_answers = 1;  // the pull request is made but its answer is a 502
  cp::curl_http_client http;
  cp::github_client gh(config_for(fake), http);
  auto pr = cp::open_proposal_pr(gh, sample_request());
  BOOST_TEST(pr.number == 1);
  BOOST_TEST(fake.pulls.size() == 1u);  // the retry met 422 "already exists" and found it
  BOOST_TEST(fake.http.count("PUT", "/contents/") == 1u);
  // A branch that exists already (422 "Reference already exists") is not an error either.
  BOOST_TEST(!gh.create_branch("aegis/election_storm-p1", "abc"));
  BOOST_TEST(fake.problems.empty());
}

BOOST_AUTO_TEST_CASE(bad_token_is_a_clear_401_without_the_token) {
  fake_github fake;
  cp::curl_http_client http;
  const std::string wrong = "ghp_WRONGTOKEN999";
  cp::github_client gh(config_for(fake, wrong), http);
  long status = 0;
  const auto msg = error_of([&] { cp::open_proposal_pr(gh, sample_request()); }, &status);
  BOOST_TEST(status == 401);
  BOOST_TEST(msg.find("401 Unauthorized") != std::string::npos);
  BOOST_TEST(msg.find("token") != std::string::npos);
  BOOST_TEST(msg.find(wrong) == std::string::npos);
  BOOST_TEST(fake.http.count("GET", "/pulls") == 1u);  // a 4xx is never retried
}

BOOST_AUTO_TEST_CASE(forbidden_and_rate_limited_are_told_apart) {
  fake_github fake;
  cp::curl_http_client http;
  cp::github_client gh(config_for(fake), http);
  fake.forbid = "Resource not accessible by integration";
  auto msg = error_of([&] { gh.find_pull("x"); });
  BOOST_TEST(msg.find("403 Forbidden: the token lacks permission") != std::string::npos);
  BOOST_TEST(msg.find("Resource not accessible") != std::string::npos);
  fake.forbid = "API rate limit exceeded for installation";
  msg = error_of([&] { gh.find_pull("x"); });
  BOOST_TEST(msg.find("rate limit exceeded") != std::string::npos);
  BOOST_TEST(fake.http.requests().size() == 2u);
}

BOOST_AUTO_TEST_CASE(validation_errors_carry_githubs_message) {
  fake_github fake;
  cp::curl_http_client http;
  cp::github_client gh(config_for(fake), http);
  long status = 0;
  const auto msg = error_of([&] { gh.create_pull("t", "b", "no-such-branch", "main"); }, &status);
  BOOST_TEST(status == 422);
  BOOST_TEST(msg.find("422 validation failed") != std::string::npos);
  BOOST_TEST(msg.find("Validation Failed; invalid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(persistent_5xx_fails_after_the_retries) {
  fake_github fake;
  fake.server_errors = 100;
  cp::curl_http_client http;
  cp::github_client gh(config_for(fake), http);
  long status = 0;
  const auto msg = error_of([&] { cp::open_proposal_pr(gh, sample_request()); }, &status);
  BOOST_TEST(status == 503);
  BOOST_TEST(msg.find("server error 503 after 3 tries") != std::string::npos);
  BOOST_TEST(fake.http.requests().size() == 3u);
  BOOST_TEST(fake.pulls.empty());
}

BOOST_AUTO_TEST_CASE(opens_an_issue_and_rejects_bad_settings) {
  fake_github fake;
  cp::curl_http_client http;
  cp::github_client gh(config_for(fake), http);
  BOOST_TEST(gh.create_issue("Postmortem", "text", {"postmortem"}) ==
             "https://github.com/acme/configs/issues/101");
  BOOST_TEST(fake.issues.at(0)["labels"][0] == "postmortem");
  auto bad = config_for(fake);
  bad.repo = "no-slash";
  BOOST_CHECK_THROW(cp::github_client(bad, http), std::invalid_argument);
  bad.repo = "acme/configs";
  bad.token = "";
  BOOST_CHECK_THROW(cp::github_client(bad, http), std::invalid_argument);
}
