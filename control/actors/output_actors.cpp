// The proposer, root-cause and postmortem actors: they turn a cycle's findings into files (and,
// when configured, a branch, a PR or an issue) through control/proposer/. Their notes go to
// <out>/proposer.log and <out>/postmortem.log, so the agent prints one status line per cycle.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/actors/internal.hpp"
#include "control/actors/roles.hpp"
#include "control/actors/stages.hpp"
#include "control/proposer/corpus.hpp"
#include "control/proposer/root_cause.hpp"

namespace aegis::control::actors {

namespace {

// <out>/<name>, appended (one file per actor: two threads never interleave in one); with no
// out dir the notes go to stderr.
struct note_log {
  std::ofstream file;
  note_log(const std::string& out_dir, const std::string& name) {
    if (out_dir.empty()) return;
    std::error_code ec;  // an unwritable folder shows when the stage writes its files
    std::filesystem::create_directories(out_dir, ec);
    file.open(out_dir + "/" + name, std::ios::app);
  }
  std::ostream& stream() { return file.is_open() ? static_cast<std::ostream&>(file) : std::cerr; }
};

std::vector<verdict> verdicts_of(const json_list& l) {
  std::vector<verdict> out;
  for (const auto& item : l.items)
    out.push_back(verdict_from_json(nlohmann::json::parse(item)));
  return out;
}

// ---- Proposer ------------------------------------------------------------------------------

struct proposer_state {
  proposer::proposer_options opt;
  std::unique_ptr<note_log> log;
  std::ostringstream pr_text;  // dry-run PR text: already in the files, not for the status line
};
using proposer_pointer = proposer_actor::stateful_pointer<proposer_state>;

caf::result<proposer_report> on_propose(proposer_state& st, const json_list& in) {
  std::vector<proposal> ps;
  try {
    for (const auto& item : in.items)
      ps.push_back(proposal_from_json(nlohmann::json::parse(item)));
  } catch (const std::exception& e) {
    return refused(std::string("proposer: bad proposal: ") + e.what());
  }
  proposer_report r;
  r.by_status = count_by_status(ps);
  try {
    r.exit_code = proposer::run_proposer(ps, st.opt);
  } catch (const std::exception& e) {
    r.exit_code = 1;
    r.error = std::string("proposer: ") + e.what();
  }
  st.pr_text.str({});
  st.log->stream().flush();
  for (const auto& p : ps)
    if (p.status == "proposed" && st.opt.dry_run && !st.opt.out_dir.empty())
      r.files.push_back(st.opt.out_dir + "/proposals/" + p.id + ".md");
  return r;
}

proposer_actor::behavior_type proposer_fn(proposer_pointer self, proposer::proposer_options opt) {
  auto& st = self->state;
  st.log = std::make_unique<note_log>(opt.out_dir, "proposer.log");
  st.opt = std::move(opt);
  st.opt.out = &st.pr_text;
  st.opt.log = &st.log->stream();
  return {[=](propose_atom, const json_list& in) { return on_propose(self->state, in); }};
}

// ---- Root cause ----------------------------------------------------------------------------

constexpr size_t kTopCauses = 3;

struct root_cause_state {
  std::vector<proposer::corpus_doc> runbooks;  // read once: the corpus is part of the tree
  std::string ledger_path;                     // read per request: it grows
};
using root_cause_pointer = root_cause_actor::stateful_pointer<root_cause_state>;

caf::result<json_list> on_cause(root_cause_state& st, const window& w, const json_list& vs) {
  std::vector<verdict> verdicts;
  try {
    verdicts = verdicts_of(vs);
  } catch (const std::exception& e) {
    return refused(std::string("root_cause: bad verdict: ") + e.what());
  }
  auto corpus = st.runbooks;
  if (!st.ledger_path.empty())
    for (auto& d : proposer::ledger_docs(proposer::read_ledger(st.ledger_path)))
      corpus.push_back(std::move(d));
  json_list out;
  const auto t = trace_for(w);
  for (const auto& c :
       proposer::rank_causes(corpus, proposer::cause_query(verdicts, t), kTopCauses))
    out.items.push_back(
        nlohmann::json{{"id", c.doc->id}, {"title", c.doc->title}, {"score", c.score}}.dump());
  return out;
}

root_cause_actor::behavior_type root_cause_fn(root_cause_pointer self, std::string corpus_dir,
                                              std::string ledger_path) {
  self->state.runbooks = proposer::load_corpus_dir(corpus_dir);
  self->state.ledger_path = std::move(ledger_path);
  return {[=](cause_atom, const window& w, const json_list& vs) {
    return on_cause(self->state, w, vs);
  }};
}

// ---- Postmortem ----------------------------------------------------------------------------

struct postmortem_state {
  proposer::postmortem_options opt;
  std::unique_ptr<note_log> log;
};
using postmortem_pointer = postmortem_actor::stateful_pointer<postmortem_state>;

caf::result<postmortem_report> on_postmortem(postmortem_state& st, const window& w,
                                             const json_list& vs) {
  std::vector<verdict> verdicts;
  try {
    verdicts = verdicts_of(vs);
  } catch (const std::exception& e) {
    return refused(std::string("postmortem: bad verdict: ") + e.what());
  }
  const auto t = trace_for(w);
  postmortem_report r;
  try {
    proposer::write_postmortem(t, verdicts, st.opt);
  } catch (const std::exception& e) {
    r.error = std::string("postmortem: ") + e.what();
    return r;
  }
  st.log->stream().flush();
  if (st.opt.out_dir.empty()) return r;
  // write_postmortem logs, not throws, a failed write: an absent file is that error.
  r.path = proposer::postmortem_path(st.opt.out_dir, t);
  if (!std::filesystem::exists(r.path)) {
    r.error = "postmortem: not found at " + r.path + " (see postmortem.log)";
    r.path.clear();
  }
  return r;
}

postmortem_actor::behavior_type postmortem_fn(postmortem_pointer self,
                                              proposer::postmortem_options opt) {
  auto& st = self->state;
  st.log = std::make_unique<note_log>(opt.out_dir, "postmortem.log");
  st.opt = std::move(opt);
  st.opt.log = &st.log->stream();
  return {[=](postmortem_atom, const window& w, const json_list& vs) {
    return on_postmortem(self->state, w, vs);
  }};
}

}  // namespace

// Detached: git, curl and file writes block.
proposer_actor spawn_proposer(caf::actor_system& sys, proposer::proposer_options opt) {
  return sys.spawn<caf::detached>(proposer_fn, std::move(opt));
}

root_cause_actor spawn_root_cause(caf::actor_system& sys, std::string corpus_dir,
                                  std::string ledger_path) {
  return sys.spawn<caf::detached>(root_cause_fn, std::move(corpus_dir), std::move(ledger_path));
}

postmortem_actor spawn_postmortem(caf::actor_system& sys, proposer::postmortem_options opt) {
  return sys.spawn<caf::detached>(postmortem_fn, std::move(opt));
}

}  // namespace aegis::control::actors
