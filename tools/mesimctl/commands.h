// mesimctl's commands: each is one or a few control API requests (docs/control-api.md). The table is data, so
// `mesimctl help` and the tests walk every command.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tools/mesimctl/control_client.h"

namespace mesim::ctl {

// Exit codes, for scripts and CI.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // the control API answered an error, or a check failed
inline constexpr int kExitUsage = 2;        // the command line is wrong
inline constexpr int kExitUnreachable = 3;  // no answer from the control API

struct Invocation {
  const ControlClient& client;
  std::string devicePrefix;  // "/devices/NAME" with --device, else "" (the default device)
  bool rawJson = false;      // print JSON as the daemon sent it (one line) instead of indented
  std::ostream& out;
  std::ostream& err;

  // Sends one request to a device route (the prefix is added) and prints the answer; the exit code.
  int call(const std::string& method, const std::string& path,
           const std::vector<std::pair<std::string, std::string>>& query = {}, const std::string& body = {},
           const std::string& contentType = {}) const;
  // The same for process-wide routes (/devices, /metrics, /routes): no device prefix.
  int callProcess(const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& query = {}) const;
  // Prints an answer: JSON indented (or raw), anything else as it came; errors to `err`. The exit code.
  int print(const std::string& method, const std::string& path, const Result<ControlAnswer>& answer) const;
};

struct Command {
  std::string name;
  std::string usage;    // after "mesimctl [OPTIONS] "
  std::string summary;  // one line
  std::string details;  // the rest of `mesimctl help NAME`
  std::function<int(const Invocation&, const std::vector<std::string>& args)> run;
};

std::vector<Command> makeCommands();

// "key=value" words as query pairs; nullopt (and a message on `err`) for a word without '='.
std::optional<std::vector<std::pair<std::string, std::string>>> keyValues(const std::vector<std::string>& words,
                                                                        std::ostream& err);

// The whole program: argv without argv[0]; `defaultUrl` from MESIMCTL_URL or the built-in default.
int runMesimctl(const std::vector<std::string>& args, const std::string& defaultUrl, std::ostream& out,
                std::ostream& err);

}  // namespace mesim::ctl
