// Scenarios in the daemon (docs/scenarios.md): POST /scenarios runs a YAML scenario on a device, GET /scenarios and
// GET /scenarios/{id} report, DELETE /scenarios/{id} cancels; --scenario FILE runs files once every device is
// ready. Each run calls the control routes in-process (qa/scenario_run.h); one runs at a time on a device, since
// two would both move its clock.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "app/control_routes.h"
#include "common/result.h"
#include "qa/scenario.h"
#include "qa/scenario_run.h"

namespace mesim::app {

class ScenarioService {
 public:
  struct Hooks {
    qa::RouteCaller call;                               // the process's control API, in-process
    std::function<Device*(const std::string&)> device;  // a device by name, or null
  };
  // A file given with --scenario, read and parsed before the devices start.
  struct StartupScenario {
    std::filesystem::path file;
    qa::Scenario scenario;
  };

  ScenarioService(boost::asio::io_context& io, Hooks hooks);
  ~ScenarioService();

  // Reads and parses --scenario files: the first that cannot be read or parsed, or names no device, is the error.
  static Result<std::vector<StartupScenario>> load(const std::vector<std::filesystem::path>& files,
                                                   const std::function<bool(const std::string&)>& knownDevice);
  // Runs them one after the other on the devices they name (else `fallback`); `done(allPassed)` after the last.
  void runAtStart(std::vector<StartupScenario> scenarios, Device& fallback, std::function<void(bool)> done);

  // The routes' work: answers as the control API gives them.
  ControlResponse post(Device& addressed, const std::string& yaml);
  ControlResponse list(const Device& device) const;
  ControlResponse get(const Device& device, const std::string& id) const;
  ControlResponse cancel(const Device& device, const std::string& id);
  // For GET /status: the scenario running on `device` and how those it ran ended.
  boost::json::object statusOf(const Device& device) const;
  // Cancels whatever runs and starts nothing more (the process is stopping).
  void stopAll();

 private:
  struct DeviceRecord {
    std::shared_ptr<qa::ScenarioRun> running;
    std::vector<std::shared_ptr<qa::ScenarioRun>> finished;  // newest last, at most kKeptFinished
    std::uint64_t passed = 0;
    std::uint64_t failed = 0;  // failed, error or cancelled
  };
  static constexpr std::size_t kKeptFinished = 16;

  // Starts `scenario` on `device`; null (and `why`) when the device is busy or unknown.
  std::shared_ptr<qa::ScenarioRun> start(qa::Scenario scenario, Device& device, std::function<void(const qa::ScenarioRun&)> then,
                                         std::string& why, unsigned& status);
  void finished(const qa::ScenarioRun& run);
  std::shared_ptr<qa::ScenarioRun> find(const Device& device, const std::string& id) const;
  void runNextAtStart();

  boost::asio::io_context& io_;
  Hooks hooks_;
  std::uint64_t nextId_ = 1;
  std::map<std::string, DeviceRecord, std::less<>> devices_;
  // --scenario files still to run, and what to do after the last.
  std::vector<StartupScenario> startup_;
  std::size_t startupNext_ = 0;
  Device* startupFallback_ = nullptr;
  bool startupPassed_ = true;
  bool stopping_ = false;
  std::function<void(bool)> startupDone_;
};

void addScenarioRoutes(ControlRoutes& routes, ScenarioService& service);

}  // namespace mesim::app
