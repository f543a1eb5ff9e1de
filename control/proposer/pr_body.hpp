// The pull request a proposal becomes: a title and a markdown body with the incident and its
// evidence, the patch, every envelope check, the verifier's before/after table, the rationale,
// the expected effect, the rollback and a footer that a person reviews and merges. Pure text.
#pragma once

#include <string>

#include "control/incident.hpp"

namespace aegis::control::proposer {

// What the renderer knows beyond the proposal. Empty fields are described generically.
struct pr_context {
  std::string branch;       // the proposal's branch
  std::string commit;       // the proposal's commit in the config repo (for the revert command)
  std::string config_file;  // the file the patch edits (default: the proposal's)
};

struct pr_text {
  std::string title;  // one line, <= 120 characters
  std::string body;   // GitHub-flavoured markdown
};

pr_text render_pr(const proposal& p, const pr_context& ctx = {});

// A markdown table cell: '|' escaped, line breaks folded to spaces.
std::string md_cell(const std::string& s);
// A number without trailing zeros ("0.9426", "4", "12.5").
std::string fmt_num(double v);
// A trace time in seconds with millisecond precision, e.g. "3.000s".
std::string fmt_time_us(int64_t us);

}  // namespace aegis::control::proposer
