// The GitHub REST calls the proposer and the postmortem need (refs, contents, pulls, labels,
// issues), over the http_client interface. Each call retries transport errors and 5xx answers
// and fails with a github_error whose message says what went wrong in a person's terms (bad
// token, missing permission or rate limit, GitHub's validation message). The token travels only
// in the Authorization header; it is redacted from every message this client builds.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/proposer/http_client.hpp"

namespace aegis::control::proposer {

struct github_config {
  std::string repo;                                 // "owner/name"
  std::string token;                                // a secret: never logged, never in a message
  std::string base_url = "https://api.github.com";  // no trailing slash; tests use a local one
  std::string user_agent = "aegis-proposer";
  retry_policy retry;
};

// A call failed. `status` is the HTTP status (0: transport failure).
struct github_error : std::runtime_error {
  long status = 0;
  github_error(long s, const std::string& message) : std::runtime_error(message), status(s) {}
};

struct pull_ref {
  int64_t number = 0;
  std::string url;      // html_url
  std::string state;    // "open" or "closed"
  bool reused = false;  // true: found, not created by this run
};

// A file on a branch. Invariant: sha and content are empty when !exists.
struct remote_file {
  bool exists = false;
  std::string sha;      // the blob sha the contents API wants back on update
  std::string content;  // decoded
};

class github_client {
 public:
  // Throws std::invalid_argument when repo is not "owner/name" or the token is empty.
  github_client(github_config cfg, http_client& http);

  // The first pull request (any state) whose head is this branch of this repository.
  std::optional<pull_ref> find_pull(const std::string& branch);
  // The commit sha a branch points at.
  std::string branch_sha(const std::string& branch);
  // Creates refs/heads/<branch> at sha; false when it existed already (422 "Reference already
  // exists"), which a retried proposal expects.
  bool create_branch(const std::string& branch, const std::string& sha);
  remote_file get_file(const std::string& path, const std::string& branch);
  // Writes the file on the branch; `sha` is the current blob's (empty: a new file).
  void put_file(const std::string& path, const std::string& branch, const std::string& content,
                const std::string& message, const std::string& sha);
  pull_ref create_pull(const std::string& title, const std::string& body, const std::string& head,
                       const std::string& base);
  void add_labels(int64_t issue_number, const std::vector<std::string>& labels);
  // Opens an issue; returns its html_url.
  std::string create_issue(const std::string& title, const std::string& body,
                           const std::vector<std::string>& labels);

  const std::string& owner() const { return owner_; }
  const std::string& repo() const { return cfg_.repo; }

 private:
  http_response call(const std::string& method, const std::string& path,
                     const nlohmann::json* body);
  [[noreturn]] void fail(const std::string& what, const http_response& r, int tries) const;
  // The answer as JSON; an object (or, with `array`, an array), else github_error.
  nlohmann::json parse(const std::string& what, const http_response& r, bool array = false) const;

  github_config cfg_;
  http_client& http_;
  std::string owner_;
  int last_tries_ = 0;
};

// The human message for an HTTP failure of `what` (e.g. "open pull request"): exposed for tests.
std::string github_failure_message(const std::string& what, const std::string& repo,
                                   const http_response& r, int tries);

}  // namespace aegis::control::proposer
