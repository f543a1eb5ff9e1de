// Branch + commit of a patched config file with git plumbing (git_repo.hpp).
#include "control/proposer/git_repo.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "control/proposer/config_patch.hpp"
#include "control/proposer/process.hpp"

namespace aegis::control::proposer {

namespace fs = std::filesystem;

namespace {

// A scratch directory for the temporary index and blob file, removed on scope exit.
struct scratch_dir {
  std::string path;
  scratch_dir() {
    std::string tmpl = (fs::temp_directory_path() / "aegis-git-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw git_error("cannot create a temporary directory");
    path = tmpl;
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.pop_back();
  return s;
}

// Runs `git -C repo args...` with a fixed identity and locale; throws on a non-zero exit unless
// `allow_fail`.
process_result git(const std::string& repo, std::vector<std::string> args,
                   const std::vector<std::string>& env = {}, bool allow_fail = false) {
  std::vector<std::string> argv = {
      "git", "-C", repo, "-c", "user.name=AEGIS", "-c", "user.email=aegis@localhost"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> full_env = {"LC_ALL=C", "GIT_TERMINAL_PROMPT=0"};
  full_env.insert(full_env.end(), env.begin(), env.end());
  auto r = run_process(argv, "", full_env);
  if (r.exit_code != 0 && !allow_fail)
    throw git_error("git " + (args.empty() ? std::string() : args[0]) + " failed in " + repo +
                    ": " + trimmed(r.err.empty() ? r.out : r.err));
  return r;
}

void check_rev_name(const std::string& what, const std::string& name) {
  if (name.empty() || name.front() == '-' || name.find("..") != std::string::npos ||
      name.find_first_of(" \t\r\n~^:?*[\\") != std::string::npos)
    throw std::invalid_argument(what + " '" + name + "' is not a valid branch name");
}

void check_file(const std::string& file) {
  const fs::path p(file);
  if (file.empty() || p.is_absolute() || file.front() == '-')
    throw std::invalid_argument("config file '" + file + "' must be a path relative to the repo");
  for (const auto& part : p)
    if (part == "..") throw std::invalid_argument("config file '" + file + "' leaves the repo");
}

// The file's mode and blob id at `rev`, from ls-tree ("100644 blob <id>\t<path>").
std::pair<std::string, std::string> entry_at(const std::string& repo, const std::string& rev,
                                             const std::string& file) {
  const auto r = git(repo, {"ls-tree", rev, "--", file});
  std::istringstream in(r.out);
  std::string mode, type, id;
  in >> mode >> type >> id;
  if (type != "blob")
    throw git_error("config file '" + file + "' is not on " + rev + " in " + repo);
  return {mode, id};
}

std::string write_blob(const std::string& repo, const scratch_dir& dir, const std::string& text) {
  const std::string file = dir.path + "/blob";
  std::ofstream(file, std::ios::binary) << text;
  return trimmed(git(repo, {"hash-object", "-w", "--", file}).out);
}

// A tree equal to base's with `file` replaced by `blob`, built in a temporary index.
std::string tree_with(const std::string& repo, const scratch_dir& dir, const std::string& base,
                      const std::string& mode, const std::string& blob, const std::string& file) {
  const std::vector<std::string> env = {"GIT_INDEX_FILE=" + dir.path + "/index"};
  git(repo, {"read-tree", base}, env);
  git(repo, {"update-index", "--cacheinfo", mode + "," + blob + "," + file}, env);
  return trimmed(git(repo, {"write-tree"}, env).out);
}

std::string ref_commit(const std::string& repo, const std::string& ref) {
  auto r = git(repo, {"rev-parse", "--verify", "--quiet", ref + "^{commit}"}, {}, true);
  return r.exit_code == 0 ? trimmed(r.out) : "";
}

}  // namespace

std::string branch_name(const proposal& p) {
  if (p.id.empty() || p.id.size() > 64)
    throw std::invalid_argument("proposal id must have 1 to 64 characters");
  for (char c : p.id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_')
      throw std::invalid_argument("proposal id '" + p.id + "' may only hold [A-Za-z0-9_-]");
  return "aegis/" + std::string(name_of(p.incident.cls)) + "-" + p.id;
}

std::string commit_message(const proposal& p) {
  std::string keys;
  for (const auto& c : p.advice.patch)
    keys += (keys.empty() ? "" : ", ") + c.key + " " + c.from + " -> " + c.to;
  std::ostringstream m;
  m << "aegis: " << name_of(p.incident.cls) << ": " << keys << "\n\n"
    << "Proposal " << p.id << " for " << p.config_file << ".\n"
    << "Incident: " << p.incident.summary << " (confidence " << p.incident.confidence << ")\n"
    << "Rationale: " << p.advice.rationale << "\n"
    << "Proposed by AEGIS; a person reviews and merges it. Undo with git revert.\n";
  return m.str();
}

std::string read_file_at(const std::string& repo, const std::string& rev, const std::string& file) {
  check_file(file);
  const auto [mode, blob] = entry_at(repo, rev, file);
  return git(repo, {"cat-file", "blob", blob}).out;
}

git_commit commit_proposal(const git_target& t, const proposal& p) {
  git_commit out;
  out.branch = branch_name(p);
  check_rev_name("base branch", t.base);
  check_file(t.file);
  if (!fs::exists(t.repo)) throw git_error("config repository " + t.repo + " does not exist");
  const std::string ref = "refs/heads/" + out.branch;
  if (auto existing = ref_commit(t.repo, ref); !existing.empty()) {
    out.commit = existing;  // made by an earlier run: never a second commit
    return out;
  }
  out.base_commit = ref_commit(t.repo, "refs/heads/" + t.base);
  if (out.base_commit.empty())
    throw git_error("base branch '" + t.base + "' not found in " + t.repo);
  const auto [mode, blob] = entry_at(t.repo, out.base_commit, t.file);
  auto patched = patch_raft_section(git(t.repo, {"cat-file", "blob", blob}).out, p.advice.patch);
  out.warnings = std::move(patched.warnings);
  scratch_dir dir;
  const auto new_blob = write_blob(t.repo, dir, patched.text);
  if (new_blob == blob)
    throw std::invalid_argument("the patch changes nothing in " + t.file + ": nothing to propose");
  const auto tree = tree_with(t.repo, dir, out.base_commit, mode, new_blob, t.file);
  const auto commit = trimmed(
      git(t.repo, {"commit-tree", tree, "-p", out.base_commit, "-m", commit_message(p)}).out);
  // The empty old value makes the update fail if the ref appeared meanwhile (another run).
  auto upd = git(t.repo, {"update-ref", "-m", "aegis proposal " + p.id, ref, commit, ""}, {}, true);
  out.commit = ref_commit(t.repo, ref);
  if (upd.exit_code != 0 && out.commit.empty())
    throw git_error("git update-ref failed for " + out.branch + ": " + trimmed(upd.err));
  out.created = upd.exit_code == 0;
  if (out.created) out.patched_text = std::move(patched.text);
  return out;
}

}  // namespace aegis::control::proposer
