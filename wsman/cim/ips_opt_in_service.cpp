// IPS_OptInService: user consent (spec/wsman.md §3.4, features.md §1.4) over the firmware's consent machine
// (firmware/platform/user_consent.h): StartOptIn shows a 6-digit code on the host's screen, SendOptInCode checks
// it, CancelOptIn ends the attempt or the consent; OptInState is the machine's. Put changes the policy (audited as
// event 3000). Without a machine (CimContext::consent null) the methods answer internal error and OptInState is 0.
#include <string>

#include "firmware/platform/user_consent.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kName = "Intel(r) AMT OptIn Service";

MethodResult outcome(platform::ConsentResult result) {
  return MethodResult::status(static_cast<std::uint32_t>(result));
}

MethodResult startOptIn(CimContext& ctx, const Instance&, const Arguments&) {
  if (!ctx.consent) return MethodResult::status(status::kInternalError);
  return outcome(ctx.consent->start(ctx.initiator()));
}

MethodResult sendOptInCode(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t code = 0;
  if (!argUint(in, "OptInCode", code)) return MethodResult::status(status::kInvalidParameter);
  if (!ctx.consent) return MethodResult::status(status::kInternalError);
  return outcome(ctx.consent->sendCode(code, ctx.initiator()));
}

MethodResult cancelOptIn(CimContext& ctx, const Instance&, const Arguments&) {
  if (!ctx.consent) return MethodResult::status(status::kInternalError);
  return outcome(ctx.consent->cancel(ctx.initiator()));
}

// The consent service runs as long as AMT does: it is the gate in front of KVM, IDE-R and boot, so no console may stop
// it (StopService, RequestStateChange to anything but Enabled: 1 Not Supported). Asking it to run is answered
// success, as it does (EnabledState 2).
constexpr std::uint64_t kEnabled = 2;
constexpr std::uint32_t kCimNotSupported = 1;
constexpr std::uint32_t kCimInvalidParameter = 5;

MethodResult requestStateChange(CimContext&, const Instance&, const Arguments& in) {
  std::uint64_t requested = 0;
  if (!argUint(in, "RequestedState", requested) || requested > 0xFFFF) return MethodResult::status(kCimInvalidParameter);
  return MethodResult::status(requested == kEnabled ? status::kSuccess : kCimNotSupported);
}

}  // namespace

void registerOptIn(ClassRegistry& r) {
  ClassDef c{.name = "IPS_OptInService", .schema = Schema::Ips, .keys = kServiceKeys};
  c.properties = {P("CanModifyOptInPolicy", T::UInt32), P("CreationClassName"), P("ElementName"),
                  P("EnabledState", T::UInt16), P("Name"), P("RequestedState", T::UInt16),
                  W("OptInCodeTimeout", T::UInt32), W("OptInDisplayTimeout", T::UInt32), W("OptInRequired", T::UInt32),
                  P("OptInState", T::UInt32), P("SystemCreationClassName"), P("SystemName")};
  c.methods = {{"StartOptIn", {}, {}, startOptIn},
               {"SendOptInCode", {In("OptInCode", T::UInt32)}, {}, sendOptInCode},
               {"CancelOptIn", {}, {}, cancelOptIn},
               {"RequestStateChange", {In("RequestedState", T::UInt16), In("TimeoutPeriod", T::DateTime)}, {},
                requestStateChange},
               {"StartService", {}, {}, [](CimContext&, const Instance&, const Arguments&) {
                  return MethodResult::status(status::kSuccess);
                }},
               {"StopService", {}, {}, [](CimContext&, const Instance&, const Arguments&) {
                  return MethodResult::status(kCimNotSupported);
                }}};
  c.enumerate = [](CimContext& ctx) {
    const auto& o = ctx.platform.state().optIn;
    Instance i;
    setServiceKeys(i, "IPS_OptInService", kName)
        .setNum("CanModifyOptInPolicy", o.canModifyOptInPolicy)
        .set("ElementName", kName)
        .setNum("EnabledState", kEnabled)
        .setNum("RequestedState", 12)  // Not Applicable: nothing asked it to change
        .setNum("OptInCodeTimeout", o.optInCodeTimeout)
        .setNum("OptInDisplayTimeout", o.optInDisplayTimeout)
        .setNum("OptInRequired", o.optInRequired)
        .setNum("OptInState", ctx.consent ? static_cast<std::uint32_t>(ctx.consent->state()) : 0);
    return std::vector<Instance>{i};
  };
  c.put = [](CimContext& ctx, const Instance&, const Arguments& in) -> ChangeFault {
    std::uint64_t required = 0;
    if (argUint(in, "OptInRequired", required) && required != 0 && required != 1 && required != 4294967295u)
      return invalidParameter("OptInRequired must be 0, 1 or 4294967295.");
    // OptInCodeTimeout: 1 to 15 minutes (features.md §1.4).
    std::uint64_t codeTimeout = 0;
    if (argUint(in, "OptInCodeTimeout", codeTimeout) && (codeTimeout < 60 || codeTimeout > 900))
      return invalidParameter("OptInCodeTimeout must be 60..900 seconds.");
    if (in.count("OptInRequired") && ctx.platform.state().optIn.canModifyOptInPolicy == 0)
      return invalidParameter("The opt-in policy cannot be modified.");
    if (in.count("OptInRequired") && ctx.platform.controlMode() == platform::ControlMode::Client &&
        required != platform::kOptInRequiredAll)
      return invalidParameter("In client control mode user consent is required for everything (OptInRequired 4294967295).");
    const std::uint32_t before = ctx.platform.state().optIn.optInRequired;
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::uint64_t n = 0;
      if (argUint(in, "OptInRequired", n)) s.optIn.optInRequired = static_cast<std::uint32_t>(n);
      if (argUint(in, "OptInCodeTimeout", n)) s.optIn.optInCodeTimeout = static_cast<std::uint32_t>(n);
      if (argUint(in, "OptInDisplayTimeout", n)) s.optIn.optInDisplayTimeout = static_cast<std::uint32_t>(n);
      if (s.optIn.optInRequired != before)
        platform::appendAuditRecord(
            s, platform::makeAuditRecord(platform::audit::kUserOptIn, platform::audit::kOptInPolicyChange,
                                         ctx.initiator(), ctx.now(),
                                         {platform::optInPolicyByte(before),
                                          platform::optInPolicyByte(s.optIn.optInRequired)}));
    }));
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
