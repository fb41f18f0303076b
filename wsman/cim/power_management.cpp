// Host power (spec/wsman.md §3.3): CIM_PowerManagementService.RequestPowerStateChange drives the
// platform's HostPowerStateMachine; CIM_AssociatedPowerManagementService (a CIM_ServiceAvailableToElement,
// which MeshCentral enumerates to poll PowerState) and IPS_PowerManagementService report it.
// CIM_PowerManagementCapabilities: the power states AMT may request, of which the host's OS agent (Intel LMS's
// PowerOperationsService) Puts the ones its OS can carry out (sleep, hibernate, the graceful ones).
#include <algorithm>

#include "firmware/platform/host_power.h"
#include "common/log.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kPmsClass = "CIM_PowerManagementService";
constexpr const char* kPmsName = "Intel(r) AMT Power Management Service";
constexpr const char* kIpsPmsClass = "IPS_PowerManagementService";

// A ManagedElement, when given, must be the host.
bool targetsHost(const Arguments& in) {
  const EndpointReference* target = argRef(in, "ManagedElement");
  if (!target) return true;
  const auto* name = target->find("Name");
  return name && name->value == kHostSystemName;
}

MethodResult requestPowerStateChange(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t code = 0;
  if (!argUint(in, "PowerState", code) || code > 0xFFFF) return MethodResult::status(status::kInvalidParameter);
  if (!targetsHost(in)) return MethodResult::status(status::kInvalidParameter);
  // A boot with the options a console set needs user consent where the policy asks for it (features.md §1.4).
  if (ctx.consent && platform::powerChangeBootsWithOptions(ctx.platform.state(), static_cast<std::uint32_t>(code)) &&
      !ctx.consent->authorize(platform::ConsentUse::Boot))
    return MethodResult::status(platform::kUserConsentRequired);
  auto before = ctx.power.state();
  auto result = ctx.power.request(static_cast<std::uint32_t>(code), ctx.initiator());
  auto logContext = [&ctx] { return ctx.platform.logContext(); };  // MESIM_LOG names ctx's device
  MESIM_LOG(Info, "wsman", "RequestPowerStateChange(" << code << ") in state " << before << ": "
                                                      << static_cast<std::uint32_t>(result));
  return MethodResult::status(static_cast<std::uint32_t>(result));
}

MethodResult requestOsPowerSavingStateChange(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t state = 0;
  if (!argUint(in, "OSPowerSavingState", state) || (state != 2 && state != 3))
    return MethodResult::status(status::kInvalidParameter);
  if (ctx.power.state() != platform::power::kOn) return MethodResult::status(status::kNotReady);
  auto result = ctx.platform.update(
      [&](platform::PlatformState& s) { s.hostPower.osPowerSavingState = static_cast<std::uint32_t>(state); });
  return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
}

constexpr const char* kCapabilitiesId = "Intel(r) AMT:PowerManagementCapabilities 0";

ChangeFault putCapabilities(CimContext& ctx, const Instance&, const Arguments& in) {
  auto it = in.find("PowerStatesSupported");
  if (it == in.end()) return std::nullopt;
  std::vector<std::uint32_t> states;
  for (const auto& item : it->second.items) {
    const auto code = std::stoul(item);  // a valid uint16 literal (checked against the schema)
    if (code < platform::power::kOn || code > platform::power::kPowerCycleHardGraceful)
      return invalidParameter("PowerStatesSupported: " + item + " is not a power state (2..16).");
    if (std::find(states.begin(), states.end(), code) == states.end()) states.push_back(static_cast<std::uint32_t>(code));
  }
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.hostPower.powerStatesSupported = states; }));
}

std::vector<PropertyDef> serviceProps() {
  return {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
          P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
}

}  // namespace

void registerPowerManagement(ClassRegistry& r) {
  ClassDef pms{.name = kPmsClass, .schema = Schema::Cim, .keys = kServiceKeys, .properties = serviceProps()};
  pms.methods = {{"RequestPowerStateChange",
                  {In("PowerState", T::UInt16), In("ManagedElement", T::Reference), In("Time", T::DateTime),
                   In("TimeoutPeriod", T::DateTime)},
                  {Out("Job", T::Reference)},
                  requestPowerStateChange}};
  pms.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, kPmsClass, kPmsName).set("ElementName", kPmsName).setNum("EnabledState", 5).setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(pms));

  const std::vector<PropertyDef> associationProps = {
      A("AvailableRequestedPowerStates", T::UInt16), P("PowerState", T::UInt16), P("RequestedPowerState", T::UInt16),
      P("ServiceProvided", T::Reference), P("UserOfService", T::Reference)};
  ClassDef available{.name = "CIM_ServiceAvailableToElement", .schema = Schema::Cim,
                     .keys = {"ServiceProvided", "UserOfService"}, .properties = associationProps};
  r.add(std::move(available));  // its instances are CIM_AssociatedPowerManagementService

  ClassDef apms{.name = "CIM_AssociatedPowerManagementService", .schema = Schema::Cim,
                .base = "CIM_ServiceAvailableToElement", .keys = {"ServiceProvided", "UserOfService"},
                .properties = associationProps};
  apms.enumerate = [](CimContext& ctx) {
    const auto& hp = ctx.platform.state().hostPower;
    Instance i;
    std::vector<std::uint32_t> available = ctx.power.availableRequests();
    i.set("AvailableRequestedPowerStates", Value::numbers(available))
        .setNum("PowerState", hp.powerState)
        .setRef("ServiceProvided", serviceRef(Schema::Cim, kPmsClass, kPmsName))
        .setRef("UserOfService", computerSystemRef());
    if (hp.requestedPowerState) i.setNum("RequestedPowerState", hp.requestedPowerState);
    return std::vector<Instance>{i};
  };
  r.add(std::move(apms));

  // Instance shape of a real AMT 16 capture (spec/wsman.md §3.4). PowerChangeCapabilities: 2 power saving modes
  // entered automatically, 3 power state settable, 4 power cycling, 7 HW reset, 8 graceful shutdown supported.
  // RequestedPowerStatesSupported follows PowerStatesSupported.
  ClassDef caps{.name = "CIM_PowerManagementCapabilities", .schema = Schema::Cim, .keys = {"InstanceID"}};
  caps.properties = {P("ElementName"), P("InstanceID"), P("OtherPowerChangeCapabilities"),
                     A("PowerChangeCapabilities", T::UInt16), PropertyDef{"PowerStatesSupported", T::UInt16, true, true},
                     A("RequestedPowerStatesSupported", T::UInt16)};
  caps.enumerate = [](CimContext& ctx) {
    const auto& supported = ctx.platform.state().hostPower.powerStatesSupported;
    Instance i;
    i.set("ElementName", "Power Management Capabilities")
        .set("InstanceID", kCapabilitiesId)
        .set("OtherPowerChangeCapabilities", "")
        .set("PowerChangeCapabilities", Value::numbers({2, 3, 4, 7, 8}))
        .set("PowerStatesSupported", Value::numbers(supported))
        .set("RequestedPowerStatesSupported", Value::numbers(supported));
    return std::vector<Instance>{i};
  };
  caps.put = putCapabilities;
  r.add(std::move(caps));

  ClassDef ips{.name = kIpsPmsClass, .schema = Schema::Ips, .keys = kServiceKeys, .properties = serviceProps()};
  ips.properties.push_back(P("OSPowerSavingState", T::UInt32));
  ips.methods = {{"RequestOSPowerSavingStateChange",
                  {In("OSPowerSavingState", T::UInt32), In("ManagedElement", T::Reference)},
                  {Out("Job", T::Reference)},
                  requestOsPowerSavingStateChange}};
  ips.enumerate = [](CimContext& ctx) {
    Instance i;
    setServiceKeys(i, kIpsPmsClass, kPmsName)
        .set("ElementName", kPmsName)
        .setNum("EnabledState", 5)
        .setNum("OSPowerSavingState", ctx.platform.state().hostPower.osPowerSavingState)
        .setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(ips));
}

}  // namespace mesim::wsman::cim
