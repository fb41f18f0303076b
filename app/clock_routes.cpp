#include "app/clock_routes.h"

#include <boost/json/object.hpp>

#include "app/device.h"
#include "firmware/core/clock_text.h"
#include "firmware/core/firmware_timer_queue.h"

namespace mesim::app {

namespace {

using core::FirmwareClock;

double seconds(FirmwareClock::duration d) { return std::chrono::duration<double>(d).count(); }

boost::json::object clockJson(const Device& device) {
  const auto& clock = device.clock();
  const auto& setting = device.config().clock;
  const auto now = clock.now();
  boost::json::object o;
  o["mode"] = setting.mode == core::ClockSetting::Mode::Manual   ? "manual"
              : setting.mode == core::ClockSetting::Mode::Scaled ? "scaled"
                                                                 : "real";
  if (setting.mode == core::ClockSetting::Mode::Scaled) o["scale"] = setting.scale;
  o["now"] = core::formatUtc(now);
  o["unix"] = seconds(now.time_since_epoch());
  const auto& timers = device.timers();
  o["pending_timers"] = timers.size();
  if (auto next = timers.nextDeadline()) {
    o["next_deadline"] = core::formatUtc(*next);
    o["next_in_seconds"] = seconds(*next - now);
  } else {
    o["next_deadline"] = nullptr;
    o["next_in_seconds"] = nullptr;
  }
  return o;
}

// A manual clock, or the 409 that says why this one cannot be moved.
core::ManualFirmwareClock* manualClockOr(Device& device, ControlResponse& refusal) {
  if (auto* manual = device.manualClock()) return manual;
  refusal = jsonError(409, "the firmware clock of device " + device.name() + " is " + core::describe(device.config().clock) +
                               ": only a manual clock (--clock manual) is moved by hand");
  return nullptr;
}

// Moves a manual clock to `target` and answers what the move did.
ControlResponse move(Device& device, core::ManualFirmwareClock& clock, FirmwareClock::time_point target) {
  const auto from = clock.now();
  const auto ranBefore = device.timers().timersRun();
  clock.set(target);
  auto o = clockJson(device);
  o["moved_seconds"] = seconds(clock.now() - from);
  o["fired"] = device.timers().timersRun() - ranBefore;
  return jsonResponse(200, o);
}

}  // namespace

void addClockRoutes(ControlRoutes& routes) {
  routes.add("GET", "/clock", "the firmware clock: mode, now, pending timers and the next deadline",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               return jsonResponse(200, clockJson(device));
             }, false);

  routes.add("POST", "/clock/advance", "move a manual clock forward by seconds=N; due timers fire in order, each at its own time",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({"seconds"})) return jsonError(400, "unknown parameter " + *unknown);
               auto text = request.param("seconds");
               if (!text) return jsonError(400, "seconds is required, e.g. /clock/advance?seconds=120 or seconds=0.25");
               auto span = core::parseSeconds(*text);
               if (!span) return jsonError(400, "seconds=" + *text + ": " + span.error().message);
               ControlResponse refusal;
               auto* clock = manualClockOr(device, refusal);
               if (!clock) return refusal;
               if (clock->now() > core::kLatestClockTime - *span)
                 return jsonError(400, "seconds=" + *text + " would move the clock past 2099-12-31T23:59:59Z");
               return move(device, *clock, clock->now() + *span);
             });

  routes.add("POST", "/clock/set", "set a manual clock to time=ISO-8601 UTC; forward fires due timers as advance does",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({"time"})) return jsonError(400, "unknown parameter " + *unknown);
               auto text = request.param("time");
               if (!text) return jsonError(400, "time is required, e.g. /clock/set?time=2030-01-02T03:04:05Z");
               auto target = core::parseUtc(*text);
               if (!target) return jsonError(400, "time=" + *text + ": " + target.error().message);
               ControlResponse refusal;
               auto* clock = manualClockOr(device, refusal);
               if (!clock) return refusal;
               return move(device, *clock, *target);
             });
}

}  // namespace mesim::app
