// IPS_OptInService: user consent (spec/wsman.md §3.4). StartOptIn "displays" a 6-digit code on the host
// (logged, and readable through WsmanService::optInCode()); SendOptInCode checks it; CancelOptIn ends it.
#include <cstdio>
#include <string>

#include "firmware/platform/credentials.h"
#include "common/log.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kName = "Intel(r) AMT OptIn Service";
// OptInState.
constexpr std::uint32_t kNotStarted = 0;
constexpr std::uint32_t kDisplayed = 2;
constexpr std::uint32_t kReceived = 3;
// IPS_OptInService return values.
constexpr std::uint32_t kInvalidState = 2;
constexpr std::uint32_t kInvalidCode = 2066;

MethodResult setOptInState(CimContext& ctx, std::uint32_t state) {
  auto result = ctx.platform.update([&](platform::PlatformState& s) { s.optIn.optInState = state; });
  return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
}

MethodResult startOptIn(CimContext& ctx, const Instance&, const Arguments&) {
  if (ctx.platform.state().optIn.optInState != kNotStarted) return MethodResult::status(kInvalidState);
  std::uint8_t bytes[4];
  platform::randomBytes(bytes, sizeof bytes);
  std::uint32_t n = (std::uint32_t{bytes[0]} << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]) % 1000000;
  char code[8];
  std::snprintf(code, sizeof code, "%06u", n);
  ctx.runtime.optInCode = code;
  auto logContext = [&ctx] { return ctx.platform.logContext(); };  // MESIM_LOG names ctx's device
  MESIM_LOG(Info, "wsman", "user consent code shown on the host screen: " << code);
  return setOptInState(ctx, kDisplayed);
}

MethodResult sendOptInCode(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t code = 0;
  if (!argUint(in, "OptInCode", code)) return MethodResult::status(status::kInvalidParameter);
  if (ctx.platform.state().optIn.optInState != kDisplayed || ctx.runtime.optInCode.empty())
    return MethodResult::status(kInvalidState);
  if (code != std::stoul(ctx.runtime.optInCode)) return MethodResult::status(kInvalidCode);
  ctx.runtime.optInCode.clear();
  return setOptInState(ctx, kReceived);
}

MethodResult cancelOptIn(CimContext& ctx, const Instance&, const Arguments&) {
  ctx.runtime.optInCode.clear();
  return setOptInState(ctx, kNotStarted);
}

}  // namespace

void registerOptIn(ClassRegistry& r) {
  ClassDef c{.name = "IPS_OptInService", .schema = Schema::Ips, .keys = kServiceKeys};
  c.properties = {P("CanModifyOptInPolicy", T::UInt32), P("CreationClassName"), P("ElementName"), P("Name"),
                  W("OptInCodeTimeout", T::UInt32), W("OptInDisplayTimeout", T::UInt32), W("OptInRequired", T::UInt32),
                  P("OptInState", T::UInt32), P("SystemCreationClassName"), P("SystemName")};
  c.methods = {{"StartOptIn", {}, {}, startOptIn},
               {"SendOptInCode", {In("OptInCode", T::UInt32)}, {}, sendOptInCode},
               {"CancelOptIn", {}, {}, cancelOptIn}};
  c.enumerate = [](CimContext& ctx) {
    const auto& o = ctx.platform.state().optIn;
    Instance i;
    setServiceKeys(i, "IPS_OptInService", kName)
        .setNum("CanModifyOptInPolicy", o.canModifyOptInPolicy)
        .set("ElementName", kName)
        .setNum("OptInCodeTimeout", o.optInCodeTimeout)
        .setNum("OptInDisplayTimeout", o.optInDisplayTimeout)
        .setNum("OptInRequired", o.optInRequired)
        .setNum("OptInState", o.optInState);
    return std::vector<Instance>{i};
  };
  c.put = [](CimContext& ctx, const Instance&, const Arguments& in) -> ChangeFault {
    std::uint64_t required = 0;
    if (argUint(in, "OptInRequired", required) && required != 0 && required != 1 && required != 4294967295u)
      return invalidParameter("OptInRequired must be 0, 1 or 4294967295.");
    if (in.count("OptInRequired") && ctx.platform.state().optIn.canModifyOptInPolicy == 0)
      return invalidParameter("The opt-in policy cannot be modified.");
    if (in.count("OptInRequired") && ctx.platform.controlMode() == platform::ControlMode::Client &&
        required != platform::kOptInRequiredAll)
      return invalidParameter("In client control mode user consent is required for everything (OptInRequired 4294967295).");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::uint64_t n = 0;
      if (argUint(in, "OptInRequired", n)) s.optIn.optInRequired = static_cast<std::uint32_t>(n);
      if (argUint(in, "OptInCodeTimeout", n)) s.optIn.optInCodeTimeout = static_cast<std::uint32_t>(n);
      if (argUint(in, "OptInDisplayTimeout", n)) s.optIn.optInDisplayTimeout = static_cast<std::uint32_t>(n);
    }));
  };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
