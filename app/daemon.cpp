#include "app/daemon.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>

#include "app/control_server.h"
#include "firmware/clients/amthi_client.h"
#include "firmware/clients/client_guids.h"
#include "firmware/clients/mkhi_client.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/core/spinning_loop.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/alert.h"
#include "firmware/events/event_delivery.h"
#include "firmware/hbm/hbm_engine.h"
#include "firmware/lme/lme_client.h"
#include "firmware/lme/local_stream_peer.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"
#include "hostif/fuse/fuse_front_end.h"
#include "hostif/host/mei_host.h"
#include "hostif/host/mei_wdt.h"
#include "common/log.h"
#include "hostif/link/socket_link.h"
#include "hostif/preload/preload_server.h"
#include "wsman/cim/power_hook.h"
#include "wsman/eventing/http_event_transport.h"
#include "wsman/http/wsman_http_server.h"
#include "wsman/ops/wsman_service.h"
#include "watchdog_fw/watchdog_feature.h"

namespace mesim::app {

namespace fs = std::filesystem;
using boost::asio::local::stream_protocol;

namespace {
// "a=1&b=x%20y" of a control API target -> (name, value) pairs, in order.
std::vector<std::pair<std::string, std::string>> queryParams(const std::string& target) {
  std::vector<std::pair<std::string, std::string>> out;
  auto q = target.find('?');
  if (q == std::string::npos) return out;
  auto decode = [](std::string_view s) {
    std::string r;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') r += ' ';
      else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        r += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else r += s[i];
    }
    return r;
  };
  std::string_view rest = std::string_view(target).substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto part = rest.substr(0, amp);
    auto eq = part.find('=');
    out.emplace_back(decode(part.substr(0, eq)), eq == std::string_view::npos ? "" : decode(part.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::string createDirectory(const fs::path& dir, fs::perms perms) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  fs::permissions(dir, perms, ec);
  return "";
}
}  // namespace

class Daemon::Impl {
 public:
  explicit Impl(Config config) : config_(std::move(config)), signals_(io_, SIGINT, SIGTERM), control_(io_, [this](auto&&... a) {
    return handleControl(a...);
  }) {}

  int run() {
    started_ = std::chrono::steady_clock::now();
    log::Level level = log::Level::Info;
    log::parseLevel(config_.logLevel, level);
    log::setThreshold(level);

    if (auto err = createDirectory(config_.stateDir, fs::perms::owner_all); !err.empty()) return fatal(err);
    if (auto err = createDirectory(config_.runtimeDir, fs::perms::owner_all | fs::perms::group_read |
                                                           fs::perms::group_exec | fs::perms::others_read |
                                                           fs::perms::others_exec);
        !err.empty())
      return fatal(err);

    platform::PlatformDefaults defaults;
    defaults.adminPassword = config_.adminPassword;
    defaults.forceAdminPassword = config_.adminPasswordGiven;
    std::string error;
    platform_ = platform::PlatformModel::open(config_.stateDir, defaults, error);
    if (!platform_) return fatal("platform state: " + error);

    firmware::HbmEngineOptions engineOptions;
    engineOptions.bufferSlots = config_.bufferSlots;
    engine_ = std::make_unique<firmware::HbmEngine>(io_, engineOptions);
    engine_->addClient(clients::makeMkhiClient(*platform_, clients::kMkhiFixGuid));
    engine_->addClient(clients::makeAmthiClient(*platform_));
    engine_->addClient(clients::makeMkhiClient(*platform_, clients::kMkhiGuid));
    // LME/APF: channels from LMS reach the WS-Man server as local connections (firmware/lme/README.md).
    auto toWsman = [this](std::uint32_t port, stream_protocol::socket socket) {
      if (!wsmanHttp_) return false;
      if (port == lme::kPortHttps) return wsmanHttp_->serveLocalTls(std::move(socket), "lms");
      if (port != lme::kPortHttp) return false;
      wsmanHttp_->serveLocal(std::move(socket), "lms");
      return true;
    };
    lme_ = std::make_shared<lme::LmeClient>(*platform_, lme::makeLocalStreamFactory(io_, toWsman));
    engine_->addClient(lme_);
    // Watchdog (watchdog_fw/README.md): the WD client, agent-presence watchdogs, timers on the firmware clock.
    timers_ = std::make_unique<core::FirmwareTimerQueue>(io_, clock_);
    watchdog::WatchdogFeatureOptions watchdogOptions;
    watchdogOptions.stateDir = config_.stateDir;
    watchdog_ = watchdog::WatchdogFeature::create(io_, *timers_, *platform_, nullptr, &alertBus_, watchdogOptions, error);
    if (!watchdog_) return fatal("watchdog state: " + error);
    engine_->addClient(watchdog_->client());
    // Local alerts reach LMS as user notifications on an ME-opened event channel (spec/apf.md §2.7).
    alertBus_.subscribe([lme = lme_](const events::Alert& a) {
      lme->sendUserNotification({a.messageId, a.messageArguments.empty() ? "" : a.messageArguments[0], a.message, ""});
    });

    if (auto err = control_.start(config_.controlAddress, config_.controlPort); !err.empty()) return fatal(err);
    if (auto err = startWsman(); !err.empty()) return fatal(err);

    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (!ec) beginShutdown(signal == SIGINT ? "SIGINT" : "SIGTERM");
    });

    if (config_.hbmListen) {
      if (auto err = listenForDriver(*config_.hbmListen); !err.empty()) return fatal(err);
      markReady();
    } else {
      startHostSide();
    }
    core::runSpinning(io_, config_.loopSpin);
    return exitCode_;
  }

 private:
  int fatal(const std::string& message) {
    MESIM_LOG(Error, "mesim", message);
    cleanup();
    return 1;
  }

  // ---- WS-Management on 16992/16993 over the same platform model
  std::string startWsman() {
    power_ = std::make_unique<platform::HostPowerStateMachine>(*platform_, clock_);
    if (!config_.powerHook.empty()) power_->setHook(wsman::cim::makeCommandPowerHook(config_.powerHook));
    watchdog_->events().setPower(power_.get());  // IPS_WatchDogAction reset
    wsmanService_ = std::make_unique<wsman::ops::WsmanService>(*platform_, clock_, *power_);
    // WS-Eventing delivery (firmware/events, wsman/eventing): alerts published on alertBus_ reach subscribers.
    eventTransport_ = std::make_unique<wsman::eventing::HttpEventTransport>(io_);
    eventDelivery_ = std::make_unique<events::EventDelivery>(io_, clock_, *eventTransport_, config_.stateDir,
                                                             config_.eventDelivery);
    if (auto err = eventDelivery_->start(); !err.empty()) return "event subscriptions: " + err;
    eventDelivery_->attach(alertBus_);
    wsmanService_->setEventDelivery(eventDelivery_.get());
    wsmanService_->setAgentPresence(&watchdog_->agentPresence());
    if (config_.httpPort < 0 && config_.httpsPort < 0) return "";
    wsman::http::WsmanHttpOptions options;
    options.listenAddress = config_.listenAddress;
    options.httpPort = config_.httpPort;
    options.httpsPort = config_.httpsPort;
    options.stateDir = config_.stateDir;
    if (config_.tlsCert) options.tlsCertFile = *config_.tlsCert;
    if (config_.tlsKey) options.tlsKeyFile = *config_.tlsKey;
    options.clock = &clock_;
    wsmanHttp_ = std::make_unique<wsman::http::WsmanHttpServer>(io_, *platform_, options);
    wsmanHttp_->setAnonymousPredicate([](std::string_view body) { return wsman::ops::WsmanService::isIdentify(body); });
    wsmanHttp_->setHandler([this](wsman::http::WsmanRequest request, wsman::http::WsmanReply reply) {
      auto result = wsmanService_->handle(request.body, {request.user, request.local});
      reply({result.httpStatus, std::move(result.body)});
    });
    if (auto err = wsmanHttp_->start(); !err.empty()) return "WS-Man: " + err;
    return "";
  }

  // ---- external host driver on a socket (docs/hbm-link.md)
  std::string listenForDriver(const fs::path& path) {
    std::error_code ec;
    fs::remove(path, ec);
    boost::system::error_code bec;
    driverAcceptor_ = std::make_unique<stream_protocol::acceptor>(io_);
    driverAcceptor_->open(stream_protocol(), bec);
    if (!bec) driverAcceptor_->bind(stream_protocol::endpoint(path.string()), bec);
    if (!bec) driverAcceptor_->listen(1, bec);
    if (bec) return "cannot listen for an HBM driver on " + path.string() + ": " + bec.message();
    hbmSocketPath_ = path;
    acceptDriver();
    return "";
  }

  void acceptDriver() {
    driverAcceptor_->async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
      if (ec) return;
      MESIM_LOG(Info, "mesim", "external HBM driver connected");
      auto endpoint = link::makeSocketEndpoint(std::move(socket));
      std::weak_ptr<link::Endpoint> weak = endpoint;
      endpoint->onDown([this, weak] {
        if (driverLink_ == weak.lock()) {
          engine_->detach();
          driverLink_.reset();
        }
      });
      if (driverLink_) driverLink_->close();
      driverLink_ = endpoint;
      engine_->attach(endpoint);
      acceptDriver();
    });
  }

  // ---- built-in host model and its front ends
  void startHostSide() {
    auto link = link::makeInProcessLink(io_);
    engine_->attach(link.firmware);
    host::HostOptions hostOptions;
    hostOptions.bufferSlots = config_.bufferSlots;
    host_ = std::make_unique<host::MeiHost>(io_, link.host, hostOptions);
    host_->onStateChange([this](host::DevState state) {
      MESIM_LOG(Debug, "mesim", "dev_state " << host::devStateName(state));
      if (state == host::DevState::Enabled && !frontEndsStarted_) startFrontEnds();
    });
    host_->start();
  }

  void startFrontEnds() {
    frontEndsStarted_ = true;
    if (config_.fuse != FuseMode::Off) {
      host::MeiWdtOptions wdtOptions;  // the host's iamt_wdt behind dev/watchdog0
      wdtOptions.minTimeout = config_.watchdogMinTimeout;
      wdt_ = std::make_unique<host::MeiWdt>(io_, *host_, wdtOptions);
      wdt_->start();
      fuse_ = std::make_unique<fuse::FuseFrontEnd>(io_, *host_, config_.runtimeDir / "fs", wdt_.get());
      if (auto err = fuse_->start(); !err.empty()) {
        fuse_.reset();
        if (config_.fuse == FuseMode::On) return fatalWhileRunning("FUSE: " + err);
        MESIM_LOG(Warn, "mesim", "FUSE unavailable (" << err << "); dev/mei0 is served through the preload socket only");
      } else {
        linkIntoRuntimeDir("dev");
        linkIntoRuntimeDir("sys");
        if (config_.meiDev) {
          if (auto err = linkMeiDev(*config_.meiDev); !err.empty()) return fatalWhileRunning(err);
        }
      }
    }
    if (config_.preload) {
      preload_ = std::make_unique<preload::PreloadServer>(io_, *host_, config_.runtimeDir / "preload.sock");
      if (auto err = preload_->start(); !err.empty()) return fatalWhileRunning("preload socket: " + err);
    }
    markReadyWhenSettled();
  }

  // Ready once the host side has settled as a booted kernel leaves it: the bus fixup has filled sysfs fw_ver and
  // closed its connection, and iamt_wdt has registered dev/watchdog0 (or found no watchdog client). A client that
  // starts at "ready" then sees a stable device. A firmware that never answers delays ready by kSettleLimit.
  void markReadyWhenSettled() {
    static constexpr auto kSettleLimit = std::chrono::seconds(2);
    auto waiting = std::make_shared<int>(wdt_ ? 2 : 1);
    auto settled = [this, waiting] {
      if (--*waiting == 0 && !ready_) {
        settleTimer_.cancel();
        markReady();
      }
    };
    settleTimer_.expires_after(kSettleLimit);
    settleTimer_.async_wait([this](boost::system::error_code ec) {
      if (ec || ready_) return;
      MESIM_LOG(Warn, "mesim", "the host side did not settle within 2 s; ready anyway");
      markReady();
    });
    host_->whenFixupDone(settled);
    if (wdt_) wdt_->whenProbed(settled);
  }

  void linkIntoRuntimeDir(const std::string& name) {
    std::error_code ec;
    auto path = config_.runtimeDir / name;
    if (fs::is_symlink(path, ec)) fs::remove(path, ec);
    fs::create_directory_symlink(fs::path("fs") / name, path, ec);
    if (ec) MESIM_LOG(Warn, "mesim", "cannot link " << path.string() << ": " << ec.message());
    else runtimeLinks_.push_back(path);
  }

  std::string linkMeiDev(const fs::path& path) {
    std::error_code ec;
    auto target = config_.runtimeDir / "fs" / "dev" / "mei0";
    if (fs::is_symlink(path, ec)) {
      fs::remove(path, ec);  // a stale link from an earlier run
    } else if (fs::exists(path, ec)) {
      return path.string() + " exists and is not a link (a real MEI device?); not replacing it";
    }
    fs::create_symlink(target, path, ec);
    if (ec) return "cannot create " + path.string() + ": " + ec.message();
    meiDevLink_ = path;
    return "";
  }

  void fatalWhileRunning(const std::string& message) {
    MESIM_LOG(Error, "mesim", message);
    exitCode_ = 1;
    beginShutdown("fatal error");
  }

  void markReady() {
    ready_ = true;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
    std::vector<std::string> where;
    if (config_.hbmListen) where.push_back("HBM driver socket " + config_.hbmListen->string());
    if (fuse_) {
      where.push_back("device " + (config_.runtimeDir / "dev" / "mei0").string());
      where.push_back("sysfs " + (config_.runtimeDir / "sys" / "class" / "mei" / "mei0").string());
    }
    if (meiDevLink_) where.push_back("also " + meiDevLink_->string());
    if (preload_) where.push_back("preload socket " + (config_.runtimeDir / "preload.sock").string());
    if (wsmanHttp_) {
      auto ports = wsmanHttp_->ports();
      if (ports.http) where.push_back("WS-Man http://" + config_.listenAddress + ":" + std::to_string(ports.http) + "/wsman");
      if (ports.https) where.push_back("https://" + config_.listenAddress + ":" + std::to_string(ports.https) + "/wsman");
    }
    where.push_back("control http://" + config_.controlAddress + ":" + std::to_string(control_.port()));
    where.push_back("state " + config_.stateDir.string());
    std::string text;
    for (auto& part : where) text += (text.empty() ? "" : ", ") + part;
    MESIM_LOG(Info, "mesim", "ready in " << ms << " ms: " << text);
  }

  // ---- control API
  ControlResponse handleControl(const std::string& method, const std::string& target, const std::string&) {
    if (target == "/healthz") {
      if (method != "GET" && method != "HEAD") return {405, "text/plain", "method not allowed\n"};
      return ready_ && !shuttingDown_ ? ControlResponse{200, "text/plain", "ok\n"}
                                      : ControlResponse{503, "text/plain", "starting\n"};
    }
    if (target == "/status" && method == "GET") return {200, "application/json", statusJson()};
    if (method == "POST" && (target == "/events/raise" || target.rfind("/events/raise?", 0) == 0)) return raiseAlert(target);
    if (method == "POST" && target == "/faults/firmware-reset") {
      engine_->reset("requested through the control API");
      return {200, "application/json", "{\"done\":\"firmware-reset\"}\n"};
    }
    if (method == "POST" && target == "/faults/me-stop") {
      engine_->requestStop(0);
      return {200, "application/json", "{\"done\":\"me-stop\"}\n"};
    }
    if (method == "POST" && target == "/faults/host-reset") {
      if (!host_) return {409, "application/json", "{\"error\":\"no built-in host model (--hbm-listen)\"}\n"};
      host_->reset("requested through the control API");
      return {200, "application/json", "{\"done\":\"host-reset\"}\n"};
    }
    return {404, "application/json", "{\"error\":\"no such endpoint\"}\n"};
  }

  // POST /events/raise?messageId=iAMT0005[&arg=...][&category=Watchdog][&severity=2][&message=...]: an alert as a
  // firmware feature would raise it, for QA without a watchdog.
  ControlResponse raiseAlert(const std::string& target) {
    events::Alert alert;
    alert.time = clock_.now();
    for (auto& [name, value] : queryParams(target)) {
      if (name == "messageId") alert.messageId = value;
      else if (name == "arg") alert.messageArguments.push_back(value);
      else if (name == "category") alert.category = value;
      else if (name == "message") alert.message = value;
      else if (name == "severity" && !value.empty() && value.size() < 6 && value.find_first_not_of("0123456789") == std::string::npos)
        alert.perceivedSeverity = static_cast<std::uint16_t>(std::stoul(value));
      else return {400, "application/json", "{\"error\":\"unknown or bad parameter " + name + "\"}\n"};
    }
    if (alert.messageId.empty()) return {400, "application/json", "{\"error\":\"messageId is required\"}\n"};
    alertBus_.publish(alert);
    boost::json::object out;
    out["raised"] = alert.messageId;
    if (eventDelivery_) out["last_indication"] = eventDelivery_->stats().lastIndication;
    return {200, "application/json", boost::json::serialize(out) + "\n"};
  }

  boost::json::object eventsJson() {
    boost::json::object ev;
    const auto& policy = eventDelivery_->policy();
    ev["policy"] = {{"retries", policy.retries},
                    {"retry_interval_ms", policy.retryInterval.count()},
                    {"on_failure", events::toString(policy.onFailure)},
                    {"queue_limit", policy.maxPending},
                    {"timeout_ms", policy.attemptTimeout.count()}};
    const auto& st = eventDelivery_->stats();
    ev["raised"] = st.raised;
    ev["delivered"] = st.delivered;
    ev["failed_attempts"] = st.failedAttempts;
    ev["terminated"] = st.terminated;
    ev["expired"] = st.expired;
    ev["store_errors"] = st.storeErrors;
    ev["last_indication"] = st.lastIndication;
    boost::json::array subs;
    for (const auto& s : eventDelivery_->subscriptions()) {
      boost::json::object o{{"id", s.subscription.id},
                            {"filter", s.subscription.filter},
                            {"notify_to", s.subscription.notifyTo},
                            {"mode", s.subscription.mode == events::DeliveryMode::PushWithAck ? "PushWithAck" : "Push"},
                            {"pending", s.pending},
                            {"suspended", s.suspended},
                            {"in_flight", s.inFlight},
                            {"failures", s.failures},
                            {"last_error", s.lastError},
                            {"delivered", s.delivered},
                            {"dropped", s.dropped}};
      subs.push_back(std::move(o));
    }
    ev["subscriptions"] = std::move(subs);
    return ev;
  }

  std::string statusJson() {
    boost::json::object status;
    status["version"] = MESIM_VERSION;
    status["ready"] = ready_;
    status["uptime_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
    status["state_dir"] = config_.stateDir.string();
    status["runtime_dir"] = config_.runtimeDir.string();
    auto es = engine_->stats();
    boost::json::object fw;
    fw["hbm_state"] = engine_->state() == firmware::HbmEngine::State::Started ? "started"
                      : engine_->state() == firmware::HbmEngine::State::Stopped ? "stopped"
                                                                                : "waiting";
    fw["connections"] = es.connections;
    fw["resets"] = es.resets;
    fw["messages_in"] = es.messagesIn;
    fw["messages_out"] = es.messagesOut;
    fw["flow_control_violations"] = es.flowControlViolations;
    status["firmware"] = fw;
    if (watchdog_) {
      auto& os = watchdog_->osWatchdog();
      const auto& ev = watchdog_->events().stats();
      boost::json::object wd;
      wd["os_state"] = watchdog::toString(os.state());
      wd["os_timeout"] = os.timeout();
      wd["os_expiries"] = os.expiries();
      wd["agents"] = watchdog_->agentPresence().watchdogs().size();
      wd["records"] = ev.records;
      wd["alerts"] = ev.alerts;
      wd["resets"] = ev.resets;
      if (wdt_) wd["host_wdt"] = host::toString(wdt_->state());
      status["watchdog"] = wd;
    }
    if (host_) {
      auto hs = host_->stats();
      boost::json::object h;
      h["dev_state"] = host::devStateName(host_->state());
      h["open_files"] = hs.openFiles;
      h["connected_files"] = hs.connectedFiles;
      h["pending_calls"] = hs.pendingCalls;
      h["resets"] = hs.resets;
      h["fuse"] = fuse_ != nullptr;
      h["preload"] = preload_ != nullptr;
      status["host"] = h;
    }
    if (lme_) {
      auto ls = lme_->stats();
      boost::json::object l;
      l["sessions"] = ls.sessions;
      l["established"] = ls.established;
      l["channels"] = ls.channels;
      l["sessions_started"] = ls.sessionsStarted;
      l["channels_opened"] = ls.channelsOpened;
      l["protocol_errors"] = ls.protocolErrors;
      l["events_sent"] = ls.eventsSent;
      status["lme"] = l;
    }
    if (eventDelivery_) status["events"] = eventsJson();
    return boost::json::serialize(status) + "\n";
  }

  // ---- shutdown
  void beginShutdown(const std::string& why) {
    if (shuttingDown_) return;
    shuttingDown_ = true;
    MESIM_LOG(Info, "mesim", "shutting down (" << why << ")");
    signals_.cancel();
    if (wdt_) wdt_->stop();
    if (host_) host_->stop();
    // Unmounting may exec fusermount3: off the loop, which goes on answering meanwhile.
    std::thread([this] {
      if (fuse_) fuse_->stop();
      boost::asio::post(io_, [this] { finishShutdown(); });
    }).detach();
  }

  void finishShutdown() {
    cleanup();
    io_.stop();
    MESIM_LOG(Info, "mesim", "stopped");
  }

  void cleanup() {
    settleTimer_.cancel();
    if (preload_) preload_->stop();
    control_.stop();
    if (wsmanHttp_) wsmanHttp_->stop();
    if (driverAcceptor_) {
      boost::system::error_code ignored;
      driverAcceptor_->close(ignored);
    }
    if (driverLink_) driverLink_->close();
    std::error_code ec;
    if (hbmSocketPath_) fs::remove(*hbmSocketPath_, ec);
    for (auto& link : runtimeLinks_) fs::remove(link, ec);
    if (meiDevLink_) fs::remove(*meiDevLink_, ec);
  }

  Config config_;
  boost::asio::io_context io_{1};
  boost::asio::signal_set signals_;
  ControlServer control_;
  core::SystemFirmwareClock clock_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<platform::HostPowerStateMachine> power_;
  std::unique_ptr<wsman::ops::WsmanService> wsmanService_;
  events::AlertBus alertBus_;
  std::unique_ptr<core::FirmwareTimerQueue> timers_;
  std::unique_ptr<watchdog::WatchdogFeature> watchdog_;
  std::unique_ptr<wsman::eventing::HttpEventTransport> eventTransport_;
  std::unique_ptr<events::EventDelivery> eventDelivery_;
  std::unique_ptr<wsman::http::WsmanHttpServer> wsmanHttp_;
  std::unique_ptr<firmware::HbmEngine> engine_;
  std::unique_ptr<host::MeiHost> host_;
  std::unique_ptr<host::MeiWdt> wdt_;
  std::unique_ptr<fuse::FuseFrontEnd> fuse_;
  std::shared_ptr<lme::LmeClient> lme_;
  boost::asio::steady_timer settleTimer_{io_};
  std::unique_ptr<preload::PreloadServer> preload_;
  std::unique_ptr<stream_protocol::acceptor> driverAcceptor_;
  std::shared_ptr<link::Endpoint> driverLink_;
  std::optional<fs::path> hbmSocketPath_;
  std::optional<fs::path> meiDevLink_;
  std::vector<fs::path> runtimeLinks_;
  std::chrono::steady_clock::time_point started_;
  bool frontEndsStarted_ = false;
  bool ready_ = false;
  bool shuttingDown_ = false;
  int exitCode_ = 0;
};

Daemon::Daemon(Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Daemon::~Daemon() = default;
int Daemon::run() { return impl_->run(); }

}  // namespace mesim::app
