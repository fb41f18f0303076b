// The WS-Man entry point behind POST /wsman (ARCHITECTURE.md "WS-Man request"): the HTTP layer passes the
// raw body of an authenticated request (or of an anonymous Identify) and sends back the result.
// Synchronous, single-threaded: call it from the event loop that owns the platform model.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "firmware/core/firmware_clock.h"
#include "firmware/events/event_delivery.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_model.h"
#include "wsman/cim/class_registry.h"
#include "wsman/ops/wsman_faults.h"
#include "wsman/soap/envelope.h"
#include "wsman/soap/fault.h"

namespace mesim::wsman::ops {

struct WsmanCallContext {
  std::string user;    // the Digest user name (empty for an anonymous Identify)
  bool local = false;  // arrived through LMS/APF or from the host itself
};

struct WsmanResult {
  unsigned httpStatus = 200;  // 200, or the fault's status (spec/wsman.md §1.7: 400 for Sender faults)
  std::string body;
  std::string contentType = "application/soap+xml; charset=UTF-8";
  std::chrono::milliseconds delay{0};  // an injected delay (wsman_faults.h): answer this much later, in real time
};

// What a request asked for, as the request counts name it.
enum class WsmanAction { Identify, Get, Put, Create, Delete, Enumerate, Pull, Release, Subscribe, Unsubscribe, Renew,
                         Invoke, Unknown };
std::string_view actionName(WsmanAction action);

// One row of the request counts. Every value comes from a bounded set — the actions above, the class registry's
// class and method names, the fault table — so no request can add a row of its own making (a made-up resource URI
// counts as class "unknown").
struct WsmanRequestKey {
  WsmanAction action = WsmanAction::Unknown;
  std::string_view className;            // a registered class, "unknown", or empty for Identify
  std::string_view method;               // Invoke only
  std::optional<soap::FaultCode> fault;  // none: answered
  auto operator<=>(const WsmanRequestKey&) const = default;
};

struct WsmanServiceStats {
  std::map<WsmanRequestKey, std::uint64_t> requests;  // what WsmanService::handle answered
};

struct WsmanOptions {
  std::size_t maxEnumerationContexts = 64;
  std::chrono::seconds enumerationContextLifetime{300};
  soap::ParseLimits limits;
};

class WsmanService {
 public:
  WsmanService(platform::PlatformModel& platform, const core::FirmwareClock& clock,
               platform::HostPowerStateMachine& power, WsmanOptions options = {});
  ~WsmanService();
  WsmanService(const WsmanService&) = delete;
  WsmanService& operator=(const WsmanService&) = delete;

  // Answers in place; a method's slow part (cim::MethodResult::offLoop) runs in place too.
  WsmanResult handle(std::string_view body, const WsmanCallContext& ctx);
  // Answers through `done`: at once, or after a method's slow part ran through setOffLoop's runner. `done` is
  // not called if the service is destroyed meanwhile.
  void handle(std::string_view body, const WsmanCallContext& ctx, std::function<void(WsmanResult)> done);

  // Runs `work` on a worker thread, then `backOnLoop` on the service's loop (the process shell's blocking pool).
  using OffLoopRunner = std::function<void(std::function<void()> work, std::function<void()> backOnLoop)>;
  void setOffLoop(OffLoopRunner runner);

  // True if `body` is a WS-Man Identify request (no Action, body wsmid:Identify): HTTP may answer it
  // without authentication, as AMT does.
  static bool isIdentify(std::string_view body);

  // Subscribe/Renew/Unsubscribe and the subscription classes work on `events` (ActionNotSupported while null).
  void setEventDelivery(events::EventDelivery* events);
  // The agent-presence watchdogs and IPS_WatchDogAction (watchdog_fw); their classes are empty while null.
  void setAgentPresence(platform::AgentPresence* agentPresence);
  // The host's hardware model (inventory, sensors); null: inventory from the identity, no sensors.
  void setHardware(platform::HardwareModel* hardware);
  // The user-consent machine: IPS_OptInService and the boot gate (null: the methods answer internal error).
  void setUserConsent(platform::UserConsent* consent);
  // System Defense's filter statistics (firmware/sysdef; null: AMT_ActiveFilterStatistics has no instances).
  void setSystemDefense(platform::SystemDefenseMonitor* monitor);
  // The provisioning period's timer, which ExtendProvisioningPeriod moves (null: the method answers not permitted).
  void setProvisioningTimeout(platform::ProvisioningTimeout* timeout);
  // Ends the live redirection sessions for TerminateSession (unset: there are none to end).
  void setSessionTerminator(cim::SessionTerminator terminator);
  // Injected faults every call meets first (null: none); the caller keeps them alive.
  void setFaultRules(WsmanFaultRules* rules);
  // Drops a certificate chain and ConfigurationNonce of an unfinished AdminSetup (after an unprovision).
  void forgetProvisioningSession();

  const cim::ClassRegistry& registry() const;
  // The user-consent code currently "shown on the host's screen" (empty when none), for tests and QA.
  std::string optInCode() const;
  std::size_t openEnumerationContexts() const;
  const WsmanServiceStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mesim::wsman::ops
