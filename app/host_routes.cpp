#include "app/host_routes.h"

#include <boost/json/object.hpp>

#include "app/device.h"
#include "hostif/os/host_machine.h"

namespace mesim::app {
namespace {

constexpr const char* kNoOs =
    "no simulated host OS on this device (--host-os none, or --hbm-listen: the host is yours)";

boost::json::object hostJson(const Device& device, const hostos::HostMachine& host) {
  boost::json::object o;
  const auto* os = host.os();
  o["host_os"] = os ? "simulated" : "none";
  o["os"] = os ? hostos::toString(os->state()) : "none";
  o["power_state"] = host.powerState();
  o["power"] = hostos::power::name(host.powerState());
  o["watchdog_registered"] = host.watchdogRegistered();
  o["program_holds_watchdog"] = host.programHoldsWatchdog();
  if (os) {
    const auto& daemon = os->watchdogDaemon();
    const auto& st = daemon.stats();
    o["boots"] = os->boots();
    o["crashes"] = os->crashes();
    o["watchdog_daemon"] = hostos::toString(daemon.state());
    o["heartbeats"] = st.heartbeats;
    o["heartbeat_errors"] = st.heartbeatErrors;
    o["watchdog_timeout"] = daemon.timeout();
    o["heartbeat_interval_ms"] = daemon.timeout() ? daemon.interval().count() : 0;
    o["clean_stops"] = st.cleanStops;
    o["boot_time_ms"] = device.config().hostOsBootTime.count();
  }
  return o;
}

// The answer of an action that worked: what it did and where the host now is.
ControlResponse done(const Device& device, const hostos::HostMachine& host, const char* action, std::string effect = {}) {
  auto o = hostJson(device, host);
  o["done"] = action;
  if (!effect.empty()) o["effect"] = std::move(effect);
  return jsonResponse(200, o);
}

using Action = Result<std::string> (*)(hostos::HostMachine&);

// An action on the host: 409 with the reason when it makes no sense now, 400 for parameters it does not take.
ControlResponse act(Device& device, const ControlRequest& request, const char* name, Action action,
                    const std::vector<std::string_view>& known = {}) {
  if (auto unknown = request.unknownParam(known)) return jsonError(400, "unknown parameter " + *unknown);
  auto* host = device.hostMachine();
  if (!host) return jsonError(409, "device " + device.name() + " has no host yet");
  auto outcome = action(*host);
  if (!outcome) return jsonError(409, outcome.error().message);
  return done(device, *host, name, *outcome);
}

Result<std::string> withOs(hostos::HostMachine& host, Result<> (hostos::SimulatedOs::*call)(), const char* effect) {
  if (!host.os()) return fail(kNoOs);
  if (auto r = (host.os()->*call)(); !r) return r.error();
  return hostos::effect(effect);
}

// ?hold=1 or ?seconds=N (N >= 4: the override that forces the power off; less is a short press).
Result<bool> heldLong(const ControlRequest& request) {
  bool hold = false;
  if (auto v = request.param("hold")) {
    if (*v != "0" && *v != "1") return fail("hold takes 0 or 1");
    hold = *v == "1";
  }
  if (auto v = request.param("seconds")) {
    char* end = nullptr;
    const double seconds = std::strtod(v->c_str(), &end);
    if (v->empty() || end != v->c_str() + v->size() || !(seconds >= 0 && seconds <= 60))
      return fail("seconds takes how long the button is held, 0..60");
    hold = hold || seconds >= 4;
  }
  return hold;
}

}  // namespace

void addHostRoutes(ControlRoutes& routes) {
  routes.add("GET", "/host", "the host: its OS's state, power state, watchdog daemon heartbeats, who holds dev/watchdog0",
             [](Device& device, const ControlRequest&) {
               auto* host = device.hostMachine();
               if (!host) return jsonError(409, "device " + device.name() + " has no host yet");
               return jsonResponse(200, hostJson(device, *host));
             });
  routes.add("POST", "/host/os-crash", "the host OS crashes: heartbeats stop unclosed, the firmware's OS watchdog expires",
             [](Device& device, const ControlRequest& request) {
               return act(device, request, "os-crash", [](hostos::HostMachine& host) {
                 return withOs(host, &hostos::SimulatedOs::crash, "crashed");
               });
             });
  routes.add("POST", "/host/os-hang", "the host OS hangs: as a crash to the firmware; an NMI then panics it",
             [](Device& device, const ControlRequest& request) {
               return act(device, request, "os-hang", [](hostos::HostMachine& host) {
                 return withOs(host, &hostos::SimulatedOs::hang, "hung");
               });
             });
  routes.add("POST", "/host/shutdown", "the host OS shuts down in order (watchdog stopped cleanly), then powers off",
             [](Device& device, const ControlRequest& request) {
               return act(device, request, "shutdown", [](hostos::HostMachine& host) {
                 return withOs(host, &hostos::SimulatedOs::shutdown, "shutting down");
               });
             });
  routes.add("POST", "/host/reboot", "the host OS reboots in order: clean watchdog stop, reset, boot",
             [](Device& device, const ControlRequest& request) {
               return act(device, request, "reboot", [](hostos::HostMachine& host) {
                 return withOs(host, &hostos::SimulatedOs::reboot, "rebooting");
               });
             });
  routes.add("POST", "/host/power-button", "press the power button (?hold=1 or ?seconds=4: forced off)",
             [](Device& device, const ControlRequest& request) {
               auto hold = heldLong(request);
               if (!hold) return jsonError(400, hold.error().message);
               if (*hold)
                 return act(device, request, "power-button",
                            [](hostos::HostMachine& host) { return host.holdPowerButton(); }, {"hold", "seconds"});
               return act(device, request, "power-button",
                          [](hostos::HostMachine& host) { return host.pressPowerButton(); }, {"hold", "seconds"});
             });
  routes.add("POST", "/host/power-loss", "the host loses power: off at once (Off-Hard), no shutdown",
             [](Device& device, const ControlRequest& request) {
               return act(device, request, "power-loss", [](hostos::HostMachine& host) { return host.losePower(); });
             });
}

}  // namespace mesim::app
