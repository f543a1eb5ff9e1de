// Trace writer and reader. The format is documented in chaos/TRACE-FORMAT.md; keep both in step.
#include "chaos/trace.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "chaos/sim/digest.hpp"

namespace aegis::chaos::trace {

namespace {

// ---- field encoding ----------------------------------------------------------------------

// Strings in op lines and series keys: bytes outside '!'..'~' and '%' become %XX, so a field never
// holds a space; in op lines '"' too, since the empty string is written "". Series keys keep their
// '=' and '"' (`name{peer="2"}`): a metric field splits at its last '='.
std::string escape(std::string_view s, bool key = false) {
  if (s.empty()) return "\"\"";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (c < '!' || c > '~' || c == '%' || (c == '"' && !key)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> unescape(std::string_view s) {
  if (s == "\"\"") return std::string();
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += char(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// Shortest text that reads back as the same double ("0.25", "1e-05", "nan", "inf").
std::string number(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::optional<double> parse_double(std::string_view s) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

template <typename Int>
std::optional<Int> parse_int(std::string_view s) {
  Int v{};
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view status_word(op_status s) {
  return s == op_status::ok ? "ok" : s == op_status::fail ? "fail" : "unknown";
}

std::string_view kind_word(op_kind k) {
  return k == op_kind::put ? "put" : k == op_kind::get ? "get" : "cas";
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---- writing -----------------------------------------------------------------------------

std::string op_line(const operation& op) {
  std::string out = "op " + std::to_string(op.id) + " " + std::to_string(op.client) + " " +
                    std::string(kind_word(op.kind)) + " " + std::string(status_word(op.status)) +
                    " " + std::to_string(op.invoke_us) + " " +
                    (op.return_us == never ? std::string("-") : std::to_string(op.return_us));
  out += " " + escape(op.key) + " " + escape(op.value) + " " + escape(op.expected) + " " +
         escape(op.output) + " " + (op.cas_ok ? "1" : "0");
  return out;
}

// The metric lines, delta-encoded per node (see the header comment of trace.hpp).
class metric_encoder {
 public:
  std::string line(const metric_sample& m) {
    std::string out = "metric " + std::to_string(m.at_us) + " " + std::to_string(m.node);
    auto& prev = last_[m.node];
    if (!m.up) {
      prev.reset();
      return out + " up=0";
    }
    out += " up=1";
    for (const auto& [k, v] : m.values) {
      if (prev) {
        auto it = prev->find(k);
        // Compare bit patterns through the text so NaN == NaN and -0 != 0 behave as written.
        if (it != prev->end() && number(it->second) == number(v)) continue;
      }
      out += " " + escape(k, true) + "=" + number(v);
    }
    if (prev) {
      for (const auto& [k, v] : *prev)
        if (!m.values.count(k)) out += " " + escape(k, true) + "=-";
    }
    prev = m.values;
    return out;
  }

 private:
  std::map<uint32_t, std::optional<std::map<std::string, double>>> last_;
};

// Header lines up to and including the script.
void write_header(const trace& t, std::vector<std::string>& lines) {
  lines.push_back("aegis-trace " + std::to_string(t.version));
  lines.push_back("source " + t.source);
  lines.push_back("script-name " + escape(t.script_name));
  lines.push_back("seed " + std::to_string(t.seed));
  lines.push_back("nodes " + std::to_string(t.nodes));
  lines.push_back("started-unix-ms " + std::to_string(t.started_unix_ms));
  lines.push_back("sample-period-us " + std::to_string(t.sample_period_us));
  for (const auto& [k, v] : t.config)
    lines.push_back("config " + k + "=" + v);
  size_t start = 0;
  while (start < t.script_text.size()) {
    size_t end = t.script_text.find('\n', start);
    if (end == std::string::npos) end = t.script_text.size();
    const std::string_view l(t.script_text.data() + start, end - start);
    lines.push_back(l.empty() ? std::string("script") : "script " + std::string(l));
    start = end + 1;
  }
}

// Faults, roles and metrics merged in time order; at equal times faults, then roles, then
// metrics, each in its own order.
void write_events(const trace& t, std::vector<std::string>& lines) {
  struct item {
    int64_t at_us;
    int rank;
    size_t index;
  };
  std::vector<item> items;
  for (size_t i = 0; i < t.faults.size(); ++i)
    items.push_back({t.faults[i].at_us, 0, i});
  for (size_t i = 0; i < t.roles.size(); ++i)
    items.push_back({t.roles[i].at_us, 1, i});
  for (size_t i = 0; i < t.metrics.size(); ++i)
    items.push_back({t.metrics[i].at_us, 2, i});
  std::stable_sort(items.begin(), items.end(), [](const item& a, const item& b) {
    return a.at_us != b.at_us ? a.at_us < b.at_us : a.rank < b.rank;
  });
  metric_encoder enc;
  for (const item& it : items) {
    if (it.rank == 0) {
      const fault_event& f = t.faults[it.index];
      lines.push_back("fault " + std::to_string(f.at_us) + " " + f.text);
    } else if (it.rank == 1) {
      const role_event& r = t.roles[it.index];
      lines.push_back("role " + std::to_string(r.at_us) + " " + std::to_string(r.node) + " " +
                      r.role + " " + std::to_string(r.term));
    } else {
      lines.push_back(enc.line(t.metrics[it.index]));
    }
  }
}

uint64_t digest_of(const std::vector<std::string>& lines) {
  sim::hasher h;
  for (const auto& l : lines)
    h.add(l);
  return h.value();
}

}  // namespace

std::string write_trace(trace& t) {
  std::vector<std::string> lines;
  write_header(t, lines);
  write_events(t, lines);
  for (const operation& op : t.ops)
    lines.push_back(op_line(op));
  for (const auto& [k, v] : t.summary)
    lines.push_back("summary " + k + "=" + v);
  t.digest = hex16(digest_of(lines));
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out + "digest " + t.digest + "\n";
}

// ---- reading -----------------------------------------------------------------------------

namespace {

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

struct bad_line {
  std::string message;
};

// "key=value" split at the last '=' (keys are escaped, so they hold no '=').
std::pair<std::string_view, std::string_view> key_value(std::string_view tok) {
  const size_t eq = tok.rfind('=');
  if (eq == std::string_view::npos || eq == 0)
    throw bad_line{"expected KEY=VALUE, got " + std::string(tok)};
  return {tok.substr(0, eq), tok.substr(eq + 1)};
}

template <typename Int>
Int need_int(std::string_view s, const char* what) {
  auto v = parse_int<Int>(s);
  if (!v) throw bad_line{std::string("expected ") + what + ", got '" + std::string(s) + "'"};
  return *v;
}

std::string need_text(std::string_view s) {
  auto v = unescape(s);
  if (!v) throw bad_line{"bad escape in '" + std::string(s) + "'"};
  return *v;
}

operation parse_op(const std::vector<std::string_view>& f) {
  if (f.size() != 12) throw bad_line{"op: expected 11 fields"};
  operation op;
  op.id = need_int<uint64_t>(f[1], "an op id");
  op.client = need_int<uint32_t>(f[2], "a client id");
  if (f[3] == "put")
    op.kind = op_kind::put;
  else if (f[3] == "get")
    op.kind = op_kind::get;
  else if (f[3] == "cas")
    op.kind = op_kind::cas;
  else
    throw bad_line{"op: unknown kind '" + std::string(f[3]) + "'"};
  if (f[4] == "ok")
    op.status = op_status::ok;
  else if (f[4] == "fail")
    op.status = op_status::fail;
  else if (f[4] == "unknown")
    op.status = op_status::unknown;
  else
    throw bad_line{"op: unknown status '" + std::string(f[4]) + "'"};
  op.invoke_us = need_int<int64_t>(f[5], "an invoke time");
  op.return_us = f[6] == "-" ? never : need_int<int64_t>(f[6], "a return time");
  op.key = need_text(f[7]);
  op.value = need_text(f[8]);
  op.expected = need_text(f[9]);
  op.output = need_text(f[10]);
  op.cas_ok = f[11] == "1";
  return op;
}

// Decodes one metric line against the node's running state.
class metric_decoder {
 public:
  metric_sample decode(const std::vector<std::string_view>& f) {
    if (f.size() < 4) throw bad_line{"metric: expected time, node and up=0|1"};
    metric_sample m;
    m.at_us = need_int<int64_t>(f[1], "a time");
    m.node = need_int<uint32_t>(f[2], "a node id");
    if (f[3] != "up=1" && f[3] != "up=0") throw bad_line{"metric: expected up=0 or up=1"};
    m.up = f[3] == "up=1";
    auto& cur = state_[m.node];
    if (!m.up) {
      if (f.size() != 4) throw bad_line{"metric: a failed scrape has no values"};
      cur.clear();
      return m;
    }
    for (size_t i = 4; i < f.size(); ++i) {
      auto [k, v] = key_value(f[i]);
      std::string key = need_text(k);
      if (v == "-") {
        cur.erase(key);
        continue;
      }
      auto d = parse_double(v);
      if (!d) throw bad_line{"metric: bad value '" + std::string(v) + "'"};
      cur[std::move(key)] = *d;
    }
    m.values = cur;
    return m;
  }

 private:
  std::map<uint32_t, std::map<std::string, double>> state_;
};

class reader {
 public:
  explicit reader(trace& t) : t_(t) {}
  void line(std::string_view l);

 private:
  void header(std::string_view word, const std::vector<std::string_view>& f, std::string_view l);
  trace& t_;
  metric_decoder metrics_;
};

void reader::header(std::string_view w, const std::vector<std::string_view>& f,
                    std::string_view l) {
  if (f.size() != 2) throw bad_line{std::string(w) + ": expected one value"};
  if (w == "source")
    t_.source = std::string(f[1]);
  else if (w == "script-name")
    t_.script_name = need_text(f[1]);
  else if (w == "seed")
    t_.seed = need_int<uint64_t>(f[1], "a seed");
  else if (w == "nodes")
    t_.nodes = need_int<uint32_t>(f[1], "a node count");
  else if (w == "started-unix-ms")
    t_.started_unix_ms = need_int<int64_t>(f[1], "a time");
  else if (w == "sample-period-us")
    t_.sample_period_us = need_int<int64_t>(f[1], "a period");
  else if (w == "summary" || w == "config") {
    auto [k, v] = key_value(l.substr(w.size() + 1));
    (w == "config" ? t_.config : t_.summary).emplace_back(std::string(k), std::string(v));
  } else
    throw bad_line{"unknown line kind '" + std::string(w) + "'"};
}

void reader::line(std::string_view l) {
  if (l == "script" || l.substr(0, 7) == "script ") {
    t_.script_text += std::string(l.size() > 7 ? l.substr(7) : std::string_view()) + "\n";
    return;
  }
  const auto f = split(l);
  const std::string_view w = f.empty() ? std::string_view() : f[0];
  if (w == "fault") {
    if (f.size() < 3) throw bad_line{"fault: expected a time and the fault"};
    const size_t text_at = l.find(' ', 6) + 1;
    t_.faults.push_back({need_int<int64_t>(f[1], "a time"), std::string(l.substr(text_at))});
  } else if (w == "role") {
    if (f.size() != 5) throw bad_line{"role: expected time, node, role and term"};
    t_.roles.push_back({need_int<int64_t>(f[1], "a time"), need_int<uint32_t>(f[2], "a node id"),
                        std::string(f[3]), need_int<uint64_t>(f[4], "a term")});
  } else if (w == "metric") {
    t_.metrics.push_back(metrics_.decode(f));
  } else if (w == "op") {
    t_.ops.push_back(parse_op(f));
  } else if (w == "summary" || w == "config") {
    header(w, {w, l}, l);
  } else {
    header(w, f, l);
  }
}

}  // namespace

std::string read_error::to_string() const {
  return file + ":" + std::to_string(line) + ": " + message;
}

std::variant<trace, read_error> read_trace(std::string_view text, std::string_view file_name) {
  trace t;
  const std::string file(file_name);
  sim::hasher h;
  reader r(t);
  uint32_t line_no = 0;
  size_t start = 0;
  bool have_digest = false;
  try {
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      const std::string_view l = text.substr(start, end - start);
      start = end + 1;
      ++line_no;
      if (have_digest) return read_error{file, line_no, "text after the digest line"};
      if (line_no == 1) {
        if (l.substr(0, 12) != "aegis-trace ") return read_error{file, 1, "not an aegis trace"};
        auto v = parse_int<uint32_t>(l.substr(12));
        if (!v || *v != kFormatVersion)
          return read_error{file, 1,
                            "unsupported trace version '" + std::string(l.substr(12)) +
                                "' (this build reads version " + std::to_string(kFormatVersion) +
                                ")"};
        t.version = *v;
        h.add(l);
        continue;
      }
      if (l.substr(0, 7) == "digest ") {
        t.digest = std::string(l.substr(7));
        have_digest = true;
        continue;
      }
      h.add(l);
      r.line(l);
    }
  } catch (const bad_line& e) {
    return read_error{file, line_no, e.message};
  } catch (const std::exception& e) {
    return read_error{file, line_no, std::string("cannot read: ") + e.what()};
  }
  if (line_no == 0) return read_error{file, 0, "empty file"};
  if (!have_digest) return read_error{file, line_no, "no digest line: the trace is truncated"};
  if (t.digest != hex16(h.value()))
    return read_error{file, line_no,
                      "digest mismatch: the file says " + t.digest + ", its lines hash to " +
                          hex16(h.value()) + " (edited or damaged)"};
  return t;
}

std::variant<trace, read_error> load_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return read_error{path, 0, "cannot open file"};
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return read_error{path, 0, "cannot read file"};
  return read_trace(text, path);
}

std::string save_text(const std::string& path, const std::string& text) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return "cannot create " + parent.string() + ": " + ec.message();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return "cannot open " + path + " for writing";
  out << text;
  out.flush();
  if (!out) return "cannot write " + path;
  return "";
}

std::variant<script, parse_error> script_of(const trace& t) {
  return parse_script(t.script_text, t.script_name);
}

// ---- Prometheus exposition ---------------------------------------------------------------

namespace {

// Removes node="..." from a label body `a="x",node="1",b="y"`; label values are scanned with
// their quotes and backslash escapes so a ',' inside a value does not split it.
std::string drop_node_label(std::string_view body) {
  std::string out;
  size_t i = 0;
  while (i < body.size()) {
    size_t j = i;
    bool quoted = false;
    for (; j < body.size(); ++j) {
      if (body[j] == '\\' && quoted) {
        ++j;
      } else if (body[j] == '"') {
        quoted = !quoted;
      } else if (body[j] == ',' && !quoted) {
        break;
      }
    }
    const std::string_view label = body.substr(i, j - i);
    if (!label.empty() && label.substr(0, 5) != "node=") {
      if (!out.empty()) out += ',';
      out += label;
    }
    i = j + 1;
  }
  return out;
}

bool wanted(std::string_view name) {
  const bool ours = name.substr(0, 6) == "aegis_" || name.substr(0, 8) == "process_";
  const bool bucket = name.size() >= 7 && name.substr(name.size() - 7) == "_bucket";
  return ours && !bucket;
}

}  // namespace

std::map<std::string, double> series_from_exposition(std::string_view text) {
  std::map<std::string, double> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(start, end - start);
    start = end + 1;
    if (l.empty() || l[0] == '#') continue;
    size_t name_end = l.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    const std::string_view name = l.substr(0, name_end);
    if (!wanted(name)) continue;
    std::string key(name);
    size_t rest = name_end;
    if (l[name_end] == '{') {
      const size_t close = l.rfind('}');
      if (close == std::string_view::npos || close < name_end) continue;
      const std::string labels = drop_node_label(l.substr(name_end + 1, close - name_end - 1));
      if (!labels.empty()) key += "{" + labels + "}";
      rest = close + 1;
    }
    const auto fields = split(l.substr(std::min(rest + 1, l.size())));
    if (fields.empty()) continue;
    std::string_view v = fields[0];
    std::optional<double> d = v == "+Inf"   ? std::optional<double>(HUGE_VAL)
                              : v == "-Inf" ? std::optional<double>(-HUGE_VAL)
                              : v == "NaN"  ? std::optional<double>(std::nan(""))
                                            : parse_double(v);
    if (d) out[std::move(key)] = *d;
  }
  return out;
}

}  // namespace aegis::chaos::trace
