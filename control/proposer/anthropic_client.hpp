// Opt-in LLM help for the postmortem (narration, root-cause re-ranking) through the Anthropic
// Messages API. Every call can fail or be switched off, and the caller always has the
// deterministic text to fall back on; nothing the LLM says decides what is proposed. The API key
// travels only in the x-api-key header and is redacted from every message built here.
#pragma once

#include <optional>
#include <string>

#include "control/proposer/http_client.hpp"

namespace aegis::control::proposer {

struct llm_config {
  bool enabled = false;  // the --llm flag; off: never any network call
  std::string api_key;   // ANTHROPIC_API_KEY; empty: off
  std::string model = "claude-sonnet-4-5";
  std::string base_url = "https://api.anthropic.com";  // no trailing slash; tests use a local one
  int max_tokens = 1024;
  retry_policy retry{2};  // one retry on 5xx/transport errors, then the fallback
};

// enabled as given, the key from ANTHROPIC_API_KEY, the model and base URL as given (empty:
// defaults).
llm_config llm_config_from_env(bool enabled, const std::string& model = "",
                               const std::string& base_url = "");

// The model's text, or nullopt with `why` saying (safely) why not: disabled, no key, HTTP or
// transport error, or an answer without text.
std::optional<std::string> ask_llm(http_client& http, const llm_config& cfg,
                                   const std::string& system, const std::string& prompt,
                                   std::string* why = nullptr);

// ask_llm, or `fallback` when it gives nothing. `used_llm` (optional) says which one it is.
std::string llm_or(http_client& http, const llm_config& cfg, const std::string& system,
                   const std::string& prompt, const std::string& fallback, bool* used_llm = nullptr,
                   std::string* why = nullptr);

}  // namespace aegis::control::proposer
