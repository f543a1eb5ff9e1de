// The ledger: an append-only JSON-lines file with one line for every proposal the control plane
// made — proposed, rejected by the envelope, or a negative result in the verifier — with its
// rationale and a timestamp. Negative results are kept on purpose: they are what the postmortem
// corpus learns from. Earlier lines are never rewritten: the file is only opened with O_APPEND,
// each entry is one write() of one line, followed by fsync.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/incident.hpp"

namespace aegis::control::proposer {

struct ledger_entry {
  std::string at;      // UTC, RFC 3339 ("2024-05-01T12:00:00Z")
  std::string id;      // the proposal id
  std::string status;  // "proposed", "rejected_by_envelope" or "negative_result"
  std::string cls;     // incident class name
  double confidence = 0;
  std::string summary;  // the incident's one sentence
  std::vector<config_change> patch;
  std::string rationale;
  std::string target_metric;
  std::optional<bool> improved;           // the verifier's answer; absent when not verified
  std::string explanation;                // the verifier's sentence
  std::vector<std::string> failed_rules;  // envelope rules that did not pass
  std::string config_file;
  std::string outcome;  // what the proposer did: "dry-run: <file>", "pr: <url>", "error: ..."
};

// The ledger line for a proposal (at: now, UTC).
ledger_entry ledger_entry_for(const proposal& p, const std::string& outcome);

// Appends one line; creates the file and its directory if needed. Throws std::runtime_error
// naming the file on an I/O error.
void append_to_ledger(const std::string& path, const ledger_entry& e);

// Every readable entry in file order. A missing file is an empty ledger; a line that is not a
// valid entry is skipped and described in `errors` ("file:line: why") when given.
std::vector<ledger_entry> read_ledger(const std::string& path,
                                      std::vector<std::string>* errors = nullptr);

// The current UTC time as RFC 3339 with seconds.
std::string utc_now();

}  // namespace aegis::control::proposer
