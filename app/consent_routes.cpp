#include "app/consent_routes.h"

#include <chrono>
#include <optional>

#include <boost/json/object.hpp>

#include "app/device.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/user_consent.h"

namespace mesim::app {
namespace {

using platform::ConsentUse;

boost::json::value secondsLeft(const Device& device, std::optional<core::FirmwareClock::time_point> deadline) {
  if (!deadline) return nullptr;
  return std::chrono::duration<double>(*deadline - device.clock().now()).count();
}

boost::json::object consentJson(const Device& device, const platform::UserConsent& consent,
                                const platform::PlatformModel& platform) {
  boost::json::object o;
  o["state"] = static_cast<std::uint32_t>(consent.state());
  o["state_name"] = platform::toString(consent.state());
  if (auto code = consent.code()) o["code"] = *code;
  else o["code"] = nullptr;
  o["display_seconds_left"] = secondsLeft(device, consent.displayDeadline());
  o["code_seconds_left"] = secondsLeft(device, consent.codeDeadline());
  o["wrong_codes"] = consent.wrongCodes();
  o["sessions"] = consent.sessions();
  const auto& policy = platform.state().optIn;
  boost::json::object required;
  for (auto use : {ConsentUse::Kvm, ConsentUse::Sol, ConsentUse::Ider, ConsentUse::Boot})
    required[platform::toString(use)] = consent.required(use);
  o["policy"] = {{"opt_in_required", policy.optInRequired},
                 {"code_timeout", policy.optInCodeTimeout},
                 {"display_timeout", policy.optInDisplayTimeout},
                 {"can_modify", policy.canModifyOptInPolicy},
                 {"required_for", std::move(required)}};
  const auto& st = consent.stats();
  o["stats"] = {{"started", st.started},
                {"granted", st.granted},
                {"wrong_codes", st.wrongCodes},
                {"attempts_failed", st.attemptsFailed},
                {"display_timeouts", st.displayTimeouts},
                {"code_timeouts", st.codeTimeouts},
                {"cancelled", st.cancelled},
                {"refused", st.refused}};
  return o;
}

}  // namespace

void addConsentRoutes(ControlRoutes& routes) {
  routes.add("GET", "/consent", "user consent: state, the code while shown on the host's screen, time left, policy",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               auto* consent = device.userConsent();
               auto* platform = device.platformModel();
               if (!consent || !platform) return jsonError(503, "device " + device.name() + " is not running");
               return jsonResponse(200, consentJson(device, *consent, *platform));
             });
}

}  // namespace mesim::app
