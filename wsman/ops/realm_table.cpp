// The class and method to realm table. Sources: the AMT SDK's realm descriptions (Redirection: redirection and its
// settings; PT Administration: ACL, TLS, provisioning, network and power settings; Hardware Asset: inventory;
// Remote Control: power and boot; Event Manager: alert subscriptions; Event Log Reader; Audit Log; Agent Presence
// Local (the agent's heartbeats) and Remote (registering agents and actions); Network Time; General Info: reading
// settings without the right to change them; Local System: the host OS's services, $$OsAdmin's realm), and each
// class's "Used in features" in the SDK's WS-Management Class Reference.
// Reads (Get/Enumerate) of settings are General Info's as well as their feature's; changes are their feature's.
// A holder of PT Administration holds every realm (realms.h), so "admin only" rows name PT Administration alone.
#include "wsman/ops/realm_table.h"

#include <array>

namespace mesim::wsman::ops {
namespace {

using cim::Realm;
using cim::RealmSet;
using Op = Operation;

constexpr RealmSet kAdminOnly{Realm::PtAdministration};
constexpr RealmSet kGeneralInfo{Realm::GeneralInfo};
constexpr RealmSet kHardwareAsset{Realm::HardwareAsset};
constexpr RealmSet kRemoteControl{Realm::RemoteControl};
constexpr RealmSet kReadRemoteControl{Realm::RemoteControl, Realm::GeneralInfo};
constexpr RealmSet kRedirection{Realm::Redirection};
constexpr RealmSet kReadRedirection{Realm::Redirection, Realm::GeneralInfo};
constexpr RealmSet kUserConsent{Realm::Redirection, Realm::RemoteControl};  // consent precedes KVM, IDE-R and boot
constexpr RealmSet kLocalSystem{Realm::LocalSystem};
constexpr RealmSet kNetworkTime{Realm::NetworkTime, Realm::LocalSystem};  // LMS syncs the clock as $$OsAdmin
constexpr RealmSet kEventManager{Realm::EventManager};
constexpr RealmSet kReadEventManager{Realm::EventManager, Realm::GeneralInfo};
constexpr RealmSet kEventLogReader{Realm::EventLogReader};
constexpr RealmSet kAuditLog{Realm::AuditLog};
constexpr RealmSet kAgentLocal{Realm::AgentPresenceLocal};
constexpr RealmSet kAgentRemote{Realm::AgentPresenceRemote};
constexpr RealmSet kAgentAny{Realm::AgentPresenceRemote, Realm::AgentPresenceLocal};
constexpr RealmSet kCircuitBreaker{Realm::CircuitBreaker};  // System Defense ("Circuit Breaker" in the SDK)
constexpr RealmSet kStorage{Realm::Storage};
constexpr RealmSet kReadStorage{Realm::Storage, Realm::GeneralInfo};
constexpr RealmSet kStorageAdmin{Realm::StorageAdmin};
constexpr RealmSet kReadStorageAdmin{Realm::StorageAdmin, Realm::GeneralInfo};

constexpr std::array kRules = std::to_array<RealmRule>({
    // Settings, provisioning and identity
    {"AMT_GeneralSettings", Op::Read, {}, kGeneralInfo},
    {"AMT_GeneralSettings", Op::Put, {}, kAdminOnly},
    {"AMT_SetupAndConfigurationService", Op::Read, {}, kGeneralInfo},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "Unprovision", kAdminOnly},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "PartialUnprovision", kAdminOnly},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "CommitChanges", kAdminOnly},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "SetMEBxPassword", kAdminOnly},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "GetUuid", kGeneralInfo},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "ExtendProvisioningPeriod", kAdminOnly},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "GetProvisioningAuditRecord", kGeneralInfo},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "GetProvisioningAuditRecordV2", kGeneralInfo},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "GetUnprovisionBlockingComponents", kGeneralInfo},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "ResetFlashWearOutProtection", kAdminOnly},
    {"AMT_SetupAndConfigurationService", Op::Invoke, "SetTLSPSK", kAdminOnly},
    {"IPS_HostBasedSetupService", Op::Read, {}, {Realm::GeneralInfo, Realm::LocalSystem}},
    {"IPS_HostBasedSetupService", Op::Invoke, "Setup", kLocalSystem},
    {"IPS_HostBasedSetupService", Op::Invoke, "AdminSetup", kLocalSystem},
    {"IPS_HostBasedSetupService", Op::Invoke, "UpgradeClientToAdmin", kLocalSystem},
    {"IPS_HostBasedSetupService", Op::Invoke, "AddNextCertInChain", kLocalSystem},
    {"AMT_ProvisioningCertificateHash", Op::Read, {}, kGeneralInfo},
    {"AMT_ProvisioningCertificateHash", Op::Put, {}, kAdminOnly},
    {"AMT_ProvisioningCertificateHash", Op::Create, {}, kAdminOnly},
    {"AMT_ProvisioningCertificateHash", Op::Delete, {}, kAdminOnly},
    {"CIM_SoftwareIdentity", Op::Read, {}, {Realm::GeneralInfo, Realm::HardwareAsset}},
    {"CIM_ComputerSystem", Op::Read, {}, {Realm::GeneralInfo, Realm::HardwareAsset, Realm::RemoteControl}},

    // Hardware inventory (the abstract bases have no rows: readRealms, realm_table.h)
    {"CIM_PhysicalPackage", Op::Read, {}, kHardwareAsset},
    {"CIM_Chassis", Op::Read, {}, kHardwareAsset},
    {"CIM_Card", Op::Read, {}, kHardwareAsset},
    {"CIM_BIOSElement", Op::Read, {}, kHardwareAsset},
    {"CIM_Chip", Op::Read, {}, kHardwareAsset},
    {"CIM_PhysicalMemory", Op::Read, {}, kHardwareAsset},
    {"CIM_Processor", Op::Read, {}, kHardwareAsset},
    {"CIM_MediaAccessDevice", Op::Read, {}, kHardwareAsset},
    {"CIM_ComputerSystemPackage", Op::Read, {}, kHardwareAsset},
    // inventory, sensors and the asset table (wip-hw; docs/hardware.md)
    {"CIM_Battery", Op::Read, {}, kHardwareAsset},
    {"CIM_Memory", Op::Read, {}, kHardwareAsset},
    {"AMT_PCIDevice", Op::Read, {}, kHardwareAsset},
    {"CIM_BIOSFeature", Op::Read, {}, kHardwareAsset},
    {"CIM_BIOSFeatureBIOSElements", Op::Read, {}, kHardwareAsset},
    {"CIM_Realizes", Op::Read, {}, kHardwareAsset},
    {"CIM_Location", Op::Read, {}, kHardwareAsset},
    {"CIM_PhysicalElementLocation", Op::Read, {}, kHardwareAsset},
    {"CIM_SystemDevice", Op::Read, {}, kHardwareAsset},
    {"CIM_SystemBIOS", Op::Read, {}, kHardwareAsset},
    {"CIM_Sensor", Op::Read, {}, kHardwareAsset},
    {"CIM_Fan", Op::Read, {}, kHardwareAsset},
    {"CIM_PowerSupply", Op::Read, {}, kHardwareAsset},
    {"AMT_AssetTableService", Op::Read, {}, kHardwareAsset},
    {"AMT_AssetTable", Op::Read, {}, kHardwareAsset},

    // Power and boot
    {"CIM_PowerManagementService", Op::Read, {}, kReadRemoteControl},
    {"CIM_PowerManagementService", Op::Invoke, "RequestPowerStateChange", kRemoteControl},
    {"CIM_AssociatedPowerManagementService", Op::Read, {}, kReadRemoteControl},
    {"IPS_PowerManagementService", Op::Read, {}, kReadRemoteControl},
    {"IPS_PowerManagementService", Op::Invoke, "RequestOSPowerSavingStateChange", kRemoteControl},
    // The OS agent (LMS, as $$OsAdmin) registers the power states its OS can carry out.
    {"CIM_PowerManagementCapabilities", Op::Read, {}, kReadRemoteControl},
    {"CIM_PowerManagementCapabilities", Op::Put, {}, kLocalSystem},
    {"IPS_HostBootReason", Op::Read, {}, kReadRemoteControl},
    {"AMT_BootSettingData", Op::Read, {}, kReadRemoteControl},
    {"AMT_BootSettingData", Op::Put, {}, kRemoteControl},
    {"AMT_BootCapabilities", Op::Read, {}, kReadRemoteControl},
    {"CIM_BootSourceSetting", Op::Read, {}, kReadRemoteControl},
    {"CIM_OrderedComponent", Op::Read, {}, kReadRemoteControl},
    {"CIM_BootConfigSetting", Op::Read, {}, kReadRemoteControl},
    {"CIM_BootConfigSetting", Op::Invoke, "ChangeBootOrder", kRemoteControl},
    {"CIM_BootService", Op::Read, {}, kReadRemoteControl},
    {"CIM_BootService", Op::Invoke, "SetBootConfigRole", kRemoteControl},
    {"CIM_BootService", Op::Invoke, "RequestStateChange", kRemoteControl},
    {"AMT_AlarmClockService", Op::Read, {}, kReadRemoteControl},
    {"AMT_AlarmClockService", Op::Put, {}, kRemoteControl},
    {"AMT_AlarmClockService", Op::Invoke, "AddAlarm", kRemoteControl},
    {"IPS_AlarmClockOccurrence", Op::Read, {}, kReadRemoteControl},
    {"IPS_AlarmClockOccurrence", Op::Delete, {}, kRemoteControl},

    // PET over SNMP (docs/pet.md): the SDK's Event Manager realm ("alert subscriptions")
    {"AMT_EventManagerService", Op::Read, {}, kReadEventManager},
    {"AMT_EventManagerService", Op::Put, {}, kEventManager},
    {"AMT_PETCapabilities", Op::Read, {}, kReadEventManager},
    {"AMT_PETFilterSetting", Op::Read, {}, kReadEventManager},
    {"AMT_PETFilterSetting", Op::Put, {}, kEventManager},
    {"AMT_PETFilterSetting", Op::Create, {}, kEventManager},
    {"AMT_PETFilterSetting", Op::Delete, {}, kEventManager},
    {"AMT_SNMPEventSubscriber", Op::Read, {}, kReadEventManager},
    {"AMT_SNMPEventSubscriber", Op::Create, {}, kEventManager},
    {"AMT_SNMPEventSubscriber", Op::Delete, {}, kEventManager},
    {"AMT_PETFilterForTarget", Op::Read, {}, kReadEventManager},
    {"AMT_PETFilterForTarget", Op::Create, {}, kEventManager},
    {"AMT_TrapTargetForService", Op::Read, {}, kReadEventManager},
    // Third-party data storage (AMT 3-11; docs/3pds.md): applications use Storage, administrators Storage Admin
    {"AMT_ThirdPartyDataStorageService", Op::Read, {}, kReadStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetMTU", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetTimeoutValues", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetWriteEraseLimit", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "RegisterApplication", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "UnregisterApplication", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "RemoveApplication", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetCurrentApplicationHandle", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetRegisteredApplications", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetApplicationAttributes", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetBytesAvailable", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "AllocateBlock", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "DeallocateBlock", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetAllocatedBlocks", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetBlockAttributes", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "ReadBlock", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "WriteBlock", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "LockBlock", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "UnlockBlock", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "SetBlockName", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "SetBlockVisibility", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "AddPermissionsGroup", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "RemovePermissionsGroup", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetPermissionsGroups", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetPermissionsGroupAttributes", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "SetPermissionsGroupName", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "SetPermissionsGroupPermissions", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "AddPermissionsGroupMembers", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "RemovePermissionsGroupMembers", kStorage},
    {"AMT_ThirdPartyDataStorageService", Op::Invoke, "GetPermissionsGroupMembers", kStorage},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Read, {}, kReadStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "GetGlobalStorageAttributes", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "SetGlobalStorageAttributes", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "AdminGetRegisteredApplications", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "AdminGetApplicationAttributes", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "AdminRemoveApplication", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "AddStorageEaclEntry", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "EnumerateStorageEaclEntries", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "GetStorageEaclEntry", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "RemoveStorageEaclEntry", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "AddStorageFpaclEntry", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "EnumerateStorageAllocEntries", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "GetStorageAllocEntry", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "UpdateStorageFpaclEntry", kStorageAdmin},
    {"AMT_ThirdPartyDataStorageAdministrationService", Op::Invoke, "RemoveStorageFpaclEntry", kStorageAdmin},

    // Network (LMS keeps the shared IP and the link preference in step as $$OsAdmin)
    {"AMT_EthernetPortSettings", Op::Read, {}, kGeneralInfo},
    {"AMT_EthernetPortSettings", Op::Put, {}, kLocalSystem},
    {"AMT_EthernetPortSettings", Op::Invoke, "SetLinkPreference", kLocalSystem},
    {"IPS_IEEE8021xSettings", Op::Read, {}, kGeneralInfo},
    {"IPS_IEEE8021xSettings", Op::Put, {}, kAdminOnly},
    {"IPS_IEEE8021xSettings", Op::Invoke, "SetCertificates", kAdminOnly},
    {"AMT_8021XProfile", Op::Read, {}, kGeneralInfo},
    {"AMT_8021XProfile", Op::Put, {}, kAdminOnly},
    {"AMT_8021xCredentialContext", Op::Read, {}, kGeneralInfo},
    {"IPS_8021xCredentialContext", Op::Read, {}, kGeneralInfo},
    {"CIM_IEEE8021xCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_IEEE8021xSettings", Op::Read, {}, kGeneralInfo},

    // The wireless port and its profiles (docs/wireless-and-8021x.md)
    {"CIM_WiFiPort", Op::Read, {}, kGeneralInfo},
    {"CIM_WiFiPort", Op::Invoke, "RequestStateChange", kAdminOnly},
    {"CIM_WiFiPortCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_WiFiEndpoint", Op::Read, {}, kGeneralInfo},
    {"CIM_WiFiEndpointCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_WiFiEndpointSettings", Op::Read, {}, kGeneralInfo},
    {"CIM_ConcreteComponent", Op::Read, {}, kGeneralInfo},
    {"CIM_WiFiEndpointSettings", Op::Delete, {}, kAdminOnly},
    {"AMT_WiFiPortConfigurationService", Op::Read, {}, kGeneralInfo},
    {"AMT_WiFiPortConfigurationService", Op::Put, {}, kAdminOnly},
    {"AMT_WiFiPortConfigurationService", Op::Invoke, "AddWiFiSettings", kAdminOnly},
    {"AMT_WiFiPortConfigurationService", Op::Invoke, "DeleteAllITProfiles", kAdminOnly},
    {"AMT_WiFiPortConfigurationService", Op::Invoke, "DeleteAllUserProfiles", kAdminOnly},
    {"IPS_HTTPProxyService", Op::Read, {}, kGeneralInfo},
    {"IPS_HTTPProxyService", Op::Invoke, "AddProxyAccessPoint", kAdminOnly},
    {"IPS_HTTPProxyAccessPoint", Op::Read, {}, kGeneralInfo},
    {"IPS_HTTPProxyAccessPoint", Op::Delete, {}, kAdminOnly},
    {"IPS_HTTPProxyAccessPoint", Op::Invoke, "UpdatePriority", kAdminOnly},

    // Redirection and user consent
    {"AMT_RedirectionService", Op::Read, {}, kReadRedirection},
    {"AMT_RedirectionService", Op::Put, {}, kRedirection},
    {"AMT_RedirectionService", Op::Invoke, "RequestStateChange", kRedirection},
    {"AMT_RedirectionService", Op::Invoke, "TerminateSession", kRedirection},
    {"CIM_KVMRedirectionSAP", Op::Read, {}, kReadRedirection},
    {"CIM_KVMRedirectionSAP", Op::Invoke, "RequestStateChange", kRedirection},
    {"CIM_RedirectionService", Op::Read, {}, kReadRedirection},
    {"CIM_RedirectionService", Op::Invoke, "RequestStateChange", kRedirection},
    {"IPS_SecIOService", Op::Read, {}, kReadRedirection},
    {"IPS_SecIOService", Op::Invoke, "RequestStateChange", kRedirection},
    {"IPS_ScreenSettingData", Op::Read, {}, kReadRedirection},
    {"IPS_SolSessionUsingPort", Op::Read, {}, kReadRedirection},
    {"IPS_IderSessionUsingPort", Op::Read, {}, kReadRedirection},
    {"IPS_KvmSessionUsingPort", Op::Read, {}, kReadRedirection},
    {"IPS_RasSessionUsingPort", Op::Read, {}, kGeneralInfo},
    {"IPS_KVMRedirectionSettingData", Op::Read, {}, kReadRedirection},
    {"IPS_KVMRedirectionSettingData", Op::Put, {}, kRedirection},
    {"IPS_KVMRedirectionSettingData", Op::Invoke, "TerminateSession", kRedirection},
    {"IPS_OptInService", Op::Read, {}, {Realm::GeneralInfo, Realm::Redirection, Realm::RemoteControl}},
    {"IPS_OptInService", Op::Put, {}, kAdminOnly},  // the consent policy
    {"IPS_OptInService", Op::Invoke, "StartOptIn", kUserConsent},
    {"IPS_OptInService", Op::Invoke, "SendOptInCode", kUserConsent},
    {"IPS_OptInService", Op::Invoke, "CancelOptIn", kUserConsent},
    {"IPS_OptInService", Op::Invoke, "RequestStateChange", kAdminOnly},
    {"IPS_OptInService", Op::Invoke, "StartService", kAdminOnly},
    {"IPS_OptInService", Op::Invoke, "StopService", kAdminOnly},

    // Settings of single services: read as General Info, changed by the administrator
    {"AMT_WebUIService", Op::Read, {}, kGeneralInfo},
    {"AMT_WebUIService", Op::Invoke, "RequestStateChange", kAdminOnly},
    {"AMT_KerberosSettingData", Op::Read, {}, kGeneralInfo},
    {"AMT_KerberosSettingData", Op::Invoke, "GetCredentialCacheState", kGeneralInfo},
    {"AMT_KerberosSettingData", Op::Invoke, "SetCredentialCacheState", kAdminOnly},
    {"AMT_SystemPowerScheme", Op::Read, {}, kGeneralInfo},
    {"AMT_SystemPowerScheme", Op::Invoke, "SetPowerScheme", kAdminOnly},
    {"AMT_EndpointAccessControlService", Op::Read, {}, kGeneralInfo},
    {"AMT_EndpointAccessControlService", Op::Invoke, "GetEacOptions", kGeneralInfo},
    {"AMT_EndpointAccessControlService", Op::Invoke, "GetPosture", kGeneralInfo},
    {"AMT_EndpointAccessControlService", Op::Invoke, "GetPostureHash", kGeneralInfo},
    {"AMT_EndpointAccessControlService", Op::Invoke, "SetEacOptions", kAdminOnly},
    {"AMT_EndpointAccessControlService", Op::Invoke, "UpdatePostureState", kAdminOnly},
    {"AMT_EndpointAccessControlService", Op::Invoke, "RequestStateChange", kAdminOnly},
    {"AMT_EACCredentialContext", Op::Read, {}, kGeneralInfo},

    // Time
    {"AMT_TimeSynchronizationService", Op::Read, {}, {Realm::GeneralInfo, Realm::NetworkTime}},
    {"AMT_TimeSynchronizationService", Op::Invoke, "GetLowAccuracyTimeSynch", kNetworkTime},
    {"AMT_TimeSynchronizationService", Op::Invoke, "SetHighAccuracyTimeSynch", kNetworkTime},

    // Access control: every change and every look at the ACL is the administrator's
    {"AMT_AuthorizationService", Op::Read, {}, kGeneralInfo},
    {"AMT_AuthorizationService", Op::Invoke, "GetAdminAclEntry", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "GetAdminAclEntryStatus", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "GetAdminNetAclEntryStatus", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "EnumerateUserAclEntries", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "AddUserAclEntryEx", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "UpdateUserAclEntryEx", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "GetUserAclEntryEx", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "RemoveUserAclEntry", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "GetAclEnabledState", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "SetAclEnabledState", kAdminOnly},
    {"AMT_AuthorizationService", Op::Invoke, "SetAdminAclEntryEx", kAdminOnly},
    // The same users as CIM accounts and identities (who they are and which realms they hold: the ACL's look), the
    // realms as roles (fixed by the firmware: anyone's to read)
    {"CIM_Account", Op::Read, {}, kAdminOnly},
    {"CIM_Identity", Op::Read, {}, kAdminOnly},
    {"CIM_AssignedIdentity", Op::Read, {}, kAdminOnly},
    {"CIM_AccountOnSystem", Op::Read, {}, kAdminOnly},
    {"CIM_MemberOfCollection", Op::Read, {}, kAdminOnly},
    {"CIM_RemoteIdentity", Op::Read, {}, kAdminOnly},
    {"CIM_Account", Op::Invoke, "RequestStateChange", kAdminOnly},
    {"CIM_AccountManagementService", Op::Read, {}, kGeneralInfo},
    {"CIM_AccountManagementCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_Role", Op::Read, {}, kGeneralInfo},
    {"CIM_Privilege", Op::Read, {}, kGeneralInfo},
    {"CIM_OwningCollectionElement", Op::Read, {}, kGeneralInfo},
    {"CIM_RoleLimitedToTarget", Op::Read, {}, kGeneralInfo},
    {"CIM_RoleBasedAuthorizationService", Op::Read, {}, kGeneralInfo},
    {"CIM_PrivilegeManagementService", Op::Read, {}, kGeneralInfo},
    {"CIM_RoleBasedManagementCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_PrivilegeManagementCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_AccountManagementService", Op::Invoke, "CreateAccount", kAdminOnly},

    // The object model's structure: profiles, the wired port, the links between services, SAPs, settings, software
    {"CIM_RegisteredProfile", Op::Read, {}, kGeneralInfo},
    {"CIM_ElementConformsToProfile", Op::Read, {}, kGeneralInfo},
    {"CIM_ReferencedProfile", Op::Read, {}, kGeneralInfo},
    {"CIM_EthernetPort", Op::Read, {}, kGeneralInfo},
    {"CIM_LANEndpoint", Op::Read, {}, kGeneralInfo},
    {"CIM_DeviceSAPImplementation", Op::Read, {}, kGeneralInfo},
    {"IPS_HostIPSettings", Op::Read, {}, kGeneralInfo},
    {"IPS_IPv6PortSettings", Op::Read, {}, kGeneralInfo},
    {"IPS_IPv6PortSettings", Op::Put, {}, kAdminOnly},
    {"CIM_ElementSettingData", Op::Put, {}, kAdminOnly},
    {"CIM_HostedService", Op::Read, {}, kGeneralInfo},
    {"CIM_PolicyRuleInSystem", Op::Read, {}, kGeneralInfo},
    {"CIM_ElementStatisticalData", Op::Read, {}, kGeneralInfo},
    {"CIM_OwningJobElement", Op::Read, {}, kGeneralInfo},
    {"CIM_HostedAccessPoint", Op::Read, {}, kGeneralInfo},
    {"CIM_ElementCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_ElementSettingData", Op::Read, {}, kGeneralInfo},
    {"CIM_ServiceAffectsElement", Op::Read, {}, kGeneralInfo},
    {"CIM_SAPAvailableForElement", Op::Read, {}, kGeneralInfo},
    {"CIM_ServiceAccessBySAP", Op::Read, {}, kGeneralInfo},
    {"CIM_ServiceServiceDependency", Op::Read, {}, kGeneralInfo},
    {"CIM_AdminDomain", Op::Read, {}, kGeneralInfo},
    {"CIM_ElementSoftwareIdentity", Op::Read, {}, {Realm::GeneralInfo, Realm::HardwareAsset}},
    {"CIM_InstalledSoftwareIdentity", Op::Read, {}, {Realm::GeneralInfo, Realm::HardwareAsset}},
    {"CIM_IndicationService", Op::Read, {}, {Realm::GeneralInfo, Realm::EventManager}},

    // TLS, certificates and remote access (CIRA): security administration
    {"AMT_TLSSettingData", Op::Read, {}, kGeneralInfo},
    {"AMT_TLSSettingData", Op::Put, {}, kAdminOnly},
    {"AMT_PublicKeyCertificate", Op::Read, {}, kGeneralInfo},
    {"AMT_PublicKeyCertificate", Op::Delete, {}, kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Read, {}, kGeneralInfo},
    {"AMT_PublicKeyManagementService", Op::Invoke, "AddTrustedRootCertificate", kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Invoke, "AddCertificate", kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Invoke, "AddKey", kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Invoke, "GenerateKeyPair", kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Invoke, "GeneratePKCS10RequestEx", kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Invoke, "GeneratePKCS10Request", kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Invoke, "AddCRL", kAdminOnly},
    {"AMT_PublicKeyManagementService", Op::Invoke, "ResetCRLList", kAdminOnly},
    {"AMT_CRL", Op::Read, {}, kGeneralInfo},
    {"CIM_ManagedCredential", Op::Read, {}, kGeneralInfo},
    {"AMT_CRL", Op::Delete, {}, kAdminOnly},
    {"AMT_PublicKeyManagementCapabilities", Op::Read, {}, kGeneralInfo},
    {"AMT_PublicKeyCertificate", Op::Put, {}, kAdminOnly},
    {"AMT_PublicPrivateKeyPair", Op::Read, {}, kGeneralInfo},
    {"AMT_PublicPrivateKeyPair", Op::Delete, {}, kAdminOnly},
    {"AMT_CryptographicCapabilities", Op::Read, {}, kGeneralInfo},
    {"AMT_TLSProtocolEndpoint", Op::Read, {}, kGeneralInfo},
    {"AMT_TLSProtocolEndpointCollection", Op::Read, {}, kGeneralInfo},
    {"AMT_TLSCredentialContext", Op::Read, {}, kGeneralInfo},
    {"AMT_TLSCredentialContext", Op::Create, {}, kAdminOnly},
    {"AMT_TLSCredentialContext", Op::Delete, {}, kAdminOnly},
    {"AMT_MPSUsernamePassword", Op::Read, {}, kGeneralInfo},
    {"AMT_MPSUsernamePassword", Op::Put, {}, kAdminOnly},
    {"AMT_RemoteAccessCredentialContext", Op::Read, {}, kGeneralInfo},
    {"AMT_RemoteAccessPolicyRule", Op::Put, {}, kAdminOnly},
    {"AMT_RemoteAccessPolicyAppliesToMPS", Op::Read, {}, kGeneralInfo},
    {"AMT_RemoteAccessPolicyAppliesToMPS", Op::Create, {}, kAdminOnly},
    {"AMT_RemoteAccessPolicyAppliesToMPS", Op::Put, {}, kAdminOnly},
    {"AMT_RemoteAccessPolicyAppliesToMPS", Op::Delete, {}, kAdminOnly},
    {"AMT_RemoteAccessService", Op::Read, {}, kGeneralInfo},
    {"AMT_RemoteAccessService", Op::Invoke, "AddMpServer", kAdminOnly},
    {"AMT_RemoteAccessService", Op::Invoke, "AddRemoteAccessPolicyRule", kAdminOnly},
    {"AMT_RemoteAccessService", Op::Invoke, "CloseRemoteAccessConnection", kAdminOnly},
    {"AMT_RemoteAccessCapabilities", Op::Read, {}, kGeneralInfo},
    {"CIM_RemoteAccessAvailableToElement", Op::Read, {}, kGeneralInfo},
    {"AMT_ManagementPresenceRemoteSAP", Op::Read, {}, kGeneralInfo},
    {"AMT_ManagementPresenceRemoteSAP", Op::Delete, {}, kAdminOnly},
    {"AMT_RemoteAccessPolicyRule", Op::Read, {}, kGeneralInfo},
    {"AMT_RemoteAccessPolicyRule", Op::Delete, {}, kAdminOnly},
    {"AMT_UserInitiatedConnectionService", Op::Read, {}, kGeneralInfo},
    {"AMT_UserInitiatedConnectionService", Op::Invoke, "RequestStateChange", kAdminOnly},

    // Logs
    {"AMT_MessageLog", Op::Read, {}, kEventLogReader},
    {"AMT_MessageLog", Op::Invoke, "PositionToFirstRecord", kEventLogReader},
    {"AMT_MessageLog", Op::Invoke, "GetRecords", kEventLogReader},
    {"AMT_AuditLog", Op::Read, {}, kAuditLog},
    {"AMT_AuditLog", Op::Invoke, "ReadRecords", kAuditLog},
    {"AMT_MessageLog", Op::Invoke, "GetRecord", kEventLogReader},
    {"AMT_MessageLog", Op::Invoke, "PositionAtRecord", kEventLogReader},
    {"AMT_MessageLog", Op::Invoke, "CancelIteration", kEventLogReader},
    // Clearing, freezing or switching off the event log is the administrator's (the SDK: "Event Log Reader" reads)
    {"AMT_MessageLog", Op::Invoke, "ClearLog", kAdminOnly},
    {"AMT_MessageLog", Op::Invoke, "FreezeLog", kAdminOnly},
    {"AMT_MessageLog", Op::Invoke, "RequestStateChange", kAdminOnly},
    {"AMT_EventLogEntry", Op::Read, {}, kEventLogReader},
    {"CIM_LogManagesRecord", Op::Read, {}, kEventLogReader},
    {"CIM_UseOfLog", Op::Read, {}, {Realm::EventLogReader, Realm::AuditLog, Realm::GeneralInfo}},
    // The auditor's: the audit log and which events it keeps
    {"AMT_AuditLog", Op::Invoke, "ClearLog", kAuditLog},
    {"AMT_AuditLog", Op::Invoke, "RequestStateChange", kAuditLog},
    {"AMT_AuditLog", Op::Invoke, "SetAuditLock", kAuditLog},
    {"AMT_AuditLog", Op::Invoke, "ExportAuditLogSignature", kAuditLog},
    {"AMT_AuditLog", Op::Invoke, "SetSigningKeyMaterial", kAuditLog},
    {"AMT_AuditPolicyRule", Op::Read, {}, kAuditLog},
    {"AMT_AuditPolicyRule", Op::Invoke, "SetAuditPolicy", kAuditLog},
    {"AMT_AuditPolicyRule", Op::Invoke, "SetAuditPolicyBulk", kAuditLog},
    // Provisioning records: read as settings, cleared by the administrator
    {"IPS_ProvisioningRecordLog", Op::Read, {}, kGeneralInfo},
    {"IPS_ProvisioningRecordLog", Op::Invoke, "ClearLog", kAdminOnly},
    {"IPS_ProvisioningRecordLog", Op::Invoke, "RequestStateChange", kAdminOnly},
    {"IPS_AdminProvisioningRecord", Op::Read, {}, kGeneralInfo},
    {"IPS_ClientProvisioningRecord", Op::Read, {}, kGeneralInfo},
    {"IPS_ManualProvisioningRecord", Op::Read, {}, kGeneralInfo},
    {"IPS_TLSProvisioningRecord", Op::Read, {}, kGeneralInfo},

    // Alerts (WS-Eventing)
    {"CIM_FilterCollection", Op::Read, {}, kEventManager},
    {"CIM_FilterCollection", Op::Subscribe, {}, kEventManager},
    {"CIM_ListenerDestinationWSManagement", Op::Read, {}, kEventManager},
    {"CIM_ListenerDestinationWSManagement", Op::Delete, {}, kEventManager},
    {"CIM_FilterCollectionSubscription", Op::Read, {}, kEventManager},
    {"CIM_FilterCollectionSubscription", Op::Delete, {}, kEventManager},
    {"CIM_FilterCollectionSubscription", Op::Unsubscribe, {}, kEventManager},
    {"CIM_FilterCollectionSubscription", Op::Renew, {}, kEventManager},

    // Agent presence: the agent reports (local), the console registers and sets actions (remote)
    {"AMT_AgentPresenceWatchdog", Op::Read, {}, kAgentAny},
    {"AMT_AgentPresenceWatchdog", Op::Create, {}, kAgentRemote},
    {"AMT_AgentPresenceWatchdog", Op::Delete, {}, kAgentRemote},
    {"AMT_AgentPresenceWatchdog", Op::Invoke, "RegisterAgent", kAgentLocal},
    {"AMT_AgentPresenceWatchdog", Op::Invoke, "AssertPresence", kAgentLocal},
    {"AMT_AgentPresenceWatchdog", Op::Invoke, "AssertShutdown", kAgentLocal},
    {"AMT_AgentPresenceWatchdog", Op::Invoke, "AddAction", kAgentRemote},
    {"AMT_AgentPresenceWatchdog", Op::Invoke, "DeleteAllActions", kAgentRemote},
    {"AMT_AgentPresenceWatchdogVA", Op::Read, {}, kAgentAny},
    {"AMT_AgentPresenceWatchdogVA", Op::Create, {}, kAgentRemote},
    {"AMT_AgentPresenceWatchdogVA", Op::Delete, {}, kAgentRemote},
    {"AMT_AgentPresenceWatchdogVA", Op::Invoke, "RegisterAgent", kAgentLocal},
    {"AMT_AgentPresenceWatchdogVA", Op::Invoke, "AssertPresence", kAgentLocal},
    {"AMT_AgentPresenceWatchdogVA", Op::Invoke, "AssertShutdown", kAgentLocal},
    {"AMT_AgentPresenceWatchdogVA", Op::Invoke, "AddAction", kAgentRemote},
    {"AMT_AgentPresenceWatchdogVA", Op::Invoke, "DeleteAllActions", kAgentRemote},
    {"AMT_AgentPresenceWatchdogAction", Op::Read, {}, kAgentRemote},
    {"AMT_AgentPresenceWatchdogAction", Op::Invoke, "GetActionEac", kAgentRemote},
    {"AMT_StateTransitionCondition", Op::Read, {}, kAgentRemote},
    {"CIM_ConcreteDependency", Op::Read, {}, kAgentRemote},
    {"AMT_AgentPresenceService", Op::Read, {}, kAgentAny},
    {"AMT_AgentPresenceCapabilities", Op::Read, {}, kAgentAny},
    {"IPS_WatchDogAction", Op::Read, {}, kAgentRemote},
    {"IPS_WatchDogAction", Op::Put, {}, kAgentRemote},

    // System Defense: the Circuit Breaker realm's (the SDK's name for network isolation)
    {"AMT_SystemDefensePolicy", Op::Read, {}, kCircuitBreaker},
    {"AMT_HeuristicPacketFilterSettings", Op::Read, {}, kCircuitBreaker},
    {"AMT_HeuristicPacketFilterInterfacePolicy", Op::Read, {}, kCircuitBreaker},
    {"AMT_HeuristicPacketFilterStatistics", Op::Read, {}, kCircuitBreaker},
    {"AMT_HeuristicPacketFilterStatistics", Op::Invoke, "ResetSelectedStats", kCircuitBreaker},
    {"AMT_SystemDefensePolicy", Op::Create, {}, kCircuitBreaker},
    {"AMT_SystemDefensePolicy", Op::Delete, {}, kCircuitBreaker},
    {"AMT_Hdr8021Filter", Op::Read, {}, kCircuitBreaker},
    {"AMT_NetworkFilter", Op::Read, {}, kCircuitBreaker},
    {"AMT_Hdr8021Filter", Op::Create, {}, kCircuitBreaker},
    {"AMT_Hdr8021Filter", Op::Delete, {}, kCircuitBreaker},
    {"AMT_IPHeadersFilter", Op::Read, {}, kCircuitBreaker},
    {"AMT_IPHeadersFilter", Op::Create, {}, kCircuitBreaker},
    {"AMT_IPHeadersFilter", Op::Delete, {}, kCircuitBreaker},
    {"AMT_NetworkPortSystemDefensePolicy", Op::Read, {}, kCircuitBreaker},
    {"AMT_NetworkPortSystemDefensePolicy", Op::Create, {}, kCircuitBreaker},
    {"AMT_NetworkPortSystemDefensePolicy", Op::Delete, {}, kCircuitBreaker},
    {"AMT_NetworkPortDefaultSystemDefensePolicy", Op::Read, {}, kCircuitBreaker},
    {"AMT_NetworkPortDefaultSystemDefensePolicy", Op::Create, {}, kCircuitBreaker},
    {"AMT_NetworkPortDefaultSystemDefensePolicy", Op::Delete, {}, kCircuitBreaker},
    {"AMT_AgentPresenceInterfacePolicy", Op::Read, {}, kCircuitBreaker},
    {"AMT_AgentPresenceInterfacePolicy", Op::Create, {}, kCircuitBreaker},
    {"AMT_AgentPresenceInterfacePolicy", Op::Delete, {}, kCircuitBreaker},
    {"AMT_EnvironmentDetectionInterfacePolicy", Op::Read, {}, kCircuitBreaker},
    {"AMT_EnvironmentDetectionInterfacePolicy", Op::Create, {}, kCircuitBreaker},
    {"AMT_EnvironmentDetectionInterfacePolicy", Op::Delete, {}, kCircuitBreaker},
    {"AMT_SystemDefensePolicy", Op::Put, {}, kCircuitBreaker},
    {"AMT_SystemDefensePolicy", Op::Invoke, "GetTimeout", kCircuitBreaker},
    {"AMT_SystemDefensePolicy", Op::Invoke, "SetTimeout", kCircuitBreaker},
    {"AMT_SystemDefensePolicy", Op::Invoke, "UpdateStatistics", kCircuitBreaker},
    {"AMT_FilterEntryBase", Op::Delete, {}, kCircuitBreaker},
    {"AMT_ComplexFilterEntryBase", Op::Delete, {}, kCircuitBreaker},
    {"AMT_AgentPresenceInterfacePolicy", Op::Put, {}, kCircuitBreaker},
    {"AMT_EnvironmentDetectionInterfacePolicy", Op::Put, {}, kCircuitBreaker},
    {"AMT_FilterInSystemDefensePolicy", Op::Read, {}, kCircuitBreaker},
    {"AMT_SystemDefenseService", Op::Read, {}, kCircuitBreaker},
    {"AMT_SystemDefensePolicyInService", Op::Read, {}, kCircuitBreaker},
    {"AMT_ActiveFilterStatistics", Op::Read, {}, kCircuitBreaker},
    {"AMT_GeneralSystemDefenseCapabilities", Op::Read, {}, kCircuitBreaker},
    {"AMT_NetworkPortSystemDefenseCapabilities", Op::Read, {}, kCircuitBreaker},
    {"AMT_EnvironmentDetectionSettingData", Op::Read, {}, kCircuitBreaker},
    {"AMT_EnvironmentDetectionSettingData", Op::Put, {}, kCircuitBreaker},
    {"AMT_EnvironmentDetectionSettingData", Op::Invoke, "SetSystemDefensePolicy", kCircuitBreaker},
    {"AMT_EnvironmentDetectionSettingData", Op::Invoke, "EnableVpnRouting", kCircuitBreaker},
});

}  // namespace

std::string_view operationName(Operation op) {
  switch (op) {
    case Operation::Read: return "Read";
    case Operation::Put: return "Put";
    case Operation::Create: return "Create";
    case Operation::Delete: return "Delete";
    case Operation::Subscribe: return "Subscribe";
    case Operation::Unsubscribe: return "Unsubscribe";
    case Operation::Renew: return "Renew";
    case Operation::Invoke: return "Invoke";
  }
  return "?";
}

std::span<const RealmRule> realmRules() { return kRules; }

const RealmRule* findRealmRule(std::string_view className, Operation op, std::string_view method) {
  for (const auto& rule : kRules)
    if (rule.operation == op && rule.className == className && (op != Operation::Invoke || rule.method == method))
      return &rule;
  return nullptr;
}

cim::RealmSet requiredRealms(std::string_view className, Operation op, std::string_view method) {
  const RealmRule* rule = findRealmRule(className, op, method);
  return rule ? rule->realms : kUnlistedRealms;
}

cim::RealmSet readRealms(const cim::ClassRegistry& registry, const cim::ClassDef& cls) {
  if (cls.enumerate) return requiredRealms(cls.name, Operation::Read);
  cim::RealmSet any;
  for (const cim::ClassDef* member : registry.family(cls)) {
    if (!member->enumerate) continue;
    const cim::RealmSet needs = requiredRealms(member->name, Operation::Read);
    for (cim::Realm r : cim::kAllRealms)
      if (needs.has(r)) any.add(r);
  }
  return any.empty() ? kUnlistedRealms : any;
}

}  // namespace mesim::wsman::ops
