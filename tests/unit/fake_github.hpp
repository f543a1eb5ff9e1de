// A fake of the parts of GitHub's REST API the proposer uses, on a local_http_server: refs,
// contents, pulls, labels, issues for one repository "acme/configs" with a "main" branch. It
// checks the headers GitHub requires (Bearer token, Accept, API version, User-Agent) and the JSON
// bodies, keeps state like GitHub does (a branch or a pull request exists once), and can be told
// to fail like GitHub: 401, 403 (permissions or rate limit), 5xx for the next N requests, or a
// pull request created but its answer lost behind a 502.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/proposer/encoding.hpp"
#include "tests/unit/local_http_server.hpp"

namespace aegis::test {

class fake_github {
 public:
  static constexpr const char* kToken = "ghp_TESTSECRET0123456789";
  const std::string owner = "acme", repo = "configs";

  // Knobs (set before the client runs).
  std::string forbid;                 // non-empty: every call answers 403 with this message
  int server_errors = 0;              // the next N calls answer 503
  int lose_pull_answers = 0;          // the next N pull creations succeed but answer 502
  std::vector<std::string> problems;  // header/body problems found (should stay empty)

  struct pull {
    int64_t number;
    std::string head, base, title, body;
    std::vector<std::string> labels;
  };
  std::map<std::string, std::string> refs = {{"main", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"}};
  std::map<std::string, std::pair<std::string, std::string>> files;  // "branch:path" -> sha, text
  std::vector<pull> pulls;
  std::vector<nlohmann::json> issues;

  fake_github() {
    files["main:cluster/node1.ini"] = {"blob0", "[raft]\nelection_timeout_ms_min=150ms\n"};
    routes();
    http.start();
  }
  std::string base_url() const { return http.base_url(); }

 private:
  using req_t = const httplib::Request&;
  using res_t = httplib::Response&;
  std::mutex mu_;

  static void answer(res_t res, int status, const nlohmann::json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }
  std::string prefix() const { return "/repos/" + owner + "/" + repo; }

  // Header checks and injected failures; true when the request was answered here.
  bool gate(req_t req, res_t res) {
    std::lock_guard lock(mu_);
    if (req.get_header_value("Accept") != "application/vnd.github+json")
      problems.push_back("Accept header missing");
    if (req.get_header_value("X-GitHub-Api-Version") != "2022-11-28")
      problems.push_back("API version header missing");
    if (req.get_header_value("User-Agent").empty()) problems.push_back("User-Agent missing");
    if (req.get_header_value("Authorization") != std::string("Bearer ") + kToken)
      return answer(res, 401, {{"message", "Bad credentials"}}), true;
    if (!forbid.empty()) return answer(res, 403, {{"message", forbid}}), true;
    if (server_errors > 0) return --server_errors, answer(res, 503, {{"message", "busy"}}), true;
    return false;
  }

  nlohmann::json body_of(req_t req, std::initializer_list<const char*> required) {
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    std::lock_guard lock(mu_);
    if (!j.is_object()) {
      problems.push_back(req.path + ": body is not a JSON object");
      return nlohmann::json::object();
    }
    for (const char* k : required)
      if (!j.contains(k)) problems.push_back(req.path + ": body lacks '" + k + "'");
    return j;
  }

  void routes() {
    auto& s = http.server;
    const auto p = prefix();
    s.Get(p + "/pulls", [this](req_t q, res_t r) { list_pulls(q, r); });
    s.Post(p + "/pulls", [this](req_t q, res_t r) { create_pull(q, r); });
    s.Get(p + R"(/git/ref/heads/(.+))", [this](req_t q, res_t r) { get_ref(q, r); });
    s.Post(p + "/git/refs", [this](req_t q, res_t r) { create_ref(q, r); });
    s.Get(p + R"(/contents/(.+))", [this](req_t q, res_t r) { get_file(q, r); });
    s.Put(p + R"(/contents/(.+))", [this](req_t q, res_t r) { put_file(q, r); });
    s.Post(p + R"(/issues/(\d+)/labels)", [this](req_t q, res_t r) { add_labels(q, r); });
    s.Post(p + "/issues", [this](req_t q, res_t r) { create_issue(q, r); });
  }

  static nlohmann::json pull_json(const pull& pr) {
    return {{"number", pr.number},
            {"html_url", "https://github.com/acme/configs/pull/" + std::to_string(pr.number)},
            {"state", "open"},
            {"head", {{"ref", pr.head}}}};
  }

  void list_pulls(req_t q, res_t r) {
    if (gate(q, r)) return;
    const auto head = q.get_param_value("head");
    std::lock_guard lock(mu_);
    if (q.get_param_value("state") != "all") problems.push_back("pull search without state=all");
    auto out = nlohmann::json::array();
    for (const auto& pr : pulls)
      if (owner + ":" + pr.head == head) out.push_back(pull_json(pr));
    answer(r, 200, out);
  }

  void create_pull(req_t q, res_t r) {
    if (gate(q, r)) return;
    auto j = body_of(q, {"title", "body", "head", "base"});
    std::lock_guard lock(mu_);
    const auto head = j.value("head", "");
    for (const auto& pr : pulls)
      if (pr.head == head)
        return answer(
            r, 422,
            {{"message", "Validation Failed"},
             {"errors",
              {{{"message", "A pull request already exists for " + owner + ":" + head + "."}}}}});
    if (!refs.count(head))
      return answer(r, 422,
                    {{"message", "Validation Failed"},
                     {"errors", {{{"field", "head"}, {"code", "invalid"}}}}});
    pulls.push_back({static_cast<int64_t>(pulls.size() + 1),
                     head,
                     j.value("base", ""),
                     j.value("title", ""),
                     j.value("body", ""),
                     {}});
    if (lose_pull_answers > 0) return --lose_pull_answers, answer(r, 502, {{"message", "lost"}});
    answer(r, 201, pull_json(pulls.back()));
  }

  void get_ref(req_t q, res_t r) {
    if (gate(q, r)) return;
    std::lock_guard lock(mu_);
    auto it = refs.find(q.matches[1]);
    if (it == refs.end()) return answer(r, 404, {{"message", "Not Found"}});
    answer(r, 200, {{"ref", "refs/heads/" + it->first}, {"object", {{"sha", it->second}}}});
  }

  void create_ref(req_t q, res_t r) {
    if (gate(q, r)) return;
    auto j = body_of(q, {"ref", "sha"});
    std::lock_guard lock(mu_);
    std::string ref = j.value("ref", "");
    if (ref.rfind("refs/heads/", 0) != 0) problems.push_back("create ref without refs/heads/");
    ref = ref.substr(std::min<size_t>(ref.size(), 11));
    if (refs.count(ref)) return answer(r, 422, {{"message", "Reference already exists"}});
    refs[ref] = j.value("sha", "");
    for (const auto& [key, file] : std::map(files))
      if (key.rfind("main:", 0) == 0) files[ref + ":" + key.substr(5)] = file;
    answer(r, 201, {{"ref", "refs/heads/" + ref}});
  }

  void get_file(req_t q, res_t r) {
    if (gate(q, r)) return;
    std::lock_guard lock(mu_);
    auto it = files.find(q.get_param_value("ref") + ":" + std::string(q.matches[1]));
    if (it == files.end()) return answer(r, 404, {{"message", "Not Found"}});
    answer(r, 200,
           {{"type", "file"},
            {"sha", it->second.first},
            {"content", control::proposer::base64_encode(it->second.second)}});
  }

  void put_file(req_t q, res_t r) {
    if (gate(q, r)) return;
    auto j = body_of(q, {"message", "content", "branch"});
    std::lock_guard lock(mu_);
    const auto key = j.value("branch", "") + ":" + std::string(q.matches[1]);
    auto it = files.find(key);
    if (it != files.end() && j.value("sha", "") != it->second.first)
      return answer(r, 409, {{"message", "sha does not match"}});
    auto text = control::proposer::base64_decode(j.value("content", ""));
    if (!text) problems.push_back("content is not base64");
    files[key] = {"blob" + std::to_string(files.size() + 1), text.value_or("")};
    answer(r, 200, {{"content", {{"sha", files[key].first}}}});
  }

  void add_labels(req_t q, res_t r) {
    if (gate(q, r)) return;
    auto j = body_of(q, {"labels"});
    std::lock_guard lock(mu_);
    const auto n = std::stoll(q.matches[1]);
    if (n < 1 || n > static_cast<int64_t>(pulls.size()))
      return answer(r, 404, {{"message", "Not Found"}});
    for (const auto& l : j.value("labels", nlohmann::json::array()))
      pulls[n - 1].labels.push_back(l.get<std::string>());
    answer(r, 200, nlohmann::json::array());
  }

  void create_issue(req_t q, res_t r) {
    if (gate(q, r)) return;
    auto j = body_of(q, {"title", "body"});
    std::lock_guard lock(mu_);
    issues.push_back(j);
    answer(r, 201,
           {{"number", 100 + issues.size()},
            {"html_url",
             "https://github.com/acme/configs/issues/" + std::to_string(100 + issues.size())}});
  }

 public:
  // Last, so the server stops (destroyed first) before the state its handlers use.
  local_http_server http;
};

}  // namespace aegis::test
