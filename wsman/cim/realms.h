// AMT's realms: the permission units an ACL entry grants (AMT_AuthorizationService Realms, numbered as the
// AMT SDK numbers them), and the realms of whoever is calling. Which realm each class and method needs is
// wsman/ops/realm_table.cpp; this is the vocabulary both the table and AMT_AuthorizationService use.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>

#include "firmware/platform/platform_model.h"

namespace mesim::wsman::cim {

enum class Realm : std::uint8_t {
  Redirection = 2,
  PtAdministration = 3,  // "Security Administration": ACL, TLS, provisioning, network and power settings
  HardwareAsset = 4,
  RemoteControl = 5,
  Storage = 6,
  EventManager = 7,
  StorageAdmin = 8,
  AgentPresenceLocal = 9,
  AgentPresenceRemote = 10,
  CircuitBreaker = 11,
  NetworkTime = 12,
  GeneralInfo = 13,
  FirmwareUpdate = 14,
  Eit = 15,
  LocalApps = 16,  // "LocalUN": the local user-notification service's own realm
  EndpointAccessControl = 17,
  EndpointAccessControlAdmin = 18,
  EventLogReader = 19,
  AuditLog = 20,
  Acl = 21,
  LocalSystem = 24,  // the host OS's services (host-based setup, time and IP sync), held by $$OsAdmin
};

// Every realm AMT defines, in number order.
inline constexpr std::array kAllRealms{Realm::Redirection,
                                       Realm::PtAdministration,
                                       Realm::HardwareAsset,
                                       Realm::RemoteControl,
                                       Realm::Storage,
                                       Realm::EventManager,
                                       Realm::StorageAdmin,
                                       Realm::AgentPresenceLocal,
                                       Realm::AgentPresenceRemote,
                                       Realm::CircuitBreaker,
                                       Realm::NetworkTime,
                                       Realm::GeneralInfo,
                                       Realm::FirmwareUpdate,
                                       Realm::Eit,
                                       Realm::LocalApps,
                                       Realm::EndpointAccessControl,
                                       Realm::EndpointAccessControlAdmin,
                                       Realm::EventLogReader,
                                       Realm::AuditLog,
                                       Realm::Acl,
                                       Realm::LocalSystem};

class RealmSet {
 public:
  constexpr RealmSet() = default;
  constexpr RealmSet(std::initializer_list<Realm> realms) {
    for (Realm r : realms) add(r);
  }
  static constexpr RealmSet all() {
    RealmSet s;
    for (Realm r : kAllRealms) s.add(r);
    return s;
  }

  constexpr bool has(Realm r) const { return (bits_ & bit(r)) != 0; }
  constexpr bool intersects(RealmSet other) const { return (bits_ & other.bits_) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr RealmSet& add(Realm r) {
    bits_ |= bit(r);
    return *this;
  }
  constexpr RealmSet& remove(Realm r) {
    bits_ &= ~bit(r);
    return *this;
  }
  constexpr bool operator==(const RealmSet&) const = default;

 private:
  static constexpr std::uint32_t bit(Realm r) { return std::uint32_t{1} << static_cast<unsigned>(r); }
  std::uint32_t bits_ = 0;
};

std::string_view realmName(Realm realm);  // "PTAdministrationRealm", as the SDK's ValueMap spells it

// The realm `value` names if an ACL entry may be given it (AddUserAclEntryEx/UpdateUserAclEntryEx Realms); nullopt
// (INVALID_REALM) for the reserved values and for FirmwareUpdate, EIT and LocalUN, which no ACL entry can hold.
std::optional<Realm> assignableRealm(std::uint32_t value);

// The realms of an authenticated Digest user:
// - the admin account: every realm (AMT SDK "Administrative Users");
// - the OS admin account (GetLocalSystemAccount), on local requests only: General Info, Local System, LocalUN,
//   Endpoint Access Control, Storage, Hardware Asset, Event Log Reader, and Storage Admin while unprovisioned
//   (AMT SDK "Predefined Local System Users");
// - an ACL entry: its realms; PT Administration among them grants every realm, as the admin has.
// Holding every realm excludes Audit Log while another ACL entry holds it (the auditor owns the audit log).
// Anyone else has no realm.
RealmSet callerRealms(const platform::PlatformModel& platform, std::string_view user, bool local);

}  // namespace mesim::wsman::cim
