// The trace: what one chaos run did and saw, on the simulator or on a real cluster, in one
// documented, versioned, line-oriented text format (chaos/TRACE-FORMAT.md is the reference).
// The simulator writes it, `aegis-chaos run` writes it for a real cluster, the simulator replays
// it (its script, seed and config), and the control plane reads it to classify an incident.
//
// One line per fact, fields separated by single spaces, so two traces diff line by line. Metric
// samples are delta-encoded per node: a node's first sample (and its first after a failed scrape)
// lists every series, later ones only the series whose value changed, so a quiet cluster costs a
// few bytes per sample. The last line is a digest of every line before it, so an edited or
// truncated file is detected, and two runs that wrote the same trace print the same digest.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "chaos/history.hpp"
#include "chaos/script.hpp"

namespace aegis::chaos::trace {

inline constexpr uint32_t kFormatVersion = 1;

// A fault as it fired (or was undone), with `leader`/`follower` resolved to node ids, in script
// syntax without the `at`/`for` part: "kill 3", "slow-fsync 1 1500ms", "partition 1,2 | 3,4,5",
// "heal". Undoing a fault that had `for` is recorded as "end " + the fault's text.
struct fault_event {
  int64_t at_us = 0;  // since the run started
  std::string text;
};

// A node's Raft role as observed: by the simulator at every step, on a real cluster from each
// scrape of aegis_raft_is_leader/aegis_raft_term (so at most one sample period late). "down" is a
// node that is not running (killed) or does not answer (paused, unreachable).
struct role_event {
  int64_t at_us = 0;
  uint32_t node = 0;  // 1..nodes
  std::string role;   // "leader", "follower", "candidate" or "down"
  uint64_t term = 0;  // 0 when down
};

// One scrape of one node. `values` holds every series the node had at that moment (decoded from
// the delta encoding): key is the series as Prometheus prints it without the node label, e.g.
// `aegis_raft_term` or `aegis_raft_follower_match_lag{peer="2"}`; histograms appear as their
// `_sum` and `_count` series (no buckets). When `up` is false the scrape failed and `values` is
// empty.
struct metric_sample {
  int64_t at_us = 0;
  uint32_t node = 0;
  bool up = true;
  std::map<std::string, double> values;
};

// A whole trace. Times are microseconds since the run started (virtual time on the simulator).
struct trace {
  uint32_t version = kFormatVersion;
  std::string source;            // "sim" or "real"
  std::string script_name;       // as given to the runner, e.g. chaos/scripts/baseline.chaos
  uint64_t seed = 0;             // the seed the run used
  uint32_t nodes = 0;            // cluster size
  int64_t started_unix_ms = 0;   // wall clock at start (real runs); 0 on the simulator
  int64_t sample_period_us = 0;  // metrics are sampled this often (250 ms by default)
  // The effective Raft config of the run, every key of config::raft_fields() in schema order,
  // values as config::get_field prints them.
  std::vector<std::pair<std::string, std::string>> config;
  std::string script_text;             // the script, canonical (format_script), ending in '\n'
  std::vector<fault_event> faults;     // time order
  std::vector<role_event> roles;       // time order
  std::vector<metric_sample> metrics;  // time order; equal times in node order
  history ops;                         // the client history, by operation id
  // Outcome figures as key=value (availability, leader_changes, commit_p99_ms, ops_ok,
  // linearizable, ...): informative, written in the order given.
  std::vector<std::pair<std::string, std::string>> summary;
  std::string digest;  // 16 hex digits; filled by write_trace and read_trace
};

// Why a trace could not be read, and where.
struct read_error {
  std::string file;
  uint32_t line = 0;  // 1-based; 0: the file as a whole
  std::string message;
  std::string to_string() const;  // "file:line: message"
};

// The trace as text, ending with its digest line; sets t.digest. Events are written in time
// order, faults before roles before metrics at equal times.
std::string write_trace(trace& t);

// Parses a trace; checks the version, every line's syntax and the digest (a mismatch is an
// error naming both digests). Never throws on bad input.
std::variant<trace, read_error> read_trace(std::string_view text, std::string_view file_name);
std::variant<trace, read_error> load_trace(const std::string& path);

// Writes text to path (creating parent directories); returns an error message or "".
std::string save_text(const std::string& path, const std::string& text);

// The script of a trace, parsed (named after the trace's script_name).
std::variant<script, parse_error> script_of(const trace& t);

// Prometheus text exposition (a node's /metrics body) to trace series: `aegis_*` and
// `process_*` samples, histogram buckets dropped, the label node="..." removed. Lines that are
// not samples are skipped; a malformed sample line is skipped too (a scrape must never crash the
// recorder).
std::map<std::string, double> series_from_exposition(std::string_view text);

}  // namespace aegis::chaos::trace
