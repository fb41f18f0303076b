#include "wsman/eoi/eoi_service.h"

#include <algorithm>

#include "common/log.h"
#include "common/text_codecs.h"
#include "wsman/cim/boot_sources.h"
#include "wsman/cim/realms.h"
#include "wsman/eoi/eoi_soap.h"

namespace mesim::wsman::eoi {
namespace {

using cim::Realm;
using cim::RealmSet;
constexpr const char* kLog = "eoi";

// What one operation answers: its output parameters after the status, which comes first.
struct Outcome {
  std::uint32_t status = pt_status::kSuccess;
  std::vector<EoiValue> out;
  static Outcome failed(std::uint32_t status) { return {status, {}}; }
};

struct Context {
  platform::PlatformModel& platform;
  const core::FirmwareClock& clock;
  platform::HostPowerStateMachine& power;
  const EoiCaller& caller;
  const EoiRequest& request;
  const LegacySoapService::RemoteControlConsent& consent;
  EoiStats& stats;
};

using Handler = Outcome (*)(Context&);

struct Operation {
  EoiInterface service;
  std::string_view name;
  RealmSet realms;  // holding one permits the call; empty: any authenticated caller holding any realm
  std::string_view statusName;  // the status element: the SDK calls it StatusCode, RemoteControl's "Status"
  Handler handler;
};

std::string coreVersion(const platform::PlatformModel& platform) {
  const auto& v = platform.firmware().code;
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.hotfix);
}

Outcome getCoreVersion(Context& ctx) { return {pt_status::kSuccess, {EoiValue::of("Version", coreVersion(ctx.platform))}}; }

Outcome getHostName(Context& ctx) {
  return {pt_status::kSuccess, {EoiValue::of("HostName", ctx.platform.state().hostName)}};
}

Outcome getDomainName(Context& ctx) {
  return {pt_status::kSuccess, {EoiValue::of("DomainName", ctx.platform.state().domainName)}};
}

Outcome getCodeVersions(Context& ctx) {
  const auto& fw = ctx.platform.firmware();
  std::vector<EoiValue> out{EoiValue::of("BiosVersion", fw.biosVersion)};
  for (const auto& cv : fw.codeVersions)
    out.push_back(EoiValue::structure("CodeVersions", {EoiValue::of("Description", cv.description),
                                                       EoiValue::of("Version", cv.version)}));
  return {pt_status::kSuccess, std::move(out)};
}

Outcome getProvisioningState(Context& ctx) {
  return {pt_status::kSuccess,
          {EoiValue::of("ProvisioningState", static_cast<std::uint64_t>(ctx.platform.provisioningState()))}};
}

// ---- network (NetworkAdministration): handle 0 the wired interface, 1 the wireless one when present, the
// instance numbers of AMT_EthernetPortSettings.
const platform::LanInterface* interfaceOf(const platform::PlatformModel& platform, std::uint32_t handle) {
  if (handle == 0) return &platform.wired();
  if (handle == 1 && platform.wireless().present) return &platform.wireless();
  return nullptr;
}

Outcome enumerateInterfaces(Context& ctx) {
  Outcome o;
  o.out.push_back(EoiValue::of("InterfaceHandles", std::uint64_t{0}));
  if (ctx.platform.wireless().present) o.out.push_back(EoiValue::of("InterfaceHandles", std::uint64_t{1}));
  return o;
}

Outcome getInterfaceSettings(Context& ctx) {
  bool valid = true;
  const auto handle = ctx.request.number("InterfaceHandle", valid);
  if (!valid || !handle) return Outcome::failed(pt_status::kInvalidParameter);
  const auto* lan = interfaceOf(ctx.platform, *handle);
  if (!lan) return Outcome::failed(pt_status::kInvalidHandle);
  const bool wireless = *handle == 1;
  std::vector<EoiValue> descriptor{
      EoiValue::of("HardwareAddressDescription", wireless ? "Intel(r) AMT wireless LAN" : "Intel(r) AMT wired LAN"),
      EoiValue::of("MACAddress", text::macText(lan->mac, '-')),
      EoiValue::of("InterfaceMode", lan->dhcpEnabled ? "SHARED_MAC_ADDRESS" : "SEPARATE_MAC_ADDRESS"),
      EoiValue::of("LinkPolicy", std::uint64_t{lan->effectiveLinkPolicy(wireless)}),
      EoiValue::of("DhcpEnabled", lan->dhcpEnabled ? "true" : "false")};
  if (lan->ipv4)
    descriptor.push_back(EoiValue::structure(
        "IPv4Parameters", {EoiValue::of("LocalAddress", std::uint64_t{lan->ipv4}),
                           EoiValue::of("SubnetMask", std::uint64_t{lan->effectiveSubnetMask()}),
                           EoiValue::of("DefaultGatewayAddress", std::uint64_t{lan->effectiveGateway()}),
                           EoiValue::of("PrimaryDnsAddress", std::uint64_t{lan->effectivePrimaryDns()}),
                           EoiValue::of("SecondaryDnsAddress", std::uint64_t{lan->secondaryDns})}));
  return {pt_status::kSuccess, {EoiValue::structure("InterfaceDescriptor", std::move(descriptor))}};
}

bool contiguousMask(std::uint32_t mask) { return mask != 0 && ((~mask + 1) & ~mask) == 0; }

bool usableHostAddress(std::uint32_t address) {
  const std::uint32_t first = address >> 24;
  return address != 0 && address != 0xFFFFFFFFu && first != 0 && first != 127 && first < 224;
}

// InterfaceMode SHARED_MAC_ADDRESS without IPv4Parameters: DHCP (amttool `netconf IF POLICY`); with them (amttool's
// SEPARATE_MAC_ADDRESS): that static address, mask, gateway and DNS servers.
Outcome setInterfaceSettings(Context& ctx) {
  const auto& req = ctx.request;
  bool valid = true;
  const auto handle = req.number("InterfaceHandle", valid);
  if (!valid || !handle) return Outcome::failed(pt_status::kInvalidParameter);
  if (!interfaceOf(ctx.platform, *handle)) return Outcome::failed(pt_status::kInvalidHandle);
  const auto descriptor = req.param("InterfaceDescriptor");
  if (!descriptor) return Outcome::failed(pt_status::kInvalidParameter);
  const auto mode = req.text("InterfaceMode", descriptor);
  const auto policy = req.number("LinkPolicy", valid, descriptor);
  if (!mode || (*mode != "SHARED_MAC_ADDRESS" && *mode != "SEPARATE_MAC_ADDRESS") || !valid || !policy ||
      *policy == 0 || *policy > 0xFF)
    return Outcome::failed(pt_status::kInvalidParameter);
  const auto ipv4 = req.param("IPv4Parameters", descriptor);
  if (!ipv4 && *mode == "SEPARATE_MAC_ADDRESS") return Outcome::failed(pt_status::kInvalidParameter);
  std::uint32_t address = 0, mask = 0, gateway = 0, dns1 = 0, dns2 = 0;
  if (ipv4) {
    const std::pair<const char*, std::uint32_t*> fields[] = {{"LocalAddress", &address},
                                                             {"SubnetMask", &mask},
                                                             {"DefaultGatewayAddress", &gateway},
                                                             {"PrimaryDnsAddress", &dns1},
                                                             {"SecondaryDnsAddress", &dns2}};
    for (const auto& [name, target] : fields) {
      const auto value = req.number(name, valid, ipv4);
      if (!valid || !value) return Outcome::failed(pt_status::kInvalidParameter);
      *target = *value;
    }
    if (!usableHostAddress(address)) return Outcome::failed(pt_status::kInvalidIpAddress);
    if (!contiguousMask(mask) || mask == 0xFFFFFFFFu) return Outcome::failed(pt_status::kInvalidNetmask);
    if ((gateway != 0 && !usableHostAddress(gateway)) || (dns1 != 0 && !usableHostAddress(dns1)) ||
        (dns2 != 0 && !usableHostAddress(dns2)))
      return Outcome::failed(pt_status::kInvalidIpAddress);
  }
  const auto result = ctx.platform.update([&](platform::PlatformState& s) {
    auto& lan = *handle == 1 ? s.wireless : s.wired;
    lan.linkPolicy = static_cast<std::uint8_t>(*policy);
    lan.dhcpEnabled = !ipv4;
    if (ipv4) {
      lan.ipv4 = address;
      lan.subnetMask = mask;
      lan.gateway = gateway;
      lan.primaryDns = dns1;
      lan.secondaryDns = dns2;
    } else {
      lan.subnetMask = lan.gateway = lan.primaryDns = lan.secondaryDns = 0;  // the DHCP server's, derived
    }
  });
  auto logContext = [&ctx] { return ctx.platform.logContext(); };
  MESIM_LOG(Info, kLog, "SetInterfaceSettings(" << *handle << "): " << (ipv4 ? "static " + text::ipv4Text(address) : "DHCP")
                                                << ": " << platform::toString(result));
  return Outcome::failed(result == platform::ChangeResult::Ok ? pt_status::kSuccess : pt_status::kInternalError);
}

// ---- remote control
// SystemPowerState: 0..5 = S0..S5 (amttool prints it & 0x0f). Off-hard is S5 to the host, as in the message log.
std::uint32_t systemPowerState(std::uint32_t cimState) {
  namespace p = platform::power;
  switch (cimState) {
    case p::kOn: return 0;
    case p::kSleepLight: return 1;
    case p::kSleepDeep: return 3;
    case p::kHibernate: return 4;
    default: return 5;
  }
}

Outcome getSystemPowerState(Context& ctx) {
  return {pt_status::kSuccess, {EoiValue::of("SystemPowerState", std::uint64_t{systemPowerState(ctx.power.state())})}};
}

// What the platform can do, the same as AMT_BootCapabilities says over WS-Man (boot_configuration.cpp): PXE, hard
// drive and CD/DVD boot; BIOS setup, pause and reflash; IDE-R and SOL while those features are enabled.
Outcome getRemoteControlCapabilities(Context& ctx) {
  const auto& features = ctx.platform.state().features;
  std::uint32_t oem = 0x04 | 0x08 | 0x10;  // BIOS reflash, setup, pause
  if (features.iderEnabled) oem |= 0x01;
  if (features.solEnabled) oem |= 0x02;
  const std::uint32_t special = 0x0100 | 0x0200 | 0x1000;  // PXE, hard drive, CD/DVD
  const std::uint32_t system = 0x01 | 0x02 | 0x04;         // power cycle, power down, reset (and power up)
  // ASF firmware capabilities, AMT_BootCapabilities' true ones: verbosity quiet (0x02), verbose (0x04), screen
  // blank (0x08), keyboard lock (0x20), user password bypass (0x80), forced progress events (0x100).
  const std::uint32_t firmware = 0x02 | 0x04 | 0x08 | 0x20 | 0x80 | 0x100;
  return {pt_status::kSuccess,
          {EoiValue::of("IanaOemNumber", std::uint64_t{remote_control::kIntelIana}),
           EoiValue::of("OemDefinedCapabilities", std::uint64_t{oem}),
           EoiValue::of("SpecialCommandsSupported", std::uint64_t{special}),
           EoiValue::of("SystemCapabilitiesSupported", std::uint64_t{system}),
           EoiValue::of("SystemFirmwareCapabilities", std::uint64_t{firmware})}};
}

// The CIM RequestPowerStateChange code a command is, on the same state machine as WS-Man.
std::uint32_t cimPowerRequest(std::uint32_t command) {
  namespace p = platform::power;
  switch (command) {
    case remote_control::kReset: return p::kMasterBusReset;
    case remote_control::kPowerUp: return p::kOn;
    case remote_control::kPowerDown: return p::kOffSoft;
    case remote_control::kPowerCycle: return p::kPowerCycleSoft;
    default: return 0;
  }
}

Outcome remoteControl(Context& ctx) {
  namespace rc = remote_control;
  const auto& req = ctx.request;
  bool valid = true;
  const auto command = req.number("Command", valid);
  const auto iana = req.number("IanaOemNumber", valid);
  const auto special = req.number("SpecialCommand", valid);
  req.number("SpecialCommandParameter", valid);
  req.number("BootOptions", valid);
  const auto oemParameters = req.number("OEMparameters", valid);
  if (!valid || !command || !iana) return Outcome::failed(pt_status::kInvalidParameter);
  const std::uint32_t cimRequest = cimPowerRequest(*command);
  if (cimRequest == 0) return Outcome::failed(pt_status::kInvalidCommand);
  const std::uint32_t specialCommand = special.value_or(rc::kNop);
  if (*iana != rc::kIntelIana && !(*iana == rc::kAsfIana && specialCommand != rc::kIntelBiosSetup))
    return Outcome::failed(pt_status::kUnsupportedOemNumber);
  const char* bootSource = nullptr;
  switch (specialCommand) {
    case rc::kNop:
    case rc::kIntelBiosSetup: break;
    case rc::kPxe: bootSource = cim::kForcePxeBootId; break;
    case rc::kHardDrive: bootSource = cim::kForceHardDriveBootId; break;
    case rc::kCdDvd: bootSource = cim::kForceCdDvdBootId; break;
    case rc::kHardDriveSafeMode:
    case rc::kDiagnostics: return Outcome::failed(pt_status::kUnsupportedBootOption);  // AMT_BootCapabilities: no
    default: return Outcome::failed(pt_status::kInvalidSpecialCommand);
  }
  // Not possible from the current state (power up while on, reset while off): refused before anything changes.
  if (platform::HostPowerStateMachine::target(ctx.power.state(), cimRequest) == 0)
    return Outcome::failed(pt_status::kNotPermitted);

  RemoteControlCommand asked{*command, specialCommand, oemParameters.value_or(0), &ctx.caller};
  // User consent (IPS_OptInService) is checked here, and only here, for legacy remote control.
  if (ctx.consent)
    if (const auto refused = ctx.consent(asked); refused != pt_status::kSuccess) return Outcome::failed(refused);

  // A special command sets the next boot as WS-Man's ChangeBootOrder + SetBootConfigRole(1) and AMT_BootSettingData
  // would; none (or nop) leaves what WS-Man set alone.
  if (specialCommand != rc::kNop) {
    const auto stored = ctx.platform.update([&](platform::PlatformState& s) {
      auto& boot = s.boot;
      boot.bootOrder = bootSource ? std::vector<std::string>{bootSource} : std::vector<std::string>{};
      boot.biosSetup = specialCommand == rc::kIntelBiosSetup;
      boot.useSol = (asked.oemParameters & rc::kOemUseSol) != 0;
      boot.configurationRole = 1;
      boot.bootConfigActive = true;
    });
    if (stored != platform::ChangeResult::Ok) return Outcome::failed(pt_status::kInternalError);
  }
  platform::AuditInitiator who{ctx.caller.user, ctx.caller.local, ctx.caller.local ? std::string() : ctx.caller.peerAddress};
  const auto before = ctx.power.state();
  const auto result = ctx.power.request(cimRequest, who);
  auto logContext = [&ctx] { return ctx.platform.logContext(); };
  MESIM_LOG(Info, kLog, "RemoteControl(" << *command << ", special " << specialCommand << ") in power state " << before
                                         << ": " << static_cast<std::uint32_t>(result));
  switch (result) {
    case platform::PowerChangeStatus::Completed: ++ctx.stats.remoteControls; return Outcome::failed(pt_status::kSuccess);
    case platform::PowerChangeStatus::InvalidState: return Outcome::failed(pt_status::kNotPermitted);
    case platform::PowerChangeStatus::NotSupported: return Outcome::failed(pt_status::kInvalidCommand);
    case platform::PowerChangeStatus::Failed: break;
  }
  return Outcome::failed(pt_status::kInternalError);
}

// ---- event manager: the message log's fill (AMT_MessageLog over WS-Man).
Outcome getEventLogStatus(Context& ctx) {
  const auto records = ctx.platform.state().logs.messageLog.size();
  const auto capacity = platform::EventLogs::kMaxMessageLogRecords;
  return {pt_status::kSuccess,
          {EoiValue::of("NumberOfFreeRecords", std::uint64_t{capacity - std::min(records, capacity)}),
           EoiValue::of("NumberOfRecords", std::uint64_t{records}),
           EoiValue::of("Time", static_cast<std::uint64_t>(core::unixSeconds(ctx.clock.now()))),
           EoiValue::of("IsFrozen", "false")}};
}

const Operation kOperations[] = {
    {EoiInterface::SecurityAdministration, "GetCoreVersion", {}, "StatusCode", getCoreVersion},
    {EoiInterface::GeneralInfo, "GetCoreVersion", {}, "StatusCode", getCoreVersion},
    {EoiInterface::GeneralInfo, "GetCodeVersions", {Realm::GeneralInfo}, "Status", getCodeVersions},
    {EoiInterface::GeneralInfo, "GetHostName", {Realm::GeneralInfo}, "StatusCode", getHostName},
    {EoiInterface::GeneralInfo, "GetProvisioningState", {Realm::GeneralInfo}, "StatusCode", getProvisioningState},
    {EoiInterface::NetworkAdministration, "GetHostName", {Realm::PtAdministration, Realm::GeneralInfo}, "StatusCode",
     getHostName},
    {EoiInterface::NetworkAdministration, "GetDomainName", {Realm::PtAdministration, Realm::GeneralInfo},
     "StatusCode", getDomainName},
    {EoiInterface::NetworkAdministration, "EnumerateInterfaces", {Realm::PtAdministration}, "StatusCode",
     enumerateInterfaces},
    {EoiInterface::NetworkAdministration, "GetInterfaceSettings", {Realm::PtAdministration}, "StatusCode",
     getInterfaceSettings},
    {EoiInterface::NetworkAdministration, "SetInterfaceSettings", {Realm::PtAdministration}, "StatusCode",
     setInterfaceSettings},
    {EoiInterface::RemoteControl, "GetSystemPowerState", {Realm::RemoteControl}, "Status", getSystemPowerState},
    {EoiInterface::RemoteControl, "GetRemoteControlCapabilities", {Realm::RemoteControl}, "Status",
     getRemoteControlCapabilities},
    {EoiInterface::RemoteControl, "RemoteControl", {Realm::RemoteControl}, "Status", remoteControl},
    {EoiInterface::EventManager, "GetEventLogStatus", {Realm::EventManager, Realm::EventLogReader}, "Status",
     getEventLogStatus},
};

const Operation* findOperation(EoiInterface service, std::string_view name) {
  for (const auto& op : kOperations)
    if (op.service == service && op.name == name) return &op;
  return nullptr;
}

}  // namespace

LegacySoapService::LegacySoapService(platform::PlatformModel& platform, const core::FirmwareClock& clock,
                                     platform::HostPowerStateMachine& power)
    : platform_(platform), clock_(clock), power_(power) {}

EoiAnswer LegacySoapService::handle(std::string_view path, std::string_view body, const EoiCaller& caller) {
  auto fault = [this](FaultKind kind, std::string reason) {
    ++stats_.faults;
    MESIM_LOG(Debug, kLog, "fault: " << reason);
    return EoiAnswer{500, writeEoiFault({kind, std::move(reason)})};
  };
  const ServiceInfo* service = serviceAtPath(path);
  if (!service) return fault(FaultKind::Client, "No legacy SOAP service is served at " + std::string(path) + ".");
  auto parsed = parseEoiRequest(body, *service);
  if (!parsed.request) return fault(parsed.fault->kind, std::move(parsed.fault->reason));
  const EoiRequest& request = *parsed.request;
  const Operation* op = findOperation(service->id, request.operation);
  if (!op)
    return fault(FaultKind::Client, "Operation " + request.operation + " is not served by " +
                                        std::string(service->path.substr(1)) + ".");

  ++stats_.calls;
  ++stats_.byOperation[std::string(service->name) + "." + std::string(op->name)];
  const RealmSet realms = cim::callerRealms(platform_, caller.user, caller.local);
  const bool permitted = op->realms.empty() ? !realms.empty() : op->realms.intersects(realms);
  Outcome outcome;
  if (!permitted) {
    ++stats_.notPermitted;
    MESIM_LOG(Info, kLog, "not permitted: " << caller.user << " holds no realm for " << service->name << "."
                                            << op->name);
    outcome = Outcome::failed(pt_status::kNotPermitted);
  } else {
    Context ctx{platform_, clock_, power_, caller, request, consent_, stats_};
    outcome = op->handler(ctx);
  }
  // Output parameters only with success: SOAP::Lite's `paramsout` is then empty, not stale values.
  std::vector<EoiValue> out{EoiValue::of(std::string(op->statusName), std::uint64_t{outcome.status})};
  if (outcome.status == pt_status::kSuccess)
    for (auto& value : outcome.out) out.push_back(std::move(value));
  return {200, writeEoiResponse(*service, op->name, out)};
}

}  // namespace mesim::wsman::eoi
