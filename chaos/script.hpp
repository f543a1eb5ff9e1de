// The chaos-script language: a small, line-oriented description of a cluster, its base network,
// a client load and a timeline of faults. The same script drives the simulator and a real
// cluster, so this header holds only the syntax tree, the parser and the formatter; what a fault
// does is up to whoever runs it. chaos/scripts/README.md is the language reference.
//
// Parsing is strict and positional: every error names a line and column so a script author can
// fix it without guessing, and a syntax tree that parses can be printed back (format_script) and
// re-parsed to the same tree, which is how traces store the script they ran.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace aegis::chaos {

// A place in a script's text. Both are 1-based; columns count bytes (a tab is one column).
// 0:0 means "no place in the text", e.g. a file that could not be read.
struct source_pos {
  uint32_t line = 0;
  uint32_t column = 0;
};

// The node (or nodes) a fault aims at. `leader` and `follower` are resolved by whoever runs the
// script at the moment the fault fires, so the same script stays meaningful across elections.
struct node_ref {
  enum class kind : uint8_t {
    id,        // one fixed node: `id` below
    leader,    // the current leader
    follower,  // some current follower, chosen by the runner (deterministically from its seed)
    all,       // every node; only kill and restart accept it
  };
  kind k = kind::id;
  uint32_t id = 0;  // 1..nodes when k == id; 0 otherwise
  source_pos pos;   // of the target's token
};

// A one-way network link: messages sent by `from` to `to`.
struct link_ref {
  node_ref from;
  node_ref to;
};

// Every fault the language can express; the comment gives the fields each one uses.
enum class fault_kind : uint8_t {
  kill,             // target (may be all); with for_us: restart after it
  restart,          // target (may be all)
  partition,        // groups
  isolate,          // target: cut every link to and from it
  drop,             // percent, link (none: every link)
  delay,            // amount_us extra one-way delay, jitter_us, link (none: every link)
  duplicate,        // percent, link (none: every link)
  slow_fsync,       // target, amount_us: its fsync latency per batch becomes this
  skew,             // target, amount_us: signed offset of its clock
  transfer_leader,  // target: the node the leader should hand leadership to
  heal,             // no fields: undo every network fault (partition, isolate, drop, delay, dup)
  remove_node,      // target (an id): the leader proposes removing it from the configuration
  add_node,         // target (an id): the node is wiped and rejoins as a learner, promoted once
                    // caught up (the operator's replace-a-disk flow)
  pause,            // target: the node stops running (SIGSTOP on a real cluster: a hung process,
                    // the slow-node case); with for_us: resume it after
  resume,           // target: a paused node runs again (SIGCONT)
};

// One timed fault: `at <at_us> [for <for_us>] <kind> <arguments>`.
struct fault {
  fault_kind kind = fault_kind::heal;
  int64_t at_us = 0;              // virtual time it fires, 0..duration
  std::optional<int64_t> for_us;  // > 0: undo it this long after it fired (never heal/transfer)
  node_ref target;                // kill/restart/isolate/slow_fsync/skew/transfer_leader/
                                  // remove_node/add_node
  std::vector<std::vector<uint32_t>> groups;  // partition: disjoint node sets, file order
  std::optional<link_ref> link;  // drop/delay/duplicate: one link, or every link when empty
  double percent = 0;            // drop/duplicate: probability in percent, 0..100
  int64_t amount_us = 0;         // delay amount, slow-fsync latency, skew offset (signed)
  int64_t jitter_us = 0;         // delay: extra delay drawn uniformly from [0, jitter]
  source_pos pos;                // of the `at` keyword
};

// One Raft config override from a `set` line, kept raw: the runner owns the config schema, so it
// validates key and value and reports errors at `pos`.
struct setting {
  std::string key;
  std::string value;
  source_pos pos;  // of the KEY=VALUE token
};

// The healthy network every fault is layered on.
struct network_spec {
  int64_t latency_min_us = 1000;  // one-way latency drawn uniformly from [min, max]
  int64_t latency_max_us = 5000;
  double drop_percent = 0;       // base loss on every link, 0..100
  double duplicate_percent = 0;  // base duplication on every link, 0..100
};

// A closed-loop client load against the KV store.
struct load_spec {
  uint32_t clients = 4;     // concurrent clients, 1..1000
  double rate_per_s = 200;  // total operations per second across all clients, > 0
  uint32_t keys = 8;        // key space size; few keys make conflicts and linearizability bite
  uint32_t mix_put = 40;    // relative weights of the operation kinds; their sum is > 0
  uint32_t mix_get = 40;
  uint32_t mix_cas = 20;
  int64_t timeout_us = 2'000'000;  // a client gives up on (and records unknown) after this
  // Lease holders: each grants a lease of lease_ttl_us and keeps it alive through one node, as
  // an application holding a session does. Only real-cluster runs have them: the simulator
  // models the KV store alone and ignores these two fields.
  uint32_t leases = 0;               // 0..10000
  int64_t lease_ttl_us = 5'000'000;  // whole seconds, 1s..3600s
};

// A whole script. Defaults are what an omitted directive means.
struct script {
  std::string name;               // file name as given, or "<random>" for generated scripts
  uint32_t nodes = 5;             // cluster size, 1..9
  std::optional<uint64_t> seed;   // default seed; the command line may override it
  int64_t duration_us = 0;        // virtual run length, > 0 (the `duration` line is required)
  std::vector<setting> settings;  // file order; keys are unique
  network_spec network;
  int64_t fsync_us = 1000;        // base fsync latency per batch
  std::optional<load_spec> load;  // no load line: no clients
  std::vector<fault> faults;      // sorted by at_us, stable (file order for equal times)
};

// Why a script was rejected, and where.
struct parse_error {
  std::string file;     // the file name given to the parser
  source_pos pos;       // start of the offending token (1-based), or 0:0 for an unreadable file
  std::string message;  // one sentence, lower case, naming what was expected
  // "file:line:col: message", the form editors and compilers use.
  std::string to_string() const;
};

// The keyword that spells a fault kind in a script (e.g. "slow-fsync").
std::string_view keyword(fault_kind k);

// Parses a script. Returns the syntax tree or the first error; never throws, never crashes.
// Syntax is checked line by line; checks that depend on the whole file (node ids against
// `nodes`, fault times against `duration`, the required `duration`) run after the last line, so
// `nodes` and `duration` may appear anywhere in the file.
std::variant<script, parse_error> parse_script(std::string_view text, std::string_view file_name);

// Reads and parses a file; the script's name and the error's file are `path` as given. A file
// that cannot be read is an error at 0:0.
std::variant<script, parse_error> load_script(const std::string& path);

// Canonical text for a script: directives in a fixed order, one fault per line, durations in the
// largest unit that represents them exactly. parse_script(format_script(s)) reproduces every
// field of a valid `s` except the pos fields and the name.
std::string format_script(const script& s);

// One fault's action in script syntax without its `at`/`for` part ("kill 3", "slow-fsync 1
// 1500ms", "partition 1,2 | 3,4,5"): how traces record a fault as it fired.
std::string format_fault_action(const fault& f);

}  // namespace aegis::chaos
