#include "app/device.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "app/device_kvm.h"
#include "app/fault_injection.h"
#include "common/log.h"
#include "common/text_codecs.h"
#include "firmware/clients/amthi_client.h"
#include "firmware/clients/client_guids.h"
#include "firmware/clients/mkhi_client.h"
#include "firmware/core/clock_text.h"
#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/events/event_delivery.h"
#include "firmware/events/subscriber_outages.h"
#include "firmware/hbm/hbm_engine.h"
#include "firmware/lme/lme_client.h"
#include "firmware/lme/local_stream_peer.h"
#include "firmware/platform/alarm_clock.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/hardware_model.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/provisioning_timeout.h"
#include "firmware/platform/user_consent.h"
#include "hostif/fuse/fuse_front_end.h"
#include "hostif/host/mei_host.h"
#include "hostif/host/mei_wdt.h"
#include "hostif/link/socket_link.h"
#include "hostif/os/host_machine.h"
#include "hostif/os/serial_console.h"
#include "hostif/preload/preload_server.h"
#include "watchdog_fw/watchdog_feature.h"
#include "wsman/cim/power_hook.h"
#include "wsman/eoi/eoi_service.h"
#include "wsman/eoi/eoi_soap.h"
#include "wsman/eventing/http_event_transport.h"
#include "wsman/http/wsman_http_server.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/webui/amt_storage.h"
#include "wsman/webui/web_ui.h"
#include "app/ider_host.h"
#include "app/ocr_boot_host.h"
#include "app/device_cira.h"
#include "app/host_netns.h"
#include "app/pet_traps.h"
#include "firmware/sysdef/system_defense_engine.h"
#include "wsman/redirection/pty_serial_host.h"
#include "wsman/redirection/unix_socket_serial_host.h"
#include "wsman/redirection/redirection_server.h"
#include "wsman/redirection/web_redirection.h"

namespace mesim::app {

namespace fs = std::filesystem;
using boost::asio::local::stream_protocol;

namespace {

static_assert(hostos::power::kOn == platform::power::kOn && hostos::power::kOffSoft == platform::power::kOffSoft &&
                  hostos::power::kOffHard == platform::power::kOffHard &&
                  hostos::power::kHibernate == platform::power::kHibernate && hostos::power::kNmi == platform::power::kNmi &&
                  hostos::power::kOffSoftGraceful == platform::power::kOffSoftGraceful &&
                  hostos::power::kPowerCycleHardGraceful == platform::power::kPowerCycleHardGraceful,
              "the host OS's CIM power codes are the firmware's");

// The simulated OS's timers on the device's firmware clock: a manual clock moves them with the firmware's.
class FirmwareOsTimers final : public hostos::OsTimers {
 public:
  explicit FirmwareOsTimers(core::FirmwareTimerQueue& timers) : timers_(timers) {}
  TimerId after(std::chrono::milliseconds delay, std::function<void()> callback) override {
    return timers_.scheduleAfter(delay, std::move(callback));
  }
  void cancel(TimerId id) override { timers_.cancel(id); }

 private:
  core::FirmwareTimerQueue& timers_;
};

// The platform's power as the host sees and changes it.
class PlatformHostPower final : public hostos::HostPower {
 public:
  explicit PlatformHostPower(platform::HostPowerStateMachine& power) : power_(power) {}
  std::uint32_t state() const override { return power_.state(); }
  Result<> change(std::uint32_t newState) override {
    switch (power_.hostChange(newState)) {
      case platform::PowerChangeStatus::Completed: return {};
      case platform::PowerChangeStatus::InvalidState:
        return fail(std::string("the host is already ") + hostos::power::name(newState));
      case platform::PowerChangeStatus::Failed: return fail("the platform state could not be stored (see the log)");
      case platform::PowerChangeStatus::NotSupported: break;
    }
    return fail("the host cannot change to power state " + std::to_string(newState));
  }

 private:
  platform::HostPowerStateMachine& power_;
};

// On a manual clock, lets the loop run what each step of a move sets going before the clock moves past the next
// deadline, so a timer's consequences that cross the loop arrive at the time they were sent, as on a running clock:
// the simulated OS's heartbeat is HBM messages, an answer, the firmware re-arming its watchdog. Without it a move
// fires every deadline of its span back to back, and the firmware's watchdog expires under heartbeats still queued.
// It follows the clock before the timer queue does, so at each step the clock calls it first: it has the queue's
// due timers run by a handler of its own, then polls the loop (nested, which Asio supports) until nothing is ready.
//
// Why a handler, and why woken by cancelling a wait rather than by a post: a move runs inside a handler (the control
// route's), and with concurrency hint 1 Asio keeps what a handler posts on that handler's private queue, counted only
// when the handler returns. A nested poll runs those operations but cannot count them, and their uncounted
// completions drive the loop's work count to zero, which stops the loop. A waiting operation is counted when it
// starts, and cancelling it queues its handler without counting anything; the timers then run inside that handler,
// so what they post is counted when it returns. Only what is ready runs; nothing waits on real time.
class LoopSettler final : public core::FirmwareClock::Follower {
 public:
  LoopSettler(boost::asio::io_context& io, core::FirmwareClock& clock) : io_(io), clock_(clock), trigger_(io) {
    clock_.follow(*this);
  }
  ~LoopSettler() { clock_.unfollow(*this); }
  LoopSettler(const LoopSettler&) = delete;
  LoopSettler& operator=(const LoopSettler&) = delete;
  // `deviceAlive` turns false before the device's members (the queue among them) go.
  void setQueue(core::FirmwareTimerQueue* queue, std::shared_ptr<bool> deviceAlive) {
    queue_ = queue;
    deviceAlive_ = std::move(deviceAlive);
    arm();
  }

  std::optional<core::FirmwareClock::time_point> nextDeadline() const override { return std::nullopt; }
  std::size_t runDue() override {
    if (!queue_ || io_.stopped()) return 0;  // the queue's own runDue, right after, runs what is due
    ran_ = 0;
    triggered_ = false;
    trigger_.cancel();
    // Bounded: a client that keeps the loop busy (a FUSE or WS-Man flood) cannot hold a move up for good. But not
    // before the timers have run in the trigger's handler (it is queued, so this ends): otherwise the clock would run
    // them from the route's handler next, which is what must not happen.
    constexpr std::size_t kMostHandlersPerStep = 100'000;
    for (std::size_t handlers = 0; (handlers < kMostHandlersPerStep || !triggered_) && io_.poll_one() > 0; ++handlers) {
    }
    return ran_;
  }

 private:
  void arm() {
    trigger_.expires_at(boost::asio::steady_timer::time_point::max());
    trigger_.async_wait([this, alive = deviceAlive_](const boost::system::error_code&) {
      if (!*alive) return;  // the device is going: touch nothing
      triggered_ = true;
      ran_ += queue_->runDue();
      arm();
    });
  }

  boost::asio::io_context& io_;
  core::FirmwareClock& clock_;
  boost::asio::steady_timer trigger_;  // waits for ever; cancelled to run the queue in a handler
  core::FirmwareTimerQueue* queue_ = nullptr;
  std::shared_ptr<bool> deviceAlive_;
  std::size_t ran_ = 0;
  bool triggered_ = false;
};

Result<> createDirectory(const fs::path& dir, fs::perms perms) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, perms, ec);
  return {};
}
}  // namespace

class Device::Impl {
 public:
  Impl(boost::asio::io_context& io, DeviceConfig config, Services services)
      : io_(io),
        config_(std::move(config)),
        services_(std::move(services)),
        log_(config_.name),
        clock_(core::makeFirmwareClock(config_.clock)),
        loopSettler_(manualClock() ? std::make_unique<LoopSettler>(io_, *clock_) : nullptr),
        timers_(std::make_unique<core::FirmwareTimerQueue>(io_, *clock_)) {
    if (loopSettler_) loopSettler_->setQueue(timers_.get(), alive_);
  }

  const log::Context& logContext() const { return log_; }

  Result<> start(Callbacks callbacks) {
    callbacks_ = std::move(callbacks);
    started_ = std::chrono::steady_clock::now();
    if (config_.meiAccess.grantsOthers())
      MESIM_LOG(Warn, "mesim", "dev/mei0, preload.sock and the HBM socket are open to every local user ("
                                   << describe(config_.meiAccess)
                                   << "): any of them can read the OS admin account (AMTHI GetLocalSystemAccount)");
    if (auto r = createDirectory(config_.stateDir, fs::perms::owner_all); !r) return r;
    if (auto r = createDirectory(config_.runtimeDir, fs::perms::owner_all | fs::perms::group_read |
                                                         fs::perms::group_exec | fs::perms::others_read |
                                                         fs::perms::others_exec);
        !r)
      return r;

    platform::PlatformDefaults defaults;
    defaults.adminPassword = config_.adminPassword;
    defaults.forceAdminPassword = config_.adminPasswordGiven;
    defaults.provisioningState = config_.provisioning.state;
    defaults.controlMode = config_.provisioning.controlMode;
    defaults.wirelessNic = config_.wirelessNic;
    defaults.trustedRootHashes = config_.trustedRootHashes;
    defaults.hostName = config_.hostName;
    defaults.identity = config_.identity;
    if (!services_.runBlocking) {
      auto opened = platform::PlatformModel::open(config_.stateDir, defaults);
      if (!opened) return fail("platform state: " + opened.error().message);
      return startFeatures(std::move(*opened));
    }
    // A first start writes and fsyncs the state (milliseconds of waiting on the disk): off the loop, so that the
    // devices of a fleet wait on the disk together, not one after another. The rest starts on the loop.
    services_.runBlocking([this, alive = alive_, &io = io_, stateDir = config_.stateDir, defaults] {
      auto opened = platform::PlatformModel::open(stateDir, defaults);  // touches nothing of `this`
      boost::asio::post(io, [this, alive, opened = std::move(opened)]() mutable {
        if (!*alive || stopping_) return;
        if (!opened) return fatalWhileRunning("platform state: " + opened.error().message);
        if (auto r = startFeatures(std::move(*opened)); !r) fatalWhileRunning(r.error().message);
      });
    });
    return {};
  }

  // Everything after the platform state: the firmware, its features, the listeners, the host side.
  Result<> startFeatures(std::unique_ptr<platform::PlatformModel> platform) {
    platform_ = std::move(platform);
    platform_->setLogContext(log_);
    platform_->setDiskFullSwitch(&faults_.disk());
    // PET (docs/pet.md): every event the PET filters select from now on is sent to the SNMP subscribers.
    petTraps_ = std::make_unique<PetTrapSender>(io_, *platform_, *clock_, log_);
    if (config_.cira)
      if (auto r = applyCiraPreset(*platform_, *config_.cira); !r) return r;

    firmware::HbmEngineOptions engineOptions;
    engineOptions.bufferSlots = config_.bufferSlots;
    engineOptions.log = log_;
    engine_ = std::make_unique<firmware::HbmEngine>(io_, engineOptions);
    engine_->addClient(clients::makeMkhiClient(*platform_, clients::kMkhiFixGuid));
    clients::AmthiOptions amthiOptions;
    amthiOptions.whenCertificateExists = [this](std::function<void()> then) {
      if (!wsmanHttp_) return then();
      wsmanHttp_->withTlsIdentity([then = std::move(then)](const Result<>&) { then(); });
    };
    amthiOptions.clock = clock_.get();
    engine_->addClient(clients::makeAmthiClient(*platform_, std::move(amthiOptions)));
    provisioningTimeout_ =
        std::make_unique<platform::ProvisioningTimeout>(*timers_, *platform_, config_.provisioning.timeout);
    userConsent_ = std::make_unique<platform::UserConsent>(*platform_, *timers_);  // docs/user-consent.md
    engine_->addClient(clients::makeMkhiClient(*platform_, clients::kMkhiGuid));
    // LME/APF: channels from LMS reach the WS-Man server as local connections (firmware/lme/README.md).
    auto toWsman = [this](std::uint32_t port, stream_protocol::socket socket) {
      if (!wsmanHttp_) return false;
      if (port == lme::kPortHttps) return wsmanHttp_->serveLocalTls(std::move(socket), "lms");
      if (port != lme::kPortHttp) return false;
      wsmanHttp_->serveLocal(std::move(socket), "lms");
      return true;
    };
    lme_ = std::make_shared<lme::LmeClient>(*platform_, lme::makeLocalStreamFactory(io_, toWsman, log_));
    engine_->addClient(lme_);
    // Watchdog (watchdog_fw/README.md): the WD client, agent-presence watchdogs, timers on the firmware clock.
    watchdog::WatchdogFeatureOptions watchdogOptions;
    watchdogOptions.stateDir = config_.stateDir;
    auto watchdog = watchdog::WatchdogFeature::create(*timers_, *platform_, nullptr, &alertBus_, watchdogOptions);
    if (!watchdog) return fail("watchdog state: " + watchdog.error().message);
    watchdog_ = std::move(*watchdog);
    if (auto r = startHardware(); !r) return r;
    watchdog_->store().setDiskFullSwitch(&faults_.disk());
    engine_->addClient(watchdog_->client());
    // Local alerts reach LMS as user notifications on an ME-opened event channel (spec/apf.md §2.7).
    alertBus_.subscribe([lme = lme_](const events::Alert& a) {
      lme->sendUserNotification({a.messageId, a.messageArguments.empty() ? "" : a.messageArguments[0], a.message, ""});
    });

    // Ready once each part has settled: the host side (or the driver socket) and the TLS identity (loaded, or to
    // be made on first use).
    pendingParts_ = 1;
    if (auto r = startWsman(); !r) return r;
    if (wsmanHttp_) {
      ++pendingParts_;
      wsmanHttp_->whenTlsSettled([this](const Result<>& outcome) {
        if (!outcome) return fatalWhileRunning("WS-Man: " + outcome.error().message);
        partSettled();
      });
    }
    if (config_.hbmListen) {
      if (auto r = listenForDriver(*config_.hbmListen); !r) return r;
      boost::asio::post(io_, [this] { partSettled(); });
    } else {
      startHostSide();
    }
    startHostMachine();
    if (auto r = startRedirection(); !r) return r;
    startCira();
    return {};
  }

  // CIRA (docs/cira.md): the tunnel to an MPS that the remote-access policies ask for; its channels reach the
  // servers started above.
  void startCira() {
    CiraServers servers;
    servers.wsman = wsmanHttp_.get();
    servers.listenAddress = config_.listenAddress;
    servers.redirectionPort = [this] { return redirectionServer_ ? redirectionServer_->ports().plain : std::uint16_t(0); };
    servers.redirectionTlsPort = [this] { return redirectionServer_ ? redirectionServer_->ports().tls : std::uint16_t(0); };
    servers.rfbPort = [this] { return kvm_ ? kvm_->rfbPort() : std::uint16_t(0); };
    cira_ = std::make_unique<DeviceCira>(io_, *timers_, *platform_, std::move(servers), log_);
    cira_->start();
    alertBus_.subscribe([this](const events::Alert&) {
      if (cira_) cira_->alertRaised();
    });
  }

  void stop(std::function<void()> done) {
    if (stopping_) return;
    stopping_ = true;
    settleTimer_.cancel();
    if (wdt_) wdt_->stop();
    if (host_) host_->stop();
    if (!fuse_) {
      cleanup();
      boost::asio::post(io_, std::move(done));
      return;
    }
    // Unmounting may exec fusermount3: off the loop, which goes on answering meanwhile.
    std::thread([this, done = std::move(done)]() mutable {
      fuse_->stop();
      boost::asio::post(io_, [this, done = std::move(done)] {
        cleanup();
        done();
      });
    }).detach();
  }

  const DeviceConfig& config() const { return config_; }
  bool ready() const { return ready_; }
  const core::FirmwareClock& clock() const { return *clock_; }
  core::ManualFirmwareClock* manualClock() { return dynamic_cast<core::ManualFirmwareClock*>(clock_.get()); }
  const core::FirmwareTimerQueue& timers() const { return *timers_; }

  std::string whereabouts() const {
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
    if (redirectionServer_) {
      auto ports = redirectionServer_->ports();
      if (ports.plain) where.push_back("redirection tcp://" + config_.listenAddress + ":" + std::to_string(ports.plain));
      if (ports.tls) where.push_back("redirection-tls tcp://" + config_.listenAddress + ":" + std::to_string(ports.tls));
    }
    if (kvm_ && kvm_->rfbPort()) where.push_back("rfb tcp://" + config_.listenAddress + ":" + std::to_string(kvm_->rfbPort()));
    if (solPty_) where.push_back("SOL pty " + solPty_->slavePath());
    if (solSocket_) where.push_back("SOL " + solSocket_->describe());
    where.push_back("state " + config_.stateDir.string());
    std::string text;
    for (auto& part : where) text += (text.empty() ? "" : ", ") + part;
    return text;
  }

  std::uint64_t raiseAlert(events::Alert alert) {
    alert.time = clock_->now();
    alertBus_.publish(alert);
    return eventDelivery_ ? eventDelivery_->stats().lastIndication : 0;
  }
  void firmwareReset(const std::string& why) { engine_->reset(why); }
  void meStop() { engine_->requestStop(0); }
  bool hostReset(const std::string& why) {
    if (!host_) return false;
    host_->reset(why);
    return true;
  }

  boost::json::object eventsJson() const {
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
    ev["dropped_unreserved"] = st.droppedUnreserved;
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
      boost::json::object byMessage;
      for (const auto& [messageId, count] : s.deliveredByMessage) byMessage[messageId] = count;
      o["delivered_by_message"] = std::move(byMessage);
      subs.push_back(std::move(o));
    }
    ev["subscriptions"] = std::move(subs);
    return ev;
  }

  Parts parts() const {
    return {engine_.get(),         lme_.get(),         watchdog_.get(),  eventDelivery_.get(),
            wsmanService_.get(),   wsmanHttp_.get(),   platform_.get(),  subscriberOutages_.get(),
            redirection_.get(),    kvm_ ? &kvm_->service() : nullptr, cira_ ? &cira_->client() : nullptr};
  }
  void countFault(std::string_view kind) {
    auto it = faultsInjected_.find(kind);
    if (it == faultsInjected_.end()) it = faultsInjected_.emplace(std::string(kind), 0).first;
    ++it->second;
  }
  const std::map<std::string, std::uint64_t, std::less<>>& faultsInjected() const { return faultsInjected_; }

  // Who the device is (docs/fleet.md, "Identities"): what a fleet's tests compare across restarts and state dirs.
  boost::json::object identityJson() const {
    const auto& state = platform_->state();
    return {{"uuid", platform_->uuidString()},
            {"host_name", state.hostName},
            {"wired_mac", text::macText(state.wired.mac)},
            {"wireless_mac", text::macText(state.wireless.mac)},
            {"digest_realm", state.digestRealm}};
  }

  boost::json::object status() const {
    boost::json::object status;
    status["name"] = config_.name;
    if (ready_) status["ready_ms"] = readyAfter_.count();
    status["ready"] = ready_;
    status["uptime_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
    status["state_dir"] = config_.stateDir.string();
    status["runtime_dir"] = config_.runtimeDir.string();
    if (!engine_) return status;  // still opening its state
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
    status["identity"] = identityJson();
    if (watchdog_) {
      auto& os = watchdog_->osWatchdog();
      const auto& ev = watchdog_->events().stats();
      boost::json::object wd;
      wd["os_state"] = watchdog::toString(os.state());
      wd["os_timeout"] = os.timeout();
      wd["os_expiries"] = os.expiries();
      if (auto deadline = os.deadline()) wd["os_deadline"] = core::formatUtc(*deadline);
      wd["agents"] = watchdog_->agentPresence().watchdogs().size();
      wd["records"] = ev.records;
      wd["alerts"] = ev.alerts;
      wd["resets"] = ev.resets;
      if (wdt_) wd["host_wdt"] = host::toString(wdt_->state());
      status["watchdog"] = wd;
    }
    if (systemDefense_) status["system_defense"] = systemDefenseStatus();
    if (alarmClock_) {
      boost::json::object ac;
      ac["alarms"] = platform_->state().alarmClock.occurrences.size();
      if (auto next = alarmClock_->nextAlarm()) ac["next_alarm"] = core::formatUtc(*next);
      ac["rung"] = alarmClock_->alarmsRung();
      ac["wakes"] = alarmClock_->wakes();
      status["alarm_clock"] = ac;
    }
    if (host_) {
      auto hs = host_->stats();
      boost::json::object h;
      h["dev_state"] = host::devStateName(host_->state());
      h["open_files"] = hs.openFiles;
      h["connected_files"] = hs.connectedFiles;
      h["pending_calls"] = hs.pendingCalls;
      h["resets"] = hs.resets;
      h["os"] = os_ ? hostos::toString(os_->state()) : "none";  // the simulated OS (GET /host has the rest)
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
    if (redirection_) status["redirection"] = redirectionJson();
    if (iderHost_) status["ider"] = iderHost_->statusJson();
    if (ocrBoot_) status["ocr"] = ocrBoot_->statusJson();
    if (cira_) status["cira"] = cira_->statusJson();
    if (userConsent_) status["consent"] = platform::toString(userConsent_->state());
    if (kvm_) status["kvm"] = kvm_->statusJson();
    if (wsmanHttp_) {
      const auto& ws = wsmanHttp_->stats();
      status["wsman"] = {{"serving", wsmanHttp_->activeConnections()},
                         {"connections", ws.connections},
                         {"requests", ws.requests},
                         {"rejected_busy", ws.rejectedBusy},
                         {"dropped", ws.dropped},
                         {"evicted", ws.evicted},
                         {"over_address_cap", ws.overAddressCap},
                         {"descriptors_short", ws.descriptorsShort},
                         {"not_provisioned", ws.notProvisioned},
                         {"accept_errors", ws.acceptErrors},
                         {"timeouts", ws.timeouts},
                         {"bad_requests", ws.badRequests},
                         {"websockets", ws.webSockets},
                         {"websockets_refused", ws.webSocketsRefused},
                         {"web_requests", ws.webRequests}};
    }
    if (webUi_) {
      const auto& ui = webUi_->stats();  // the built-in web UI and /amt-storage/ (docs/web-ui.md)
      status["web_ui"] = {{"pages", ui.pages},
                          {"forms", ui.forms},
                          {"invalid_forms", ui.invalidForms},
                          {"forbidden", ui.forbidden},
                          {"not_found", ui.notFound},
                          {"storage_items", amtStorage_ ? amtStorage_->itemCount() : 0},
                          {"storage_bytes", amtStorage_ ? amtStorage_->usedBytes() : 0}};
    }
    if (legacySoap_) {
      const auto& eoi = legacySoap_->stats();  // the EOI SOAP services amttool speaks (docs/legacy-soap.md)
      status["legacy_soap"] = {{"calls", eoi.calls},
                               {"faults", eoi.faults},
                               {"not_permitted", eoi.notPermitted},
                               {"remote_controls", eoi.remoteControls}};
    }
    if (petTraps_) {
      const auto& pet = petTraps_->stats();  // PET over SNMP (docs/pet.md)
      status["pet"] = {{"subscribers", platform_->state().pet.subscribers.size()},
                       {"traps_sent", pet.sent},
                       {"traps_failed", pet.failed},
                       {"alerts_missed", pet.missed}};
    }
    return status;
  }

  boost::json::object redirectionJson() const {
    using Role = wsman::redirection::UnixSocketSerialHost::Role;
    boost::json::object r;
    const auto ports = redirectionServer_ ? redirectionServer_->ports() : wsman::redirection::RedirectionPorts{};
    r["port"] = ports.plain;
    r["tls_port"] = ports.tls;
    r["sol_host"] = solPty_ ? "pty" : solSocket_ ? (solSocket_->role() == Role::Listen ? "unix" : "unix-connect") : "console";
    if (solPty_) r["pty"] = solPty_->slavePath();
    if (solSocket_) {
      const auto& s = solSocket_->stats();
      r["socket"] = {{"path", solSocket_->path()}, {"connected", solSocket_->connected()},
                     {"connections", s.connections}, {"refused", s.refused}, {"dropped", s.dropped}};
    }
    r["accepting"] = redirection_->accepting();
    r["sol_enabled"] = redirection_->solEnabled();
    if (const auto* sol = redirection_->solSession())
      r["sol_session"] = {{"user", sol->user()}, {"peer", sol->peerAddress()}};
    else
      r["sol_session"] = nullptr;
    const auto& st = redirection_->stats();
    r["connections"] = redirectionServer_ ? redirectionServer_->connectionCount() : 0;
    r["sessions"] = st.sessions;
    r["sol_sessions"] = st.solSessions;
    r["auth_failures"] = st.authFailures;
    r["busy"] = st.busy;
    r["unsupported"] = st.unsupported;
    r["refused"] = st.refused;
    r["consent_required"] = st.consentRequired;
    r["idle_timeouts"] = st.idleTimeouts;
    r["protocol_errors"] = st.protocolErrors;
    r["bytes_to_host"] = st.bytesToHost;
    r["bytes_from_host"] = st.bytesFromHost;
    r["host_pauses"] = st.pauses;
    r["power_notices"] = st.powerNotices;
    if (redirectionServer_) r["not_served"] = redirectionServer_->stats().notServed;
    r["kvm_sessions"] = st.kvmSessions;
    r["web_sessions"] = st.webSessions;
    r["web_logins"] = st.webLogins;
    return r;
  }

 private:
  boost::json::object systemDefenseStatus() const {
    boost::json::object sd;
    boost::json::array nics;
    for (std::size_t nic = 0; nic < platform::kSdNics; ++nic) {
      auto active = systemDefense_->active(nic);
      boost::json::object n;
      n["policy"] = active ? boost::json::value(active->policy) : boost::json::value(nullptr);
      if (active) n["enabled_by"] = platform::toString(active->source);
      nics.push_back(std::move(n));
    }
    sd["nics"] = std::move(nics);
    sd["host_netns"] = config_.hostNetns;
    sd["rulesets_applied"] = systemDefense_->appliedCount();
    sd["vpn_routing"] = platform_->state().systemDefense.environment.vpnRoutingEnabled;
    if (!systemDefense_->lastHostError().empty()) sd["host_error"] = systemDefense_->lastHostError();
    return sd;
  }

  // An unprovision or factory reset erases the configuration the firmware keeps outside platform.json too:
  // event subscriptions, agent-presence watchdogs (with their actions) and their expiration settings, and a
  // certificate chain or nonce of an unfinished AdminSetup (docs/provisioning.md).
  void followConfigurationResets() {
    if (platform_->configurationResets() == configurationResetsSeen_) return;
    configurationResetsSeen_ = platform_->configurationResets();
    std::size_t subscriptions = 0, agents = 0;
    for (const auto& s : eventDelivery_->subscriptions()) subscriptions += eventDelivery_->unsubscribe(s.subscription.id) ? 1 : 0;
    auto& presence = watchdog_->agentPresence();
    for (const auto& agent : presence.watchdogs()) agents += presence.remove(agent.guid) == 0 ? 1 : 0;
    presence.setActionSettings(platform::WatchdogActionSettings{});
    wsmanService_->forgetProvisioningSession();
    MESIM_LOG(Info, "device", "unprovisioned: removed " << subscriptions << " event subscription(s) and " << agents
                                                        << " agent-presence watchdog(s)");
  }

  // ---- The host's hardware (docs/hardware.md): inventory from the identity and <state dir>/hardware.json,
  // sensors whose changes are logged and raised as alerts.
  Result<> startHardware() {
    auto inventory = platform::defaultHardwareInventory(platform_->uuid(), platform_->firmware().biosVersion);
    if (auto r = platform::applyHardwareOverridesFile(inventory, config_.stateDir / "hardware.json"); !r)
      return fail("hardware inventory: " + r.error().message);
    hardware_ = std::make_unique<platform::HardwareModel>(*platform_, *clock_, std::move(inventory));
    hardware_->setListener([this](const platform::HardwareEvent& e) {
      events::Alert alert;
      alert.messageId = e.messageId;
      alert.messageArguments = e.arguments;
      alert.perceivedSeverity = e.perceivedSeverity;
      raiseAlert(std::move(alert));
    });
    return {};
  }

  // ---- WS-Management on 16992/16993 over the same platform model
  Result<> startWsman() {
    power_ = std::make_unique<platform::HostPowerStateMachine>(*platform_, *clock_);
    watchdog_->events().setPower(power_.get());  // IPS_WatchDogAction reset
    alarmClock_ = std::make_unique<platform::AlarmClock>(*timers_, *platform_, *power_);  // docs/alarm-clock-and-boot.md
    wsmanService_ = std::make_unique<wsman::ops::WsmanService>(*platform_, *clock_, *power_);
    legacySoap_ = std::make_unique<wsman::eoi::LegacySoapService>(*platform_, *clock_, *power_);
    legacySoap_->setRemoteControlConsent([this](const wsman::eoi::RemoteControlCommand& command) -> std::uint32_t {
      // A power-on, reset or cycle with a special (boot) command is a boot with options: consent as WS-Man's.
      namespace rc = wsman::eoi::remote_control;
      const bool boots = command.command != rc::kPowerDown && command.specialCommand != rc::kNop;
      if (!boots || userConsent_->authorize(platform::ConsentUse::Boot)) return wsman::eoi::pt_status::kSuccess;
      return wsman::eoi::pt_status::kUserConsentRequired;
    });
    // WS-Eventing delivery (firmware/events, wsman/eventing): alerts published on alertBus_ reach subscribers.
    eventTransport_ = std::make_unique<wsman::eventing::HttpEventTransport>(io_);
    subscriberOutages_ = std::make_unique<events::SubscriberOutages>(io_, *eventTransport_, *clock_);
    eventDelivery_ = std::make_unique<events::EventDelivery>(*timers_, *subscriberOutages_, config_.stateDir,
                                                             config_.eventDelivery, log_);
    eventDelivery_->setDiskFullSwitch(&faults_.disk());
    wsmanService_->setFaultRules(&faults_.wsman());
    if (auto r = eventDelivery_->start(); !r) return fail("event subscriptions: " + r.error().message);
    eventDelivery_->attach(alertBus_);
    wsmanService_->setEventDelivery(eventDelivery_.get());
    wsmanService_->setAgentPresence(&watchdog_->agentPresence());
    wsmanService_->setUserConsent(userConsent_.get());
    wsmanService_->setHardware(hardware_.get());
    wsmanService_->setProvisioningTimeout(provisioningTimeout_.get());
    if (services_.runBlocking) {
      // A method's slow part (GenerateKeyPair's RSA key) on the pool; its answer back on this device's loop.
      wsmanService_->setOffLoop([this](std::function<void()> work, std::function<void()> backOnLoop) {
        services_.runBlocking([&io = io_, work = std::move(work), backOnLoop = std::move(backOnLoop)]() mutable {
          work();
          boost::asio::post(io, std::move(backOnLoop));
        });
      });
    }
    // System Defense (docs/system-defense.md): with --host-netns the policy in force filters that namespace.
    if (!config_.hostNetns.empty())
      hostNetwork_ = std::make_unique<NetnsHostNetwork>(io_, config_.hostNetns, services_.runBlocking, log_);
    systemDefense_ = std::make_unique<sysdef::SystemDefenseEngine>(io_, *timers_, *platform_, &alertBus_, hostNetwork_.get());
    wsmanService_->setSystemDefense(systemDefense_.get());
    configurationResetsSeen_ = platform_->configurationResets();
    resetObserver_ = platform_->subscribe([this] { followConfigurationResets(); });
    if (config_.httpPort < 0 && config_.httpsPort < 0) return {};
    wsman::http::WsmanHttpOptions options;
    options.listenAddress = config_.listenAddress;
    options.httpPort = config_.httpPort;
    options.httpsPort = config_.httpsPort;
    options.stateDir = config_.stateDir;
    if (config_.tlsCert) options.tlsCertFile = *config_.tlsCert;
    if (config_.tlsKey) options.tlsKeyFile = *config_.tlsKey;
    options.clock = clock_.get();
    options.runBlocking = services_.runBlocking;
    options.makeTlsIdentityOnFirstUse = true;  // a fleet starts without making a key per device
    options.maxConnections = config_.wsmanMaxConnections;
    options.maxConnectionsPerAddress = config_.wsmanMaxConnectionsPerAddress;
    options.descriptorReserve = services_.descriptorReserve;
    options.digest.lockoutThreshold = config_.loginLockout.threshold;
    options.digest.lockoutInitial = config_.loginLockout.initial;
    options.digest.lockoutMax = config_.loginLockout.max;
    options.digest.lockoutReset = config_.loginLockout.reset;
    options.disk = &faults_.disk();
    wsmanHttp_ = std::make_unique<wsman::http::WsmanHttpServer>(io_, *platform_, options);
    wsmanHttp_->setAnonymousPredicate([](std::string_view body) { return wsman::ops::WsmanService::isIdentify(body); });
    std::vector<std::string> legacyPaths;  // the EOI SOAP services amttool speaks (docs/legacy-soap.md)
    for (const auto& service : wsman::eoi::eoiServices()) legacyPaths.emplace_back(service.path);
    wsmanHttp_->setExtraPaths(std::move(legacyPaths));
    wsmanHttp_->setHandler([this](wsman::http::WsmanRequest request, wsman::http::WsmanReply reply) {
      if (request.path != "/wsman") {
        auto answer = legacySoap_->handle(request.path, request.body, {request.user, request.local, request.peerAddress});
        return reply({answer.httpStatus, std::move(answer.body), "text/xml; charset=utf-8"});
      }
      wsmanService_->handle(request.body, {request.user, request.local},
                            [this, reply = std::move(reply)](wsman::ops::WsmanResult result) mutable {
        wsman::http::WsmanResponse response{result.httpStatus, std::move(result.body), std::move(result.contentType)};
        if (result.delay.count() <= 0) return reply(std::move(response));
        // An injected delay (POST /faults/wsman): real time, as the console's own timeout is.
        auto timer = std::make_shared<boost::asio::steady_timer>(io_, result.delay);
        timer->async_wait([timer, reply = std::move(reply), response = std::move(response)](
                              boost::system::error_code) mutable { reply(std::move(response)); });
      });
    });
    // The built-in web UI (docs/web-ui.md) on every other path, over the same classes and power state machine.
    webUi_ = std::make_unique<wsman::webui::WebUi>(*platform_, *clock_, *power_, wsmanService_->registry());
    auto storage = wsman::webui::AmtStorage::open(config_.stateDir / "amt-storage", &faults_.disk(), log_);
    if (!storage) return fail("web storage: " + storage.error().message);
    amtStorage_ = std::move(*storage);
    webUi_->setStorage(amtStorage_.get());
    webUi_->setHardware(hardware_.get());
    wsmanHttp_->setWebService(webUi_->service());
    if (auto r = wsmanHttp_->start(); !r) return fail("WS-Man: " + r.error().message);
    return {};
  }

  // ---- external host driver on a socket (docs/hbm-link.md)
  Result<> listenForDriver(const fs::path& path) {
    std::error_code ec;
    fs::remove(path, ec);
    boost::system::error_code bec;
    driverAcceptor_ = std::make_unique<stream_protocol::acceptor>(io_);
    driverAcceptor_->open(stream_protocol(), bec);
    if (!bec) driverAcceptor_->bind(stream_protocol::endpoint(path.string()), bec);
    if (bec) return fail("cannot listen for an HBM driver on " + path.string() + ": " + bec.message());
    // Before listen(): until then nobody can connect, whatever mode bind() left. The driver gets the whole bus.
    if (auto applied = applyFileAccess(path, config_.meiAccess); !applied) {
      fs::remove(path, ec);
      return applied;
    }
    driverAcceptor_->listen(1, bec);
    if (bec) return fail("cannot listen for an HBM driver on " + path.string() + ": " + bec.message());
    hbmSocketPath_ = path;
    acceptDriver();
    return {};
  }

  void acceptDriver() {
    driverAcceptor_->async_accept([this](boost::system::error_code ec, stream_protocol::socket socket) {
      if (ec == boost::asio::error::operation_aborted || stopping_ || !driverAcceptor_->is_open()) return;
      if (ec) {
        // Out of descriptors (EMFILE) and the like: the listener pauses and goes on; it never ends on an error.
        MESIM_LOG(Warn, "mesim", "accepting an HBM driver failed: " << ec.message() << "; retrying shortly");
        driverAcceptPause_.expires_after(std::chrono::milliseconds(100));
        driverAcceptPause_.async_wait([this](boost::system::error_code wec) {
          if (!wec && !stopping_) acceptDriver();
        });
        return;
      }
      MESIM_LOG(Info, "mesim", "external HBM driver connected");
      auto endpoint = link::makeSocketEndpoint(std::move(socket), log_);
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
    hostOptions.log = log_;
    host_ = std::make_unique<host::MeiHost>(io_, link.host, hostOptions);
    // The host's iamt_wdt behind dev/watchdog0, and what the simulated OS's watchdog daemon drives.
    if (config_.fuse != FuseMode::Off || config_.hostOs == HostOsMode::Simulated) {
      host::MeiWdtOptions wdtOptions;
      wdtOptions.minTimeout = config_.watchdogMinTimeout;
      wdt_ = std::make_unique<host::MeiWdt>(io_, *host_, wdtOptions);
    }
    host_->onStateChange([this](host::DevState state) {
      MESIM_LOG(Debug, "mesim", "dev_state " << host::devStateName(state));
      if (state == host::DevState::Enabled && !frontEndsStarted_) startFrontEnds();
    });
    host_->start();
  }

  void startFrontEnds() {
    frontEndsStarted_ = true;
    if (wdt_) wdt_->start();
    if (config_.fuse != FuseMode::Off) {
      fuse_ = std::make_unique<fuse::FuseFrontEnd>(io_, *host_, config_.runtimeDir / "fs", wdt_.get(),
                                                   fuse::NodeAccess{config_.meiAccess, config_.watchdogAccess});
      if (auto started = fuse_->start(); !started) {
        fuse_.reset();
        const std::string& why = started.error().message;
        if (config_.fuse == FuseMode::On) return fatalWhileRunning("FUSE: " + why);
        MESIM_LOG(Warn, "mesim", "FUSE unavailable (" << why << "); dev/mei0 is served through the preload socket only");
      } else {
        linkIntoRuntimeDir("dev");
        linkIntoRuntimeDir("sys");
        if (config_.meiDev) {
          if (auto r = linkMeiDev(*config_.meiDev); !r) return fatalWhileRunning(r.error().message);
        }
      }
    }
    if (config_.preload) {
      preload_ = std::make_unique<preload::PreloadServer>(io_, *host_, config_.runtimeDir / "preload.sock",
                                                          config_.meiAccess);
      if (auto started = preload_->start(); !started)
        return fatalWhileRunning("preload socket: " + started.error().message);
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
      if (--*waiting == 0 && !hostSettled_) {
        settleTimer_.cancel();
        hostSettled_ = true;
        partSettled();
      }
    };
    settleTimer_.expires_after(kSettleLimit);
    settleTimer_.async_wait([this](boost::system::error_code ec) {
      if (ec || hostSettled_) return;
      MESIM_LOG(Warn, "mesim", "the host side did not settle within 2 s; ready anyway");
      hostSettled_ = true;
      partSettled();
    });
    host_->whenFixupDone(settled);
    if (wdt_) wdt_->whenProbed(settled);
  }

  // ---- the host as a machine (power button, power supply) and the OS on it (hostif/os)
  void startHostMachine() {
    osTimers_ = std::make_unique<FirmwareOsTimers>(*timers_);
    hostPower_ = std::make_unique<PlatformHostPower>(*power_);
    if (config_.hostOs == HostOsMode::Simulated && wdt_) {
      hostos::SimulatedOsOptions osOptions;
      osOptions.bootTime = config_.hostOsBootTime;
      os_ = std::make_unique<hostos::SimulatedOs>(*wdt_, *osTimers_, *hostPower_, osOptions);
    } else if (config_.hostOs == HostOsMode::Simulated) {
      MESIM_LOG(Info, "mesim", "no simulated host OS: the host is the external driver's (--hbm-listen)");
    }
    hostMachine_ = std::make_unique<hostos::HostMachine>(*hostPower_, os_.get(), wdt_.get());
    // Every power change, requested through WS-Man, made by the host or by a watchdog's reset action, reaches the
    // host (and the --power-hook command).
    platform::HostPowerStateMachine::Hook command;
    if (!config_.powerHook.empty()) command = wsman::cim::makeCommandPowerHook(config_.powerHook, log_);
    ocrBoot_ = std::make_unique<OcrBootHost>(io_, *platform_, *clock_);
    power_->setHook([this, command = std::move(command)](const platform::PowerChange& change) {
      if (command) command(change);
      hostMachine_->powerChanged({change.oldState, change.newState, change.requested});
      if (iderHost_) iderHost_->powerChanged(change);  // IDE-R: the BIOS may boot from the console's media
      ocrBoot_->powerChanged(change);  // One Click Recovery: the BIOS may boot an image it downloads
    });
    if (os_) os_->start();
  }

  // ---- redirection (SOL) on 16994/16995, its host side the simulated OS's console or a PTY
  Result<> startRedirection() {
    if (config_.redirectionPort < 0 && config_.redirectionTlsPort < 0) return {};
    wsman::http::DigestAuthenticator* auth = nullptr;
    if (wsmanHttp_) {
      auth = &wsmanHttp_->authenticator();  // one login back-off for every port
    } else {
      wsman::http::DigestOptions digest;
      digest.lockoutThreshold = config_.loginLockout.threshold;
      digest.lockoutInitial = config_.loginLockout.initial;
      digest.lockoutMax = config_.loginLockout.max;
      digest.lockoutReset = config_.loginLockout.reset;
      redirectionAuth_ = std::make_unique<wsman::http::DigestAuthenticator>(*platform_, *clock_, digest);
      auth = redirectionAuth_.get();
    }
    redirection_ = std::make_unique<wsman::redirection::RedirectionService>(*platform_, *timers_, *auth);
    redirection_->setUserConsent(userConsent_.get());
    kvm_ = std::make_unique<DeviceKvm>(io_, *platform_, *timers_, kvmOptions());  // app/device_kvm.h
    redirection_->setKvm(&kvm_->service());
    kvm_->service().setUserConsent(userConsent_.get());
    // TerminateSession (AMT_RedirectionService, IPS_KVMRedirectionSettingData) closes the live sessions.
    wsmanService_->setSessionTerminator([this](wsman::cim::RedirectionSessionKind kind) -> std::size_t {
      using State = wsman::redirection::RedirectionSession::State;
      const std::string why = "terminated by TerminateSession";
      switch (kind) {
        case wsman::cim::RedirectionSessionKind::Sol: return redirection_ ? redirection_->closeSessions(State::Sol, why) : 0;
        case wsman::cim::RedirectionSessionKind::Ider: return redirection_ ? redirection_->closeSessions(State::Ider, why) : 0;
        case wsman::cim::RedirectionSessionKind::Kvm: {
          std::size_t closed = redirection_ ? redirection_->closeSessions(State::Kvm, why) : 0;
          if (kvm_) {
            if (kvm_->service().busy()) ++closed;
            kvm_->service().endAll(why);  // the viewers on 5900 too
          }
          return closed;
        }
      }
      return 0;
    });
    // StartOptIn's code is drawn on the host's screen, where the user reads it (and a KVM viewer would see it).
    consentOverlay_ = userConsent_->subscribe([this] {
      if (kvm_) kvm_->setOverlay(userConsent_->code() ? "Intel(R) AMT user consent code: " + *userConsent_->code() : "");
    });
    const bool console = config_.solHost == SolHostMode::Console ||
                         (config_.solHost == SolHostMode::Default && os_ != nullptr);
    if (console && !os_) return fail("--sol-host console needs the simulated host OS (--host-os simulated)");
    if (console) {
      hostos::SerialConsoleOptions consoleOptions;
      consoleOptions.hostname = "mesim-" + config_.name;
      consoleOptions.biosVersion = platform_->firmware().biosVersion;
      consoleOptions.nowSeconds = [clock = clock_.get()] { return core::unixSeconds(clock->now()); };
      consoleOptions.runningImage = [ocr = ocrBoot_.get()] { return ocr ? ocr->runningImage() : std::string(); };
      console_ = std::make_unique<hostos::SerialConsole>(consoleOptions);
      os_->onStateChange([console = console_.get()](hostos::SimulatedOs::State state) { console->osStateChanged(state); });
      console_->osStateChanged(os_->state());  // it may have started booting already
      redirection_->setSerialHost(kvm_->attachConsole(*console_));  // SOL's host side; KVM draws it too
    } else if (config_.solHost == SolHostMode::UnixListen || config_.solHost == SolHostMode::UnixConnect) {
      using Role = wsman::redirection::UnixSocketSerialHost::Role;
      const Role role = config_.solHost == SolHostMode::UnixListen ? Role::Listen : Role::Connect;
      auto socket = wsman::redirection::UnixSocketSerialHost::open(io_, role, config_.solHostPath, log_);
      if (!socket) return fail("SOL host socket: " + socket.error().message);
      solSocket_ = std::move(*socket);
      redirection_->setSerialHost(solSocket_.get());
      kvm_->noConsole("the serial port is " + solSocket_->describe() + ": no simulated screen");
    } else {
      auto pty = wsman::redirection::PtySerialHost::open(io_, log_);
      if (!pty) return fail("SOL PTY: " + pty.error().message);
      solPty_ = std::move(*pty);
      redirection_->setSerialHost(solPty_.get());
      kvm_->noConsole("the serial console is a PTY (" + solPty_->slavePath() + "): no simulated screen");
    }
    wsman::redirection::RedirectionServerOptions options;
    options.listenAddress = config_.listenAddress;
    options.port = config_.redirectionPort;
    options.tlsPort = config_.redirectionTlsPort;
    options.descriptorReserve = services_.descriptorReserve;
    if (wsmanHttp_ && wsmanHttp_->ports().https) {
      // 16995 serves 16993's certificate, made on first use like 16993's own.
      options.tlsContext = [this](std::function<void(std::shared_ptr<boost::asio::ssl::context>)> done) {
        wsmanHttp_->withTlsIdentity([this, done = std::move(done)](const Result<>& outcome) {
          done(outcome ? wsmanHttp_->tlsContext() : nullptr);
        });
      };
    } else if (config_.redirectionTlsPort >= 0) {
      MESIM_LOG(Info, "mesim", "no redirection TLS listener: it serves 16993's certificate, and WS-Man TLS is off");
    }
    redirectionServer_ = std::make_unique<wsman::redirection::RedirectionServer>(io_, *redirection_, options);
    if (auto r = redirectionServer_->start(); !r) return fail(r.error().message);
    if (wsmanHttp_)  // the web variant: /ws-redirection on 16992/16993 (docs/redirection.md)
      wsmanHttp_->setWebSocket(wsman::redirection::kWebRedirectionPath,
                               wsman::redirection::webRedirectionService(*redirection_));
    if (auto r = kvm_->start(); !r) return fail(r.error().message);
    iderHost_ = std::make_unique<IderHost>(io_, redirection_->ider(), config_.runtimeDir / "ider.nbd");
    if (!config_.iderNbd) return {};  // the export is the host's side of IDE-R; the BIOS boot from it stays
    if (auto r = iderHost_->start(); !r)  // IDE-R works without its NBD export (a runtime dir path too long, say)
      MESIM_LOG(Warn, "ider", "no NBD export of the IDE-R media: " << r.error().message);
    return {};
  }

  DeviceKvmOptions kvmOptions() const {
    return {config_.listenAddress, config_.rfbPort, services_.descriptorReserve, "mesim-" + config_.name,
            config_.kvmHost == KvmHostMode::Unix ? config_.kvmHostPath : "", config_.kvmHostPassword};
  }

  void linkIntoRuntimeDir(const std::string& name) {
    std::error_code ec;
    auto path = config_.runtimeDir / name;
    if (fs::is_symlink(path, ec)) fs::remove(path, ec);
    fs::create_directory_symlink(fs::path("fs") / name, path, ec);
    if (ec) MESIM_LOG(Warn, "mesim", "cannot link " << path.string() << ": " << ec.message());
    else runtimeLinks_.push_back(path);
  }

  Result<> linkMeiDev(const fs::path& path) {
    std::error_code ec;
    auto target = config_.runtimeDir / "fs" / "dev" / "mei0";
    if (fs::is_symlink(path, ec)) {
      fs::remove(path, ec);  // a stale link from an earlier run
    } else if (fs::exists(path, ec)) {
      return fail(path.string() + " exists and is not a link (a real MEI device?); not replacing it");
    }
    fs::create_symlink(target, path, ec);
    if (ec) return fail("cannot create " + path.string() + ": " + ec.message());
    meiDevLink_ = path;
    return {};
  }

  void fatalWhileRunning(const std::string& message) {
    if (callbacks_.failed) callbacks_.failed(message);
  }

  void partSettled() {
    if (--pendingParts_ == 0) markReady();
  }

  void markReady() {
    if (ready_ || stopping_) return;
    ready_ = true;
    readyAfter_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
    if (callbacks_.ready) callbacks_.ready();
  }

  void cleanup() {
    settleTimer_.cancel();
    if (cira_) cira_->stop();
    if (preload_) preload_->stop();
    if (redirectionServer_) redirectionServer_->stop();
    if (iderHost_) iderHost_->stop();
    if (kvm_) kvm_->stop();
    if (wsmanHttp_) wsmanHttp_->stop();
    if (driverAcceptor_) {
      boost::system::error_code ignored;
      driverAcceptor_->close(ignored);
    }
    driverAcceptPause_.cancel();
    if (driverLink_) driverLink_->close();
    std::error_code ec;
    if (hbmSocketPath_) fs::remove(*hbmSocketPath_, ec);
    for (auto& link : runtimeLinks_) fs::remove(link, ec);
    if (meiDevLink_) fs::remove(*meiDevLink_, ec);
  }

  boost::asio::io_context& io_;
  DeviceConfig config_;
  Services services_;
  log::Context log_;
  Callbacks callbacks_;
  FaultInjection faults_;  // before everything that holds its switch or rules
  // The firmware clock (--clock) and the timers on it: made with the device, so the clock routes answer (and a
  // manual clock moves) while the state is still opening.
  std::unique_ptr<core::FirmwareClock> clock_;
  std::unique_ptr<LoopSettler> loopSettler_;  // a manual clock's: made before timers_, so it follows first
  std::unique_ptr<core::FirmwareTimerQueue> timers_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<PetTrapSender> petTraps_;  // observes platform_: destroyed before it
  // After timers_ and platform_, which it uses: destroyed before them.
  std::unique_ptr<platform::ProvisioningTimeout> provisioningTimeout_;
  std::unique_ptr<platform::UserConsent> userConsent_;  // before WS-Man and redirection, which hold it
  std::unique_ptr<platform::HardwareModel> hardware_;   // before WS-Man, which reads it
  std::unique_ptr<NetnsHostNetwork> hostNetwork_;                // --host-netns; before the engine that uses it
  std::unique_ptr<sysdef::SystemDefenseEngine> systemDefense_;  // before WS-Man, which reads its statistics
  std::unique_ptr<platform::HostPowerStateMachine> power_;
  std::unique_ptr<platform::AlarmClock> alarmClock_;  // after power_: destroyed before it
  std::unique_ptr<OcrBootHost> ocrBoot_;  // before the console, which asks it what the host runs: outlives it
  std::unique_ptr<wsman::ops::WsmanService> wsmanService_;
  std::unique_ptr<wsman::eoi::LegacySoapService> legacySoap_;
  std::unique_ptr<wsman::webui::AmtStorage> amtStorage_;
  std::unique_ptr<wsman::webui::WebUi> webUi_;
  events::AlertBus alertBus_;
  std::unique_ptr<watchdog::WatchdogFeature> watchdog_;
  std::unique_ptr<wsman::eventing::HttpEventTransport> eventTransport_;
  std::unique_ptr<events::SubscriberOutages> subscriberOutages_;
  std::unique_ptr<events::EventDelivery> eventDelivery_;
  std::unique_ptr<wsman::http::WsmanHttpServer> wsmanHttp_;
  std::uint64_t configurationResetsSeen_ = 0;
  std::size_t resetObserver_ = 0;  // platform_ subscription of followConfigurationResets()
  std::unique_ptr<firmware::HbmEngine> engine_;
  std::unique_ptr<host::MeiHost> host_;
  std::unique_ptr<host::MeiWdt> wdt_;
  // Declared after wdt_, timers_ and power_, which they use: destroyed before them.
  std::unique_ptr<FirmwareOsTimers> osTimers_;
  std::unique_ptr<PlatformHostPower> hostPower_;
  std::unique_ptr<hostos::SimulatedOs> os_;
  std::unique_ptr<hostos::HostMachine> hostMachine_;
  // Redirection: after the platform, timers, WS-Man (its authenticator) and the OS, which it uses; the server
  // before the service, the service before its serial host.
  std::unique_ptr<hostos::SerialConsole> console_;
  std::optional<std::size_t> consentOverlay_;  // userConsent_ observer drawing the code on kvm_'s screen
  std::unique_ptr<DeviceKvm> kvm_;  // the console's host side (SOL and the KVM screen), the RFB listener
  std::unique_ptr<wsman::redirection::PtySerialHost> solPty_;
  std::unique_ptr<wsman::redirection::UnixSocketSerialHost> solSocket_;
  std::unique_ptr<wsman::http::DigestAuthenticator> redirectionAuth_;  // when WS-Man is off
  std::unique_ptr<wsman::redirection::RedirectionService> redirection_;
  std::unique_ptr<wsman::redirection::RedirectionServer> redirectionServer_;
  std::unique_ptr<IderHost> iderHost_;  // before redirection_ goes: it reads its IDE-R hub
  std::unique_ptr<fuse::FuseFrontEnd> fuse_;
  std::shared_ptr<lme::LmeClient> lme_;
  boost::asio::steady_timer settleTimer_{io_};
  std::unique_ptr<preload::PreloadServer> preload_;
  std::unique_ptr<stream_protocol::acceptor> driverAcceptor_;
  boost::asio::steady_timer driverAcceptPause_{io_};
  std::shared_ptr<link::Endpoint> driverLink_;
  std::optional<fs::path> hbmSocketPath_;
  std::optional<fs::path> meiDevLink_;
  std::vector<fs::path> runtimeLinks_;
  std::map<std::string, std::uint64_t, std::less<>> faultsInjected_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::milliseconds readyAfter_{0};
  int pendingParts_ = 0;
  bool hostSettled_ = false;
  bool frontEndsStarted_ = false;
  bool ready_ = false;
  bool stopping_ = false;
  // Cleared when the device goes: a state open still running on a worker then finds nothing to start.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Last: its channels reach WS-Man, redirection and KVM, so it goes first.
  std::unique_ptr<DeviceCira> cira_;

 public:
  ~Impl() {
    *alive_ = false;
    if (platform_ && resetObserver_) platform_->unsubscribe(resetObserver_);
    if (userConsent_ && consentOverlay_) userConsent_->unsubscribe(*consentOverlay_);
  }
  bool started() const { return engine_ != nullptr; }
  hostos::HostMachine* hostMachine() { return hostMachine_.get(); }
  DeviceKvm* kvm() { return kvm_.get(); }
  FaultInjection& faults() { return faults_; }
  platform::PlatformModel* platformModel() { return started() ? platform_.get() : nullptr; }
  const platform::ProvisioningTimeout* provisioningTimeout() const { return provisioningTimeout_.get(); }
  platform::UserConsent* userConsent() { return started() ? userConsent_.get() : nullptr; }
  platform::HardwareModel* hardware() { return started() ? hardware_.get() : nullptr; }
};

Device::Device(boost::asio::io_context& io, DeviceConfig config) : Device(io, std::move(config), Services()) {}
Device::Device(boost::asio::io_context& io, DeviceConfig config, Services services)
    : impl_(std::make_unique<Impl>(io, std::move(config), std::move(services))) {}
Device::~Device() = default;
Result<> Device::start(Callbacks callbacks) { return impl_->start(std::move(callbacks)); }
void Device::stop(std::function<void()> done) { impl_->stop(std::move(done)); }
const std::string& Device::name() const { return impl_->config().name; }
const DeviceConfig& Device::config() const { return impl_->config(); }
bool Device::ready() const { return impl_->ready(); }
bool Device::started() const { return impl_->started(); }
std::string Device::whereabouts() const { return impl_->whereabouts(); }
boost::json::object Device::status() const { return impl_->status(); }
Device::Parts Device::parts() const { return impl_->parts(); }
void Device::countFault(std::string_view kind) { impl_->countFault(kind); }
const std::map<std::string, std::uint64_t, std::less<>>& Device::faultsInjected() const {
  return impl_->faultsInjected();
}
std::uint64_t Device::raiseAlert(events::Alert alert) { return impl_->raiseAlert(std::move(alert)); }
void Device::firmwareReset(const std::string& why) { impl_->firmwareReset(why); }
void Device::meStop() { impl_->meStop(); }
bool Device::hostReset(const std::string& why) { return impl_->hostReset(why); }
hostos::HostMachine* Device::hostMachine() { return impl_->hostMachine(); }
DeviceKvm* Device::kvm() { return impl_->kvm(); }
FaultInjection& Device::faults() { return impl_->faults(); }
const core::FirmwareClock& Device::clock() const { return impl_->clock(); }
core::ManualFirmwareClock* Device::manualClock() { return impl_->manualClock(); }
const core::FirmwareTimerQueue& Device::timers() const { return impl_->timers(); }
platform::PlatformModel* Device::platformModel() { return impl_->platformModel(); }
const platform::ProvisioningTimeout* Device::provisioningTimeout() const { return impl_->provisioningTimeout(); }
platform::UserConsent* Device::userConsent() { return impl_->userConsent(); }
platform::HardwareModel* Device::hardware() { return impl_->hardware(); }

}  // namespace mesim::app
