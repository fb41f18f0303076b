// The client side of scenarios, for `mesimctl scenario run FILE... [--junit OUT.xml]`: post each file to a
// daemon (POST /scenarios), poll GET /scenarios/{id} until it ends, print a line per scenario and its failures,
// write JUnit XML. Over any HTTP transport (HttpCall), so it is tested without a daemon.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "common/result.h"

namespace mesim::qa {

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};
// One request to the control API: method, target ("/scenarios"), body. An error when there is no answer at all.
using HttpCall = std::function<Result<HttpAnswer>(const std::string& method, const std::string& target, const std::string& body)>;

struct ScenarioClientOptions {
  std::string routePrefix;  // "/devices/NAME" for that device's routes; empty: the default device
  std::chrono::milliseconds poll{100};
  std::optional<std::chrono::milliseconds> timeout;  // real time a scenario may take; then it is cancelled
  std::function<void(std::chrono::milliseconds)> sleep;  // unset: std::this_thread::sleep_for
};

// Posts `yaml` and polls until the scenario ends: its final report. An error when it cannot be posted (the daemon's
// message, with the line and column of a bad file) or the daemon stops answering.
Result<boost::json::object> runScenario(const HttpCall& http, const std::string& yaml, const ScenarioClientOptions& options);

struct ScenarioBatch {
  std::vector<boost::json::object> reports;  // one per file; a file that could not run gets a report of state "error"
  std::string output;                        // what mesimctl prints: a line per scenario and one per failure
  // 0 all passed; 1 one failed, stopped with an error or was cancelled; 2 a file could not be read or was refused
  // (bad YAML); 3 no answer from the control API. The highest that applies (mesimctl's exit codes).
  int exitCode = 0;
};

// Each file in turn (a file that cannot be read or posted does not stop the others).
ScenarioBatch runScenarioFiles(const HttpCall& http, const std::vector<std::string>& files, const ScenarioClientOptions& options);

// Writes `text` to `path` through a temporary file and a rename: a CI reader never sees half a report.
Result<> writeReportFile(const std::string& path, const std::string& text);

}  // namespace mesim::qa
