// [raft] section rewriting (config_patch.hpp).
#include "control/proposer/config_patch.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

#include "config/schema.hpp"

namespace aegis::control::proposer {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The text of a value for comparison: quotes and an "ms" unit removed.
std::string normalized(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.size() > 2 && v.ends_with("ms") && all_digits(v.substr(0, v.size() - 2)))
    v.remove_suffix(2);
  return std::string(v);
}

void check_change(const config_change& c) {
  if (!config::find_field(c.key))
    throw std::invalid_argument("patch key '" + c.key + "' is not a [raft] key of the schema");
  if (c.to.empty() || c.to.find_first_of("\r\n[;#") != std::string::npos)
    throw std::invalid_argument("patch value for '" + c.key + "' is empty or not a plain value");
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  }
  return lines;
}

bool is_section(std::string_view line) {
  line = trim(line);
  return line.size() >= 2 && line.front() == '[' && line.back() == ']';
}

// The key of a "key=value" line, or "" for comments, blanks and anything else.
std::string_view key_of(std::string_view line) {
  const auto t = trim(line);
  if (t.empty() || t.front() == ';' || t.front() == '#') return {};
  const auto eq = t.find('=');
  return eq == std::string_view::npos ? std::string_view{} : trim(t.substr(0, eq));
}

}  // namespace

std::string ini_value(std::string_view key, std::string_view value) {
  const auto* f = config::find_field(key);
  if (f && f->unit == "ms" && all_digits(value)) return std::string(value) + "ms";
  return std::string(value);
}

patched_config patch_raft_section(std::string_view ini, const std::vector<config_change>& patch) {
  std::map<std::string, const config_change*, std::less<>> pending;
  for (const auto& c : patch) {
    check_change(c);
    pending[c.key] = &c;
  }
  patched_config out;
  auto lines = split_lines(ini);
  std::vector<std::string> result;
  bool in_raft = false, saw_raft = false;
  size_t raft_end = 0;  // index in result after the last non-blank line of [raft]
  for (auto line : lines) {
    if (is_section(line)) {
      in_raft = trim(line) == "[raft]";
      saw_raft = saw_raft || in_raft;
      result.emplace_back(line);
      if (in_raft) raft_end = result.size();
      continue;
    }
    const auto key = in_raft ? key_of(line) : std::string_view{};
    auto it = key.empty() ? pending.end() : pending.find(key);
    if (it == pending.end()) {
      result.emplace_back(line);
    } else {
      const auto value = line.substr(line.find('=') + 1);
      if (normalized(value) != normalized(it->second->from))
        out.warnings.push_back(it->second->key + " is " + std::string(trim(value)) +
                               " in the file, the advice expected " + it->second->from);
      const auto indent = line.substr(0, line.find_first_not_of(" \t"));
      result.push_back(std::string(indent) + it->second->key + "=" +
                       ini_value(it->second->key, it->second->to));
      pending.erase(it);
    }
    if (in_raft && !trim(line).empty()) raft_end = result.size();
  }
  std::vector<std::string> added;
  for (const auto& c : patch)
    if (pending.count(c.key)) added.push_back(c.key + "=" + ini_value(c.key, c.to));
  if (!saw_raft && !added.empty()) {
    if (!result.empty() && !trim(result.back()).empty()) result.emplace_back("");
    result.emplace_back("[raft]");
    raft_end = result.size();
  }
  result.insert(result.begin() + static_cast<std::ptrdiff_t>(raft_end), added.begin(), added.end());
  for (const auto& l : result)
    out.text += l + "\n";
  return out;
}

}  // namespace aegis::control::proposer
