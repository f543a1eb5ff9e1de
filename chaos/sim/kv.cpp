#include "chaos/sim/kv.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <vector>

#include "chaos/sim/digest.hpp"

namespace aegis::chaos::sim {

namespace {

constexpr char sep = '\x1f';  // unit separator: never in keys or values the workload makes

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out(1);
  for (char ch : s) {
    if (ch == sep)
      out.emplace_back();
    else
      out.back().push_back(ch);
  }
  return out;
}

template <class T>
bool to_int(std::string_view s, T& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::string encode(const kv_command& c) {
  std::string out = std::to_string(c.stamp_ms);
  for (const std::string& part :
       {std::to_string(c.op_id), std::to_string(int(c.kind)), c.key, c.value, c.expected}) {
    out.push_back(sep);
    out += part;
  }
  return out;
}

std::optional<kv_command> decode(const std::string& data) {
  // Six fields; parsed in place (this runs for every entry on every replica).
  std::string_view rest(data), f[6];
  for (int i = 0; i < 6; ++i) {
    const size_t cut = i < 5 ? rest.find(sep) : rest.size();
    if (cut == std::string_view::npos) return std::nullopt;
    f[i] = rest.substr(0, cut);
    rest.remove_prefix(std::min(rest.size(), cut + 1));
  }
  if (f[5].find(sep) != std::string_view::npos) return std::nullopt;
  kv_command c;
  int kind = 0;
  if (!to_int(f[0], c.stamp_ms) || !to_int(f[1], c.op_id) || !to_int(f[2], kind) || kind < 0 ||
      kind > 2)
    return std::nullopt;
  c.kind = static_cast<op_kind>(kind);
  c.key = f[3];
  c.value = f[4];
  c.expected = f[5];
  return c;
}

kv_result kv_store::apply(const kv_command& c) {
  last_stamp_ms_ = std::max(last_stamp_ms_, c.stamp_ms);
  kv_result r;
  switch (c.kind) {
    case op_kind::put:
      data_[c.key] = c.value;
      break;
    case op_kind::get:
      r.value = get(c.key);
      break;
    case op_kind::cas:
      r.cas_ok = get(c.key) == c.expected;
      if (r.cas_ok) data_[c.key] = c.value;
      break;
  }
  return r;
}

std::string kv_store::get(const std::string& key) const {
  auto it = data_.find(key);
  return it == data_.end() ? std::string() : it->second;
}

std::string kv_store::serialize() const {
  std::string out = std::to_string(last_stamp_ms_);
  for (const auto& [k, v] : data_) {
    out.push_back(sep);
    out += k;
    out.push_back(sep);
    out += v;
  }
  return out;
}

bool kv_store::restore(const std::string& data) {
  auto parts = split(data);
  if (parts.size() % 2 != 1 || !to_int(parts[0], last_stamp_ms_)) return false;
  data_.clear();
  for (size_t i = 1; i + 1 < parts.size(); i += 2)
    data_[parts[i]] = parts[i + 1];
  return true;
}

uint64_t kv_store::digest() const {
  hasher h;
  for (const auto& [k, v] : data_) {
    h.add(k);
    h.add(v);
  }
  return h.value();
}

}  // namespace aegis::chaos::sim
