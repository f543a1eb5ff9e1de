// Markdown for a proposal's pull request (pr_body.hpp).
#include "control/proposer/pr_body.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace aegis::control::proposer {

namespace {

std::string keys_summary(const proposal& p) {
  std::string s;
  for (const auto& c : p.advice.patch)
    s += (s.empty() ? "" : ", ") + c.key + " " + c.from + " → " + c.to;
  return s.empty() ? "no config change" : s;
}

void incident_section(std::ostringstream& o, const verdict& v) {
  o << "## Incident\n\n"
    << "- **Class:** `" << name_of(v.cls) << "`\n"
    << "- **Confidence:** " << fmt_num(v.confidence) << "\n";
  if (!v.nodes.empty()) {
    o << "- **Nodes:**";
    for (auto n : v.nodes)
      o << " " << n;
    o << "\n";
  }
  o << "- **Seen:** " << fmt_time_us(v.from_us) << " – " << fmt_time_us(v.to_us) << "\n";
  if (!v.summary.empty()) o << "- **Summary:** " << v.summary << "\n";
  o << "\n### Evidence\n\n| metric | node | window | value | op | threshold | note |\n"
    << "|---|---|---|---|---|---|---|\n";
  for (const auto& e : v.evidence)
    o << "| " << md_cell(e.metric) << " | " << (e.node ? std::to_string(e.node) : "cluster")
      << " | " << fmt_time_us(e.from_us) << " – " << fmt_time_us(e.to_us) << " | "
      << fmt_num(e.value) << " | " << md_cell(e.op) << " | " << fmt_num(e.threshold) << " | "
      << md_cell(e.note) << " |\n";
  if (v.evidence.empty()) o << "| (none) | | | | | | |\n";
  o << "\n";
}

void patch_section(std::ostringstream& o, const proposal& p, const std::string& file) {
  o << "## Patch\n\nFile `" << file << "`, section `[raft]`:\n\n";
  for (const auto& c : p.advice.patch)
    o << "- `" << c.key << "`: `" << c.from << "` → `" << c.to << "`\n";
  if (p.advice.patch.empty()) o << "- (no change: see the recommendation)\n";
  o << "\n";
}

void envelope_section(std::ostringstream& o, const std::vector<envelope_check>& checks) {
  size_t passed = 0;
  for (const auto& c : checks)
    passed += c.passed ? 1 : 0;
  o << "## Safety envelope\n\n"
    << passed << " of " << checks.size() << " rules passed.\n\n"
    << "| rule | passed | detail | why the rule exists |\n|---|---|---|---|\n";
  for (const auto& c : checks)
    o << "| `" << md_cell(c.rule) << "` | " << (c.passed ? "yes" : "**no**") << " | "
      << md_cell(c.detail) << " | " << md_cell(c.reason) << " |\n";
  o << "\n";
}

std::string change_of(const verification_row& r) {
  if (r.after == r.before) return "=";
  const bool better = (r.after > r.before) == r.higher_is_better;
  return std::string(r.after > r.before ? "+" : "") + fmt_num(r.after - r.before) +
         (better ? " (better)" : " (worse)");
}

void verification_section(std::ostringstream& o, const std::optional<verification>& v) {
  o << "## Verification (simulated replay)\n\n";
  if (!v) {
    o << "Not verified: the envelope rejected the patch.\n\n";
    return;
  }
  o << "Trace `" << v->trace << "` replayed under the current and the proposed config, seeds";
  for (size_t i = 0; i < v->seeds.size(); ++i)
    o << (i ? ", " : " ") << v->seeds[i];
  o << " (median over seeds).\n\n| metric | before | after | change |\n|---|---|---|---|\n";
  for (const auto& r : v->rows)
    o << "| " << md_cell(r.metric) << (r.metric == v->target_metric ? " (target)" : "") << " | "
      << fmt_num(r.before) << " | " << fmt_num(r.after) << " | " << change_of(r) << " |\n";
  o << "\n**Verdict:** " << (v->improved ? "improves" : "does not improve") << " `"
    << v->target_metric << "`. " << v->explanation << "\n\n";
}

void rollback_section(std::ostringstream& o, const proposal& p, const pr_context& ctx) {
  o << "## Rollback\n\n";
  if (!p.advice.rollback.empty()) o << p.advice.rollback << "\n\n";
  o << "Inverse patch:\n\n";
  for (const auto& c : p.advice.patch)
    o << "- `" << c.key << "`: `" << c.to << "` → `" << c.from << "`\n";
  o << "\nOr revert the change in the config repository:\n\n```sh\ngit revert "
    << (ctx.commit.empty() ? "<the merge commit of this PR>" : ctx.commit) << "\n```\n\n";
}

}  // namespace

std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string fmt_num(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "n/a" : (v > 0 ? "inf" : "-inf");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  while (s.back() == '0')
    s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string fmt_time_us(int64_t us) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3fs", static_cast<double>(us) / 1e6);
  return buf;
}

pr_text render_pr(const proposal& p, const pr_context& ctx) {
  const std::string file = ctx.config_file.empty() ? p.config_file : ctx.config_file;
  pr_text t;
  t.title = "aegis: " + std::string(name_of(p.incident.cls)) + ": " + keys_summary(p);
  if (t.title.size() > 120) {
    size_t cut = 117;  // never inside a UTF-8 sequence (the arrows are multi-byte)
    while (cut > 0 && (static_cast<unsigned char>(t.title[cut]) & 0xC0) == 0x80)
      --cut;
    t.title = t.title.substr(0, cut) + "...";
  }
  std::ostringstream o;
  o << "# " << t.title << "\n\nProposal `" << p.id << "`"
    << (ctx.branch.empty() ? "" : " on branch `" + ctx.branch + "`") << ", status `" << p.status
    << "`.\n\n";
  incident_section(o, p.incident);
  patch_section(o, p, file);
  envelope_section(o, p.envelope);
  verification_section(o, p.verified);
  o << "## Rationale\n\n"
    << p.advice.rationale << "\n\n## Expected effect\n\n"
    << p.advice.expected_effect << " Target metric: `" << p.advice.target_metric << "`.\n\n";
  if (!p.advice.recommendation.empty())
    o << "## Recommendation\n\n" << p.advice.recommendation << "\n\n";
  rollback_section(o, p, ctx);
  o << "---\n\n> **A person must review and merge this.** AEGIS only proposes: it never merges a "
       "pull request and never applies a config to a running cluster.\n";
  t.body = o.str();
  return t;
}

}  // namespace aegis::control::proposer
