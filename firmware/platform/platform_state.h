// Plain data of one simulated platform: identity, firmware versions, provisioning, accounts, network,
// features and host facts. PlatformModel owns one instance, persists it and guards its changes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

struct LocalSystemAccount {
  std::string user;      // 32 characters
  std::string password;  // 32 characters
};

struct AdminAccount {
  std::string user = "admin";
  std::string ha1;  // hex(MD5(user ":" realm ":" password)), lower case; the password itself is never stored
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
  bool hostVpnEnabled = false;
  EnterpriseAccess enterpriseAccess;

  FeatureStates features;
  RemoteAccessStatus remoteAccess;
  std::uint32_t lastHostResetReason = 1;     // 0 remote control, 1 other
  std::uint32_t lastHostResetTimestamp = 0;  // Unix seconds of the remote-control reset
  std::string powerPolicy;
  std::uint8_t lastMeResetType = 0;          // 0 none, 1 ME, 2 global, 3 exception
  std::vector<CertHashEntry> certHashes;

  std::string fqdn() const { return domainName.empty() ? hostName : hostName + "." + domainName; }
};

}  // namespace mesim::platform
