#include "app/scenario_routes.h"

#include <fstream>

#include <boost/asio/post.hpp>
#include <sstream>

#include "app/device.h"
#include "common/log.h"
#include "common/text_codecs.h"
#include "qa/scenario_parser.h"

namespace mesim::app {

namespace json = boost::json;

namespace {

constexpr const char* kLog = "scenario";

// An alert delivery the device has under way or about to start: a check made now could miss what it brings.
// Retries waiting for their interval are not: that wait is firmware time, which the run steps through.
bool deliveriesUnderWay(const Device& device) {
  auto status = device.status();
  const auto* events = status.if_contains("events");
  const auto* subscriptions = events && events->is_object() ? events->get_object().if_contains("subscriptions") : nullptr;
  if (!subscriptions || !subscriptions->is_array()) return false;
  for (const auto& s : subscriptions->get_array()) {
    if (!s.is_object()) continue;
    const auto& o = s.get_object();
    auto flag = [&](const char* key) { auto* v = o.if_contains(key); return v && v->is_bool() && v->get_bool(); };
    auto count = [&](const char* key) { auto* v = o.if_contains(key); return v && v->is_number() ? v->to_number<double>() : 0.0; };
    if (flag("in_flight")) return true;
    if (count("pending") > 0 && !flag("suspended") && count("failures") == 0) return true;
  }
  return false;
}

std::string hrefOf(const std::string& device, const std::string& id) { return "/devices/" + device + "/scenarios/" + id; }

}  // namespace

ScenarioService::ScenarioService(boost::asio::io_context& io, Hooks hooks) : io_(io), hooks_(std::move(hooks)) {}

ScenarioService::~ScenarioService() { stopAll(); }

Result<std::vector<ScenarioService::StartupScenario>> ScenarioService::load(
    const std::vector<std::filesystem::path>& files, const std::function<bool(const std::string&)>& knownDevice) {
  std::vector<StartupScenario> loaded;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    if (!in || !(text << in.rdbuf())) return fail("--scenario " + file.string() + ": cannot read it");
    auto scenario = qa::parseScenario(text.str());
    if (!scenario) return fail("--scenario " + file.string() + ": " + scenario.error().message);
    if (scenario->device && !knownDevice(*scenario->device))
      return fail("--scenario " + file.string() + ": no device named '" + *scenario->device + "'");
    loaded.push_back({file, std::move(*scenario)});
  }
  return loaded;
}

void ScenarioService::runAtStart(std::vector<StartupScenario> scenarios, Device& fallback, std::function<void(bool)> done) {
  startup_ = std::move(scenarios);
  startupNext_ = 0;
  startupFallback_ = &fallback;
  startupDone_ = std::move(done);
  runNextAtStart();
}

void ScenarioService::runNextAtStart() {
  if (stopping_) return;
  if (startupNext_ == startup_.size()) {
    if (auto done = std::move(startupDone_)) done(startupPassed_);
    return;
  }
  auto& next = startup_[startupNext_++];
  Device* device = next.scenario.device ? hooks_.device(*next.scenario.device) : startupFallback_;
  std::string why;
  unsigned status = 0;
  auto run = start(std::move(next.scenario), *device, [this](const qa::ScenarioRun& run) {
    startupPassed_ = startupPassed_ && run.state() == qa::RunState::Passed;
    boost::asio::post(io_, [this] { runNextAtStart(); });
  }, why, status);
  if (!run) {
    MESIM_LOG(Error, kLog, "--scenario " << next.file.string() << ": " << why);
    startupPassed_ = false;
    boost::asio::post(io_, [this] { runNextAtStart(); });
    return;
  }
  MESIM_LOG(Info, kLog, "--scenario " << next.file.string() << " runs as scenario " << run->id() << " on device " << device->name());
}

std::shared_ptr<qa::ScenarioRun> ScenarioService::start(qa::Scenario scenario, Device& device,
                                                        std::function<void(const qa::ScenarioRun&)> then,
                                                        std::string& why, unsigned& status) {
  if (!device.started()) {
    why = "device " + device.name() + " is still starting";
    status = 409;
    return nullptr;
  }
  auto& record = devices_[device.name()];
  if (record.running) {
    why = "scenario " + record.running->id() + " is running on device " + device.name() +
          "; one runs at a time (DELETE " + hrefOf(device.name(), record.running->id()) + " stops it)";
    status = 409;
    return nullptr;
  }
  qa::ScenarioRun::Options options;
  options.id = std::to_string(nextId_++);
  options.device = device.name();
  options.routePrefix = "/devices/" + device.name();
  Device* target = &device;
  options.busy = [target] { return deliveriesUnderWay(*target); };
  auto run = qa::ScenarioRun::create(io_, std::move(scenario), hooks_.call, std::move(options),
                                     [this, then = std::move(then)](const qa::ScenarioRun& run) {
                                       finished(run);
                                       if (then) then(run);
                                     });
  record.running = run;
  run->start();
  return run;
}

void ScenarioService::finished(const qa::ScenarioRun& run) {
  const log::Context context(run.device());
  auto logContext = [&context]() -> const log::Context& { return context; };
  auto& record = devices_[run.device()];
  if (record.running.get() == &run) {
    record.finished.push_back(record.running);
    record.running.reset();
    if (record.finished.size() > kKeptFinished) record.finished.erase(record.finished.begin());
  }
  if (run.state() == qa::RunState::Passed) {
    ++record.passed;
    MESIM_LOG(Info, kLog, "scenario " << run.id() << " " << run.summary());
    return;
  }
  ++record.failed;
  MESIM_LOG(Warn, kLog, "scenario " << run.id() << " " << run.summary());
  for (const auto& line : run.failures()) MESIM_LOG(Warn, kLog, "scenario " << run.id() << " " << line);
}

std::shared_ptr<qa::ScenarioRun> ScenarioService::find(const Device& device, const std::string& id) const {
  auto it = devices_.find(device.name());
  if (it == devices_.end()) return nullptr;
  if (it->second.running && it->second.running->id() == id) return it->second.running;
  for (const auto& run : it->second.finished)
    if (run->id() == id) return run;
  return nullptr;
}

ControlResponse ScenarioService::post(Device& addressed, const std::string& yaml) {
  if (yaml.empty()) return jsonError(400, "the body is the scenario's YAML (docs/scenarios.md)");
  qa::SourceMark at;
  auto scenario = qa::parseScenario(yaml, &at);
  if (!scenario) {
    json::object error{{"error", text::toValidUtf8(scenario.error().message)}};
    if (at.line > 0) {
      error["line"] = at.line;
      error["column"] = at.column;
    }
    return jsonResponse(400, error);
  }
  Device* device = &addressed;
  if (scenario->device) {
    device = hooks_.device(*scenario->device);
    if (!device) return jsonError(404, "the scenario names device '" + *scenario->device + "', which this process does not hold");
  }
  std::string why;
  unsigned status = 0;
  auto run = start(std::move(*scenario), *device, nullptr, why, status);
  if (!run) return jsonError(status, why);
  return jsonResponse(202, json::object{{"id", run->id()},
                                        {"device", device->name()},
                                        {"state", qa::toString(run->state())},
                                        {"href", hrefOf(device->name(), run->id())}});
}

ControlResponse ScenarioService::list(const Device& device) const {
  json::array scenarios;
  if (auto it = devices_.find(device.name()); it != devices_.end()) {
    auto add = [&](const qa::ScenarioRun& run) {
      scenarios.push_back(json::object{{"id", run.id()},
                                       {"name", run.scenario().name},
                                       {"state", qa::toString(run.state())},
                                       {"href", hrefOf(device.name(), run.id())}});
    };
    for (const auto& run : it->second.finished) add(*run);
    if (it->second.running) add(*it->second.running);
  }
  return jsonResponse(200, json::object{{"device", device.name()}, {"scenarios", std::move(scenarios)}});
}

ControlResponse ScenarioService::get(const Device& device, const std::string& id) const {
  auto run = find(device, id);
  if (!run) return jsonError(404, "device " + device.name() + " has no scenario " + id);
  return jsonResponse(200, run->report());
}

ControlResponse ScenarioService::cancel(const Device& device, const std::string& id) {
  auto run = find(device, id);
  if (!run) return jsonError(404, "device " + device.name() + " has no scenario " + id);
  if (run->state() != qa::RunState::Running)
    return jsonError(409, "scenario " + id + " has ended (" + qa::toString(run->state()) + ")");
  run->cancel("cancelled through the control API");
  return jsonResponse(200, run->report());
}

json::object ScenarioService::statusOf(const Device& device) const {
  json::object o{{"running", nullptr}, {"passed", 0}, {"failed", 0}, {"last", nullptr}};
  auto it = devices_.find(device.name());
  if (it == devices_.end()) return o;
  const auto& record = it->second;
  if (record.running) o["running"] = record.running->id();
  o["passed"] = record.passed;
  o["failed"] = record.failed;
  if (!record.finished.empty()) {
    const auto& last = *record.finished.back();
    o["last"] = json::object{{"id", last.id()}, {"name", last.scenario().name}, {"state", qa::toString(last.state())}};
  }
  return o;
}

void ScenarioService::stopAll() {
  stopping_ = true;
  startupDone_ = nullptr;
  std::vector<std::shared_ptr<qa::ScenarioRun>> running;
  for (auto& [name, record] : devices_)
    if (record.running) running.push_back(record.running);
  for (auto& run : running) run->cancel("the process is stopping");
}

void addScenarioRoutes(ControlRoutes& routes, ScenarioService& service) {
  routes.add("POST", "/scenarios", "run a scenario: the body is its YAML; 202 with its id and href",
             [&service](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               return service.post(device, request.body);
             });
  routes.add("GET", "/scenarios", "the device's scenarios: id, name, state",
             [&service](Device& device, const ControlRequest&) { return service.list(device); }, false);
  routes.add("GET", "/scenarios/{id}", "a scenario's state and the result of each step and expectation",
             [&service](Device& device, const ControlRequest& request) { return service.get(device, request.pathArgs.at("id")); },
             false);
  routes.add("DELETE", "/scenarios/{id}", "cancel a running scenario; answers its report",
             [&service](Device& device, const ControlRequest& request) { return service.cancel(device, request.pathArgs.at("id")); },
             false);
}

}  // namespace mesim::app
