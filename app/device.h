// One simulated AMT platform: its platform model and state dir, firmware clock, HBM engine and firmware clients,
// features (WS-Man, watchdog, events, LME), host side (host model, FUSE mount, preload socket, HBM link) and
// listeners. An object like any other: a process may create thousands on one io_context, and destroying one leaves
// the others untouched. Everything it does runs on the io_context it was given; it owns no thread and no signal.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include "app/config.h"
#include "common/result.h"
#include "firmware/events/alert.h"

namespace mesim::hostos {
class HostMachine;
}
namespace mesim::core {
class FirmwareClock;
class FirmwareTimerQueue;
}  // namespace mesim::core
namespace mesim::firmware { class HbmEngine; }
namespace mesim::lme { class LmeClient; }
namespace mesim::cira { class CiraClient; }
namespace mesim::platform {
class PlatformModel;
class ProvisioningTimeout;
class UserConsent;
class HardwareModel;
}  // namespace mesim::platform
namespace mesim::watchdog { class WatchdogFeature; }
namespace mesim::events {
class EventDelivery;
class SubscriberOutages;
}  // namespace mesim::events
namespace mesim::wsman::http { class WsmanHttpServer; }
namespace mesim::wsman::ops { class WsmanService; }
namespace mesim::wsman::redirection {
class KvmService;
class RedirectionService;
}  // namespace mesim::wsman::redirection

namespace mesim::app {

class FaultInjection;
class DeviceKvm;

class Device {
 public:
  struct Callbacks {
    std::function<void()> ready;                       // the host side has settled: clients may start
    std::function<void(const std::string&)> failed;    // a fatal error after start() (e.g. FUSE required)
  };

  // What the process lends its devices.
  struct Services {
    // Runs a blocking job (e.g. making a TLS key) off the loop; unset: on the loop.
    std::function<void(std::function<void()> job)> runBlocking;
    // Descriptors the device's network listeners leave to the firmware (common/descriptors.h); 0 keeps none.
    std::size_t descriptorReserve = 64;
  };

  Device(boost::asio::io_context& io, DeviceConfig config);
  Device(boost::asio::io_context& io, DeviceConfig config, Services services);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Opens the state and starts the listeners. With Services::runBlocking the state is opened off the loop and the
  // rest starts once it is open, so errors from then on (an unreadable state file among them) reach
  // `callbacks.failed`; without, they are returned here. `callbacks` run later, on the loop.
  Result<> start(Callbacks callbacks);
  // Stops serving; `done` runs on the loop once the FUSE mount is gone (unmounting may take a while, off the loop).
  void stop(std::function<void()> done);

  const std::string& name() const;
  const DeviceConfig& config() const;
  bool ready() const;
  // Its state is open and its features run: status() is complete and the control calls below may be made.
  bool started() const;
  // Where it can be reached, for the ready line: "device .../dev/mei0, ..., WS-Man http://...".
  std::string whereabouts() const;
  boost::json::object status() const;

  // Its running parts, for what reads the whole device (the metrics, app/metrics.h); null until started, and where
  // a part is off (no WS-Man listener, say).
  // The fault and log routes (app/fault_routes.cpp, log_routes.cpp) drive the engine, the platform, the event
  // delivery and the subscriber outages through it too.
  struct Parts {
    firmware::HbmEngine* engine = nullptr;
    const lme::LmeClient* lme = nullptr;
    watchdog::WatchdogFeature* watchdog = nullptr;
    events::EventDelivery* events = nullptr;
    const wsman::ops::WsmanService* wsman = nullptr;
    const wsman::http::WsmanHttpServer* wsmanHttp = nullptr;
    const platform::PlatformModel* platform = nullptr;
    events::SubscriberOutages* subscriberOutages = nullptr;
    const wsman::redirection::RedirectionService* redirection = nullptr;  // SOL, IDE-R and the KVMR logins
    const wsman::redirection::KvmService* kvm = nullptr;
    const cira::CiraClient* cira = nullptr;  // the tunnel to an MPS (docs/cira.md)
  };
  Parts parts() const;

  // Fault injections by kind (mesim_faults_injected_total): a successful POST /faults/KIND counts itself
  // (ControlRoutes::dispatch), so a new fault route needs nothing more.
  void countFault(std::string_view kind);
  const std::map<std::string, std::uint64_t, std::less<>>& faultsInjected() const;

  // --- control (QA faults and events) ---
  // Publishes `alert` as a firmware feature would (its time is set from the device's clock); returns the newest
  // IndicationIdentifier number handed out.
  std::uint64_t raiseAlert(events::Alert alert);
  void firmwareReset(const std::string& why);
  void meStop();
  // False if the device has no built-in host model (--hbm-listen).
  bool hostReset(const std::string& why);
  // The host's power button, power supply and simulated OS (hostif/os); null until started().
  hostos::HostMachine* hostMachine();
  // KVM (app/device_kvm.h, app/kvm_routes.cpp); null until started() or with both redirection ports off.
  DeviceKvm* kvm();
  // The faults injected into this device that the composer keeps (the disk switch, WS-Man rules, fw_status).
  FaultInjection& faults();

  // --- provisioning (app/provisioning_routes.cpp): the platform to change and the in-provisioning timeout; null
  // until started().
  platform::PlatformModel* platformModel();
  const platform::ProvisioningTimeout* provisioningTimeout() const;
  // User consent (IPS_OptInService's machine; app/consent_routes.cpp, and the KVM screen draws its code); null until
  // started().
  platform::UserConsent* userConsent();
  // The host's inventory and sensors (docs/hardware.md); null until started.
  platform::HardwareModel* hardware();

  // --- the firmware clock (--clock; app/clock_routes.cpp). Usable from construction on, before start().
  const core::FirmwareClock& clock() const;
  // The clock when it moves only when told (--clock manual), else null.
  core::ManualFirmwareClock* manualClock();
  // Every firmware timer of the device: watchdogs, agent presence, event retries and expiry, the events batch.
  const core::FirmwareTimerQueue& timers() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesim::app
