// Clients nobody here wrote work against AEGIS as they do against etcd 3.4: etcdctl 3.4
// (Debian etcd-client) and python3-etcd3 0.12 (Debian). Each test case starts a fresh 3-node
// cluster, waits for a leader, and runs one scenario script from tests/integration/compat/ with
// the three client endpoints; the script checks every output exactly (its expectations were taken
// from a real etcd 3.4.23) and exits 0, or prints the first difference and exits 1.
//
// CTest passes AEGIS_COMPAT_DIR (the scripts), AEGIS_COMPAT_PYTHON (Debian's /usr/bin/python3,
// the interpreter that sees python3-etcd3) and AEGIS_ETCDCTL (the etcdctl binary).
#define BOOST_TEST_MODULE integration_compat
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/integration/cluster_harness.hpp"

using namespace aegis::it;

namespace {

constexpr auto election_deadline = 15s;
constexpr auto script_deadline = 80s;  // each takes ~10 s; 100+ etcdctl starts on a busy 2-core box

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs `script` (with `extra` arguments) against a fresh 3-node cluster; checks exit code 0.
void run_script(const std::string& name, const std::string& script,
                const std::vector<std::string>& extra) {
  const std::string dir = env_or("AEGIS_COMPAT_DIR", "");
  BOOST_REQUIRE_MESSAGE(!dir.empty(), "AEGIS_COMPAT_DIR is not set (CTest sets it)");
  const std::string python = env_or("AEGIS_COMPAT_PYTHON", "/usr/bin/python3");

  cluster c({.name = name, .nodes = 3});
  c.start_all();
  const auto leader = c.wait_for_leader(steady::now() + election_deadline);
  BOOST_REQUIRE_MESSAGE(leader, "the 3-node cluster did not agree on a leader within 15 s:\n"
                                    << c.describe());
  std::string endpoints;
  for (int id = 1; id <= c.size(); ++id)
    endpoints += (id > 1 ? "," : "") + c.client_address(id);

  std::vector<std::string> argv{python, dir + "/" + script, endpoints, "--members", "3"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const std::string out_path = c.dir() + "/" + script + ".out";
  std::string cmdline;
  for (const auto& a : argv)
    cmdline += (cmdline.empty() ? "" : " ") + a;
  BOOST_TEST_MESSAGE("running: " << cmdline);

  auto proc = child_process::spawn(argv, out_path, out_path);
  auto ended = proc.wait_until(steady::now() + script_deadline);
  if (!ended) {
    proc.kill();
    BOOST_FAIL(script << " did not finish within " << script_deadline.count() << " s\n"
                      << cmdline << "\n--- output ---\n"
                      << read_file(out_path) << "\n--- cluster ---\n"
                      << c.describe());
  }
  const std::string output = read_file(out_path);
  std::ostringstream why;
  why << script << ": " << ended->str() << "\n"
      << cmdline << "\n--- output ---\n"
      << output << "--- cluster ---\n"
      << c.describe();
  BOOST_CHECK_MESSAGE(!ended->signaled && ended->code == 0, why.str());
  BOOST_TEST_MESSAGE(output);
}

}  // namespace

BOOST_AUTO_TEST_CASE(etcdctl_works_as_against_etcd) {
  run_script("compat-etcdctl", "etcdctl_compat.py",
             {"--etcdctl", env_or("AEGIS_ETCDCTL", "etcdctl")});
}

BOOST_AUTO_TEST_CASE(python_etcd3_works_as_against_etcd) {
  run_script("compat-py", "python_etcd3_compat.py", {});
}
