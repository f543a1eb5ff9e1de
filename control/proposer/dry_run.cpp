// Writing a proposal's dry-run files (dry_run.hpp).
#include "control/proposer/dry_run.hpp"

#include <filesystem>
#include <stdexcept>

#include "chaos/trace.hpp"

namespace aegis::control::proposer {

namespace {

void save(const std::string& path, const std::string& text) {
  if (auto err = chaos::trace::save_text(path, text); !err.empty())
    throw std::runtime_error("dry-run: " + err);
}

}  // namespace

dry_run_files write_dry_run(const std::string& out_dir, const proposal& p, const pr_text& pr,
                            const std::string& config_name, const std::string& patched) {
  // The id is checked by branch_name() before we get here; the name below is only a file name.
  const std::string dir = (out_dir.empty() ? std::string(".") : out_dir) + "/proposals";
  std::string name = std::filesystem::path(config_name).filename().string();
  if (name.empty() || name == "." || name == "..") name = "config.ini";
  dry_run_files f{dir + "/" + p.id + ".md", dir + "/" + p.id + ".json",
                  dir + "/" + p.id + "/" + name};
  save(f.pr_markdown, pr.title + "\n\n" + pr.body);
  save(f.proposal_json, to_json(p).dump(2) + "\n");
  save(f.config, patched);
  return f;
}

}  // namespace aegis::control::proposer
