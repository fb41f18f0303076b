#include "wsman/cim/realms.h"

#include <algorithm>

namespace mesim::wsman::cim {

std::string_view realmName(Realm realm) {
  switch (realm) {
    case Realm::Redirection: return "RedirectionRealm";
    case Realm::PtAdministration: return "PTAdministrationRealm";
    case Realm::HardwareAsset: return "HardwareAssetRealm";
    case Realm::RemoteControl: return "RemoteControlRealm";
    case Realm::Storage: return "StorageRealm";
    case Realm::EventManager: return "EventManagerRealm";
    case Realm::StorageAdmin: return "StorageAdminRealm";
    case Realm::AgentPresenceLocal: return "AgentPresenceLocalRealm";
    case Realm::AgentPresenceRemote: return "AgentPresenceRemoteRealm";
    case Realm::CircuitBreaker: return "CircuitBreakerRealm";
    case Realm::NetworkTime: return "NetworkTimeRealm";
    case Realm::GeneralInfo: return "GeneralInfoRealm";
    case Realm::FirmwareUpdate: return "FirmwareUpdateRealm";
    case Realm::Eit: return "EITRealm";
    case Realm::LocalApps: return "LocalUN";
    case Realm::EndpointAccessControl: return "EndpointAccessControlRealm";
    case Realm::EndpointAccessControlAdmin: return "EndpointAccessControlAdminRealm";
    case Realm::EventLogReader: return "EventLogReaderRealm";
    case Realm::AuditLog: return "AuditLogRealm";
    case Realm::Acl: return "ACLRealm";
    case Realm::LocalSystem: return "LocalSystemRealm";
  }
  return "InvalidRealm";
}

std::optional<Realm> assignableRealm(std::uint32_t value) {
  for (Realm r : kAllRealms) {
    if (static_cast<std::uint32_t>(r) != value) continue;
    if (r == Realm::FirmwareUpdate || r == Realm::Eit || r == Realm::LocalApps) return std::nullopt;
    return r;
  }
  return std::nullopt;
}

namespace {

RealmSet storedRealms(const platform::AclUser& user) {
  RealmSet realms;
  for (std::uint32_t value : user.realms)
    if (auto r = assignableRealm(value)) realms.add(*r);
  return realms;
}

}  // namespace

RealmSet callerRealms(const platform::PlatformModel& platform, std::string_view user, bool local) {
  const auto& acl = platform.state().aclUsers;
  // Every realm, but the audit log stays the auditor's when an ACL entry other than `self` holds it.
  auto everyRealm = [&](const platform::AclUser* self) {
    RealmSet realms = RealmSet::all();
    const bool otherAuditor = std::any_of(acl.begin(), acl.end(), [&](const platform::AclUser& u) {
      return &u != self && storedRealms(u).has(Realm::AuditLog);
    });
    if (otherAuditor) realms.remove(Realm::AuditLog);
    return realms;
  };

  if (user.empty()) return {};
  if (user == platform.admin().user) return everyRealm(nullptr);
  if (local && user == platform.localSystemAccount().user) {
    RealmSet realms{Realm::GeneralInfo, Realm::LocalSystem,   Realm::LocalApps,     Realm::EndpointAccessControl,
                    Realm::Storage,     Realm::HardwareAsset, Realm::EventLogReader};
    if (platform.provisioningState() == platform::ProvisioningState::Pre) realms.add(Realm::StorageAdmin);
    return realms;
  }
  for (const auto& entry : acl) {
    if (entry.user != user) continue;
    RealmSet realms = storedRealms(entry);
    return realms.has(Realm::PtAdministration) ? everyRealm(&entry) : realms;
  }
  return {};
}

}  // namespace mesim::wsman::cim
