#include "app/process_shell.h"

#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "app/clock_routes.h"
#include "app/control_routes.h"
#include "app/control_server.h"
#include "app/device.h"
#include "app/host_routes.h"
#include "app/kvm_routes.h"
#include "app/provisioning_routes.h"
#include "app/consent_routes.h"
#include "app/hardware_routes.h"
#include "app/fault_routes.h"
#include "app/log_routes.h"
#include "app/metrics.h"
#include "app/scenario_routes.h"
#include "common/log.h"
#include "common/text_codecs.h"
#include "firmware/core/spinning_loop.h"
#include "hostif/fuse/fuse_front_end.h"

namespace mesim::app {

namespace {
// A DMTF message identifier: a registry prefix (letters and digits, starting with a letter) and four digits.
bool isMessageId(std::string_view id) {
  if (id.size() < 5 || id.size() > 12 || !std::isalpha(static_cast<unsigned char>(id[0]))) return false;
  const auto prefix = id.substr(0, id.size() - 4);
  const auto number = id.substr(id.size() - 4);
  return std::all_of(prefix.begin(), prefix.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }) &&
         std::all_of(number.begin(), number.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}
}  // namespace

class ProcessShell::Impl {
 public:
  explicit Impl(Config config)
      : config_(std::move(config)),
        signals_(io_, SIGINT, SIGTERM),
        control_(io_, [this](auto&&... a) { return handleControl(a...); }, controlOptions(config_)) {
    addShellRoutes();
  }

  int run() {
    started_ = std::chrono::steady_clock::now();
    log::Level level = log::Level::Info;
    log::parseLevel(config_.logLevel, level);
    log::setThreshold(level);
    raiseFileLimit(config_.devices.size());
    fuse::installProcessLogging();  // libfuse's one log hook, for every device's mount
    clearStaleMounts();

    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (!ec) beginShutdown(signal == SIGINT ? "SIGINT" : "SIGTERM");
    });
    auto scenarios = ScenarioService::load(config_.scenarios, [this](const std::string& name) {
      return std::any_of(config_.devices.begin(), config_.devices.end(), [&](const auto& d) { return d.name == name; });
    });
    if (!scenarios) return fatalAtStart(scenarios.error().message);
    startupScenarios_ = std::move(*scenarios);
    if (auto r = control_.start(config_.controlAddress, config_.controlPort); !r) return fatalAtStart(r.error().message);
    Device::Services services;
    services.runBlocking = [this](std::function<void()> job) { boost::asio::post(blocking_, std::move(job)); };
    services.descriptorReserve = config_.descriptorReserve;
    for (const auto& deviceConfig : config_.devices) {
      auto device = std::make_unique<Device>(io_, deviceConfig, services);
      Device* raw = device.get();
      devices_.push_back(std::move(device));
      byName_[raw->name()] = raw;
      auto started = raw->start({[this, raw] { deviceReady(*raw); },
                                 [this, raw](const std::string& why) { deviceFailed(*raw, why); }});
      if (!started) return fatalAtStart(deviceLabel(*raw) + started.error().message);
    }
    core::runSpinning(io_, config_.loopSpin);
    return exitCode_;
  }

 private:
  static ControlServerOptions controlOptions(const Config& config) {
    ControlServerOptions options;
    options.maxConnections = config.controlMaxConnections;
    options.descriptorReserve = config.descriptorReserve;
    return options;
  }

  // Each device holds a handful of sockets and files; a fleet of them outgrows the usual soft limit of 1024, and
  // 10,000 devices (five listeners each) the hard limits of many machines too. With the privilege to (root,
  // CAP_SYS_RESOURCE) the hard limit goes up to what the devices need; without it the soft limit goes to the hard
  // one and the listeners' descriptor reserve (docs/configuration.md, fd-reserve) keeps the firmware working.
  static void raiseFileLimit(std::size_t devices) {
    constexpr rlim_t kPerDevice = 16, kProcess = 1024;  // a device holds about 8 (bench_fleet)
    const rlim_t wanted = kProcess + kPerDevice * static_cast<rlim_t>(devices);
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
      rlim_t ceiling = wanted;
      if (std::ifstream nrOpen("/proc/sys/fs/nr_open"); nrOpen) {
        unsigned long long value = 0;
        if (nrOpen >> value) ceiling = std::min<rlim_t>(ceiling, static_cast<rlim_t>(value));
      }
      rlimit raised{ceiling, ceiling};
      if (ceiling > limit.rlim_max && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    }
    if (limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
  }

  // A daemon killed with -9 leaves its FUSE mounts behind, dead (ENOTCONN). They go first, before anything of this
  // start can fail: a start that fails leaves no dead mount either.
  void clearStaleMounts() {
    for (const auto& device : config_.devices) {
      if (device.fuse == FuseMode::Off) continue;
      const log::Context context(device.name);
      auto logContext = [&context]() -> const log::Context& { return context; };
      const auto mountPoint = device.runtimeDir / "fs";
      auto cleared = fuse::clearStaleMount(mountPoint);
      if (!cleared) MESIM_LOG(Warn, "mesim", cleared.error().message);
      else if (*cleared) MESIM_LOG(Warn, "mesim", "cleared a stale FUSE mount on " << mountPoint.string()
                                                      << " (left by a daemon that did not stop)");
    }
  }

  std::string deviceLabel(const Device& device) const {
    return devices_.size() > 1 || config_.devices.size() > 1 ? "device " + device.name() + ": " : "";
  }
  Device& defaultDevice() { return *devices_.front(); }

  // A device that could not start: the others that did are stopped too, the process exits 1.
  int fatalAtStart(const std::string& message) {
    MESIM_LOG(Error, "mesim", message);
    exitCode_ = 1;
    beginShutdown("fatal error");
    core::runSpinning(io_, config_.loopSpin);  // the devices already started stop on the loop
    return exitCode_;
  }

  void deviceFailed(Device& device, const std::string& why) {
    MESIM_LOG(Error, "mesim", deviceLabel(device) << why);
    exitCode_ = 1;
    beginShutdown("fatal error");
  }

  void deviceReady(Device& device) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
    std::string control = "control http://" + config_.controlAddress + ":" + std::to_string(control_.port());
    if (config_.devices.size() == 1) {
      MESIM_LOG(Info, "mesim", "ready in " << ms << " ms: " << device.whereabouts() << ", " << control);
      allDevicesReady();
      return;
    }
    // Each device's line names it (its own context); the process's line comes once all are up.
    log::Context context(device.name());
    if (log::Level::Info >= log::threshold())
      log::write(context, log::Level::Info, "mesim", "device ready in " + std::to_string(ms) + " ms: " + device.whereabouts());
    if (++readyCount_ == devices_.size()) {
      MESIM_LOG(Info, "mesim", "ready in " << ms << " ms: " << devices_.size() << " devices (default "
                                           << defaultDevice().name() << "), " << control);
      allDevicesReady();
    }
  }

  // The --scenario files run now; with --scenario-exit the process then stops with their verdict.
  void allDevicesReady() {
    allReady_ = true;
    if (startupScenarios_.empty()) return;
    scenarios_.runAtStart(std::move(startupScenarios_), defaultDevice(), [this](bool passed) {
      MESIM_LOG(Info, "mesim", "the --scenario files ran: " << (passed ? "all passed" : "not all passed"));
      if (!config_.scenarioExit) return;
      exitCode_ = passed ? 0 : 1;
      beginShutdown("--scenario-exit");
    });
  }

  // ---- control API: /devices/NAME/... addresses a device; the same routes without the prefix address the default.
  ControlResponse handleControl(const std::string& method, const std::string& target, const std::string& body) {
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) return jsonError(400, "bad request target");
    boost::urls::url_view url = *parsed;
    std::vector<std::string> path;
    for (auto segment : url.segments()) path.push_back(segment);

    if (path.size() == 1 && path[0] == "healthz") {
      if (method != "GET" && method != "HEAD") return {405, "text/plain", "method not allowed\n"};
      return allReady_ && !shuttingDown_ ? ControlResponse{200, "text/plain", "ok\n"}
                                         : ControlResponse{503, "text/plain", "starting\n"};
    }
    if (path.size() == 1 && path[0] == "devices") {
      if (method != "GET") return jsonError(405, "method not allowed");
      boost::json::array list;
      for (const auto& d : devices_)
        list.push_back({{"name", d->name()}, {"ready", d->ready()}, {"state_dir", d->config().stateDir.string()}});
      return jsonResponse(200, boost::json::object{{"default", defaultDevice().name()}, {"devices", std::move(list)}});
    }
    if (path.size() == 1 && path[0] == "routes") {
      if (method != "GET" && method != "HEAD") return jsonError(405, "method not allowed");
      boost::json::array list;
      for (const auto& route : routes_.routes())
        list.push_back({{"method", route.method}, {"path", route.pattern}, {"summary", route.summary}});
      return jsonResponse(200, boost::json::object{{"routes", std::move(list)},
                                                   {"process_routes", {"GET /healthz", "GET /devices", "GET /routes", "GET /metrics"}},
                                                   {"device_prefix", "/devices/{name}"}});
    }
    if (path.size() == 1 && path[0] == "metrics") {
      if (method != "GET" && method != "HEAD") return jsonError(405, "method not allowed");
      return processMetrics();
    }
    Device* device = &defaultDevice();
    if (!path.empty() && path[0] == "devices") {
      if (path.size() < 2) return jsonError(404, "no such endpoint");
      auto it = byName_.find(path[1]);
      if (it == byName_.end()) return jsonError(404, "no device named '" + path[1] + "'");
      device = it->second;
      path.erase(path.begin(), path.begin() + 2);
    }
    // Form-style decoding ('+' is a space), as the old hand-written decoder did and curl --data-urlencode expects.
    ControlRequest request{method, url.params(boost::urls::encoding_opts(true, false, false)), body, {}};
    return routes_.dispatch(*device, path, std::move(request));
  }

  // GET /metrics: the process and every device (app/metrics.h).
  ControlResponse processMetrics() const {
    ProcessFacts facts;
    facts.devices = devices_.size();
    facts.readyDevices = static_cast<std::size_t>(
        std::count_if(devices_.begin(), devices_.end(), [](const auto& d) { return d->ready(); }));
    facts.controlConnectionsOpen = control_.openConnections();
    facts.control = &control_.stats();
    return metricsResponse(facts, devices_);
  }

  // The routes of the shell itself; features add theirs from their own files (control_routes.h).
  void addShellRoutes() {
    addMetricsRoutes(routes_);
    routes_.add("GET", "/healthz", "200 once the device is ready, 503 before and while stopping",
                [this](Device& device, const ControlRequest&) {
                  return device.ready() && !shuttingDown_ ? ControlResponse{200, "text/plain", "ok\n"}
                                                          : ControlResponse{503, "text/plain", "starting\n"};
                }, false);
    routes_.add("GET", "/status", "the device's state, ports, clients and counters as JSON",
                [this](Device& device, const ControlRequest&) {
                  auto status = device.status();
                  status["version"] = MESIM_VERSION;
                  status["devices"] = devices_.size();
                  status["scenarios"] = scenarios_.statusOf(device);
                  const auto& cs = control_.stats();
                  status["control"] = {{"open", control_.openConnections()},
                                       {"connections", cs.connections},
                                       {"evicted", cs.evicted},
                                       {"rejected_busy", cs.rejectedBusy},
                                       {"bad_requests", cs.badRequests},
                                       {"descriptors_short", cs.descriptorsShort},
                                       {"accept_errors", cs.acceptErrors}};
                  return jsonResponse(200, status);
                }, false);
    routes_.add("POST", "/events/raise", "raise an alert as a firmware feature would (messageId, arg, ...)",
                [this](Device& device, const ControlRequest& request) { return raiseAlert(device, request.params); });
    addFaultRoutes(routes_);
    addLogRoutes(routes_);
    addClockRoutes(routes_);
    addHostRoutes(routes_);
    addProvisioningRoutes(routes_);
    addConsentRoutes(routes_);
    addHardwareRoutes(routes_);
    addScenarioRoutes(routes_, scenarios_);
    addKvmRoutes(routes_);
  }

  // POST /events/raise?messageId=iAMT0005[&arg=...][&category=Watchdog][&severity=2][&message=...]: an alert as a
  // firmware feature would raise it, for QA without a watchdog.
  ControlResponse raiseAlert(Device& device, boost::urls::params_view params) {
    // Arguments end up in queue files and in CIM_AlertIndication bodies: XML text of bounded size only.
    constexpr std::size_t kMaxValueBytes = 1024;
    constexpr std::size_t kMaxArguments = 16;
    events::Alert alert;
    for (auto param : params) {
      const std::string& name = param.key;
      const std::string& value = param.value;
      if (!text::isXmlText(name) || !text::isXmlText(value))
        return jsonError(400, "parameter " + name + " holds bytes that are not UTF-8 text");
      if (value.size() > kMaxValueBytes)
        return jsonError(400, "parameter " + name + " is longer than " + std::to_string(kMaxValueBytes) + " bytes");
      if (name == "messageId") alert.messageId = value;
      else if (name == "arg") alert.messageArguments.push_back(value);
      else if (name == "category") alert.category = value;
      else if (name == "message") alert.message = value;
      else if (name == "severity" && !value.empty() && value.size() < 6 &&
               value.find_first_not_of("0123456789") == std::string::npos)
        alert.perceivedSeverity = static_cast<std::uint16_t>(std::stoul(value));
      else return jsonError(400, "unknown or bad parameter " + name);
    }
    if (alert.messageId.empty()) return jsonError(400, "messageId is required");
    if (!isMessageId(alert.messageId))
      return jsonError(400, "messageId must be a registry prefix and four digits, like iAMT0005 or PLAT0004");
    if (alert.messageArguments.size() > kMaxArguments)
      return jsonError(400, "at most " + std::to_string(kMaxArguments) + " arg parameters");
    auto lastIndication = device.raiseAlert(alert);
    return jsonResponse(200, boost::json::object{{"raised", alert.messageId}, {"last_indication", lastIndication}});
  }

  // ---- shutdown: every device stops (FUSE unmounts off the loop), then the loop ends.
  void beginShutdown(const std::string& why) {
    if (shuttingDown_) return;
    shuttingDown_ = true;
    MESIM_LOG(Info, "mesim", "shutting down (" << why << ")");
    scenarios_.stopAll();
    signals_.cancel();
    stopsPending_ = devices_.size() + 1;
    for (auto& device : devices_) device->stop([this] { deviceStopped(); });
    deviceStopped();
  }

  void deviceStopped() {
    if (--stopsPending_ != 0) return;
    control_.stop();
    io_.stop();
    MESIM_LOG(Info, "mesim", "stopped");
  }

  Config config_;
  boost::asio::io_context io_{1};
  // Blocking work of the devices (opening state, TLS keys), off the loop. Jobs hold no device pointer they use
  // off the loop, so the devices may go first. They mostly wait on the disk (a first start's fsyncs): more threads
  // than cores, so that a fleet's devices wait together and the file system commits their writes in one go.
  boost::asio::thread_pool blocking_{std::max(16u, std::thread::hardware_concurrency())};
  boost::asio::signal_set signals_;
  ControlRoutes routes_;
  ControlServer control_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::map<std::string, Device*, std::less<>> byName_;
  // Scenarios call the control routes in-process, as a client of the control API would.
  ScenarioService scenarios_{io_, {[this](const std::string& method, const std::string& target, const std::string& body) {
                                     auto answer = handleControl(method, target, body);
                                     return qa::RouteAnswer{answer.status, std::move(answer.body)};
                                   },
                                   [this](const std::string& name) -> Device* {
                                     auto it = byName_.find(name);
                                     return it == byName_.end() ? nullptr : it->second;
                                   }}};
  std::vector<ScenarioService::StartupScenario> startupScenarios_;
  std::chrono::steady_clock::time_point started_;
  std::size_t readyCount_ = 0;
  std::size_t stopsPending_ = 0;
  bool allReady_ = false;
  bool shuttingDown_ = false;
  int exitCode_ = 0;
};

ProcessShell::ProcessShell(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
ProcessShell::~ProcessShell() = default;
int ProcessShell::run() { return impl_->run(); }

}  // namespace mesim::app
