#include "wsman/cim/power_hook.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstring>
#include <thread>
#include <vector>

#include "common/log.h"

extern char** environ;

namespace mesim::wsman::cim {

platform::HostPowerStateMachine::Hook makeCommandPowerHook(std::string command, log::Context log) {
  return [command = std::move(command), device = std::move(log)](const platform::PowerChange& change) {
    auto logContext = [&device] { return device; };  // MESIM_LOG names the device
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "MESIM_POWER_", 12) != 0) env.emplace_back(*e);
    env.push_back("MESIM_POWER_OLD=" + std::to_string(change.oldState));
    env.push_back("MESIM_POWER_NEW=" + std::to_string(change.newState));
    env.push_back("MESIM_POWER_REQUEST=" + std::to_string(change.requested));
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string shell = "/bin/sh", flag = "-c", cmd = command;
    char* argv[] = {shell.data(), flag.data(), cmd.data(), nullptr};
    pid_t pid = 0;
    if (int err = posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv, envp.data())) {
      MESIM_LOG(Warn, "power", "power hook could not start: " << std::strerror(err));
      return;
    }
    // Reap off the loop thread; the exit status is only logged.
    std::thread([pid, cmd = command, device] {
      auto logContext = [&device] { return device; };
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        MESIM_LOG(Warn, "power", "power hook \"" << cmd << "\" failed (status " << status << ")");
    }).detach();
  };
}

}  // namespace mesim::wsman::cim
