// fork/exec with pipes (process.hpp).
#include "control/proposer/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace aegis::control::proposer {

namespace {

constexpr size_t kMaxStream = 16u << 20;

// The current environment with `extra` merged in, as "NAME=value" strings.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    env[kv.substr(0, kv.find('='))] = kv;
  }
  for (const auto& kv : extra)
    env[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> out;
  for (auto& [name, kv] : env)
    out.push_back(std::move(kv));
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child: wire the pipes, change directory, exec; only async-signal-safe calls here.
[[noreturn]] void exec_child(int out_fd, int err_fd, const char* cwd, char** argv, char** envp) {
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  if (cwd && *cwd && chdir(cwd) != 0) {
    const char msg[] = "cannot change to the working directory\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  execvpe(argv[0], argv, envp);
  const char msg[] = "cannot start the program\n";
  (void)!write(2, msg, sizeof msg - 1);
  _exit(127);
}

// Reads both pipes until both close; poll() so a chatty stderr cannot block stdout.
void drain(int out_fd, int err_fd, process_result& r) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  std::string* dest[2] = {&r.out, &r.err};
  int open_count = 2;
  char buf[8192];
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0 && dest[i]->size() < kMaxStream) dest[i]->append(buf, static_cast<size_t>(n));
      if (n <= 0 && !(n < 0 && errno == EINTR)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

process_result run_process(const std::vector<std::string>& argv, const std::string& cwd,
                           const std::vector<std::string>& extra_env) {
  process_result r;
  if (argv.empty()) return {-1, "", "no program given"};
  std::vector<std::string> args = argv;
  std::vector<std::string> env = merged_env(extra_env);
  auto c_args = c_strings(args);
  auto c_env = c_strings(env);
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return {-1, "", std::strerror(errno)};
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return {-1, "", std::strerror(errno)};
  }
  const pid_t pid = fork();
  if (pid == 0) exec_child(out_pipe[1], err_pipe[1], cwd.c_str(), c_args.data(), c_env.data());
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return {-1, "", std::string("fork failed: ") + std::strerror(errno)};
  }
  drain(out_pipe[0], err_pipe[0], r);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace aegis::control::proposer
