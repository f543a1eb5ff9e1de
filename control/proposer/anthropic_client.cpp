// Anthropic Messages API call with fallback (anthropic_client.hpp).
#include "control/proposer/anthropic_client.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace aegis::control::proposer {

using nlohmann::json;

namespace {

// The API's error message from a failed answer ({"error": {"message": ...}}), if any.
std::string api_words(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  const auto& e = j["error"];
  return e.contains("message") && e["message"].is_string() ? e["message"].get<std::string>() : "";
}

// The concatenated text blocks of a successful answer.
std::optional<std::string> answer_text(const std::string& body) {
  const json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("content") || !j["content"].is_array()) return std::nullopt;
  std::string text;
  for (const auto& block : j["content"])
    if (block.is_object() && block.value("type", "") == "text" && block.contains("text") &&
        block["text"].is_string())
      text += block["text"].get<std::string>();
  if (text.empty()) return std::nullopt;
  return text;
}

}  // namespace

llm_config llm_config_from_env(bool enabled, const std::string& model,
                               const std::string& base_url) {
  llm_config c;
  c.enabled = enabled;
  if (const char* key = std::getenv("ANTHROPIC_API_KEY")) c.api_key = key;
  if (!model.empty()) c.model = model;
  if (!base_url.empty()) c.base_url = base_url;
  while (!c.base_url.empty() && c.base_url.back() == '/')
    c.base_url.pop_back();
  return c;
}

std::optional<std::string> ask_llm(http_client& http, const llm_config& cfg,
                                   const std::string& system, const std::string& prompt,
                                   std::string* why) {
  auto no = [&](const std::string& reason) -> std::optional<std::string> {
    if (why) *why = redact(reason, {cfg.api_key});
    return std::nullopt;
  };
  if (!cfg.enabled) return no("LLM not enabled (--llm)");
  if (cfg.api_key.empty()) return no("ANTHROPIC_API_KEY is not set");
  http_request req;
  req.method = "POST";
  req.url = cfg.base_url + "/v1/messages";
  req.headers = {{"x-api-key", cfg.api_key},
                 {"anthropic-version", "2023-06-01"},
                 {"content-type", "application/json"}};
  req.body = json{{"model", cfg.model},
                  {"max_tokens", cfg.max_tokens},
                  {"system", system},
                  {"messages", json::array({{{"role", "user"}, {"content", prompt}}})}}
                 .dump();
  int tries = 0;
  const auto r = send_with_retry(http, req, cfg.retry, &tries);
  if (r.transport_failed()) return no("Anthropic API unreachable: " + r.error);
  if (!r.ok()) {
    const auto words = api_words(r.body);
    return no("Anthropic API answered " + std::to_string(r.status) +
              (words.empty() ? "" : " (" + words + ")") + " after " + std::to_string(tries) +
              (tries == 1 ? " try" : " tries"));
  }
  auto text = answer_text(r.body);
  if (!text) return no("Anthropic API answer has no text");
  return text;
}

std::string llm_or(http_client& http, const llm_config& cfg, const std::string& system,
                   const std::string& prompt, const std::string& fallback, bool* used_llm,
                   std::string* why) {
  auto text = ask_llm(http, cfg, system, prompt, why);
  if (used_llm) *used_llm = text.has_value();
  return text ? *text : fallback;
}

}  // namespace aegis::control::proposer
