// `mesimctl scenario`: run scenario files and wait for their verdict (CI's exit status, JUnit XML), or list, show
// and cancel the scenarios of a device (docs/scenarios.md). The posting, polling and reports are qa's client.
#include <iostream>
#include <string>
#include <vector>

#include "qa/junit_report.h"
#include "qa/scenario_client.h"
#include "tools/mesimctl/commands.h"

namespace mesim::ctl {

namespace {

bool isSeconds(const std::string& text) {
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    return used == text.size() && value > 0;
  } catch (const std::exception&) {
    return false;
  }
}

int usage(const Invocation& in, const std::string& why) {
  in.err << "mesimctl scenario: " << why << " (mesimctl help scenario)\n";
  return kExitUsage;
}

int run(const Invocation& in, const std::vector<std::string>& args) {
  std::vector<std::string> files;
  std::string junit;
  qa::ScenarioClientOptions options;
  options.routePrefix = in.devicePrefix;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--junit" || args[i] == "--limit") {
      if (i + 1 >= args.size()) return usage(in, args[i] + " needs a value");
      const auto& value = args[++i];
      if (args[i - 1] == "--junit") {
        junit = value;
      } else {
        if (!isSeconds(value)) return usage(in, "--limit takes a positive number of seconds");
        options.timeout = std::chrono::milliseconds(static_cast<long long>(std::stod(value) * 1000));
      }
    } else if (!args[i].empty() && args[i][0] == '-') {
      return usage(in, "unknown option " + args[i]);
    } else {
      files.push_back(args[i]);
    }
  }
  if (files.empty()) return usage(in, "run takes one or more scenario files");
  const qa::HttpCall http = [&in](const std::string& method, const std::string& target,
                                  const std::string& body) -> Result<qa::HttpAnswer> {
    auto answer = in.client.request(method, target, {}, body, body.empty() ? "" : "application/yaml");
    if (!answer) return answer.error();
    return qa::HttpAnswer{answer->status, std::move(answer->body)};
  };
  auto batch = qa::runScenarioFiles(http, files, options);
  in.out << batch.output;
  if (!junit.empty()) {
    if (auto written = qa::writeReportFile(junit, qa::junitXml(batch.reports)); !written) {
      in.err << "mesimctl scenario: " << written.error().message << "\n";
      return std::max(batch.exitCode, kExitFailed);
    }
  }
  return batch.exitCode;
}

}  // namespace

Command scenarioCommand() {
  Command c{"scenario", "scenario run FILE... [--junit OUT.xml] [--limit SECONDS] | list | show ID | cancel ID",
            "run QA scenario files and report (exit status, JUnit XML); list, show or cancel scenarios",
            "`scenario run` posts each file (POST /scenarios), waits for it to end and prints a line per scenario\n"
            "(PASS, FAIL, ERROR) and one per failed step or expectation. Exit status: 0 all passed, 1 one failed,\n"
            "2 a file could not be read or was refused (the daemon's message names its line and column), 3 no\n"
            "answer. --junit writes JUnit XML for CI dashboards (a testsuite per scenario, a testcase per action\n"
            "and expectation); --limit cancels a scenario still running after SECONDS of real time.\n"
            "`scenario list` (GET /scenarios), `scenario show ID` (GET /scenarios/ID: the full report),\n"
            "`scenario cancel ID` (DELETE /scenarios/ID). The format: docs/scenarios.md.\n"
            "Example: mesimctl scenario run scenarios/host-crash-alert.yaml --junit results.xml",
            {}};
  c.run = [](const Invocation& in, const std::vector<std::string>& args) {
    if (args.empty()) return usage(in, "run, list, show or cancel");
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (args[0] == "run") return run(in, rest);
    if (args[0] == "list" && rest.empty()) return in.call("GET", "/scenarios");
    if (args[0] == "show" && rest.size() == 1) return in.call("GET", "/scenarios/" + rest[0]);
    if (args[0] == "cancel" && rest.size() == 1) return in.call("DELETE", "/scenarios/" + rest[0]);
    return usage(in, "run FILE..., list, show ID or cancel ID");
  };
  return c;
}

}  // namespace mesim::ctl
