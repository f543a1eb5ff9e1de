// Parser and formatter for chaos scripts (see script.hpp and chaos/scripts/README.md).
//
// Shape of the parser: the text is split into lines, each line into tokens (words, plus ',' and
// '|' as separators), and each line is one directive. A grammar failure is thrown as `failure`
// and caught in parse_script, which is the only place that turns it into a parse_error; nothing
// else escapes, so the public functions never throw.
#include "chaos/script.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <system_error>
#include <utility>

namespace aegis::chaos {
namespace {

// Longest duration the language accepts (1,000,000 s, about 11.6 days). The cap keeps at + for
// and whatever sums a runner does far away from int64 overflow.
constexpr int64_t kMaxDurationUs = 1'000'000'000'000;
constexpr uint32_t kMaxNodes = 9;
constexpr uint32_t kMaxClients = 1000;
constexpr uint32_t kMaxKeys = 1'000'000;
constexpr uint32_t kMaxLeases = 10'000;
constexpr uint32_t kMaxMixWeight = 1000;
constexpr double kMaxRatePerS = 1'000'000;

// A grammar failure, thrown from wherever it is found and caught only in parse_script: it lets
// every grammar function read as a straight sequence of "expect this, then that".
struct failure {
  source_pos pos;
  std::string message;
};

[[noreturn]] void fail(source_pos pos, std::string message) {
  throw failure{pos, std::move(message)};
}

// A word, or one of the separators ',' and '|', and where it starts.
struct token {
  std::string_view text;
  source_pos pos;
};

// The position `bytes` into a token: errors inside "1ms..5ms" or "1->2" point at the bad part.
source_pos shifted(source_pos p, size_t bytes) {
  return {p.line, p.column + static_cast<uint32_t>(bytes)};
}

// Quotes a token for a message. Fuzzed or binary input must not make a message unreadable, so
// only printable ASCII is kept verbatim and long tokens are cut.
std::string quote(std::string_view text) {
  constexpr size_t kMaxShown = 32;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

std::string str(std::string_view s) {
  return std::string(s);
}

// "got 'x'" for messages; an empty part of "1->" or "1ms.." reads "got nothing".
std::string got(std::string_view text) {
  return ", got " + (text.empty() ? "nothing" : quote(text));
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}
bool is_separator(char c) {
  return c == ',' || c == '|';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

// Splits one line into tokens; '#' starts a comment anywhere, even inside a word.
std::vector<token> lex_line(std::string_view line, uint32_t line_no) {
  std::vector<token> out;
  size_t i = 0;
  while (i < line.size() && line[i] != '#') {
    if (is_space(line[i])) {
      ++i;
      continue;
    }
    size_t start = i++;
    if (!is_separator(line[start])) {
      while (i < line.size() && !is_space(line[i]) && !is_separator(line[i]) && line[i] != '#')
        ++i;
    }
    out.push_back({line.substr(start, i - start), {line_no, static_cast<uint32_t>(start + 1)}});
  }
  return out;
}

// Walks the tokens of one line. A missing token is reported just past the last one taken: that
// is where the author has to type it.
class cursor {
 public:
  explicit cursor(std::vector<token> tokens) : toks_(std::move(tokens)) {}

  bool at_end() const { return next_ == toks_.size(); }
  const token* peek() const { return at_end() ? nullptr : &toks_[next_]; }

  token take(std::string_view what) {
    if (at_end()) fail(end_pos(), "expected " + str(what));
    return toks_[next_++];
  }

  // The next token, where the caller has already seen one is left (via at_end or peek).
  token next() { return take("more on this line"); }

  bool accept(std::string_view word) {
    if (at_end() || toks_[next_].text != word) return false;
    ++next_;
    return true;
  }

  void expect_end(const token& directive) const {
    if (at_end()) return;
    fail(toks_[next_].pos, "trailing " + quote(toks_[next_].text) + " after " +
                               quote(directive.text) + " (one directive per line)");
  }

  source_pos end_pos() const {
    if (next_ == 0) return toks_.empty() ? source_pos{1, 1} : toks_[0].pos;
    const token& last = toks_[next_ - 1];
    return shifted(last.pos, last.text.size());
  }

 private:
  std::vector<token> toks_;
  size_t next_ = 0;
};

// ---- values ------------------------------------------------------------------------------

uint64_t parse_uint(const token& t, std::string_view what) {
  if (!all_digits(t.text)) fail(t.pos, "expected " + str(what) + got(t.text));
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc()) fail(t.pos, quote(t.text) + " is too large for " + str(what));
  return v;
}

// An integer in [lo, hi], e.g. "nodes 5" or "put=40". `noun` names it ("node count").
uint32_t parse_count(const token& t, std::string_view noun, uint32_t lo, uint32_t hi) {
  uint64_t v = parse_uint(t, "a " + str(noun));
  if (v < lo || v > hi) {
    fail(t.pos,
         str(noun) + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) + got(t.text));
  }
  return static_cast<uint32_t>(v);
}

// A non-negative decimal: digits, optionally '.' and more digits. Stricter than from_chars
// alone (no sign, exponent, inf or nan), so what a script says is what it means.
std::optional<double> decimal(std::string_view s) {
  size_t dot = s.find('.');
  if (!all_digits(s.substr(0, dot))) return std::nullopt;
  if (dot != std::string_view::npos && !all_digits(s.substr(dot + 1))) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

double parse_percent(const token& t) {
  std::string_view s = t.text;
  std::optional<double> v;
  if (s.size() >= 2 && s.back() == '%') v = decimal(s.substr(0, s.size() - 1));
  if (!v) fail(t.pos, "expected a percentage like 10% or 0.5%" + got(s));
  if (*v > 100) fail(t.pos, "percentage " + quote(s) + " is above 100%");
  return *v;
}

double parse_rate(const token& t) {
  std::string_view s = t.text;
  std::optional<double> v;
  if (s.size() >= 3 && s.substr(s.size() - 2) == "/s") v = decimal(s.substr(0, s.size() - 2));
  if (!v) fail(t.pos, "expected a rate like 200/s" + got(s));
  if (*v <= 0 || *v > kMaxRatePerS) fail(t.pos, "rate " + quote(s) + " must be in (0, 1000000]/s");
  return *v;
}

struct unit {
  std::string_view suffix;
  int64_t us;
};
// Matched as suffixes in this order, so "ms" and "us" win over "s".
constexpr std::array<unit, 4> kUnits{
    {{"us", 1}, {"ms", 1000}, {"s", 1'000'000}, {"m", 60'000'000}}};

const unit* find_unit(std::string_view s) {
  for (const unit& u : kUnits) {
    if (s.size() > u.suffix.size() && s.substr(s.size() - u.suffix.size()) == u.suffix) return &u;
  }
  return nullptr;
}

// The fraction ".25" of a value in unit `u`, in microseconds. Done in integers so that 0.1s is
// exactly 100000us; a value finer than a microsecond is an error rather than a silent rounding.
int64_t fraction_us(std::string_view frac, const unit& u, const token& t) {
  while (!frac.empty() && frac.back() == '0')
    frac.remove_suffix(1);
  if (frac.empty()) return 0;
  // With its trailing zeros gone, a fraction of more than 10 digits cannot be a whole number of
  // microseconds in any unit (the largest, 60'000'000, has fewer than 10 factors of 2 or 5).
  if (frac.size() > 10) fail(t.pos, quote(t.text) + " is not a whole number of microseconds");
  uint64_t f = 0;
  std::from_chars(frac.data(), frac.data() + frac.size(), f);
  uint64_t scale = 1;
  for (size_t i = 0; i < frac.size(); ++i)
    scale *= 10;
  uint64_t num = f * static_cast<uint64_t>(u.us);  // < 1e10 * 6e7: fits
  if (num % scale != 0) fail(t.pos, quote(t.text) + " is not a whole number of microseconds");
  return static_cast<int64_t>(num / scale);
}

// "500us", "150ms", "1.5s", "2m"; with `allow_sign`, also "+500ms" and "-300ms". The text is
// passed apart from the token so that the halves of "1ms..5ms" can be parsed in place.
int64_t parse_duration(std::string_view text, source_pos pos, bool allow_sign) {
  const token t{text, pos};
  std::string_view s = text;
  bool negative = false;
  if (allow_sign && !s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  const unit* u = find_unit(s);
  if (u) s.remove_suffix(u->suffix.size());
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
  if (!u || !all_digits(whole) || (dot != std::string_view::npos && !all_digits(frac))) {
    fail(pos, "expected a duration like 500us, 150ms, 1.5s or 2m" + got(text));
  }
  uint64_t w = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
  const std::string too_large = "duration " + quote(text) + " is too large (max 1000000s)";
  if (ec != std::errc() || w > static_cast<uint64_t>(kMaxDurationUs / u->us)) fail(pos, too_large);
  int64_t total = static_cast<int64_t>(w) * u->us + fraction_us(frac, *u, t);
  if (total > kMaxDurationUs) fail(pos, too_large);
  return negative ? -total : total;
}

// ---- formatting helpers (also used in messages) ------------------------------------------

// The largest unit that represents `us` exactly, so a formatted script stays readable.
std::string format_duration(int64_t us, bool with_sign) {
  std::string out;
  if (us < 0) {
    out = "-";
  } else if (with_sign) {
    out = "+";
  }
  uint64_t mag = us < 0 ? 0 - static_cast<uint64_t>(us) : static_cast<uint64_t>(us);
  if (mag == 0) return out + "0s";
  for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
    auto per = static_cast<uint64_t>(it->us);
    if (mag % per == 0) return out + std::to_string(mag / per) + str(it->suffix);
  }
  return out;  // unreachable: every value is a whole number of microseconds
}

// Shortest fixed-point text that reads back as the same double (no exponent: the grammar has
// none).
std::string format_decimal(double v) {
  std::array<char, 512> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  return std::string(buf.data(), end);
}

std::string format_node(const node_ref& n) {
  switch (n.k) {
    case node_ref::kind::leader:
      return "leader";
    case node_ref::kind::follower:
      return "follower";
    case node_ref::kind::all:
      return "all";
    case node_ref::kind::id:
      break;
  }
  return std::to_string(n.id);
}

// ---- fault and directive tables ---------------------------------------------------------

// What a fault accepts as its target besides a plain node id.
struct target_rules {
  bool leader = true;
  bool follower = true;
  bool all = false;
};

class parser;
using fault_args = void (parser::*)(cursor&, const token& kw, fault&);
using directive_fn = void (parser::*)(cursor&, const token& kw);

// One fault keyword: its spelling, its kind, whether it accepts `for`, and its argument grammar.
struct fault_spec {
  std::string_view word;
  fault_kind kind;
  bool allows_for;
  fault_args args;
};

// A fault table row, spelled by keyword() so the parser and the formatter cannot disagree.
fault_spec fault_row(fault_kind k, bool allows_for, fault_args args) {
  return {keyword(k), k, allows_for, args};
}

// One top-level keyword; `once` directives may appear at most once per file.
struct directive_spec {
  std::string_view word;
  bool once;
  directive_fn fn;
};

// ---- the parser --------------------------------------------------------------------------

// Builds a script line by line. Checks that need the whole file (ids against `nodes`, times
// against `duration`) are queued with their positions and run in file order by finish().
class parser {
 public:
  explicit parser(std::string_view name) { s_.name = str(name); }

  void line(std::vector<token> toks);
  script finish();

 private:
  // A check that waits for the end of the file.
  struct deferred {
    enum class what : uint8_t { node_id, fault_time } w;
    uint64_t value;
    std::string_view text;  // the token, for the message
    source_pos pos;
  };

  static const std::array<directive_spec, 8> kDirectives;
  static const std::array<fault_spec, 15> kFaults;

  void note_once(const token& kw);
  void nodes(cursor& c, const token& kw);
  void seed(cursor& c, const token& kw);
  void duration(cursor& c, const token& kw);
  void set(cursor& c, const token& kw);
  void network(cursor& c, const token& kw);
  void fsync(cursor& c, const token& kw);
  void load(cursor& c, const token& kw);
  void at(cursor& c, const token& kw);
  void mix(cursor& c, const token& kw, load_spec& l);

  void args_target_any(cursor& c, const token& kw, fault& f);
  void args_target(cursor& c, const token& kw, fault& f);
  void args_transfer(cursor& c, const token& kw, fault& f);
  void args_partition(cursor& c, const token& kw, fault& f);
  void args_percent(cursor& c, const token& kw, fault& f);
  void args_delay(cursor& c, const token& kw, fault& f);
  void args_slow_fsync(cursor& c, const token& kw, fault& f);
  void args_skew(cursor& c, const token& kw, fault& f);
  void args_none(cursor& c, const token& kw, fault& f);
  void args_member(cursor& c, const token& kw, fault& f);

  node_ref parse_node(const token& t, target_rules rules, std::string_view fault_word);
  uint32_t parse_id(const token& t);
  link_ref parse_link(const token& t);
  void parse_range(const token& t);

  script s_;
  bool have_duration_ = false;
  std::vector<deferred> deferred_;
  std::map<std::string_view, uint32_t> first_line_;  // once-directives seen, and their line
  std::map<std::string_view, uint32_t> set_keys_;    // `set` keys seen, and their line
};

const std::array<directive_spec, 8> parser::kDirectives{{
    {"nodes", true, &parser::nodes},
    {"seed", true, &parser::seed},
    {"duration", true, &parser::duration},
    {"set", false, &parser::set},
    {"network", true, &parser::network},
    {"fsync", true, &parser::fsync},
    {"load", true, &parser::load},
    {"at", false, &parser::at},
}};

const std::array<fault_spec, 15> parser::kFaults{{
    fault_row(fault_kind::kill, true, &parser::args_target_any),
    fault_row(fault_kind::restart, true, &parser::args_target_any),
    fault_row(fault_kind::partition, true, &parser::args_partition),
    fault_row(fault_kind::isolate, true, &parser::args_target),
    fault_row(fault_kind::drop, true, &parser::args_percent),
    fault_row(fault_kind::delay, true, &parser::args_delay),
    fault_row(fault_kind::duplicate, true, &parser::args_percent),
    fault_row(fault_kind::slow_fsync, true, &parser::args_slow_fsync),
    fault_row(fault_kind::skew, true, &parser::args_skew),
    fault_row(fault_kind::transfer_leader, false, &parser::args_transfer),
    fault_row(fault_kind::heal, false, &parser::args_none),
    fault_row(fault_kind::remove_node, false, &parser::args_member),
    fault_row(fault_kind::add_node, false, &parser::args_member),
    fault_row(fault_kind::pause, true, &parser::args_target),
    fault_row(fault_kind::resume, false, &parser::args_target),
}};

// "a, b or c" from a keyword table, for "unknown keyword" messages.
template <typename Table>
std::string word_list(const Table& table) {
  std::string out;
  for (size_t i = 0; i < table.size(); ++i) {
    if (i > 0) out += i + 1 == table.size() ? " or " : ", ";
    out += table[i].word;
  }
  return out;
}

void parser::line(std::vector<token> toks) {
  cursor c(std::move(toks));
  const token kw = c.take("a keyword");
  for (const directive_spec& d : kDirectives) {
    if (kw.text != d.word) continue;
    if (d.once) note_once(kw);
    (this->*d.fn)(c, kw);
    return;
  }
  fail(kw.pos, "unknown keyword " + quote(kw.text) + " (expected " + word_list(kDirectives) + ")");
}

void parser::note_once(const token& kw) {
  auto [it, fresh] = first_line_.emplace(kw.text, kw.pos.line);
  if (!fresh) {
    fail(kw.pos,
         quote(kw.text) + " given twice (first on line " + std::to_string(it->second) + ")");
  }
}

script parser::finish() {
  if (!have_duration_)
    fail({1, 1}, "missing 'duration' (every script needs one, e.g. duration 30s)");
  for (const deferred& d : deferred_) {
    if (d.w == deferred::what::node_id && (d.value < 1 || d.value > s_.nodes)) {
      fail(d.pos, "node " + quote(d.text) + " is outside 1.." + std::to_string(s_.nodes) +
                      " (the script has nodes " + std::to_string(s_.nodes) + ")");
    }
    if (d.w == deferred::what::fault_time && d.value > static_cast<uint64_t>(s_.duration_us)) {
      fail(d.pos, "fault time " + quote(d.text) + " is beyond the duration " +
                      format_duration(s_.duration_us, false));
    }
  }
  std::stable_sort(s_.faults.begin(), s_.faults.end(),
                   [](const fault& a, const fault& b) { return a.at_us < b.at_us; });
  return std::move(s_);
}

// ---- header directives -------------------------------------------------------------------

void parser::nodes(cursor& c, const token& kw) {
  s_.nodes = parse_count(c.take("a node count after 'nodes'"), "node count", 1, kMaxNodes);
  c.expect_end(kw);
}

void parser::seed(cursor& c, const token& kw) {
  s_.seed = parse_uint(c.take("a seed after 'seed'"), "a non-negative integer seed");
  c.expect_end(kw);
}

void parser::duration(cursor& c, const token& kw) {
  token t = c.take("a duration like 30s after 'duration'");
  s_.duration_us = parse_duration(t.text, t.pos, false);
  if (s_.duration_us == 0) fail(t.pos, "duration must be > 0");
  have_duration_ = true;
  c.expect_end(kw);
}

void parser::fsync(cursor& c, const token& kw) {
  token t = c.take("a latency like 2ms after 'fsync'");
  s_.fsync_us = parse_duration(t.text, t.pos, false);
  c.expect_end(kw);
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '.';
}

// `set KEY=VALUE...`: kept raw, since only the runner knows the config schema; a key given twice
// is refused here because "the last one wins" would hide a typo.
void parser::set(cursor& c, const token&) {
  if (c.at_end()) fail(c.end_pos(), "expected KEY=VALUE after 'set'");
  while (!c.at_end()) {
    const token t = c.take("KEY=VALUE");
    size_t eq = t.text.find('=');
    std::string_view key = t.text.substr(0, eq);
    if (eq == std::string_view::npos || key.empty() || eq + 1 == t.text.size() ||
        !std::all_of(key.begin(), key.end(), is_key_char)) {
      fail(t.pos, "expected KEY=VALUE (lower-case key, non-empty value)" + got(t.text));
    }
    auto [it, fresh] = set_keys_.emplace(key, t.pos.line);
    if (!fresh) {
      fail(t.pos, "setting " + quote(key) + " given twice (first on line " +
                      std::to_string(it->second) + ")");
    }
    s_.settings.push_back({str(key), str(t.text.substr(eq + 1)), t.pos});
  }
}

// Marks a clause of a multi-clause line (network, load) as seen; a repeated clause is an error.
void once(bool& seen, const token& t) {
  if (seen) fail(t.pos, quote(t.text) + " given twice on this line");
  seen = true;
}

void parser::parse_range(const token& t) {
  size_t dots = t.text.find("..");
  int64_t lo = parse_duration(t.text.substr(0, dots), t.pos, false);
  int64_t hi = lo;  // a single value means a fixed latency
  if (dots != std::string_view::npos) {
    hi = parse_duration(t.text.substr(dots + 2), shifted(t.pos, dots + 2), false);
  }
  if (lo > hi) fail(t.pos, "latency range " + quote(t.text) + " has its min above its max");
  s_.network.latency_min_us = lo;
  s_.network.latency_max_us = hi;
}

// `network [latency LO..HI] [drop P%] [duplicate P%]`, clauses in any order, at least one.
void parser::network(cursor& c, const token&) {
  if (c.at_end()) fail(c.end_pos(), "expected latency, drop or duplicate after 'network'");
  bool latency = false, drop = false, duplicate = false;
  while (!c.at_end()) {
    const token t = c.next();
    if (t.text == "latency") {
      once(latency, t);
      parse_range(c.take("a latency range like 1ms..5ms"));
    } else if (t.text == "drop") {
      once(drop, t);
      s_.network.drop_percent = parse_percent(c.take("a percentage after 'drop'"));
    } else if (t.text == "duplicate") {
      once(duplicate, t);
      s_.network.duplicate_percent = parse_percent(c.take("a percentage after 'duplicate'"));
    } else {
      fail(t.pos,
           "unknown network setting " + quote(t.text) + " (expected latency, drop or duplicate)");
    }
  }
}

// `mix put=N get=N cas=N`: any subset in any order. Listing a mix replaces the default one, so
// an unlisted kind gets weight 0 ("mix put=100" is a write-only load).
void parser::mix(cursor& c, const token& kw, load_spec& l) {
  l.mix_put = l.mix_get = l.mix_cas = 0;
  bool put = false, get = false, cas = false;
  size_t listed = 0;
  while (c.peek() && c.peek()->text.find('=') != std::string_view::npos) {
    const token t = c.next();
    size_t eq = t.text.find('=');
    std::string_view name = t.text.substr(0, eq);
    const token value{t.text.substr(eq + 1), shifted(t.pos, eq + 1)};
    auto [slot, seen] = name == "put"   ? std::pair{&l.mix_put, &put}
                        : name == "get" ? std::pair{&l.mix_get, &get}
                        : name == "cas" ? std::pair{&l.mix_cas, &cas}
                                        : std::pair<uint32_t*, bool*>{nullptr, nullptr};
    if (!slot)
      fail(t.pos, "unknown operation " + quote(name) + " in mix (expected put, get or cas)");
    if (*seen) fail(t.pos, quote(name) + " given twice in mix");
    *seen = true;
    *slot = parse_count(value, "mix weight", 0, kMaxMixWeight);
    ++listed;
  }
  if (listed == 0) {
    const token* p = c.peek();
    fail(p ? p->pos : c.end_pos(), "expected put=N, get=N or cas=N after 'mix'");
  }
  if (uint64_t{l.mix_put} + l.mix_get + l.mix_cas == 0) {
    fail(kw.pos, "mix weights sum to 0: give put, get or cas a positive weight");
  }
}

// `load [clients N] [rate R/s] [keys N] [mix ...] [timeout D]`, clauses in any order; omitted
// ones keep load_spec's defaults, so a bare `load` is the default load.
void parser::load(cursor& c, const token&) {
  load_spec l;
  bool clients = false, rate = false, keys = false, has_mix = false, timeout = false;
  bool leases = false, lease_ttl = false;
  while (!c.at_end()) {
    const token t = c.next();
    if (t.text == "clients") {
      once(clients, t);
      l.clients = parse_count(c.take("a client count"), "client count", 1, kMaxClients);
    } else if (t.text == "rate") {
      once(rate, t);
      l.rate_per_s = parse_rate(c.take("a rate like 200/s after 'rate'"));
    } else if (t.text == "keys") {
      once(keys, t);
      l.keys = parse_count(c.take("a key count"), "key count", 1, kMaxKeys);
    } else if (t.text == "mix") {
      once(has_mix, t);
      mix(c, t, l);
    } else if (t.text == "timeout") {
      once(timeout, t);
      const token d = c.take("a duration after 'timeout'");
      l.timeout_us = parse_duration(d.text, d.pos, false);
      if (l.timeout_us == 0) fail(d.pos, "timeout must be > 0");
    } else if (t.text == "leases") {
      once(leases, t);
      l.leases = parse_count(c.take("a lease count"), "lease count", 0, kMaxLeases);
    } else if (t.text == "lease-ttl") {
      once(lease_ttl, t);
      const token d = c.take("a duration after 'lease-ttl'");
      l.lease_ttl_us = parse_duration(d.text, d.pos, false);
      if (l.lease_ttl_us % 1'000'000 != 0 || l.lease_ttl_us < 1'000'000 ||
          l.lease_ttl_us > 3'600'000'000)
        fail(d.pos, "lease-ttl must be whole seconds from 1s to 3600s");
    } else {
      fail(t.pos, "unknown load setting " + quote(t.text) +
                      " (expected clients, rate, keys, mix, timeout, leases or lease-ttl)");
    }
  }
  s_.load = l;
}

// ---- faults ------------------------------------------------------------------------------

// `at T [for D] FAULT ARGS`.
void parser::at(cursor& c, const token& kw) {
  fault f;
  f.pos = kw.pos;
  const token t = c.take("a time like 2s after 'at'");
  f.at_us = parse_duration(t.text, t.pos, false);
  deferred_.push_back({deferred::what::fault_time, static_cast<uint64_t>(f.at_us), t.text, t.pos});
  std::optional<token> for_kw;
  if (c.peek() && c.peek()->text == "for") {
    for_kw = c.next();
    const token d = c.take("a duration after 'for'");
    f.for_us = parse_duration(d.text, d.pos, false);
    if (*f.for_us == 0) fail(d.pos, "'for' needs a duration > 0");
  }
  const token what = c.take("a fault (" + word_list(kFaults) + ")");
  auto spec = std::find_if(kFaults.begin(), kFaults.end(),
                           [&](const fault_spec& s) { return s.word == what.text; });
  if (spec == kFaults.end()) {
    fail(what.pos, "unknown fault " + quote(what.text) + " (expected " + word_list(kFaults) + ")");
  }
  if (for_kw && !spec->allows_for) {
    fail(for_kw->pos, "'for' is not allowed with " + quote(spec->word));
  }
  f.kind = spec->kind;
  (this->*spec->args)(c, what, f);
  c.expect_end(what);
  s_.faults.push_back(std::move(f));
}

// A plain node id. Its range depends on `nodes`, which may come later, so it is checked at the
// end of the file; only an id too large to store is refused at once.
uint32_t parser::parse_id(const token& t) {
  uint64_t v = parse_uint(t, "a node id");
  if (v > std::numeric_limits<uint32_t>::max())
    fail(t.pos, quote(t.text) + " is too large for a node id");
  deferred_.push_back({deferred::what::node_id, v, t.text, t.pos});
  return static_cast<uint32_t>(v);
}

node_ref parser::parse_node(const token& t, target_rules rules, std::string_view fault_word) {
  node_ref n;
  n.pos = t.pos;
  if (t.text == "leader" || t.text == "follower" || t.text == "all") {
    n.k = t.text == "leader"     ? node_ref::kind::leader
          : t.text == "follower" ? node_ref::kind::follower
                                 : node_ref::kind::all;
    bool ok = n.k == node_ref::kind::leader     ? rules.leader
              : n.k == node_ref::kind::follower ? rules.follower
                                                : rules.all;
    if (!ok && n.k == node_ref::kind::all)
      fail(t.pos, "'all' is only allowed for kill and restart");
    if (!ok) fail(t.pos, str(fault_word) + " cannot target " + quote(t.text));
    return n;
  }
  if (!all_digits(t.text)) {
    std::string expected = "a node id";
    if (rules.leader) expected += ", leader";
    if (rules.follower) expected += rules.all ? ", follower" : " or follower";
    if (rules.all) expected += " or all";
    fail(t.pos, "expected " + expected + got(t.text));
  }
  n.id = parse_id(t);
  return n;
}

// `FROM->TO` in one token, each end an id, leader or follower.
link_ref parser::parse_link(const token& t) {
  size_t arrow = t.text.find("->");
  if (arrow == std::string_view::npos) fail(t.pos, "expected a link like 1->2" + got(t.text));
  const token from{t.text.substr(0, arrow), t.pos};
  const token to{t.text.substr(arrow + 2), shifted(t.pos, arrow + 2)};
  link_ref l{parse_node(from, {}, "a link"), parse_node(to, {}, "a link")};
  // Two followers may be different nodes; two leaders or two equal ids never are.
  if (l.from.k == l.to.k && l.from.k != node_ref::kind::follower && l.from.id == l.to.id) {
    fail(t.pos, "a link joins two different nodes" + got(t.text));
  }
  return l;
}

void parser::args_target_any(cursor& c, const token& kw, fault& f) {
  const token t = c.take("a node id, leader, follower or all after " + quote(kw.text));
  f.target = parse_node(t, {.all = true}, quote(kw.text));
}

void parser::args_target(cursor& c, const token& kw, fault& f) {
  const token t = c.take("a node id, leader or follower after " + quote(kw.text));
  f.target = parse_node(t, {}, quote(kw.text));
}

// The leader cannot hand leadership to itself, so only an id or `follower` makes sense.
// Membership changes name a fixed node, except that an operator may remove the current leader;
// `follower` would make a script's meaning depend on timing in a way nobody intends.
void parser::args_member(cursor& c, const token& kw, fault& f) {
  const bool remove = f.kind == fault_kind::remove_node;
  const token t =
      c.take((remove ? "a node id or leader after " : "a node id after ") + quote(kw.text));
  f.target = parse_node(t, {.leader = remove, .follower = false}, quote(kw.text));
}

void parser::args_transfer(cursor& c, const token& kw, fault& f) {
  const token t = c.take("a node id or follower after " + quote(kw.text));
  f.target = parse_node(t, {.leader = false}, quote(kw.text));
}

void parser::args_slow_fsync(cursor& c, const token& kw, fault& f) {
  args_target(c, kw, f);
  const token t = c.take("an fsync latency like 200ms");
  f.amount_us = parse_duration(t.text, t.pos, false);
}

void parser::args_skew(cursor& c, const token& kw, fault& f) {
  args_target(c, kw, f);
  const token t = c.take("a clock offset like +500ms or -300ms");
  f.amount_us = parse_duration(t.text, t.pos, true);
}

// `partition 1,2 | 3,4,5`: '|' separates groups, ',' separates ids in a group.
void parser::args_partition(cursor& c, const token&, fault& f) {
  f.groups.emplace_back();
  for (;;) {
    const token t = c.take("a node id");
    uint32_t id = parse_id(t);
    for (const auto& g : f.groups) {
      if (std::find(g.begin(), g.end(), id) != g.end()) {
        fail(t.pos, "node " + quote(t.text) + " appears twice in the partition");
      }
    }
    f.groups.back().push_back(id);
    if (c.accept(",")) continue;
    if (c.accept("|")) {
      f.groups.emplace_back();
      continue;
    }
    return;
  }
}

// `drop P% [FROM->TO]` and `duplicate P% [FROM->TO]`.
void parser::args_percent(cursor& c, const token& kw, fault& f) {
  f.percent = parse_percent(c.take("a percentage after " + quote(kw.text)));
  if (!c.at_end()) f.link = parse_link(c.next());
}

// `delay D [jitter D] [FROM->TO]`, the optional parts in either order.
void parser::args_delay(cursor& c, const token&, fault& f) {
  const token t = c.take("an extra delay like 50ms after 'delay'");
  f.amount_us = parse_duration(t.text, t.pos, false);
  bool jitter = false;
  for (;;) {
    if (!jitter && c.accept("jitter")) {
      jitter = true;
      const token j = c.take("a duration after 'jitter'");
      f.jitter_us = parse_duration(j.text, j.pos, false);
    } else if (!f.link && c.peek() && c.peek()->text != "jitter") {
      f.link = parse_link(c.next());
    } else {
      return;  // anything left is trailing text, reported by the caller
    }
  }
}

void parser::args_none(cursor&, const token&, fault&) {}

// ---- formatting --------------------------------------------------------------------------

std::string format_link(const link_ref& l) {
  return format_node(l.from) + "->" + format_node(l.to);
}

std::string format_groups(const std::vector<std::vector<uint32_t>>& groups) {
  std::string out;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g > 0) out += " | ";
    for (size_t i = 0; i < groups[g].size(); ++i) {
      if (i > 0) out += ",";
      out += std::to_string(groups[g][i]);
    }
  }
  return out;
}

// The arguments of a fault, each with a leading space.
std::string format_fault_args(const fault& f) {
  std::string out;
  auto with_link = [&] {
    if (f.link) out += " " + format_link(*f.link);
  };
  switch (f.kind) {
    case fault_kind::kill:
    case fault_kind::restart:
    case fault_kind::isolate:
    case fault_kind::transfer_leader:
    case fault_kind::remove_node:
    case fault_kind::add_node:
    case fault_kind::pause:
    case fault_kind::resume:
      out = " " + format_node(f.target);
      break;
    case fault_kind::slow_fsync:
    case fault_kind::skew:
      out = " " + format_node(f.target) + " " +
            format_duration(f.amount_us, f.kind == fault_kind::skew);
      break;
    case fault_kind::partition:
      out = " " + format_groups(f.groups);
      break;
    case fault_kind::drop:
    case fault_kind::duplicate:
      out = " " + format_decimal(f.percent) + "%";
      with_link();
      break;
    case fault_kind::delay:
      out = " " + format_duration(f.amount_us, false);
      if (f.jitter_us != 0) out += " jitter " + format_duration(f.jitter_us, false);
      with_link();
      break;
    case fault_kind::heal:
      break;
  }
  return out;
}

std::string format_fault(const fault& f) {
  std::string out = "at " + format_duration(f.at_us, false);
  if (f.for_us) out += " for " + format_duration(*f.for_us, false);
  return out + " " + str(keyword(f.kind)) + format_fault_args(f);
}

std::string format_load(const load_spec& l) {
  return "load clients " + std::to_string(l.clients) + " rate " + format_decimal(l.rate_per_s) +
         "/s keys " + std::to_string(l.keys) + " mix put=" + std::to_string(l.mix_put) +
         " get=" + std::to_string(l.mix_get) + " cas=" + std::to_string(l.mix_cas) + " timeout " +
         format_duration(l.timeout_us, false) +
         (l.leases == 0 ? std::string()
                        : " leases " + std::to_string(l.leases) + " lease-ttl " +
                              format_duration(l.lease_ttl_us, false));
}

}  // namespace

// ---- public API --------------------------------------------------------------------------

// Indexed by fault_kind, so the list follows the enum's order.
std::string_view keyword(fault_kind k) {
  static constexpr std::array<std::string_view, 15> kWords{
      "kill",  "restart",     "partition",  "isolate", "drop",
      "delay", "duplicate",   "slow-fsync", "skew",    "transfer-leader",
      "heal",  "remove-node", "add-node",   "pause",   "resume"};
  auto i = static_cast<size_t>(k);
  return i < kWords.size() ? kWords[i] : std::string_view("?");
}

std::string parse_error::to_string() const {
  return file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + message;
}

std::variant<script, parse_error> parse_script(std::string_view text, std::string_view file_name) {
  try {
    parser p(file_name);
    uint32_t line_no = 0;
    size_t start = 0;
    for (;;) {
      size_t end = std::min(text.find('\n', start), text.size());
      std::vector<token> toks = lex_line(text.substr(start, end - start), ++line_no);
      if (!toks.empty()) p.line(std::move(toks));
      if (end == text.size()) break;
      start = end + 1;
    }
    return p.finish();
  } catch (const failure& f) {
    return parse_error{str(file_name), f.pos, f.message};
  } catch (const std::exception& e) {  // allocation failure: still an answer, not a crash
    return parse_error{str(file_name), {1, 1}, std::string("cannot parse: ") + e.what()};
  }
}

std::variant<script, parse_error> load_script(const std::string& path) {
  try {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return parse_error{path, {}, "cannot read file: missing or not a regular file"};
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return parse_error{path, {}, "cannot open file"};
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (in.bad()) return parse_error{path, {}, "cannot read file"};
    return parse_script(text, path);
  } catch (const std::exception& e) {
    return parse_error{path, {}, std::string("cannot read file: ") + e.what()};
  }
}

std::string format_fault_action(const fault& f) {
  return str(keyword(f.kind)) + format_fault_args(f);
}

std::string format_script(const script& s) {
  std::string out = "nodes " + std::to_string(s.nodes) + "\n";
  if (s.seed) out += "seed " + std::to_string(*s.seed) + "\n";
  out += "duration " + format_duration(s.duration_us, false) + "\n";
  for (const setting& kv : s.settings)
    out += "set " + kv.key + "=" + kv.value + "\n";
  const network_spec& n = s.network;
  out += "network latency " + format_duration(n.latency_min_us, false) + ".." +
         format_duration(n.latency_max_us, false) + " drop " + format_decimal(n.drop_percent) +
         "% duplicate " + format_decimal(n.duplicate_percent) + "%\n";
  out += "fsync " + format_duration(s.fsync_us, false) + "\n";
  if (s.load) out += format_load(*s.load) + "\n";
  if (!s.faults.empty()) out += "\n";
  for (const fault& f : s.faults)
    out += format_fault(f) + "\n";
  return out;
}

}  // namespace aegis::chaos
