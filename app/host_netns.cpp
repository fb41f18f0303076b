#include "app/host_netns.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace mesim::app {

Result<ProgramOutput> runProgram(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return fail(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in[0]);
  close(out[1]);
  if (err) {
    close(in[1]);
    close(out[0]);
    return fail(argv[0] + ": " + std::strerror(err));
  }
  // Both ways at once: a program that writes before it has read everything must not stall us.
  ProgramOutput result;
  std::size_t written = 0;
  int inFd = in[1];
  if (input.empty()) {
    close(inFd);
    inFd = -1;
  }
  char buf[4096];
  for (;;) {
    pollfd fds[2] = {{out[0], POLLIN, 0}, {inFd, POLLOUT, 0}};
    if (poll(fds, inFd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (inFd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = write(inFd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 && errno != EINTR && errno != EAGAIN) written = input.size();  // the program closed its stdin
      if (written >= input.size()) {
        close(inFd);
        inFd = -1;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = read(out[0], buf, sizeof buf);
      if (n > 0) result.output.append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) break;
    }
  }
  if (inFd >= 0) close(inFd);
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exitStatus = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return result;
}

bool validNetnsName(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." || name.front() == '-') return false;
  for (char c : name)
    if (c == '/' || c == '\0' || static_cast<unsigned char>(c) < 0x20) return false;
  return true;
}

NetnsHostNetwork::NetnsHostNetwork(boost::asio::io_context& io, std::string netns, RunBlocking runBlocking,
                                   log::Context log)
    : io_(io), netns_(std::move(netns)), runBlocking_(std::move(runBlocking)), log_(std::move(log)) {}

NetnsHostNetwork::~NetnsHostNetwork() { *alive_ = false; }

void NetnsHostNetwork::run(std::function<void()> job) {
  if (runBlocking_) runBlocking_(std::move(job));
  else std::thread(std::move(job)).detach();
}

void NetnsHostNetwork::apply(std::string ruleset, std::function<void(Result<>)> done) {
  run([&io = io_, netns = netns_, ruleset = std::move(ruleset), done = std::move(done), alive = alive_]() mutable {
    auto ran = runProgram({"ip", "netns", "exec", netns, "nft", "-f", "-"}, ruleset);
    Result<> outcome;
    if (!ran) outcome = ran.error();
    else if (ran->exitStatus != 0)
      outcome = fail("nft in network namespace " + netns + " failed (" + std::to_string(ran->exitStatus) +
                     "): " + ran->output.substr(0, 400));
    boost::asio::post(io, [done = std::move(done), outcome = std::move(outcome), alive] {
      if (*alive) done(outcome);
    });
  });
}

void NetnsHostNetwork::readCounters(std::function<void(Result<Counters>)> done) {
  run([&io = io_, netns = netns_, done = std::move(done), alive = alive_]() mutable {
    auto ran = runProgram({"ip", "netns", "exec", netns, "nft", "-j", "list", "ruleset"}, {});
    Result<Counters> outcome = Counters{};
    if (!ran) outcome = ran.error();
    else if (ran->exitStatus != 0) outcome = fail("nft list in " + netns + " failed: " + ran->output.substr(0, 400));
    else outcome = sysdef::parseNftCounters(ran->output);  // parsed here, off the loop
    boost::asio::post(io, [done = std::move(done), outcome = std::move(outcome), alive] {
      if (*alive) done(outcome);
    });
  });
}

}  // namespace mesim::app
