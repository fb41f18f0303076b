// Runs a program to its end (or a timeout) with a chosen environment and collects what it printed: the tests'
// way to put an unmodified C program in front of a device node or libmesim-preload.so.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace mesim::test {

struct ProgramRun {
  int status = -1;  // exit status, or -1 if it did not exit normally (killed at the timeout, say)
  std::string output;  // stdout and stderr, interleaved as written
};

// The environment a child gets: this process's without the entries that start with one of `dropPrefixes` (so
// that the test's own settings cannot leak in), then `env`.
inline std::vector<std::string> childEnvironment(const std::vector<std::string>& env,
                                                 const std::vector<std::string_view>& dropPrefixes) {
  std::vector<std::string> out;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    bool dropped = false;
    for (auto prefix : dropPrefixes) dropped = dropped || entry.substr(0, prefix.size()) == prefix;
    if (!dropped) out.emplace_back(entry);
  }
  out.insert(out.end(), env.begin(), env.end());
  return out;
}

// The null-terminated pointer array posix_spawn takes, into `strings` (which must outlive it).
inline std::vector<char*> nullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// `argv[0]` is a path. The child's environment is childEnvironment(env, dropPrefixes). Killed at `timeout`.
inline ProgramRun runProgram(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                             std::chrono::milliseconds timeout,
                             const std::vector<std::string_view>& dropPrefixes = {"LD_PRELOAD=", "MESIM_"}) {
  std::vector<std::string> envStrings = childEnvironment(env, dropPrefixes);
  std::vector<char*> envp = nullTerminated(envStrings);
  std::vector<std::string> argStrings = argv;
  std::vector<char*> args = nullTerminated(argStrings);

  ProgramRun run;
  if (argStrings.empty()) {
    run.output = "no program to run";
    return run;
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    run.output = std::string("pipe failed: ") + std::strerror(errno);
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    run.output = std::string("spawn failed: ") + std::strerror(rc);
    return run;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      run.output += "\n[killed: timeout]";
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    run.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace mesim::test
