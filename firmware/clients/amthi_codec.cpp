#include "firmware/clients/amthi_codec.h"

#include <algorithm>
#include <string_view>

#include "common/text_codecs.h"
#include "firmware/clients/byte_io.h"

namespace mesim::clients::amthi {
namespace {

// CIRA log layout (rpc-go pkg/pthi/types.go, Go binary.Read packs without padding).
constexpr std::size_t kCiraTunnelLogEntrySize = 545;
constexpr std::size_t kCiraFailedConnectionLogEntrySize = 2208;
static_assert(1 + kCiraStatusSummarySize + kCiraTunnelLogEntrySize + kCiraFailedConnectionLogEntrySize == kCiraLogSize);
static_assert(kStartConfigurationHBasedRequestSize == 390);
static_assert(kVersionEntrySize == 44);

template <class Decoded, class Fn>
std::optional<Decoded> decodeExact(ByteView payload, Fn&& fn) {
  ByteReader r(payload);
  Decoded out = fn(r);
  if (!r.atEnd()) return std::nullopt;
  return out;
}

void writeAnsi(ByteWriter& w, const std::string& text) {
  const auto n = std::min<std::size_t>(text.size(), 0xFFFF);
  w.u16(static_cast<std::uint16_t>(n)).fixed(text, n);
}

std::string readAnsi(ByteReader& r) {
  std::uint16_t n = r.u16();
  ByteView raw = r.bytes(n);
  return std::string(raw.begin(), raw.end());
}

void writeUnicode(ByteWriter& w, const std::string& text) {
  // AMT_UNICODE_STRING: u16 length + u8[20]; mei-amt-check wants String[length] == 0, so at most 19 chars.
  const auto n = std::min<std::size_t>(text.size(), kUnicodeStringSize - 1);
  w.u16(static_cast<std::uint16_t>(n)).fixed(text.substr(0, n), kUnicodeStringSize);
}

std::optional<std::string> readUnicode(ByteReader& r) {
  std::uint16_t n = r.u16();
  ByteView raw = r.bytes(kUnicodeStringSize);
  if (!r.ok() || n > kUnicodeStringSize) return std::nullopt;
  return std::string(raw.begin(), raw.begin() + n);
}

}  // namespace

const char* commandName(std::uint32_t command) {
  switch (static_cast<Command>(command & ~kResponseFlag)) {
    case Command::GetAmtState: return "GetAMTState";
    case Command::GetProvisioningMode: return "GetProvisioningMode";
    case Command::Unprovision: return "Unprovision";
    case Command::GetProvisioningState: return "GetProvisioningState";
    case Command::GetCodeVersions: return "GetCodeVersions";
    case Command::GetSecurityParameters: return "GetSecurityParameters";
    case Command::GetMacAddresses: return "GetMacAddresses";
    case Command::EnumerateHashHandles: return "EnumerateHashHandles";
    case Command::GetCertHashEntry: return "GetCertHashEntry";
    case Command::GetZeroTouchEnabled: return "GetZeroTouchEnabled";
    case Command::GetPkiFqdnSuffix: return "GetPKIFQDNSuffix";
    case Command::GetDnsSuffixList: return "GetDNSSuffixList";
    case Command::SetEnterpriseAccess: return "SetEnterpriseAccess";
    case Command::OpenUserInitiatedConnection: return "OpenUserInitiatedConnection";
    case Command::CloseUserInitiatedConnection: return "CloseUserInitiatedConnection";
    case Command::GetRemoteAccessConnectionStatus: return "GetRemoteAccessConnectionStatus";
    case Command::GetCurrentPowerPolicy: return "GetCurrentPowerPolicy";
    case Command::GetLanInterfaceSettings: return "GetLANInterfaceSettings";
    case Command::GetFeaturesState: return "GetFeaturesState";
    case Command::GetLastHostResetReason: return "GetLastHostResetReason";
    case Command::GetUserInitiatedEnabledInterfaces: return "GetUserInitiatedEnabledInterfaces";
    case Command::GetIpv6LanInterfaceStatus: return "GetIPv6LanInterfaceStatus";
    case Command::GetFqdn: return "GetFQDN";
    case Command::GetRedirectionState: return "GetRedirectionState";
    case Command::SetHostFqdn: return "SetHostFQDN";
    case Command::GetUuid: return "GetUUID";
    case Command::StopConfiguration: return "StopConfiguration";
    case Command::GetLocalSystemAccount: return "GetLocalSystemAccount";
    case Command::GetControlMode: return "GetControlMode";
    case Command::GetEhbcState: return "GetEHBCState";
    case Command::StartConfigurationHBased: return "StartConfigurationHBased";
    case Command::GetCiraLog: return "GetCiraLog";
  }
  return "unknown";
}

bool isKnownCommand(std::uint32_t command) {
  return !(command & kResponseFlag) && std::string_view(commandName(command)) != "unknown";
}

void writeHeader(const Header& h, Bytes& out) {
  ByteWriter(out).u8(h.major).u8(h.minor).u16(h.reserved).u32(h.command).u32(h.length);
}

std::optional<Header> readHeader(ByteView message) {
  if (message.size() < kHeaderSize) return std::nullopt;
  ByteReader r(message);
  Header h;
  h.major = r.u8();
  h.minor = r.u8();
  h.reserved = r.u16();
  h.command = r.u32();
  h.length = r.u32();
  return h;
}

Bytes makeRequest(std::uint32_t command, ByteView payload) {
  Bytes out;
  out.reserve(kHeaderSize + payload.size());
  writeHeader({kMajorVersion, kMinorVersion, 0, command, static_cast<std::uint32_t>(payload.size())}, out);
  ByteWriter(out).bytes(payload);
  return out;
}

Bytes makeResponse(std::uint32_t requestCommand, Status status, ByteView payload) {
  Bytes out;
  out.reserve(kHeaderSize + kStatusSize + payload.size());
  writeHeader({kMajorVersion, kMinorVersion, 0, requestCommand | kResponseFlag,
               static_cast<std::uint32_t>(kStatusSize + payload.size())},
              out);
  ByteWriter(out).u32(static_cast<std::uint32_t>(status)).bytes(payload);
  return out;
}

std::optional<Response> parseResponse(ByteView message) {
  auto header = readHeader(message);
  if (!header || header->major != kMajorVersion || header->minor < kMinorVersion) return std::nullopt;
  if (!(header->command & kResponseFlag)) return std::nullopt;
  if (header->length != message.size() - kHeaderSize || header->length < kStatusSize) return std::nullopt;
  ByteReader r(message.subspan(kHeaderSize));
  Response res;
  res.header = *header;
  res.status = static_cast<Status>(r.u32());
  res.payload = message.subspan(kHeaderSize + kStatusSize);
  return res;
}

std::optional<std::size_t> requestPayloadSize(std::uint32_t command) {
  switch (static_cast<Command>(command)) {
    case Command::GetAmtState: return sizeof(AmtUuid);
    case Command::Unprovision:
    case Command::GetCertHashEntry:
    case Command::GetLanInterfaceSettings:
    case Command::GetIpv6LanInterfaceStatus:
    case Command::GetFeaturesState: return 4;
    case Command::SetEnterpriseAccess: return 18;
    case Command::GetLocalSystemAccount: return kLocalSystemAccountRequestSize;
    case Command::StartConfigurationHBased: return kStartConfigurationHBasedRequestSize;
    case Command::GetCiraLog: return 1;
    case Command::SetHostFqdn: return std::nullopt;
    case Command::GetProvisioningMode:
    case Command::GetProvisioningState:
    case Command::GetCodeVersions:
    case Command::GetSecurityParameters:
    case Command::GetMacAddresses:
    case Command::EnumerateHashHandles:
    case Command::GetZeroTouchEnabled:
    case Command::GetPkiFqdnSuffix:
    case Command::GetDnsSuffixList:
    case Command::OpenUserInitiatedConnection:
    case Command::CloseUserInitiatedConnection:
    case Command::GetRemoteAccessConnectionStatus:
    case Command::GetCurrentPowerPolicy:
    case Command::GetLastHostResetReason:
    case Command::GetUserInitiatedEnabledInterfaces:
    case Command::GetFqdn:
    case Command::GetRedirectionState:
    case Command::GetUuid:
    case Command::StopConfiguration:
    case Command::GetControlMode:
    case Command::GetEhbcState: return 0;
  }
  return std::nullopt;
}

// ----- requests -----

Bytes encodeU32(std::uint32_t value) {
  Bytes out;
  ByteWriter(out).u32(value);
  return out;
}

std::optional<std::uint32_t> decodeU32(ByteView payload) {
  return decodeExact<std::uint32_t>(payload, [](ByteReader& r) { return r.u32(); });
}

Bytes encode(const SetEnterpriseAccessRequest& req) {
  Bytes out;
  ByteWriter(out).u8(req.flags).bytes(req.hostIp).u8(req.enterpriseAccess);
  return out;
}

std::optional<SetEnterpriseAccessRequest> decodeSetEnterpriseAccess(ByteView payload) {
  return decodeExact<SetEnterpriseAccessRequest>(payload, [](ByteReader& r) {
    SetEnterpriseAccessRequest req;
    req.flags = r.u8();
    ByteView ip = r.bytes(16);
    std::copy(ip.begin(), ip.end(), req.hostIp.begin());
    req.enterpriseAccess = r.u8();
    return req;
  });
}

Bytes encodeSetHostFqdn(const std::string& fqdn) {
  Bytes out;
  ByteWriter w(out);
  w.u16(static_cast<std::uint16_t>(fqdn.size() + 1)).fixed(fqdn, fqdn.size() + 1);
  return out;
}

std::optional<std::string> decodeSetHostFqdn(ByteView payload) {
  ByteReader r(payload);
  std::uint16_t n = r.u16();
  ByteView raw = r.bytes(n);
  if (!r.ok()) return std::nullopt;
  std::string fqdn(raw.begin(), raw.end());
  while (!fqdn.empty() && fqdn.back() == '\0') fqdn.pop_back();
  if (fqdn.find('\0') != std::string::npos) return std::nullopt;
  return fqdn;
}

Bytes encode(const StartConfigurationHBasedRequest& req) {
  Bytes suffixes;
  for (const auto& s : req.dnsSuffixes) {
    suffixes.insert(suffixes.end(), s.begin(), s.end());
    suffixes.push_back(0);
  }
  if (suffixes.size() > kDnsSuffixListMax) suffixes.resize(kDnsSuffixListMax);
  Bytes out;
  ByteWriter(out)
      .u8(req.serverHashAlgorithm)
      .bytes(req.serverCertHash)
      .u8(req.hostVpnEnable ? 1 : 0)
      .u32(static_cast<std::uint32_t>(suffixes.size()))
      .fixed(ByteView(suffixes), kDnsSuffixListMax);
  return out;
}

std::optional<StartConfigurationHBasedRequest> decodeStartConfigurationHBased(ByteView payload) {
  ByteReader r(payload);
  StartConfigurationHBasedRequest req;
  req.serverHashAlgorithm = r.u8();
  ByteView hash = r.bytes(kCertHashMaxLength);
  std::copy(hash.begin(), hash.end(), req.serverCertHash.begin());
  req.hostVpnEnable = r.u8() != 0;
  std::uint32_t suffixLength = r.u32();
  ByteView list = r.bytes(kDnsSuffixListMax);
  if (!r.atEnd() || suffixLength > kDnsSuffixListMax) return std::nullopt;
  std::string current;
  for (std::size_t i = 0; i < suffixLength; ++i) {
    if (list[i] == 0) {
      if (!current.empty()) req.dnsSuffixes.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(list[i]));
    }
  }
  if (!current.empty()) req.dnsSuffixes.push_back(std::move(current));
  return req;
}

// ----- responses -----

Bytes encode(const CodeVersions& v) {
  Bytes out;
  ByteWriter w(out);
  // BIOS version is NUL-terminated inside its 65 bytes.
  w.fixed(v.biosVersion.substr(0, std::min(v.biosVersion.size(), kBiosVersionSize - 1)), kBiosVersionSize);
  w.u32(static_cast<std::uint32_t>(v.versions.size()));
  for (const auto& e : v.versions) {
    writeUnicode(w, e.description);
    writeUnicode(w, e.version);
  }
  return out;
}

std::optional<CodeVersions> decodeCodeVersions(ByteView payload) {
  ByteReader r(payload);
  CodeVersions v;
  v.biosVersion = r.fixedString(kBiosVersionSize);
  std::uint32_t count = r.u32();
  if (!r.ok() || r.remaining() != static_cast<std::size_t>(count) * kVersionEntrySize) return std::nullopt;
  for (std::uint32_t i = 0; i < count; ++i) {
    auto description = readUnicode(r);
    auto version = readUnicode(r);
    if (!description || !version) return std::nullopt;
    v.versions.push_back({std::move(*description), std::move(*version)});
  }
  return v;
}

Bytes encode(const ProvisioningMode& v) {
  Bytes out;
  ByteWriter(out).u32(v.mode).u32(v.legacyMode ? 1 : 0);
  return out;
}

std::optional<ProvisioningMode> decodeProvisioningMode(ByteView payload) {
  return decodeExact<ProvisioningMode>(payload, [](ByteReader& r) {
    ProvisioningMode v;
    v.mode = r.u32();
    v.legacyMode = r.u32() != 0;
    return v;
  });
}

Bytes encode(const SecurityParameters& v) {
  Bytes out;
  ByteWriter w(out);
  w.u32(v.enterpriseMode).u32(v.tlsEnabled).u32(v.hwCryptoEnabled).u32(v.provisioningState);
  w.u32(v.networkInterfaceEnabled).u32(v.solEnabled).u32(v.iderEnabled).u32(v.fwUpdateEnabled).u32(v.linkIsUp);
  w.u32(v.kvmEnabled);
  w.zeros(7 * 4);
  return out;
}

std::optional<SecurityParameters> decodeSecurityParameters(ByteView payload) {
  return decodeExact<SecurityParameters>(payload, [](ByteReader& r) {
    SecurityParameters v;
    v.enterpriseMode = r.u32() != 0;
    v.tlsEnabled = r.u32() != 0;
    v.hwCryptoEnabled = r.u32() != 0;
    v.provisioningState = r.u32();
    v.networkInterfaceEnabled = r.u32() != 0;
    v.solEnabled = r.u32() != 0;
    v.iderEnabled = r.u32() != 0;
    v.fwUpdateEnabled = r.u32() != 0;
    v.linkIsUp = r.u32() != 0;
    v.kvmEnabled = r.u32() != 0;
    r.bytes(7 * 4);
    return v;
  });
}

Bytes encode(const MacAddresses& v) {
  Bytes out;
  ByteWriter(out).bytes(v.dedicatedMac).bytes(v.hostMac);
  return out;
}

std::optional<MacAddresses> decodeMacAddresses(ByteView payload) {
  return decodeExact<MacAddresses>(payload, [](ByteReader& r) {
    MacAddresses v;
    ByteView a = r.bytes(6);
    std::copy(a.begin(), a.end(), v.dedicatedMac.begin());
    ByteView b = r.bytes(6);
    std::copy(b.begin(), b.end(), v.hostMac.begin());
    return v;
  });
}

Bytes encodeHashHandles(const std::vector<std::uint32_t>& handles) {
  Bytes out;
  ByteWriter w(out);
  w.u32(static_cast<std::uint32_t>(handles.size()));
  for (auto h : handles) w.u32(h);
  return out;
}

std::optional<std::vector<std::uint32_t>> decodeHashHandles(ByteView payload) {
  ByteReader r(payload);
  std::uint32_t count = r.u32();
  if (!r.ok() || r.remaining() != static_cast<std::size_t>(count) * 4) return std::nullopt;
  std::vector<std::uint32_t> handles;
  for (std::uint32_t i = 0; i < count; ++i) handles.push_back(r.u32());
  return handles;
}

Bytes encode(const CertHashEntry& v) {
  Bytes out;
  ByteWriter w(out);
  w.u32(v.isDefault ? 1 : 0).u32(v.isActive ? 1 : 0).bytes(v.hash).u8(v.algorithm);
  writeAnsi(w, v.name);
  return out;
}

std::optional<CertHashEntry> decodeCertHashEntry(ByteView payload) {
  return decodeExact<CertHashEntry>(payload, [](ByteReader& r) {
    CertHashEntry v;
    v.isDefault = r.u32() != 0;
    v.isActive = r.u32() != 0;
    ByteView h = r.bytes(kCertHashMaxLength);
    std::copy(h.begin(), h.end(), v.hash.begin());
    v.algorithm = r.u8();
    v.name = readAnsi(r);
    return v;
  });
}

Bytes encodeAnsiString(const std::string& text) {
  Bytes out;
  ByteWriter w(out);
  writeAnsi(w, text);
  return out;
}

std::optional<std::string> decodeAnsiString(ByteView payload) {
  return decodeExact<std::string>(payload, [](ByteReader& r) { return readAnsi(r); });
}

Bytes encodeDnsSuffixList(const std::vector<std::string>& suffixes) {
  Bytes data;
  for (const auto& s : suffixes) {
    data.insert(data.end(), s.begin(), s.end());
    data.push_back(0);
  }
  Bytes out;
  ByteWriter(out).u16(static_cast<std::uint16_t>(data.size())).bytes(data);
  return out;
}

std::optional<std::vector<std::string>> decodeDnsSuffixList(ByteView payload) {
  ByteReader r(payload);
  std::uint16_t n = r.u16();
  ByteView data = r.bytes(n);
  if (!r.atEnd()) return std::nullopt;
  std::vector<std::string> out;
  std::string current;
  for (auto b : data) {
    if (b == 0) {
      out.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(static_cast<char>(b));
    }
  }
  if (!current.empty()) return std::nullopt;  // each suffix ends with a NUL
  return out;
}

Bytes encode(const RemoteAccessConnectionStatus& v) {
  Bytes out;
  ByteWriter w(out);
  w.u32(v.networkStatus).u32(v.connectionStatus).u32(v.trigger);
  writeAnsi(w, v.mpsHostname);
  return out;
}

std::optional<RemoteAccessConnectionStatus> decodeRemoteAccessConnectionStatus(ByteView payload) {
  return decodeExact<RemoteAccessConnectionStatus>(payload, [](ByteReader& r) {
    RemoteAccessConnectionStatus v;
    v.networkStatus = r.u32();
    v.connectionStatus = r.u32();
    v.trigger = r.u32();
    v.mpsHostname = readAnsi(r);
    return v;
  });
}

Bytes encode(const LanInterfaceSettings& v) {
  Bytes out;
  ByteWriter(out)
      .u32(v.enabled ? 1 : 0)
      .u32(v.ipv4)
      .u32(v.dhcpEnabled ? 1 : 0)
      .u8(v.dhcpMode)
      .u8(v.linkStatus)
      .bytes(v.mac);
  return out;
}

namespace {
// A CFG_IP_ADDR: the text, NUL-padded to 46 bytes (longer text is cut; an IPv6 address is at most 45 characters).
void writeAddressText(ByteWriter& w, const std::string& text) {
  Bytes field(kIpv6AddressTextSize, 0);
  std::copy_n(text.begin(), std::min(text.size(), kIpv6AddressTextSize - 1), field.begin());
  w.bytes(field);
}
std::string readAddressText(ByteReader& r) { return r.fixedString(kIpv6AddressTextSize); }
}  // namespace

Bytes encode(const Ipv6LanInterfaceStatus& v) {
  Bytes out;
  ByteWriter w(out);
  writeAddressText(w, v.defaultRouter);
  writeAddressText(w, v.primaryDns);
  writeAddressText(w, v.secondaryDns);
  w.u32(static_cast<std::uint32_t>(v.addresses.size()));
  for (const auto& a : v.addresses) {
    writeAddressText(w, a.address);
    w.u32(a.type).u32(a.state);
  }
  return out;
}

std::optional<Ipv6LanInterfaceStatus> decodeIpv6LanInterfaceStatus(ByteView payload) {
  constexpr std::size_t kEntry = kIpv6AddressTextSize + 8;
  return decodeExact<Ipv6LanInterfaceStatus>(payload, [&](ByteReader& r) {
    Ipv6LanInterfaceStatus v;
    v.defaultRouter = readAddressText(r);
    v.primaryDns = readAddressText(r);
    v.secondaryDns = readAddressText(r);
    const std::uint32_t count = r.u32();
    // A count beyond what follows: read past the end, so decodeExact refuses it, before allocating anything.
    if (r.remaining() / kEntry < count) {
      r.bytes(r.remaining() + 1);
      return v;
    }
    for (std::uint32_t i = 0; i < count; ++i) {
      Ipv6AddressInfo a;
      a.address = readAddressText(r);
      a.type = r.u32();
      a.state = r.u32();
      v.addresses.push_back(std::move(a));
    }
    return v;
  });
}

std::optional<LanInterfaceSettings> decodeLanInterfaceSettings(ByteView payload) {
  return decodeExact<LanInterfaceSettings>(payload, [](ByteReader& r) {
    LanInterfaceSettings v;
    v.enabled = r.u32() != 0;
    v.ipv4 = r.u32();
    v.dhcpEnabled = r.u32() != 0;
    v.dhcpMode = r.u8();
    v.linkStatus = r.u8();
    ByteView mac = r.bytes(6);
    std::copy(mac.begin(), mac.end(), v.mac.begin());
    return v;
  });
}

Bytes encode(const FeaturesState& v) {
  Bytes out;
  ByteWriter(out).u32(v.requestId).u32(v.data[0]).u32(v.data[1]).u32(v.data[2]);
  return out;
}

std::optional<FeaturesState> decodeFeaturesState(ByteView payload) {
  return decodeExact<FeaturesState>(payload, [](ByteReader& r) {
    FeaturesState v;
    v.requestId = r.u32();
    for (auto& word : v.data) word = r.u32();
    return v;
  });
}

Bytes encode(const LastHostResetReason& v) {
  Bytes out;
  ByteWriter(out).u32(v.reason).u32(v.remoteControlTimestamp);
  return out;
}

std::optional<LastHostResetReason> decodeLastHostResetReason(ByteView payload) {
  return decodeExact<LastHostResetReason>(payload, [](ByteReader& r) {
    LastHostResetReason v;
    v.reason = r.u32();
    v.remoteControlTimestamp = r.u32();
    return v;
  });
}

Bytes encode(const Fqdn& v) {
  Bytes out;
  ByteWriter w(out);
  w.u32(v.sharedFqdn ? 1 : 0).u32(v.ddnsUpdateEnabled ? 1 : 0).u32(v.ddnsPeriodicUpdateInterval).u32(v.ddnsTtl);
  w.u32(v.hostNameLength);
  writeAnsi(w, v.fqdn);
  return out;
}

std::optional<Fqdn> decodeFqdn(ByteView payload) {
  return decodeExact<Fqdn>(payload, [](ByteReader& r) {
    Fqdn v;
    v.sharedFqdn = r.u32() != 0;
    v.ddnsUpdateEnabled = r.u32() != 0;
    v.ddnsPeriodicUpdateInterval = r.u32();
    v.ddnsTtl = r.u32();
    v.hostNameLength = r.u32();
    v.fqdn = readAnsi(r);
    return v;
  });
}

AmtUuid uuidToWire(const std::array<std::uint8_t, 16>& u) { return text::uuidToMixedEndian(u); }

Bytes encode(const LocalSystemAccount& v) {
  Bytes out;
  ByteWriter w(out);
  // Each field keeps its terminating NUL: at most 32 characters.
  w.fixed(v.user.substr(0, std::min(v.user.size(), kAccountFieldSize - 1)), kAccountFieldSize);
  w.fixed(v.password.substr(0, std::min(v.password.size(), kAccountFieldSize - 1)), kAccountFieldSize);
  w.zeros(kLocalSystemAccountSize - 2 * kAccountFieldSize);
  return out;
}

std::optional<LocalSystemAccount> decodeLocalSystemAccount(ByteView payload) {
  return decodeExact<LocalSystemAccount>(payload, [](ByteReader& r) {
    LocalSystemAccount v;
    v.user = r.fixedString(kAccountFieldSize);
    v.password = r.fixedString(kAccountFieldSize);
    r.bytes(kLocalSystemAccountSize - 2 * kAccountFieldSize);  // padding
    return v;
  });
}

Bytes encode(const StartConfigurationHBasedResponse& v) {
  Bytes out;
  ByteWriter(out).u8(v.hashAlgorithm).bytes(v.amtCertHash);
  return out;
}

std::optional<StartConfigurationHBasedResponse> decodeStartConfigurationHBasedResponse(ByteView payload) {
  return decodeExact<StartConfigurationHBasedResponse>(payload, [](ByteReader& r) {
    StartConfigurationHBasedResponse v;
    v.hashAlgorithm = r.u8();
    ByteView h = r.bytes(kCertHashMaxLength);
    std::copy(h.begin(), h.end(), v.amtCertHash.begin());
    return v;
  });
}

Bytes encode(const AmtState& v) {
  Bytes out;
  ByteWriter(out)
      .bytes(v.id)
      .u32(5)
      .u8(v.linkStatus)
      .u8(v.hardSku)
      .u8(v.cryptoFuse)
      .u8(v.flashProtection)
      .u8(v.lastMeResetType);
  return out;
}

std::optional<AmtState> decodeAmtState(ByteView payload) {
  ByteReader r(payload);
  AmtState v;
  ByteView id = r.bytes(16);
  std::copy(id.begin(), id.end(), v.id.begin());
  std::uint32_t count = r.u32();
  v.linkStatus = r.u8();
  v.hardSku = r.u8();
  v.cryptoFuse = r.u8();
  v.flashProtection = r.u8();
  v.lastMeResetType = r.u8();
  if (!r.atEnd() || count != 5) return std::nullopt;
  return v;
}

Bytes encodeCiraLog(std::uint8_t version, const CiraStatusSummary& s) {
  Bytes out;
  out.reserve(kCiraLogSize);
  ByteWriter w(out);
  w.u8(version);
  w.u8(s.isTunnelOpened).u8(s.currentConnectionState).zeros(3).u32(s.lastKeepAlive).u32(s.keepAliveInterval);
  w.u8(s.lastConnectionStatus).u32(s.lastConnectionTimestamp).u8(s.lastTunnelStatus);
  w.u32(s.lastTunnelOpenedTimestamp).u32(s.lastTunnelClosedTimestamp);
  w.zeros(kCiraTunnelLogEntrySize + kCiraFailedConnectionLogEntrySize);
  return out;
}

std::optional<CiraStatusSummary> decodeCiraLog(ByteView payload, std::uint8_t* version) {
  if (payload.size() != kCiraLogSize) return std::nullopt;
  ByteReader r(payload);
  std::uint8_t v = r.u8();
  CiraStatusSummary s;
  s.isTunnelOpened = r.u8();
  s.currentConnectionState = r.u8();
  r.bytes(3);
  s.lastKeepAlive = r.u32();
  s.keepAliveInterval = r.u32();
  s.lastConnectionStatus = r.u8();
  s.lastConnectionTimestamp = r.u32();
  s.lastTunnelStatus = r.u8();
  s.lastTunnelOpenedTimestamp = r.u32();
  s.lastTunnelClosedTimestamp = r.u32();
  if (!r.ok()) return std::nullopt;
  if (version) *version = v;
  return s;
}

}  // namespace mesim::clients::amthi
