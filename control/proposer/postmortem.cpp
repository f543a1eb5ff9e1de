// Postmortem assembly and delivery (postmortem.hpp).
#include "control/proposer/postmortem.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "control/proposer/corpus.hpp"
#include "control/proposer/incident_timeline.hpp"
#include "control/proposer/ledger.hpp"
#include "control/proposer/pr_body.hpp"
#include "control/proposer/root_cause.hpp"

#ifndef AEGIS_CORPUS_DIR
#define AEGIS_CORPUS_DIR "control/corpus"
#endif

namespace aegis::control::proposer {

std::string default_corpus_dir() {
  return AEGIS_CORPUS_DIR;
}

namespace {

// Everything the sections are made from, gathered once.
struct material {
  const chaos::trace::trace& t;
  std::vector<const verdict*> found;  // non-healthy verdicts
  std::vector<timeline_line> timeline;
  impact im;
  std::vector<corpus_doc> corpus;
  std::vector<ledger_entry> ledger;
  std::vector<ranked_cause> causes;
  bool llm_ranked = false;
};

std::string classes_of(const material& m) {
  std::string s;
  for (const auto* v : m.found)
    s += (s.empty() ? "" : ", ") + std::string(name_of(v->cls));
  return s.empty() ? "no anomaly" : s;
}

std::string secs(int64_t us) {
  return fmt_num(static_cast<double>(us) / 1e6) + " s";
}

std::string deterministic_narrative(const material& m) {
  std::ostringstream o;
  o << "During the run of `" << m.t.script_name << "` (" << m.t.nodes << " nodes, seed " << m.t.seed
    << "), the classifier found " << classes_of(m) << ".";
  for (const auto* v : m.found)
    if (!v->summary.empty()) o << " " << v->summary;
  o << " The cluster changed leader " << m.im.leader_changes
    << " times and was without a leader for " << secs(m.im.unavailable_us) << " in "
    << m.im.windows.size() << " windows";
  if (m.im.ops_fail >= 0) o << "; " << m.im.ops_fail << " client operations failed";
  o << ".";
  if (!m.causes.empty()) o << " The closest runbook is \"" << m.causes.front().doc->title << "\".";
  return o.str();
}

void timeline_section(std::ostringstream& o, const material& m, size_t max_lines) {
  o << "## Timeline\n\n| time | event |\n|---|---|\n";
  for (size_t i = 0; i < m.timeline.size() && i < max_lines; ++i)
    o << "| " << fmt_time_us(m.timeline[i].at_us) << " | " << md_cell(m.timeline[i].text) << " |\n";
  if (m.timeline.size() > max_lines)
    o << "| … | " << m.timeline.size() - max_lines << " more events (see the trace) |\n";
  if (m.timeline.empty()) o << "| – | no faults or leadership events recorded |\n";
  o << "\n";
}

void impact_section(std::ostringstream& o, const impact& im) {
  o << "## Impact\n\n";
  if (!im.availability.empty()) o << "- **Availability:** " << im.availability << "\n";
  o << "- **Without a leader:** " << secs(im.unavailable_us) << " in " << im.windows.size()
    << " window(s)";
  if (im.longest_us > 0) o << ", longest " << secs(im.longest_us);
  o << "\n- **Leader changes:** " << im.leader_changes << "\n";
  if (im.ops_ok >= 0)
    o << "- **Client operations:** " << im.ops_ok << " ok, " << im.ops_fail << " failed, "
      << im.ops_unknown << " unknown outcome\n";
  if (!im.commit_p99_ms.empty()) o << "- **Commit latency p99:** " << im.commit_p99_ms << " ms\n";
  o << "- **Run length:** " << secs(im.duration_us) << "\n\n";
}

void findings_section(std::ostringstream& o, const material& m) {
  o << "## What the classifier found\n\n";
  if (m.found.empty()) o << "No anomaly: every verdict was `healthy`.\n\n";
  for (const auto* v : m.found) {
    o << "### `" << name_of(v->cls) << "` (confidence " << fmt_num(v->confidence) << ", "
      << fmt_time_us(v->from_us) << " – " << fmt_time_us(v->to_us) << ")\n\n"
      << v->summary << "\n\n| metric | node | value | op | threshold |\n|---|---|---|---|---|\n";
    for (const auto& e : v->evidence)
      o << "| " << md_cell(e.metric) << " | " << (e.node ? std::to_string(e.node) : "cluster")
        << " | " << fmt_num(e.value) << " | " << md_cell(e.op) << " | " << fmt_num(e.threshold)
        << " |\n";
    o << "\n";
  }
}

void causes_section(std::ostringstream& o, const material& m) {
  o << "## Root causes (ranked)\n\nRetrieved with BM25 from " << m.corpus.size()
    << " documents (runbooks, past postmortems, ledger)"
    << (m.llm_ranked ? "; order suggested by an LLM among the BM25 candidates" : "") << ".\n\n";
  int rank = 1;
  for (const auto& c : m.causes) {
    o << rank++ << ". **" << c.doc->title << "** — `" << c.doc->id << "` (" << c.doc->kind
      << ", score " << fmt_num(c.score) << "; matched:";
    for (const auto& w : c.matched)
      o << " " << w;
    o << ")\n";
    if (!c.doc->synopsis.empty()) o << "   " << c.doc->synopsis << "\n";
  }
  if (m.causes.empty()) o << "No document of the corpus matches this incident.\n";
  o << "\n";
}

// Whether the evidence's value met its threshold.
bool crossed(const evidence& e) {
  if (e.op == ">=") return e.value >= e.threshold;
  if (e.op == ">") return e.value > e.threshold;
  if (e.op == "<=") return e.value <= e.threshold;
  if (e.op == "<") return e.value < e.threshold;
  if (e.op == ">= |x|") return std::abs(e.value) >= e.threshold;
  return e.value == e.threshold;
}

void lessons_section(std::ostringstream& o, const material& m) {
  o << "## Lessons\n\n";
  std::set<std::string> seen;
  for (const auto& c : m.causes)
    for (size_t i = 0; i < c.doc->lessons.size() && i < 2; ++i)
      if (seen.insert(c.doc->lessons[i]).second) o << "- " << c.doc->lessons[i] << "\n";
  for (const auto* v : m.found)
    for (const auto& e : v->evidence) {
      if (!crossed(e)) continue;  // a corroboration that did not hold is no alert to add
      const auto alert = "Alert when " + e.metric + " " + e.op + " " + fmt_num(e.threshold) +
                         " (it reached " + fmt_num(e.value) + " here).";
      if (seen.insert(alert).second) o << "- " << alert << "\n";
    }
  if (seen.empty()) o << "- None recorded.\n";
  o << "\n";
}

void ledger_section(std::ostringstream& o, const material& m) {
  std::set<std::string> classes;
  for (const auto* v : m.found)
    classes.insert(std::string(name_of(v->cls)));
  std::map<std::string, int> by_status;
  for (const auto& e : m.ledger)
    if (classes.count(e.cls)) ++by_status[e.status];
  o << "## Proposals on record\n\n";
  if (by_status.empty()) o << "The ledger has no proposal for these classes yet.\n\n";
  for (const auto& [status, n] : by_status)
    o << "- " << status << ": " << n << "\n";
  if (!by_status.empty()) o << "\n";
}

}  // namespace

namespace {

std::ostream& log_of(const postmortem_options& opt) {
  return opt.log ? *opt.log : std::cerr;
}

material gather(const chaos::trace::trace& t, const std::vector<verdict>& verdicts,
                const postmortem_options& opt) {
  material m{t, {}, build_timeline(t), measure_impact(t), {}, {}, {}, false};
  for (const auto& v : verdicts)
    if (v.cls != incident_class::healthy) m.found.push_back(&v);
  std::vector<std::string> errors;
  m.corpus = load_corpus_dir(opt.corpus_dir, &errors);
  if (!opt.ledger_path.empty()) {
    m.ledger = read_ledger(opt.ledger_path, &errors);
    // This incident's own proposals are its outcome, not a past cause: they stay out of the
    // corpus (the "Proposals on record" section still counts them).
    std::vector<ledger_entry> past;
    for (const auto& e : m.ledger)
      if (!std::count(opt.exclude_ledger_ids.begin(), opt.exclude_ledger_ids.end(), e.id))
        past.push_back(e);
    for (auto& d : ledger_docs(past))
      m.corpus.push_back(std::move(d));
  }
  for (const auto& e : errors)
    log_of(opt) << "postmortem: " << e << "\n";
  // Ranked after the corpus is complete: ranked_cause points into it.
  if (!m.found.empty()) m.causes = rank_causes(m.corpus, cause_query(verdicts, t), opt.top_causes);
  return m;
}

std::string default_title(const material& m) {
  return "Postmortem: " + classes_of(m) + " (" + m.t.script_name + ", seed " +
         std::to_string(m.t.seed) + ")";
}

// The deterministic narrative, or the LLM's rephrasing of it when enabled and it answers.
std::string narrative(const material& m, http_client& http, const postmortem_options& opt) {
  const auto plain = deterministic_narrative(m);
  if (!opt.llm.enabled) return plain;
  std::string why;
  bool used = false;
  const auto prompt =
      "Rewrite this incident summary as a short, factual postmortem narrative "
      "(at most 120 words, no new facts):\n\n" +
      plain;
  auto text = llm_or(http, opt.llm, "You write blameless postmortems.", prompt, plain, &used, &why);
  if (!used)
    log_of(opt) << "postmortem: LLM narrative unavailable, using the deterministic one: " << why
                << "\n";
  return text;
}

std::string render(const material& m, const std::string& title, const std::string& story,
                   size_t max_timeline) {
  std::ostringstream o;
  o << "# " << title << "\n\n_Drafted by AEGIS from the " << m.t.source << " trace of `"
    << m.t.script_name << "` (" << m.t.nodes << " nodes, seed " << m.t.seed
    << "). A draft for people to review and complete._\n\n## Summary\n\n"
    << story << "\n\n";
  timeline_section(o, m, max_timeline);
  impact_section(o, m.im);
  findings_section(o, m);
  causes_section(o, m);
  lessons_section(o, m);
  ledger_section(o, m);
  o << "---\n\n> Written by AEGIS. It changes nothing by itself: config changes come as separate "
       "pull requests that a person reviews and merges.\n";
  return o.str();
}

void deliver(const std::string& md, const std::string& title, const chaos::trace::trace& t,
             http_client& http, const postmortem_options& opt) {
  if (!opt.out_dir.empty()) {
    const auto path = postmortem_path(opt.out_dir, t);
    const auto err = chaos::trace::save_text(path, md);
    log_of(opt) << "postmortem: " << (err.empty() ? "written to " + path : err) << "\n";
  }
  if (opt.dry_run || opt.github.repo.empty() || opt.github.token.empty()) return;
  try {
    github_client gh(opt.github, http);
    log_of(opt) << "postmortem: opened " << gh.create_issue(title, md, {"aegis", "postmortem"})
                << "\n";
  } catch (const std::exception& e) {
    log_of(opt) << "postmortem: could not open the issue: " << redact(e.what(), {opt.github.token})
                << "\n";
  }
}

}  // namespace

std::string postmortem_path(const std::string& out_dir, const chaos::trace::trace& t) {
  std::string stem = std::filesystem::path(t.script_name).stem().string();
  for (auto& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return out_dir + "/postmortems/postmortem-" + (stem.empty() ? std::string("trace") : stem) + "-" +
         std::to_string(t.seed) + ".md";
}

std::string write_postmortem(const chaos::trace::trace& t, const std::vector<verdict>& verdicts,
                             const postmortem_options& opt) {
  std::unique_ptr<http_client> owned;
  http_client* http = opt.http;
  if (!http) http = (owned = std::make_unique<curl_http_client>()).get();
  material m = gather(t, verdicts, opt);
  if (opt.llm.enabled && m.causes.size() > 1) {
    std::string why;
    m.llm_ranked = llm_rerank(m.causes, deterministic_narrative(m), *http, opt.llm, &why);
    if (!m.llm_ranked) log_of(opt) << "postmortem: keeping the BM25 order: " << why << "\n";
  }
  const auto title = opt.title.empty() ? default_title(m) : opt.title;
  const auto md = render(m, title, narrative(m, *http, opt), opt.max_timeline);
  deliver(md, title, t, *http, opt);
  return md;
}

}  // namespace aegis::control::proposer
