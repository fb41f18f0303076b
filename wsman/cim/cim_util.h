// Shared vocabulary of the class files: AMT's standard keys and references, CIM datetimes, base64.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wsman/cim/class_def.h"

namespace mesim::wsman::cim {

inline constexpr const char* kAmtSystemName = "Intel(r) AMT";
inline constexpr const char* kHostSystemName = "ManagedSystem";
inline constexpr std::size_t kMaxAclUsers = 32;  // AMT's user table: ACL entries besides the admin

// Keys of a CIM_Service-like class (spec/wsman.md §1.5).
inline const std::vector<std::string> kServiceKeys = {"CreationClassName", "Name", "SystemCreationClassName",
                                                      "SystemName"};

// Declaration shorthands: P = read-only, W = writable (Put), A = array.
inline PropertyDef P(std::string name, PropType t = PropType::String) { return {std::move(name), t, false, false}; }
inline PropertyDef W(std::string name, PropType t = PropType::String) { return {std::move(name), t, false, true}; }
inline PropertyDef A(std::string name, PropType t = PropType::String) { return {std::move(name), t, true, false}; }
inline ParamDef In(std::string name, PropType t = PropType::String, bool array = false) {
  return {std::move(name), t, array};
}

inline ParamDef Out(std::string name, PropType t = PropType::String, bool array = false) {
  return {std::move(name), t, array};
}

// The four service keys; SystemName "Intel(r) AMT".
Instance& setServiceKeys(Instance& i, const std::string& className, const std::string& name);
EndpointReference serviceRef(Schema schema, const std::string& className, const std::string& name);
// CIM_ComputerSystem {CreationClassName, Name}: "ManagedSystem" (host) or "Intel(r) AMT".
EndpointReference computerSystemRef(const std::string& name = kHostSystemName);
EndpointReference instanceIdRef(Schema schema, const std::string& className, const std::string& instanceId);

// "2024-01-31T15:40:09Z" for Unix seconds.
std::string cimDatetime(std::int64_t unixSeconds);

// common/text_codecs' base64 in the shape the CIM argument helpers use.
std::string base64Encode(const std::vector<std::uint8_t>& data);
bool base64Decode(std::string_view text, std::vector<std::uint8_t>& out);

// The fault for a platform change that did not go through.
ChangeFault changeFault(platform::ChangeResult result);
inline ChangeFault invalidParameter(std::string reason = {}) {
  return soap::Fault{soap::FaultCode::InvalidParameter, {}, std::move(reason)};
}

// Registration functions, one per class file (called from makeAmtClassRegistry).
class ClassRegistry;
void registerGeneralSettings(ClassRegistry& r);
void registerSetupAndConfiguration(ClassRegistry& r);
void registerHostBasedSetup(ClassRegistry& r);
void registerSoftwareIdentity(ClassRegistry& r);
void registerComputerSystem(ClassRegistry& r);
void registerPhysicalInventory(ClassRegistry& r);
void registerHardwareSensors(ClassRegistry& r);
void registerAssetTable(ClassRegistry& r);
void registerPowerManagement(ClassRegistry& r);
void registerHostBootReason(ClassRegistry& r);
void registerEthernetPortSettings(ClassRegistry& r);
void registerBootConfiguration(ClassRegistry& r);
void registerRedirection(ClassRegistry& r);
void registerOptIn(ClassRegistry& r);
void registerTimeSynchronization(ClassRegistry& r);
void registerAuthorization(ClassRegistry& r);
void registerEventLogs(ClassRegistry& r);
void registerTlsAndCertificates(ClassRegistry& r);
void registerPublicKeyManagement(ClassRegistry& r);
void registerRemoteAccess(ClassRegistry& r);
void registerIeee8021x(ClassRegistry& r);
void registerWifi(ClassRegistry& r);
void registerHttpProxy(ClassRegistry& r);
void registerEventSubscriptions(ClassRegistry& r);
void registerAgentPresence(ClassRegistry& r);
void registerProvisioningCertificateHash(ClassRegistry& r);
void registerAlarmClock(ClassRegistry& r);
void registerPet(ClassRegistry& r);
void registerSystemDefense(ClassRegistry& r);
void registerThirdPartyStorage(ClassRegistry& r);
void registerServiceSettings(ClassRegistry& r);
void registerLogRecords(ClassRegistry& r);
void registerAbstractClasses(ClassRegistry& r);
void registerAccountsAndRoles(ClassRegistry& r);
void registerNetworkPorts(ClassRegistry& r);
void registerGenericAssociations(ClassRegistry& r);  // reads the registry per request: links later classes too

// AMT_SetupAndConfigurationService.CommitChanges: the remote AMT_TLSSettingData and the AMT_TLSCredentialContext
// binding become what the TLS listeners serve (public_key_management.cpp).
void commitTlsChanges(platform::PlatformState& s);

// AMT_AuditLog's SetAuditLock, ExportAuditLogSignature and SetSigningKeyMaterial, and its AuditState bits (0x01
// disabled, 0x02 locked, 0x04 almost full, 0x08 full, 0x10 no signing key); audit_log_signing.cpp.
std::vector<MethodDef> auditLogAuditorMethods();
std::uint32_t auditLogState(const platform::PlatformState& state, std::uint32_t now);

// The record of the last provisioning by a console (IPS_AdminProvisioningRecord or IPS_ClientProvisioningRecord) as
// a reference; nothing when there is none, or the record log is off or cleared since (log_records.cpp).
std::optional<EndpointReference> provisioningRecordRef(const platform::PlatformState& s);

// The subscription a CIM_FilterCollectionSubscription or CIM_ListenerDestinationWSManagement instance stands for
// (0 if none); event_subscriptions.cpp.
std::uint32_t subscriptionIdOf(const Instance& instance);
// The CIM_FilterCollectionSubscription EPR of subscription `s` (the SubscriptionManager of a SubscribeResponse).
EndpointReference subscriptionRef(const events::Subscription& s);

}  // namespace mesim::wsman::cim
