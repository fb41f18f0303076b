// AMTHI (PTHI) wire format, spec/mei.md §4: pure encoders and decoders, no I/O.
// Message = 12-byte header {u8 major=1, u8 minor=1, u16 reserved, u32 command, u32 length} + `length` bytes.
// A response's command is the request's | 0x00800000; its body is u32 status + payload (length = 4 + payload).
// All integers little-endian. Layouts checked against intel/lms MEIClient/AMTHIClient/Include/*.h,
// device-management-toolkit/rpc-go pkg/pthi/types.go and Ylianst/MeshAgent microlms/heci/PTHICommand.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hostif/link/hbm_wire.h"

namespace mesim::clients::amthi {

using hbm::Bytes;
using hbm::ByteView;

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kStatusSize = 4;
constexpr std::uint32_t kResponseFlag = 0x00800000;  // COMMAND_FMT bit 23 IsResponse
constexpr std::uint8_t kMajorVersion = 1;
constexpr std::uint8_t kMinorVersion = 1;

enum class Command : std::uint32_t {
  GetAmtState = 0x01000001,
  GetProvisioningMode = 0x04000008,
  Unprovision = 0x04000010,
  GetProvisioningState = 0x04000011,
  GetCodeVersions = 0x0400001A,
  GetSecurityParameters = 0x0400001B,
  GetMacAddresses = 0x04000025,
  EnumerateHashHandles = 0x0400002C,
  GetCertHashEntry = 0x0400002D,
  GetZeroTouchEnabled = 0x04000030,
  GetPkiFqdnSuffix = 0x04000036,
  GetDnsSuffixList = 0x0400003E,
  SetEnterpriseAccess = 0x0400003F,
  OpenUserInitiatedConnection = 0x04000044,
  CloseUserInitiatedConnection = 0x04000045,
  GetRemoteAccessConnectionStatus = 0x04000046,
  GetCurrentPowerPolicy = 0x04000047,
  GetLanInterfaceSettings = 0x04000048,
  GetFeaturesState = 0x04000049,
  GetLastHostResetReason = 0x0400004A,
  GetUserInitiatedEnabledInterfaces = 0x0400004D,
  GetIpv6LanInterfaceStatus = 0x04000052,
  GetFqdn = 0x04000056,
  GetRedirectionState = 0x04000058,
  SetHostFqdn = 0x0400005B,
  GetUuid = 0x0400005C,
  StopConfiguration = 0x0400005E,
  GetLocalSystemAccount = 0x04000067,
  GetControlMode = 0x0400006B,
  GetEhbcState = 0x04000084,
  StartConfigurationHBased = 0x0400008B,
  GetCiraLog = 0x0400008E,
};
constexpr std::uint32_t code(Command c) { return static_cast<std::uint32_t>(c); }
constexpr std::uint32_t responseCode(Command c) { return code(c) | kResponseFlag; }
const char* commandName(std::uint32_t command);  // "GetCodeVersions"; "unknown" otherwise
bool isKnownCommand(std::uint32_t command);      // a request code listed in Command

// AMT_STATUS (LMS MEIClient/Include/StatusCodeDefinitions.h; rpc-go pkg/pthi/status.go).
enum class Status : std::uint32_t {
  Success = 0x0,
  InternalError = 0x1,
  NotReady = 0x2,
  InvalidAmtMode = 0x3,
  InvalidMessageLength = 0x4,
  NotPermitted = 0x10,
  UnsupportedVersion = 0x1D,
  InvalidProvisioningState = 0x20,
  InvalidParameter = 0x24,
  RemoteAccessNotGranted = 0x200,
  RemoteAccessHostVpnDisabled = 0x201,
  RemoteAccessGrantedWithoutDdns = 0x202,
  RemoteAccessGrantedWithDdns = 0x203,
  InvalidCommand = 0x803,
  InvalidHandle = 0x805,
  DataMissing = 0x809,
  Ipv6InterfaceDisabled = 2500,  // not a failure to LMS: IPv6 is off on that interface
  InterfaceDoesNotExist = 2501,
};

struct Header {
  std::uint8_t major = kMajorVersion;
  std::uint8_t minor = kMinorVersion;
  std::uint16_t reserved = 0;
  std::uint32_t command = 0;
  std::uint32_t length = 0;  // bytes after the header
};
void writeHeader(const Header& header, Bytes& out);
std::optional<Header> readHeader(ByteView message);  // nullopt if shorter than 12 bytes

// Whole messages.
Bytes makeRequest(std::uint32_t command, ByteView payload = {});
Bytes makeResponse(std::uint32_t requestCommand, Status status, ByteView payload = {});

struct Response {
  Header header;
  Status status = Status::Success;
  ByteView payload;  // after the status
};
// Checks what LMS and mei-amt-check check: response flag set, version 1.x, length == size - 12 >= 4.
std::optional<Response> parseResponse(ByteView message);

// ---------------------------------------------------------------------------------------------
// Request payloads (after the header)
// ---------------------------------------------------------------------------------------------

// header.length a request must carry; nullopt for variable-length (SetHostFQDN) and unknown commands.
std::optional<std::size_t> requestPayloadSize(std::uint32_t command);

constexpr std::size_t kLocalSystemAccountRequestSize = 40;  // u8 reserved[40]
constexpr std::size_t kCertHashMaxLength = 64;
constexpr std::size_t kDnsSuffixListMax = 320;  // MAX_SUFFIX_LENGTH 64 x MAX_DNS_SUFFIXES 5
constexpr std::size_t kStartConfigurationHBasedRequestSize = 1 + kCertHashMaxLength + 1 + 4 + kDnsSuffixListMax;  // 390

// Unprovision (mode), GetCertHashEntry (handle), GetLanInterfaceSettings (0 wired, 1 wireless),
// GetFeaturesState (0 redirection, 1 system defense, 2 web UI, 3 EAC, 4 KVM) carry one u32.
Bytes encodeU32(std::uint32_t value);
std::optional<std::uint32_t> decodeU32(ByteView payload);  // exactly 4 bytes

struct SetEnterpriseAccessRequest {  // 18 bytes
  std::uint8_t flags = 0;            // bit 0: hostIp is IPv6
  std::array<std::uint8_t, 16> hostIp{};
  std::uint8_t enterpriseAccess = 0;
};
Bytes encode(const SetEnterpriseAccessRequest& req);
std::optional<SetEnterpriseAccessRequest> decodeSetEnterpriseAccess(ByteView payload);

// SetHostFQDN: AMT_ANSI_STRING {u16 length, chars}. LMS counts and sends a trailing NUL; MeshAgent does
// not (and pads the message to 256 chars). The decoder drops trailing NULs and ignores bytes past length.
Bytes encodeSetHostFqdn(const std::string& fqdn);  // LMS style
std::optional<std::string> decodeSetHostFqdn(ByteView payload);

struct StartConfigurationHBasedRequest {  // 390 bytes
  std::uint8_t serverHashAlgorithm = 2;   // 2 SHA-256, 3 SHA-384
  std::array<std::uint8_t, kCertHashMaxLength> serverCertHash{};
  bool hostVpnEnable = false;
  std::vector<std::string> dnsSuffixes;  // NUL-separated in u8[320], u32 length in front
};
Bytes encode(const StartConfigurationHBasedRequest& req);
std::optional<StartConfigurationHBasedRequest> decodeStartConfigurationHBased(ByteView payload);

// GetAMTState: AMT_UUID state variable id; AMT_UUID_LINK_STATE = 00..00 01.
using AmtUuid = std::array<std::uint8_t, 16>;
constexpr AmtUuid kAmtStateLinkState{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

// ---------------------------------------------------------------------------------------------
// Response payloads (after the status)
// ---------------------------------------------------------------------------------------------

// GetProvisioningState, GetZeroTouchEnabled, GetRedirectionState, GetControlMode, GetEHBCState: one u32.

struct VersionEntry {
  std::string description;  // at most 19 characters each (AMT_UNICODE_STRING: u16 length + u8[20], NUL after)
  std::string version;
};
struct CodeVersions {
  std::string biosVersion;  // u8[65], NUL-padded
  std::vector<VersionEntry> versions;
};
constexpr std::size_t kBiosVersionSize = 65;
constexpr std::size_t kUnicodeStringSize = 20;
constexpr std::size_t kVersionEntrySize = 2 * (2 + kUnicodeStringSize);  // 44
Bytes encode(const CodeVersions& v);
std::optional<CodeVersions> decodeCodeVersions(ByteView payload);  // count must match the length

struct ProvisioningMode {  // 8 bytes
  std::uint32_t mode = 0;  // 0 none, 1 enterprise
  bool legacyMode = false;
};
Bytes encode(const ProvisioningMode& v);
std::optional<ProvisioningMode> decodeProvisioningMode(ByteView payload);

struct SecurityParameters {  // 10 AMT_BOOLEAN/u32 + 7 reserved AMT_BOOLEAN = 68 bytes (LMS reads 17 words)
  bool enterpriseMode = false;
  bool tlsEnabled = false;
  bool hwCryptoEnabled = false;
  std::uint32_t provisioningState = 0;
  bool networkInterfaceEnabled = false;
  bool solEnabled = false;
  bool iderEnabled = false;
  bool fwUpdateEnabled = false;
  bool linkIsUp = false;
  bool kvmEnabled = false;  // word 9 (LMS GetSecurityParametersCommand.h KvmEnabled)
};
constexpr std::size_t kSecurityParametersSize = 68;
Bytes encode(const SecurityParameters& v);
std::optional<SecurityParameters> decodeSecurityParameters(ByteView payload);

using MacAddress = std::array<std::uint8_t, 6>;
struct MacAddresses {  // 12 bytes
  MacAddress dedicatedMac{};
  MacAddress hostMac{};
};
Bytes encode(const MacAddresses& v);
std::optional<MacAddresses> decodeMacAddresses(ByteView payload);

// EnumerateHashHandles: u32 count + count x u32 (MeshAgent checks length == 4 + 4 + 4*count).
Bytes encodeHashHandles(const std::vector<std::uint32_t>& handles);
std::optional<std::vector<std::uint32_t>> decodeHashHandles(ByteView payload);

struct CertHashEntry {  // u32 IsDefault, u32 IsActive, u8[64], u8 alg, ANSI name
  bool isDefault = false;
  bool isActive = false;
  std::array<std::uint8_t, kCertHashMaxLength> hash{};
  std::uint8_t algorithm = 2;  // 0 MD5, 1 SHA1, 2 SHA256, 3 SHA384 (rpc-go)
  std::string name;
};
Bytes encode(const CertHashEntry& v);
std::optional<CertHashEntry> decodeCertHashEntry(ByteView payload);

// AMT_ANSI_STRING on the wire: u16 length + chars, no NUL (GetPKIFQDNSuffix, GetCurrentPowerPolicy).
Bytes encodeAnsiString(const std::string& text);
std::optional<std::string> decodeAnsiString(ByteView payload);  // exactly 2 + length bytes

// GetDNSSuffixList: u16 byte count + NUL-terminated suffixes.
Bytes encodeDnsSuffixList(const std::vector<std::string>& suffixes);
std::optional<std::vector<std::string>> decodeDnsSuffixList(ByteView payload);

struct RemoteAccessConnectionStatus {
  std::uint32_t networkStatus = 0;     // 0 direct, 1 VPN, 2 outside enterprise
  std::uint32_t connectionStatus = 0;  // 0 not connected, 1 connecting, 2 connected
  std::uint32_t trigger = 0;           // 0 user, 1 alert, 2 provisioning, 3 periodic
  std::string mpsHostname;             // ANSI string
};
Bytes encode(const RemoteAccessConnectionStatus& v);
std::optional<RemoteAccessConnectionStatus> decodeRemoteAccessConnectionStatus(ByteView payload);

struct LanInterfaceSettings {  // 20 bytes
  bool enabled = false;
  std::uint32_t ipv4 = 0;  // 0x01020304 = 1.2.3.4
  bool dhcpEnabled = false;
  std::uint8_t dhcpMode = 0;  // 1 active, 2 passive
  std::uint8_t linkStatus = 0;  // 0 down, 1 up
  MacAddress mac{};
};
Bytes encode(const LanInterfaceSettings& v);
std::optional<LanInterfaceSettings> decodeLanInterfaceSettings(ByteView payload);

// GetIPv6LanInterfaceStatus while IPv6 is on (intel/lms GetIPv6LanInterfaceStatusCommand.h): the default router,
// primary and secondary DNS as 46-byte NUL-padded text fields (CFG_IP_ADDR), then a u32 count of addresses, each a
// 46-byte text field, u32 type (0 link-local, 1 router-configured, 2 DHCPv6, 3 manual), u32 state (1 preferred).
inline constexpr std::size_t kIpv6AddressTextSize = 46;
struct Ipv6AddressInfo {
  std::string address;
  std::uint32_t type = 0;
  std::uint32_t state = 0;
};
struct Ipv6LanInterfaceStatus {
  std::string defaultRouter;
  std::string primaryDns;
  std::string secondaryDns;
  std::vector<Ipv6AddressInfo> addresses;
};
Bytes encode(const Ipv6LanInterfaceStatus& v);
std::optional<Ipv6LanInterfaceStatus> decodeIpv6LanInterfaceStatus(ByteView payload);

// GetFeaturesState: u32 request id + a 12-byte union (MeshAgent CFG_GET_FEATURES_STATE_RESPONSE): redirection =
// {IderOpen, SolOpen, Reserved}; system defense / web UI / EAC = {u32 bool, 0, 0}; KVM = {bit0 session active,
// bit1 waiting for opt-in, 0, 0}. LMS reads only the words it needs.
struct FeaturesState {
  std::uint32_t requestId = 0;
  std::array<std::uint32_t, 3> data{};
};
constexpr std::size_t kFeaturesStateSize = 16;
Bytes encode(const FeaturesState& v);
std::optional<FeaturesState> decodeFeaturesState(ByteView payload);

struct LastHostResetReason {  // 8 bytes
  std::uint32_t reason = 1;   // 0 remote control, 1 other
  std::uint32_t remoteControlTimestamp = 0;
};
Bytes encode(const LastHostResetReason& v);
std::optional<LastHostResetReason> decodeLastHostResetReason(ByteView payload);

// GetFQDN as LMS parses it (GetFQDNCommand.h): 5 x u32 then an ANSI string.
struct Fqdn {
  bool sharedFqdn = false;
  bool ddnsUpdateEnabled = false;
  std::uint32_t ddnsPeriodicUpdateInterval = 0;
  std::uint32_t ddnsTtl = 0;
  std::uint32_t hostNameLength = 0;
  std::string fqdn;
};
Bytes encode(const Fqdn& v);
std::optional<Fqdn> decodeFqdn(ByteView payload);

// GetRedirectionState: u32 bits 0 SOL, 1 IDER, 2 KVM enabled.
constexpr std::uint32_t kRedirectionSol = 1u << 0;
constexpr std::uint32_t kRedirectionIder = 1u << 1;
constexpr std::uint32_t kRedirectionKvm = 1u << 2;

// GetUUID: 16 bytes in the uuid_le order (first three fields little-endian), as rpc-go prints them.
AmtUuid uuidToWire(const std::array<std::uint8_t, 16>& rfcOrder);

// char user[33] + char password[33], NUL-terminated, then 2 zero bytes: the firmware's struct is padded to a
// 4-byte boundary, so real firmware answers 68 bytes of account data (agents written against it check that).
struct LocalSystemAccount {
  std::string user;
  std::string password;
};
constexpr std::size_t kAccountFieldSize = 33;
constexpr std::size_t kLocalSystemAccountSize = 68;  // 2 x 33, padded to a multiple of 4
Bytes encode(const LocalSystemAccount& v);
std::optional<LocalSystemAccount> decodeLocalSystemAccount(ByteView payload);

struct StartConfigurationHBasedResponse {  // u8 hash algorithm + u8[64] AMT certificate hash (rpc-go)
  std::uint8_t hashAlgorithm = 2;
  std::array<std::uint8_t, kCertHashMaxLength> amtCertHash{};
};
Bytes encode(const StartConfigurationHBasedResponse& v);
std::optional<StartConfigurationHBasedResponse> decodeStartConfigurationHBasedResponse(ByteView payload);

struct AmtState {  // id[16] + u32 count(5) + 5 state bytes
  AmtUuid id = kAmtStateLinkState;
  std::uint8_t linkStatus = 0;
  std::uint8_t hardSku = 0;
  std::uint8_t cryptoFuse = 0;
  std::uint8_t flashProtection = 0;
  std::uint8_t lastMeResetType = 0;
};
constexpr std::size_t kAmtStateSize = 25;
Bytes encode(const AmtState& v);
std::optional<AmtState> decodeAmtState(ByteView payload);

// GetCiraLog (rpc-go pkg/pthi/types.go, packed like Go's binary.Read): u8 version + CIRAStatusSummary (27) +
// last failed tunnel entry (545) + failed connection entry (2208) = 2781 bytes. Only the summary is modelled;
// the log entries are zero (no history).
struct CiraStatusSummary {
  std::uint8_t isTunnelOpened = 0;
  std::uint8_t currentConnectionState = 0;
  std::uint32_t lastKeepAlive = 0;
  std::uint32_t keepAliveInterval = 0;
  std::uint8_t lastConnectionStatus = 0;
  std::uint32_t lastConnectionTimestamp = 0;
  std::uint8_t lastTunnelStatus = 0;
  std::uint32_t lastTunnelOpenedTimestamp = 0;
  std::uint32_t lastTunnelClosedTimestamp = 0;
};
constexpr std::size_t kCiraStatusSummarySize = 27;
constexpr std::size_t kCiraLogSize = 2781;
Bytes encodeCiraLog(std::uint8_t version, const CiraStatusSummary& summary);
std::optional<CiraStatusSummary> decodeCiraLog(ByteView payload, std::uint8_t* version = nullptr);

}  // namespace mesim::clients::amthi
