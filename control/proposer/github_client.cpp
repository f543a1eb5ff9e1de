// GitHub REST calls with clear failures (github_client.hpp).
#include "control/proposer/github_client.hpp"

#include <cctype>

#include "control/proposer/encoding.hpp"

namespace aegis::control::proposer {

using nlohmann::json;

namespace {

bool valid_repo_part(const std::string& s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

// GitHub's own words from an error body: "message" plus each "errors[].message" or code.
std::string github_words(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return "";
  std::string s = j.value("message", "");
  if (j.contains("errors") && j["errors"].is_array())
    for (const auto& e : j["errors"]) {
      std::string part = e.is_object() ? e.value("message", e.value("code", "")) : "";
      if (e.is_string()) part = e.get<std::string>();
      if (!part.empty()) s += (s.empty() ? "" : "; ") + part;
    }
  return s;
}

std::string with_words(const std::string& head, const std::string& words) {
  return words.empty() ? head : head + " (GitHub: " + words + ")";
}

}  // namespace

std::string github_failure_message(const std::string& what, const std::string& repo,
                                   const http_response& r, int tries) {
  const std::string head = "GitHub " + what + " on " + repo + " failed: ";
  const std::string words = github_words(r.body);
  const std::string after = " after " + std::to_string(tries) + (tries == 1 ? " try" : " tries");
  if (r.transport_failed()) return head + "network error: " + r.error + after;
  if (r.status == 401)
    return with_words(head + "401 Unauthorized: the token is missing, invalid or expired", words);
  if (r.status == 403) {
    const bool rate = words.find("rate limit") != std::string::npos;
    return with_words(head + (rate ? "403 rate limit exceeded: wait for the limit to reset"
                                   : "403 Forbidden: the token lacks permission (needs contents "
                                     "and pull requests write access)"),
                      words);
  }
  if (r.status == 404)
    return with_words(head +
                          "404 Not Found: the repository, branch or path does not exist, or "
                          "the token cannot see it",
                      words);
  if (r.status == 422) return with_words(head + "422 validation failed", words);
  if (r.status >= 500)
    return with_words(head + "server error " + std::to_string(r.status) + after, words);
  return with_words(head + "unexpected status " + std::to_string(r.status), words);
}

github_client::github_client(github_config cfg, http_client& http)
    : cfg_(std::move(cfg)), http_(http) {
  const auto slash = cfg_.repo.find('/');
  if (slash == std::string::npos || !valid_repo_part(cfg_.repo.substr(0, slash)) ||
      !valid_repo_part(cfg_.repo.substr(slash + 1)))
    throw std::invalid_argument("GitHub repository '" + cfg_.repo + "' is not \"owner/name\"");
  if (cfg_.token.empty()) throw std::invalid_argument("GitHub token is empty");
  while (!cfg_.base_url.empty() && cfg_.base_url.back() == '/')
    cfg_.base_url.pop_back();
  owner_ = cfg_.repo.substr(0, slash);
}

http_response github_client::call(const std::string& method, const std::string& path,
                                  const json* body) {
  http_request req;
  req.method = method;
  req.url = cfg_.base_url + path;
  req.headers = {{"Authorization", "Bearer " + cfg_.token},
                 {"Accept", "application/vnd.github+json"},
                 {"X-GitHub-Api-Version", "2022-11-28"},
                 {"User-Agent", cfg_.user_agent}};
  if (body) {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = body->dump();
  }
  return send_with_retry(http_, req, cfg_.retry, &last_tries_);
}

void github_client::fail(const std::string& what, const http_response& r, int tries) const {
  throw github_error(r.status,
                     redact(github_failure_message(what, cfg_.repo, r, tries), {cfg_.token}));
}

json github_client::parse(const std::string& what, const http_response& r, bool array) const {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || (array ? !j.is_array() : !j.is_object()))
    throw github_error(r.status, "GitHub " + what + " on " + cfg_.repo + ": answer is not a JSON " +
                                     (array ? "array" : "object"));
  return j;
}

std::optional<pull_ref> github_client::find_pull(const std::string& branch) {
  const auto path =
      "/repos/" + cfg_.repo + "/pulls?state=all&head=" + url_encode(owner_ + ":" + branch);
  const auto r = call("GET", path, nullptr);
  if (!r.ok()) fail("search pull requests", r, last_tries_);
  const json j = parse("search pull requests", r, true);
  if (j.empty() || !j[0].is_object()) return std::nullopt;
  return pull_ref{j[0].value("number", int64_t{0}), j[0].value("html_url", ""),
                  j[0].value("state", ""), true};
}

std::string github_client::branch_sha(const std::string& branch) {
  const auto r =
      call("GET", "/repos/" + cfg_.repo + "/git/ref/heads/" + url_encode(branch, true), nullptr);
  if (!r.ok()) fail("read branch " + branch, r, last_tries_);
  const json j = parse("read branch", r);
  if (!j.contains("object") || !j["object"].is_object() || !j["object"].contains("sha") ||
      !j["object"]["sha"].is_string())
    throw github_error(r.status, "GitHub read branch " + branch + ": no object.sha in the answer");
  return j["object"]["sha"].get<std::string>();
}

bool github_client::create_branch(const std::string& branch, const std::string& sha) {
  const json body = {{"ref", "refs/heads/" + branch}, {"sha", sha}};
  const auto r = call("POST", "/repos/" + cfg_.repo + "/git/refs", &body);
  if (r.ok()) return true;
  if (r.status == 422 && github_words(r.body).find("already exists") != std::string::npos)
    return false;
  fail("create branch " + branch, r, last_tries_);
}

remote_file github_client::get_file(const std::string& path, const std::string& branch) {
  const auto r = call(
      "GET",
      "/repos/" + cfg_.repo + "/contents/" + url_encode(path, true) + "?ref=" + url_encode(branch),
      nullptr);
  if (r.status == 404) return {};
  if (!r.ok()) fail("read " + path, r, last_tries_);
  const json j = parse("read " + path, r);
  if (j.value("type", "") != "file")
    throw github_error(r.status, "GitHub read " + path + ": not a file");
  auto text = base64_decode(j.value("content", ""));
  if (!text) throw github_error(r.status, "GitHub read " + path + ": content is not base64");
  return {true, j.value("sha", ""), std::move(*text)};
}

void github_client::put_file(const std::string& path, const std::string& branch,
                             const std::string& content, const std::string& message,
                             const std::string& sha) {
  json body = {{"message", message}, {"content", base64_encode(content)}, {"branch", branch}};
  if (!sha.empty()) body["sha"] = sha;
  const auto r = call("PUT", "/repos/" + cfg_.repo + "/contents/" + url_encode(path, true), &body);
  if (!r.ok()) fail("update " + path, r, last_tries_);
}

pull_ref github_client::create_pull(const std::string& title, const std::string& body,
                                    const std::string& head, const std::string& base) {
  const json req = {{"title", title},
                    {"body", body},
                    {"head", head},
                    {"base", base},
                    {"maintainer_can_modify", true}};
  const auto r = call("POST", "/repos/" + cfg_.repo + "/pulls", &req);
  if (!r.ok()) fail("open pull request", r, last_tries_);
  const json j = parse("open pull request", r);
  return {j.value("number", int64_t{0}), j.value("html_url", ""), j.value("state", "open"), false};
}

void github_client::add_labels(int64_t issue_number, const std::vector<std::string>& labels) {
  const json body = {{"labels", labels}};
  const auto r = call(
      "POST", "/repos/" + cfg_.repo + "/issues/" + std::to_string(issue_number) + "/labels", &body);
  if (!r.ok()) fail("add labels", r, last_tries_);
}

std::string github_client::create_issue(const std::string& title, const std::string& body,
                                        const std::vector<std::string>& labels) {
  const json req = {{"title", title}, {"body", body}, {"labels", labels}};
  const auto r = call("POST", "/repos/" + cfg_.repo + "/issues", &req);
  if (!r.ok()) fail("open issue", r, last_tries_);
  return parse("open issue", r).value("html_url", "");
}

}  // namespace aegis::control::proposer
