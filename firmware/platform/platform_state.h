// Plain data of one simulated platform: identity, firmware versions, provisioning, accounts, network,
// features and host facts. PlatformModel owns one instance, persists it and guards its changes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "firmware/platform/alarm_clock_state.h"
#include "firmware/platform/pki_state.h"
#include "firmware/platform/system_defense_state.h"
#include "firmware/platform/third_party_storage_state.h"
#include "firmware/platform/service_settings.h"
#include "firmware/platform/ipv6_state.h"
#include "firmware/platform/pet_state.h"
#include "firmware/platform/wifi_state.h"

namespace mesim::platform {

enum class ProvisioningState : std::uint32_t { Pre = 0, In = 1, Post = 2 };
enum class ControlMode : std::uint32_t { None = 0, Client = 1, Admin = 2 };

// CERT_HASH_ALGORITHM as AMTHI numbers it (spec/mei.md §4; 3 follows rpc-go).
enum class HashAlgorithm : std::uint8_t { Md5 = 0, Sha1 = 1, Sha256 = 2, Sha384 = 3 };
std::size_t hashLength(HashAlgorithm alg);  // 16, 20, 32, 48

struct FirmwareVersion {
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  std::uint16_t hotfix = 0;
  std::uint16_t build = 0;
  std::string toString() const;  // "16.1.27.2225"
  bool operator==(const FirmwareVersion&) const = default;
};

// One GetCodeVersions entry; both strings at most 19 characters (AMT_UNICODE_STRING holds 20 incl. NUL).
struct CodeVersion {
  std::string description;
  std::string version;
  bool operator==(const CodeVersion&) const = default;
};

struct FirmwareInfo {
  FirmwareVersion code;      // MKHI GET_FW_VERSION block 0 (also sysfs fw_ver line 1)
  FirmwareVersion recovery;  // block 1 (NFTP / recovery)
  FirmwareVersion fitc;      // block 2
  std::string biosVersion;   // at most 64 characters
  std::vector<CodeVersion> codeVersions;  // AMTHI GetCodeVersions, in order (max 50)
  // MKHI FWCAPS GET_RULE data (LMS MEIClient/MKHIClient/Include/GetFWCapsCommand.h, GetPlatformTypeCommand.h).
  std::uint32_t capabilities = 0;       // rule 0 (FW SKU: features the platform is capable of)
  std::uint32_t fwUpdateState = 0;      // rule 7 (0 disabled, 1 enabled, 2 password protected)
  std::uint32_t platformType = 0;       // rule 29 (ImageType bits 8-11, Brand bits 12-15)
  std::uint32_t featuresEnabled = 0;    // rule 32 (bit 2 = AMT)
  std::uint32_t featuresAvailable = 0;  // rule 39
};

using MacAddress = std::array<std::uint8_t, 6>;

struct LanInterface {
  bool present = true;
  bool enabled = true;
  bool linkUp = true;
  bool dhcpEnabled = true;
  std::uint8_t dhcpMode = 1;  // 1 active, 2 passive
  MacAddress mac{};
  std::uint32_t ipv4 = 0;     // 0x01020304 = 1.2.3.4 (AMTHI CFG_IPv4_ADDRESS)
  // The rest of a static IPv4 setting (legacy SOAP SetInterfaceSettings, wsman/eoi); 0: derived from the address
  // (a /24 whose .1 is gateway and DNS), as it was before they could be set.
  std::uint32_t subnetMask = 0;
  std::uint32_t gateway = 0;
  std::uint32_t primaryDns = 0;
  std::uint32_t secondaryDns = 0;
  // When the interface is up, as bits: 0x01 S0 on AC, 0x0E Sx on AC, 0x10 S0 on DC, 0xE0 Sx on DC (the values of
  // AMT_EthernetPortSettings.LinkPolicy); 0: the default, S0 and Sx on AC, and S0 on DC for wireless.
  std::uint8_t linkPolicy = 0;

  std::uint32_t effectiveSubnetMask() const { return subnetMask ? subnetMask : 0xFFFFFF00u; }
  std::uint32_t effectiveGateway() const {
    return gateway || !ipv4 ? gateway : (ipv4 & effectiveSubnetMask()) | 1;
  }
  std::uint32_t effectivePrimaryDns() const { return primaryDns ? primaryDns : effectiveGateway(); }
  std::uint8_t effectiveLinkPolicy(bool wirelessPort) const {
    return linkPolicy ? linkPolicy : static_cast<std::uint8_t>(wirelessPort ? 0x1F : 0x0F);
  }
};

struct FeatureStates {
  bool solEnabled = true;
  bool iderEnabled = true;
  bool kvmEnabled = true;
  bool webUiEnabled = true;
  bool systemDefenseActive = false;
  bool eacEnabled = false;
  bool solSessionOpen = false;
  bool iderSessionOpen = false;
  bool kvmSessionActive = false;
};

struct RemoteAccessStatus {
  std::uint32_t networkStatus = 0;     // 0 direct (LAN), 1 VPN, 2 outside enterprise
  std::uint32_t connectionStatus = 0;  // 0 not connected, 1 connecting, 2 connected
  std::uint32_t trigger = 0;           // 0 user initiated, 1 alert, 2 provisioning, 3 periodic
  std::string mpsHostname;
  bool userInitiatedConnectionRequested = false;
};

struct CertHashEntry {
  std::uint32_t handle = 0;
  std::string name;
  HashAlgorithm algorithm = HashAlgorithm::Sha256;
  std::vector<std::uint8_t> hash;  // hashLength(algorithm) bytes
  bool isDefault = true;
  bool isActive = true;
  bool operator==(const CertHashEntry&) const = default;
};

// What the host last told the firmware through SetEnterpriseAccess (LMS host-VPN feature).
struct EnterpriseAccess {
  std::uint8_t flags = 0;  // bit 0: hostIp is IPv6
  std::array<std::uint8_t, 16> hostIp{};
  bool access = false;
};

// Parameters of StartConfigurationHBased, kept while provisioning is "in".
struct HostBasedSetup {
  HashAlgorithm serverHashAlgorithm = HashAlgorithm::Sha256;
  std::vector<std::uint8_t> serverCertHash;
  bool hostVpnEnabled = false;
  std::vector<std::string> dnsSuffixes;
};

// The OS admin account ($$OsAdmin...) AMTHI GetLocalSystemAccount hands to host software with OS admin rights.
// AMT regenerates its password when the host reboots, at most once in 24 hours (AMT Implementation Guide,
// "Predefined Local System Users").
struct LocalSystemAccount {
  std::string user;      // 32 characters
  std::string password;  // 32 characters
  std::int64_t passwordSetAt = 0;  // firmware clock, Unix seconds; 0: when the state was made
};

struct AdminAccount {
  std::string user = "admin";
  std::string ha1;  // hex(MD5(user ":" realm ":" password)), lower case; the password itself is never stored
  // A console set the password in provisioning (IPS_HostBasedSetupService Setup/AdminSetup): a configured
  // --admin-password no longer overrides it on start; a full unprovision gives the factory password back.
  bool setByProvisioning = false;
};

// AccessPermission of an ACL entry (AMT_AuthorizationService.AddUserAclEntryEx).
enum class AclAccess : std::uint32_t { LocalOnly = 0, NetworkOnly = 1, LocalAndNetwork = 2 };

// A digest user besides the admin, managed through AMT_AuthorizationService. Like the admin, only the
// HA1 is stored (spec/wsman.md §2.1: "Setup/SetAdminAclEntryEx passwords are MD5(user:realm:pass)").
struct AclUser {
  std::uint32_t handle = 0;           // unique, never 0
  std::string user;                   // 1..32 characters, unique, not the admin's name
  std::string ha1;                    // 32 hex digits, lower case
  AclAccess access = AclAccess::LocalAndNetwork;
  std::vector<std::uint32_t> realms;  // AMT realm numbers the user may use (checked by the operations)
  bool enabled = true;                // AMT_AuthorizationService.SetAclEnabledState
};

// --- State served over WS-Man (spec/wsman.md §3); every field has a default so older files still load. ---

// The simulated host's power, as CIM_AssociatedPowerManagementService reports it (spec/wsman.md §3.3).
struct HostPower {
  std::uint32_t powerState = 2;           // CIM PowerState: 2 on, 3/4 sleep, 6 off-hard, 7 hibernate, 8 off-soft
  std::uint32_t requestedPowerState = 0;  // last RequestPowerStateChange code (0 none yet)
  std::uint32_t osPowerSavingState = 2;   // IPS_PowerManagementService: 2 full power, 3 modern standby
  // CIM_PowerManagementCapabilities.PowerStatesSupported: the host's OS agent (LMS) Puts the sleep, hibernate and
  // graceful states it can carry out. The default is the list of a host whose agent registered all of them; LMS on
  // a host without suspend leaves 5,8,2,10,11,12,14, as captured on real AMT.
  std::vector<std::uint32_t> powerStatesSupported = {5, 8, 2, 10, 11, 4, 7, 12, 14};
  // IPS_HostBootReason: the last host boot. Reason 1 other (not through AMT), 2 remote control, 3 alarm clock;
  // the details name the remote-control operation ("Power Up", "Reset", "Power Cycle"); the previous S-state is
  // 0 unknown, 2..7 S0..S5.
  std::uint32_t bootReason = 1;
  std::string bootReasonDetails;
  std::uint32_t bootPreviousSxState = 0;
};

// AMT_BootSettingData (one instance) plus the boot order of CIM_BootConfigSetting.
struct BootSettings {
  bool biosPause = false;
  bool biosSetup = false;
  bool useSol = false;
  bool useIder = false;
  bool useSafeMode = false;
  bool reflashBios = false;
  bool lockKeyboard = false;
  bool lockPowerButton = false;
  bool lockResetButton = false;
  bool lockSleepButton = false;
  bool userPasswordBypass = false;
  bool forcedProgressEvents = false;
  bool enforceSecureBoot = false;
  std::uint32_t bootMediaIndex = 0;
  std::uint32_t iderBootDevice = 0;
  std::uint32_t firmwareVerbosity = 0;
  std::uint32_t configurationRole = 1;  // CIM_BootService.SetBootConfigRole: 0 default, 1 next boot only (none set)
  bool bootConfigActive = false;        // SetBootConfigRole(Role 1) applied: used on the next boot
  // AMT_BootSettingData.OptionsCleared: false from a Put of boot options until a boot with SetBootConfigRole(1)
  // consumed them (all of this struct back to its defaults, docs/alarm-clock-and-boot.md).
  bool optionsCleared = true;
  // UefiBootParametersArray / UefiBootNumberOfParams of an OCR boot (features.md §7): validated TLVs, at most 1024 B.
  std::vector<std::uint8_t> uefiBootParameters;
  std::uint32_t uefiBootNumberOfParams = 0;
  std::vector<std::string> bootOrder;   // CIM_BootSourceSetting InstanceIDs, first boots first
};

// IPS_OptInService.OptInRequired: user consent for every redirection and KVM session (forced in client control mode).
inline constexpr std::uint32_t kOptInRequiredAll = 4294967295u;

// IPS_OptInService's policy (spec/wsman.md §3.4). Its running state (OptInState, the code) is RAM, not persisted:
// firmware/platform/user_consent.h.
struct OptInSettings {
  std::uint32_t optInRequired = 0;     // 0 none, 1 KVM, 4294967295 all
  std::uint32_t optInCodeTimeout = 120;
  std::uint32_t optInDisplayTimeout = 300;
  std::uint32_t canModifyOptInPolicy = 1;
};

// AMT_RedirectionService, CIM_KVMRedirectionSAP, IPS_KVMRedirectionSettingData.
struct RedirectionSettings {
  std::uint32_t enabledState = 32771;  // 32768 + 1 IDER + 2 SOL
  bool listenerEnabled = true;
  std::uint32_t kvmEnabledState = 2;   // CIM_KVMRedirectionSAP: 2 enabled, 3 disabled, 6 enabled but offline
  std::uint32_t kvmRequestedState = 5;
  bool is5900PortEnabled = false;
  std::string rfbPassword;             // IPS_KVMRedirectionSettingData.RFBPassword (write-only): VNC auth on 5900
  bool optInPolicy = false;
  std::uint32_t sessionTimeout = 3;
  std::uint32_t defaultScreen = 0;
};

// AMT_GeneralSettings fields that AMTHI does not already own.
struct GeneralSettingsExtra {
  std::uint32_t amtNetworkEnabled = 1;
  bool pingResponseEnabled = true;
  bool rmcpPingResponseEnabled = true;
  bool wsmanOnlyMode = false;
  std::uint32_t idleWakeTimeout = 65535;
  std::uint32_t preferredAddressFamily = 0;
  std::uint32_t privacyLevel = 0;
  std::uint32_t dhcpSyncRequiresHostname = 1;
  bool ddnsUpdateByDhcpServerEnabled = true;
};

// AMT_TLSSettingData: index 0 remote (802.3), 1 local (LMS).
struct TlsSettings {
  bool enabled = false;
  bool mutualAuthentication = false;
  bool acceptNonSecureConnections = true;
  std::vector<std::string> trustedCn;
};

// AMT_PublicKeyCertificate.
struct StoredCertificate {
  std::string instanceId;  // "Intel(r) AMT Certificate: Handle: N"
  std::string x509;        // base64 DER, as the client sent it
  bool trustedRoot = false;
};

// AMT_ManagementPresenceRemoteSAP created by AMT_RemoteAccessService.AddMpServer.
struct MpsServer {
  std::string name;         // "Intel(r) AMT:Management Presence Server N"
  std::string accessInfo;   // host name or address
  std::uint32_t infoFormat = 201;  // 3 IPv4, 4 IPv6, 201 FQDN
  std::uint32_t port = 4433;
  std::uint32_t authMethod = 2;    // 1 mutual TLS, 2 username/password
  std::string username;
  std::string commonName;
  std::string password;       // AMT_MPSUsernamePassword.Password: write-only, never shown over WS-Man
  std::string certificateId;  // AddMpServer's Certificate: the AMT_PublicKeyCertificate the MPS's chain ends at
};

// AMT_RemoteAccessPolicyRule created by AddRemoteAccessPolicyRule.
struct RemoteAccessPolicyRule {
  std::string policyRuleName;  // "User Initiated" / "Alert" / "Periodic"
  std::uint32_t trigger = 0;   // 0 user initiated, 1 alert, 2 periodic, 3 home provisioning
  std::uint32_t tunnelLifeTime = 0;
  std::string extendedData;    // base64
  std::vector<std::string> mpsNames;  // AMT_RemoteAccessPolicyAppliesToMPS, in OrderOfAccess
  std::vector<std::uint32_t> mpsTypes;  // per mpsNames entry: 0 external, 1 internal, 2 both (missing: 0)
};

// IPS_HTTPProxyAccessPoint created by IPS_HTTPProxyService.AddProxyAccessPoint.
struct HttpProxy {
  std::string name;  // "Intel(r) ME:HTTP Proxy Access Point N"
  std::string accessInfo;
  std::uint32_t infoFormat = 201;
  std::uint32_t port = 0;
  std::string networkDnsSuffix;
};

// AMT_MessageLog / AMT_AuditLog record stores (spec/wsman.md §3.6); oldest first. Persisted apart from
// platform.json, in append-only files (state_store.h).
struct EventLogs {
  std::vector<std::vector<std::uint8_t>> messageLog;  // 21-byte records, at most kMaxMessageLogRecords
  std::vector<std::vector<std::uint8_t>> auditLog;    // variable-length records, at most kMaxAuditLogRecords
  static constexpr std::size_t kMaxMessageLogRecords = 390;
  static constexpr std::size_t kMessageLogRecordSize = 21;
  static constexpr std::size_t kMaxAuditLogRecords = 1024;
};

struct PlatformState {
  std::array<std::uint8_t, 16> uuid{};  // RFC 4122 byte order (the order it is printed in)
  std::string digestRealm;              // "Digest:" + 32 upper-case hex digits
  FirmwareInfo firmware;

  ProvisioningState provisioningState = ProvisioningState::Post;
  ControlMode controlMode = ControlMode::Admin;
  bool ztcEnabled = true;
  bool tlsEnabled = false;
  std::optional<HostBasedSetup> hostBasedSetup;
  // The hash AMT reports for its own TLS certificate (StartConfigurationHBased response). The TLS
  // listener sets it when it creates its certificate; empty until then.
  HashAlgorithm amtCertHashAlgorithm = HashAlgorithm::Sha256;
  std::vector<std::uint8_t> amtCertHash;

  AdminAccount admin;
  LocalSystemAccount localSystemAccount;
  std::vector<AclUser> aclUsers;

  std::string hostName;       // AMT's own host name
  std::string domainName;     // AMT's domain; FQDN = hostName.domainName
  std::string pkiDnsSuffix;   // GetPKIFQDNSuffix
  std::vector<std::string> dnsSuffixList;
  bool sharedFqdn = true;
  bool ddnsUpdateEnabled = false;
  std::uint32_t ddnsUpdateInterval = 0;
  std::uint32_t ddnsTtl = 900;
  std::string hostFqdn;       // the host OS FQDN reported by LMS (SetHostFQDN)
  LanInterface wired;
  LanInterface wireless;
  Ipv6Settings wiredIpv6;  // ipv6_state.h
  bool hostVpnEnabled = false;
  EnterpriseAccess enterpriseAccess;

  FeatureStates features;
  RemoteAccessStatus remoteAccess;
  std::uint32_t lastHostResetReason = 1;     // 0 remote control, 1 other
  std::uint32_t lastHostResetTimestamp = 0;  // Unix seconds of the remote-control reset
  std::string powerPolicy;
  std::uint8_t lastMeResetType = 0;          // 0 none, 1 ME, 2 global, 3 exception
  std::vector<CertHashEntry> certHashes;

  HostPower hostPower;
  BootSettings boot;
  OptInSettings optIn;
  RedirectionSettings redirection;
  GeneralSettingsExtra general;
  std::array<TlsSettings, 2> tls{TlsSettings{}, TlsSettings{}};
  std::vector<StoredCertificate> certificates;
  std::uint32_t nextCertificateHandle = 0;
  KeyStore keyStore;
  std::vector<MpsServer> mpsServers;
  std::vector<RemoteAccessPolicyRule> remoteAccessPolicies;
  std::vector<HttpProxy> httpProxies;
  std::uint32_t userInitiatedConnectionState = 32768;  // AMT_UserInitiatedConnectionService.EnabledState
  std::int64_t amtClockOffset = 0;  // seconds AMT's clock runs ahead of the firmware clock (SetHighAccuracyTimeSynch)
  // The MEBx password set by AMT_SetupAndConfigurationService.SetMEBxPassword, as hex(MD5(admin:realm:password));
  // empty: the factory one. Kept by a full unprovision (AMT Implementation Guide, "Restoring Intel AMT to Factory Mode").
  std::string mebxHa1;
  AlarmClockSettings alarmClock;
  WifiSettings wifi;               // the wireless port and its profiles (wifi_state.h)
  Wired8021xSettings wired8021x;   // the wired port's 802.1X
  SystemDefenseState systemDefense;  // policies, filters, what each NIC enabled (system_defense_state.h)
  ThirdPartyStorageState thirdPartyStorage;  // the 3PDS: enterprises, applications, blocks (third_party_storage_state.h)
  ServiceSettings services;  // service_settings.h
  PetSettings pet;           // SNMP trap subscribers and PET filters (pet_state.h)
  EventLogs logs;
  // Not persisted: the PET alerts the last changes raised, for the trap sender (pet_state.h).
  PetOutbox petOutbox;

  std::string fqdn() const { return domainName.empty() ? hostName : hostName + "." + domainName; }
};

}  // namespace mesim::platform
