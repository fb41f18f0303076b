// Boot control (spec/wsman.md §3.3 boot-to-BIOS/PXE, features.md §7 One Click Recovery): AMT_BootSettingData (Put,
// the UEFI boot parameters validated), AMT_BootCapabilities, CIM_BootSourceSetting, CIM_BootConfigSetting.ChangeBootOrder,
// CIM_BootService.SetBootConfigRole. The options are used up by the next boot (HostPowerStateMachine).
#include <algorithm>

#include "firmware/platform/uefi_boot_params.h"
#include "wsman/cim/boot_sources.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kSettingDataId = "Intel(r) AMT:BootSettingData 0";
constexpr const char* kConfigId = "Intel(r) AMT: Boot Configuration 0";
constexpr const char* kBootServiceName = "Intel(r) AMT Boot Service";

struct BootSource {
  const char* id;
  const char* structured;      // StructuredBIOSBootString ("" none)
  const char* biosBootString;  // BIOSBootString ("" none): names a One Click Recovery boot option
};
// The One Click Recovery sources (AMT 16, features.md §7) are those of a BIOS with UEFI HTTPS boot, WinRE and a local
// PBA enabled (UEFIHTTPSBootEnabled, WinREBootEnabled, UEFILocalPBABootEnabled below).
constexpr BootSource kSources[] = {
    {kForceHardDriveBootId, "CIM:Hard-Disk:1", ""},
    {kForcePxeBootId, "CIM:Network:1", ""},
    {kForceCdDvdBootId, "CIM:CD/DVD:1", ""},
    {kForceOcrHttpsBootId, "", ""},
    {kForceOcrWinReBootId, "", "Windows Recovery Environment (WinRe)"},
    {kForceOcrPbaBootId, "", "Local Pre-Boot Authentication (PBA)"},
};

// (property, member) pairs of the boolean settings, so Get and Put share one table.
struct BoolField {
  const char* property;
  bool platform::BootSettings::*member;
};
constexpr BoolField kBoolFields[] = {
    {"BIOSPause", &platform::BootSettings::biosPause},
    {"BIOSSetup", &platform::BootSettings::biosSetup},
    {"EnforceSecureBoot", &platform::BootSettings::enforceSecureBoot},
    {"ForcedProgressEvents", &platform::BootSettings::forcedProgressEvents},
    {"LockKeyboard", &platform::BootSettings::lockKeyboard},
    {"LockPowerButton", &platform::BootSettings::lockPowerButton},
    {"LockResetButton", &platform::BootSettings::lockResetButton},
    {"LockSleepButton", &platform::BootSettings::lockSleepButton},
    {"ReflashBIOS", &platform::BootSettings::reflashBios},
    {"UseIDER", &platform::BootSettings::useIder},
    {"UseSOL", &platform::BootSettings::useSol},
    {"UseSafeMode", &platform::BootSettings::useSafeMode},
    {"UserPasswordBypass", &platform::BootSettings::userPasswordBypass},
};
struct NumField {
  const char* property;
  std::uint32_t platform::BootSettings::*member;
  std::uint32_t max;
};
constexpr NumField kNumFields[] = {
    {"BootMediaIndex", &platform::BootSettings::bootMediaIndex, 0xFFFF},
    {"FirmwareVerbosity", &platform::BootSettings::firmwareVerbosity, 3},
    {"IDERBootDevice", &platform::BootSettings::iderBootDevice, 1},
};

Instance settingData(CimContext& ctx) {
  const auto& b = ctx.platform.state().boot;
  Instance i;
  for (const auto& f : kBoolFields) i.setBool(f.property, b.*(f.member));
  for (const auto& f : kNumFields) i.setNum(f.property, b.*(f.member));
  i.set("BIOSLastStatus", Value::numbers({2, 0}))
      .setBool("ConfigurationDataReset", false)
      .set("ElementName", "Intel(r) AMT Boot Configuration Settings")
      .set("InstanceID", kSettingDataId)
      .setBool("OptionsCleared", b.optionsCleared)
      .set("OwningEntity", kAmtSystemName)
      .setBool("SecureErase", false)
      .setBool("UEFIHTTPSBootEnabled", true)
      .setBool("UEFILocalPBABootEnabled", true)
      .setBool("WinREBootEnabled", true)
      .setNum("UefiBootNumberOfParams", b.uefiBootNumberOfParams);
  if (!b.uefiBootParameters.empty()) i.set("UefiBootParametersArray", base64Encode(b.uefiBootParameters));
  return i;
}

// UefiBootParametersArray (base64 TLVs) with UefiBootNumberOfParams: validated whole (uefi_boot_params.h), the
// count matching. UefiBootNumberOfParams 0 without an array clears them, as MeshCentral does after a boot.
ChangeFault readUefiParameters(const Arguments& in, platform::BootSettings& boot) {
  std::string text;
  std::uint64_t count = 0;
  const bool hasArray = argString(in, "UefiBootParametersArray", text) && !text.empty();
  const bool hasCount = in.count("UefiBootNumberOfParams") && argUint(in, "UefiBootNumberOfParams", count);
  if (!hasArray) {
    if (hasCount && count == 0) {
      boot.uefiBootParameters.clear();
      boot.uefiBootNumberOfParams = 0;
    } else if (hasCount && count != boot.uefiBootNumberOfParams) {
      return invalidParameter("UefiBootNumberOfParams does not match UefiBootParametersArray.");
    }
    return std::nullopt;
  }
  std::vector<std::uint8_t> bytes;
  if (!base64Decode(text, bytes)) return invalidParameter("UefiBootParametersArray is not base64.");
  auto params = platform::parseUefiBootParameters(bytes);
  if (!params) return invalidParameter("UefiBootParametersArray: " + params.error().message + ".");
  if (hasCount && count != params->size())
    return invalidParameter("UefiBootNumberOfParams is " + std::to_string(count) + " but UefiBootParametersArray holds " +
                            std::to_string(params->size()) + ".");
  boot.uefiBootParameters = std::move(bytes);
  boot.uefiBootNumberOfParams = static_cast<std::uint32_t>(params->size());
  return std::nullopt;
}

ChangeFault putSettingData(CimContext& ctx, const Instance&, const Arguments& in) {
  for (const auto& f : kNumFields) {
    std::uint64_t n = 0;
    if (in.count(f.property) && (!argUint(in, f.property, n) || n > f.max))
      return invalidParameter(std::string(f.property) + " is out of range.");
  }
  auto boot = ctx.platform.state().boot;
  if (auto fault = readUefiParameters(in, boot)) return fault;
  for (const auto& f : kBoolFields) {
    bool v = false;
    if (argBool(in, f.property, v)) boot.*(f.member) = v;
  }
  for (const auto& f : kNumFields) {
    std::uint64_t n = 0;
    if (argUint(in, f.property, n)) boot.*(f.member) = static_cast<std::uint32_t>(n);
  }
  boot.optionsCleared = false;  // options wait for the next boot (consumed there if SetBootConfigRole(1) armed them)
  return changeFault(ctx.platform.update([&](platform::PlatformState& s) { s.boot = boot; }));
}

// Source: the CIM_BootSourceSetting references in boot order; none clears the order.
MethodResult changeBootOrder(CimContext& ctx, const Instance&, const Arguments& in) {
  std::vector<std::string> order;
  auto it = in.find("Source");
  if (it != in.end()) {
    for (const auto& ref : it->second.refs) {
      const auto* id = ref.find("InstanceID");
      bool known = id && std::any_of(std::begin(kSources), std::end(kSources),
                                     [&](const BootSource& s) { return id->value == s.id; });
      if (!known) return MethodResult::status(status::kInvalidParameter);
      order.push_back(id->value);
    }
  }
  auto result = ctx.platform.update([&](platform::PlatformState& s) { s.boot.bootOrder = order; });
  return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
}

// Role 1 = IsNext (use the configuration on the next boot), 32768 = IsNotNext.
MethodResult setBootConfigRole(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t role = 0;
  const auto* setting = argRef(in, "BootConfigSetting");
  if (!argUint(in, "Role", role) || (role != 1 && role != 32768)) return MethodResult::status(status::kInvalidParameter);
  if (!setting || !setting->find("InstanceID") || setting->find("InstanceID")->value != kConfigId)
    return MethodResult::status(status::kInvalidParameter);
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    s.boot.configurationRole = static_cast<std::uint32_t>(role == 1 ? 1 : 0);
    s.boot.bootConfigActive = role == 1;
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? 0 : status::kInternalError);
}

}  // namespace

void registerBootConfiguration(ClassRegistry& r) {
  ClassDef data{.name = "AMT_BootSettingData", .schema = Schema::Amt, .keys = {"InstanceID"}};
  data.properties = {A("BIOSLastStatus", T::UInt16), P("ConfigurationDataReset", T::Boolean), P("ElementName"),
                     P("InstanceID"), P("OptionsCleared", T::Boolean), P("OwningEntity"), P("SecureErase", T::Boolean),
                     P("UEFIHTTPSBootEnabled", T::Boolean), P("UEFILocalPBABootEnabled", T::Boolean),
                     P("WinREBootEnabled", T::Boolean), W("UefiBootParametersArray", T::Base64),
                     W("UefiBootNumberOfParams", T::UInt16)};
  for (const auto& f : kBoolFields) data.properties.push_back(W(f.property, T::Boolean));
  for (const auto& f : kNumFields) data.properties.push_back(W(f.property, T::UInt16));
  data.enumerate = [](CimContext& ctx) { return std::vector<Instance>{settingData(ctx)}; };
  data.put = putSettingData;
  r.add(std::move(data));

  static const char* const kCapabilities[] = {
      "BIOSPause",         "BIOSReflash",        "BIOSSetup",       "ForceCDorDVDBoot", "ForceHardDriveBoot",
      "ForcePXEBoot",      "ForcedProgressEvents", "IDER",          "KeyboardLock",     "SOL",
      "UserPasswordBypass", "VerbosityQuiet",     "VerbosityScreenBlank", "VerbosityVerbose",
      // One Click Recovery (AMT 16): the BIOS of the simulated host has all three and Secure Boot control.
      "ForceUEFIHTTPSBoot", "ForceUEFIPBABoot", "ForceWinREBoot", "AMTSecureBootControl"};
  static const char* const kNotCapable[] = {"ConfigurationDataReset", "ForceDiagnosticBoot", "ForceHardDriveSafeModeBoot",
                                            "PowerButtonLock", "ResetButtonLock", "SecureErase", "SleepButtonLock"};
  ClassDef caps{.name = "AMT_BootCapabilities", .schema = Schema::Amt, .keys = {"InstanceID"}};
  caps.properties = {P("ElementName"), P("InstanceID")};
  for (auto* p : kCapabilities) caps.properties.push_back(P(p, T::Boolean));
  for (auto* p : kNotCapable) caps.properties.push_back(P(p, T::Boolean));
  caps.enumerate = [](CimContext&) {
    Instance i;
    i.set("ElementName", "Intel(r) AMT: Boot Capabilities").set("InstanceID", "Intel(r) AMT:BootCapabilities 0");
    for (auto* p : kCapabilities) i.setBool(p, true);
    for (auto* p : kNotCapable) i.setBool(p, false);
    return std::vector<Instance>{i};
  };
  r.add(std::move(caps));

  ClassDef source{.name = "CIM_BootSourceSetting", .schema = Schema::Cim, .keys = {"InstanceID"}};
  source.properties = {P("BIOSBootString"), P("BootString"), P("ElementName"), P("FailThroughSupported", T::UInt16),
                       P("InstanceID"), P("StructuredBIOSBootString")};
  source.enumerate = [](CimContext&) {
    std::vector<Instance> out;
    for (const auto& s : kSources) {
      Instance i;
      i.set("ElementName", s.id).setNum("FailThroughSupported", 2).set("InstanceID", s.id);
      if (*s.structured) i.set("StructuredBIOSBootString", s.structured);
      if (*s.biosBootString) i.set("BIOSBootString", s.biosBootString);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(source));

  ClassDef config{.name = "CIM_BootConfigSetting", .schema = Schema::Cim, .keys = {"InstanceID"}};
  config.properties = {P("ElementName"), P("InstanceID")};
  config.methods = {{"ChangeBootOrder", {In("Source", T::Reference, true)}, {}, changeBootOrder}};
  config.enumerate = [](CimContext&) {
    Instance i;
    i.set("ElementName", "Intel(r) AMT: Boot Configuration").set("InstanceID", kConfigId);
    return std::vector<Instance>{i};
  };
  r.add(std::move(config));

  // DSP1012's boot order: the configuration holds every source, AssignedSequence its place in the order
  // ChangeBootOrder set (1 first; 0 not in the order).
  ClassDef ordered{.name = "CIM_OrderedComponent", .schema = Schema::Cim, .keys = {"GroupComponent", "PartComponent"}};
  ordered.properties = {P("AssignedSequence", T::UInt64), P("GroupComponent", T::Reference), P("PartComponent", T::Reference)};
  ordered.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& order = ctx.platform.state().boot.bootOrder;
    for (const auto& s : kSources) {
      const auto at = std::find(order.begin(), order.end(), s.id);
      Instance i;
      i.setNum("AssignedSequence", at == order.end() ? 0 : static_cast<std::uint64_t>(at - order.begin()) + 1)
          .setRef("GroupComponent", instanceIdRef(Schema::Cim, "CIM_BootConfigSetting", kConfigId))
          .setRef("PartComponent", instanceIdRef(Schema::Cim, "CIM_BootSourceSetting", s.id));
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(ordered));

  ClassDef service{.name = "CIM_BootService", .schema = Schema::Cim, .keys = kServiceKeys};
  service.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                        A("OperationalStatus", T::UInt16), P("RequestedState", T::UInt16), P("SystemCreationClassName"),
                        P("SystemName")};
  service.methods = {{"SetBootConfigRole", {In("BootConfigSetting", T::Reference), In("Role", T::UInt16)}, {}, setBootConfigRole},
                     {"RequestStateChange",
                      {In("RequestedState", T::UInt16)},
                      {},
                      [](CimContext&, const Instance&, const Arguments& in) {
                        std::uint64_t s = 0;
                        return MethodResult::status(argUint(in, "RequestedState", s) && (s == 32768 || s == 32769)
                                                        ? 0
                                                        : status::kInvalidParameter);
                      }}};
  service.enumerate = [](CimContext& ctx) {
    Instance i;
    setServiceKeys(i, "CIM_BootService", kBootServiceName)
        .set("ElementName", kBootServiceName)
        .setNum("EnabledState", ctx.platform.state().boot.bootConfigActive ? 32769 : 32768)
        .set("OperationalStatus", Value::numbers({0}))
        .setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(service));
}

}  // namespace mesim::wsman::cim
