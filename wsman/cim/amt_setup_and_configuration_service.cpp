// AMT_SetupAndConfigurationService: provisioning state, Unprovision, CommitChanges, SetMEBxPassword,
// GetUuid, ExtendProvisioningPeriod, GetProvisioningAuditRecord(V2), GetUnprovisionBlockingComponents,
// ResetFlashWearOutProtection and SetTLSPSK. Provisioning state and UUID are the platform model's, so AMTHI sees the
// same (spec/mei.md §4).
#include "firmware/platform/event_records.h"
#include "firmware/platform/provisioning_timeout.h"
#include "common/log.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

constexpr const char* kClass = "AMT_SetupAndConfigurationService";
constexpr const char* kName = "Intel(r) AMT Setup and Configuration Service";
using T = PropType;
using platform::ProvisioningState;

Instance setupService(CimContext& ctx) {
  const auto& s = ctx.platform.state();
  Instance i;
  setServiceKeys(i, kClass, kName);
  i.set("ElementName", kName)
      .setNum("EnabledState", 5)
      .setNum("PasswordModel", 1)
      .setNum("ProvisioningMode", 1)
      .setNum("ProvisioningState", static_cast<std::uint32_t>(s.provisioningState))
      .setNum("RequestedState", 12)
      .setBool("ZeroTouchConfigurationEnabled", s.ztcEnabled);
  return i;
}

// Unlike AMTHI (host side), WS-Man may undo admin control mode (rpc-go deactivate, spec/wsman.md §3.2). Full
// and partial unprovision differ in the admin account only (PlatformModel::unprovision).
MethodResult unprovisionIn(CimContext& ctx, platform::UnprovisionScope scope) {
  auto result = ctx.platform.unprovision(
      scope, platform::makeAuditRecord(platform::audit::kSecurityAdmin, platform::audit::kUnprovisioningStarted,
                                       ctx.initiator(), ctx.now()));
  if (result == platform::ChangeResult::InvalidState) return MethodResult::status(status::kNotPermitted);
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  auto logContext = [&ctx] { return ctx.platform.logContext(); };  // MESIM_LOG names ctx's device
  MESIM_LOG(Info, "wsman", (scope == platform::UnprovisionScope::Full ? "unprovisioned" : "partially unprovisioned")
                               << " by " << (ctx.user.empty() ? "local" : ctx.user));
  return MethodResult::status(status::kSuccess);
}

// Since AMT 7 ProvisioningMode is ignored: Intel's own sample sends 0, rpc-go 1, other agents 2 or 4.
MethodResult unprovision(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t mode = 0;
  if (in.count("ProvisioningMode") && !argUint(in, "ProvisioningMode", mode))
    return MethodResult::status(status::kInvalidParameter);
  return unprovisionIn(ctx, platform::UnprovisionScope::Full);
}

MethodResult partialUnprovision(CimContext& ctx, const Instance&, const Arguments&) {
  return unprovisionIn(ctx, platform::UnprovisionScope::Partial);
}

// The MEBx password: admin control mode only, AMT's strong-password rule (PlatformModel::setMebxPassword).
MethodResult setMebxPassword(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string password;
  if (!argString(in, "Password", password)) return MethodResult::status(status::kInvalidParameter);
  switch (ctx.platform.setMebxPassword(password)) {
    case platform::ChangeResult::Ok: return MethodResult::status(status::kSuccess);
    case platform::ChangeResult::InvalidState: return MethodResult::status(status::kNotPermitted);
    case platform::ChangeResult::InvalidParameter: return MethodResult::status(status::kInvalidParameter);
    case platform::ChangeResult::StorageError: break;
  }
  return MethodResult::status(status::kInternalError);
}

// Every change is persisted as it is made (PlatformModel); what waits for a commit is the TLS configuration
// (AMT_TLSSettingData, AMT_TLSCredentialContext), which the TLS listeners take up from then on.
MethodResult commitChanges(CimContext& ctx, const Instance&, const Arguments&) {
  if (ctx.platform.update(commitTlsChanges) != platform::ChangeResult::Ok)
    return MethodResult::status(status::kInternalError);
  return MethodResult::status(status::kSuccess);
}

MethodResult getUuid(CimContext& ctx, const Instance&, const Arguments&) {
  const auto& u = ctx.platform.uuid();
  // The SMBIOS byte order AMTHI GetUUID also uses (first three fields little-endian).
  static constexpr std::size_t kOrder[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
  std::vector<std::uint8_t> wire(16);
  for (std::size_t i = 0; i < 16; ++i) wire[i] = u[kOrder[i]];
  MethodResult r;
  r.outputs["UUID"] = Value::text(base64Encode(wire));
  return r;
}

// The provisioning period runs while provisioning is "in" (firmware/platform/provisioning_timeout.h); a
// configuration server may push its end back, by at most 24 hours a call.
MethodResult extendProvisioningPeriod(CimContext& ctx, const Instance&, const Arguments& in) {
  constexpr std::uint64_t kMaxHours = 24;
  std::uint64_t hours = 0;
  if (!argUint(in, "Duration", hours) || hours == 0 || hours > kMaxHours)
    return MethodResult::status(status::kInvalidParameter);
  if (!ctx.provisioningTimeout || !ctx.provisioningTimeout->extend(std::chrono::hours(hours)))
    return MethodResult::status(status::kNotPermitted);
  return MethodResult::status(status::kSuccess);
}

// The record IPS_ProvisioningRecordLog holds, as a reference (the V2 method answers the same: mesim's records have
// no field the V2 record adds).
MethodResult getProvisioningAuditRecord(CimContext& ctx, const Instance&, const Arguments&) {
  auto record = provisioningRecordRef(ctx.platform.state());
  if (!record) return MethodResult::status(status::kNotFound);
  MethodResult r;
  r.outputs["ProvisioningAuditRecord"] = Value::ref(std::move(*record));
  return r;
}

// Since AMT 12 nothing blocks an unprovision (the auditor's UNPROVISIONING_LOCK is no longer needed): no component.
MethodResult getUnprovisionBlockingComponents(CimContext&, const Instance&, const Arguments&) {
  return MethodResult::status(status::kSuccess);
}

// mesim's flash has no wear-out counters to reset; the reset is audited as AMT audits it (1615).
MethodResult resetFlashWearOutProtection(CimContext& ctx, const Instance&, const Arguments&) {
  constexpr std::uint16_t kFlashWearOutCountersReset = 15;
  const auto now = ctx.now();
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    platform::appendAuditRecord(
        s, platform::makeAuditRecord(platform::audit::kSecurityAdmin, kFlashWearOutCountersReset, ctx.initiator(), now));
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

// The pre-shared key of TLS-PSK provisioning: PID 8 bytes, PPS 32 bytes (base64), set before provisioning only;
// audited (1612 TLS Preshared Key Set).
MethodResult setTlsPsk(CimContext& ctx, const Instance&, const Arguments& in) {
  constexpr std::size_t kPidBytes = 8;
  constexpr std::size_t kPpsBytes = 32;
  constexpr std::uint16_t kTlsPresharedKeySet = 12;
  std::string pidText, ppsText;
  std::vector<std::uint8_t> pid, pps;
  if (!argString(in, "PID", pidText) || !argString(in, "PPS", ppsText) || !base64Decode(pidText, pid) ||
      !base64Decode(ppsText, pps) || pid.size() != kPidBytes || pps.size() != kPpsBytes)
    return MethodResult::status(status::kInvalidParameter);
  if (ctx.platform.state().provisioningState != ProvisioningState::Pre) return MethodResult::status(status::kNotPermitted);
  const auto now = ctx.now();
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    s.services.tlsPskId = base64Encode(pid);
    s.services.tlsPskValue = base64Encode(pps);
    platform::appendAuditRecord(
        s, platform::makeAuditRecord(platform::audit::kSecurityAdmin, kTlsPresharedKeySet, ctx.initiator(), now));
  });
  return MethodResult::status(result == platform::ChangeResult::Ok ? status::kSuccess : status::kInternalError);
}

}  // namespace

void registerSetupAndConfiguration(ClassRegistry& r) {
  ClassDef c;
  c.name = kClass;
  c.schema = Schema::Amt;
  c.keys = kServiceKeys;
  c.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                  P("PasswordModel", T::UInt32), P("ProvisioningMode", T::UInt16), P("ProvisioningState", T::UInt32),
                  P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName"),
                  P("ZeroTouchConfigurationEnabled", T::Boolean)};
  c.methods = {
      {"Unprovision", {In("ProvisioningMode", T::UInt16)}, {}, unprovision},
      {"PartialUnprovision", {}, {}, partialUnprovision},
      {"CommitChanges", {}, {}, commitChanges},
      {"SetMEBxPassword", {In("Password")}, {}, setMebxPassword},
      {"GetUuid", {}, {Out("UUID", T::Base64)}, getUuid},
      {"ExtendProvisioningPeriod", {In("Duration", T::UInt32)}, {}, extendProvisioningPeriod},
      {"GetProvisioningAuditRecord", {}, {Out("ProvisioningAuditRecord", T::Reference)}, getProvisioningAuditRecord},
      {"GetProvisioningAuditRecordV2", {}, {Out("ProvisioningAuditRecord", T::Reference)}, getProvisioningAuditRecord},
      {"GetUnprovisionBlockingComponents", {}, {Out("Component", T::UInt32, true)}, getUnprovisionBlockingComponents},
      {"ResetFlashWearOutProtection", {}, {}, resetFlashWearOutProtection},
      {"SetTLSPSK", {In("PID", T::Base64), In("PPS", T::Base64)}, {}, setTlsPsk},
  };
  c.enumerate = [](CimContext& ctx) { return std::vector<Instance>{setupService(ctx)}; };
  r.add(std::move(c));
}

}  // namespace mesim::wsman::cim
