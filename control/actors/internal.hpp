// Helpers the agent's actor files share (not part of the agent's interface).
#pragma once

#include <chrono>
#include <string>

#include <caf/all.hpp>

namespace aegis::control::actors {

// The error's own text when it carries one (what a handler said), else CAF's rendering.
inline std::string describe(const caf::error& e) {
  const auto& ctx = e.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return caf::to_string(e);
}

// A refusal of bad input, as a handler's answer.
inline caf::error refused(const std::string& what) {
  return caf::make_error(caf::sec::invalid_argument, what);
}

inline std::chrono::milliseconds ms_of(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace aegis::control::actors
