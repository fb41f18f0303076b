#include "firmware/clients/amthi_client.h"

#include <algorithm>

#include "firmware/clients/client_guids.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/ipv6_addresses.h"
#include "firmware/platform/remote_access_config.h"
#include "common/log.h"

namespace mesim::clients {

using amthi::Command;
using amthi::Status;
using hbm::Bytes;
using hbm::ByteView;
using platform::ChangeResult;

namespace {

constexpr const char* kLog = "amthi";

Bytes reply(Command command, Status status, ByteView payload = {}) {
  return amthi::makeResponse(amthi::code(command), status, payload);
}

Bytes ok(Command command, ByteView payload = {}) { return reply(command, Status::Success, payload); }
Bytes okU32(Command command, std::uint32_t value) { return ok(command, amthi::encodeU32(value)); }

amthi::LanInterfaceSettings lanSettings(const platform::LanInterface& lan) {
  amthi::LanInterfaceSettings s;
  s.enabled = lan.enabled;
  s.ipv4 = lan.ipv4;
  s.dhcpEnabled = lan.dhcpEnabled;
  s.dhcpMode = lan.dhcpMode;
  s.linkStatus = lan.linkUp ? 1 : 0;
  s.mac = lan.mac;
  return s;
}

}  // namespace

AmthiClient::AmthiClient(platform::PlatformModel& platform, AmthiOptions options)
    : platform_(platform), options_(options) {}

hbm::ClientProperties AmthiClient::properties() const {
  return firmware::dynamicClientProperties(kAmthiGuid, kProtocolVersion, options_.maxConnections, options_.maxMessageLength);
}

void AmthiClient::onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, ByteView message) {
  const auto header = amthi::readHeader(message);
  if (options_.whenCertificateExists && header && header->command == amthi::code(Command::StartConfigurationHBased) &&
      platform_.state().amtCertHash.empty()) {
    // The answer carries the certificate's hash: wait for the certificate, taking no further request meanwhile
    // so that answers stay in order.
    connection->pauseReceive();
    options_.whenCertificateExists([this, connection, request = Bytes(message.begin(), message.end())] {
      connection->send(respond(request));
      connection->resumeReceive();
    });
    return;
  }
  connection->send(respond(message));
}

Bytes AmthiClient::respond(ByteView request) {
  auto header = amthi::readHeader(request);
  if (!header) {
    // Too short for a header: answer anyway (the host's read would otherwise wait for ever), echoing
    // whatever command bytes arrived.
    std::uint32_t command = 0;
    if (request.size() >= 8) command = request[4] | request[5] << 8 | request[6] << 16 | std::uint32_t{request[7]} << 24;
    MESIM_LOG(Warn, kLog, "request of " << request.size() << " bytes is shorter than the 12-byte header");
    return amthi::makeResponse(command & ~amthi::kResponseFlag, Status::InvalidMessageLength);
  }
  const std::uint32_t command = header->command;
  if (header->major != amthi::kMajorVersion) {
    MESIM_LOG(Warn, kLog, "request 0x" << std::hex << command << " has header version " << std::dec
                                       << int(header->major) << "." << int(header->minor));
    return amthi::makeResponse(command & ~amthi::kResponseFlag, Status::UnsupportedVersion);
  }
  // LMS 2506 crashes on a failed GetProvisioningState (spec/apf.md §4): it always succeeds.
  if (command == amthi::code(Command::GetProvisioningState))
    return okU32(Command::GetProvisioningState, static_cast<std::uint32_t>(platform_.provisioningState()));
  if (!amthi::isKnownCommand(command)) {
    MESIM_LOG(Info, kLog, "unknown command 0x" << std::hex << command);
    return amthi::makeResponse(command & ~amthi::kResponseFlag, Status::InvalidCommand);
  }
  // Bytes past header.length are ignored (MeshAgent sends SetHostFQDN padded to 270 bytes).
  const std::size_t available = request.size() - amthi::kHeaderSize;
  auto expected = amthi::requestPayloadSize(command);
  if (header->length > available || (expected && header->length != *expected)) {
    MESIM_LOG(Warn, kLog, amthi::commandName(command) << ": header length " << header->length << " (message carries "
                                                      << available << ")");
    return amthi::makeResponse(command, Status::InvalidMessageLength);
  }
  Bytes response = dispatch(static_cast<Command>(command), request.subspan(amthi::kHeaderSize, header->length));
  MESIM_LOG(Debug, kLog, amthi::commandName(command) << " -> " << response.size() << " bytes");
  return response;
}

Bytes AmthiClient::dispatch(Command command, ByteView payload) {
  const auto& s = platform_.state();
  switch (command) {
    case Command::GetAmtState: return amtState(payload);
    case Command::GetProvisioningMode: {
      amthi::ProvisioningMode mode;
      mode.mode = s.provisioningState == platform::ProvisioningState::Post ? 1 : 0;  // enterprise
      return ok(command, amthi::encode(mode));
    }
    case Command::Unprovision: return unprovision(payload);
    case Command::GetProvisioningState: return okU32(command, static_cast<std::uint32_t>(s.provisioningState));
    case Command::GetCodeVersions: {
      amthi::CodeVersions versions;
      versions.biosVersion = s.firmware.biosVersion;
      for (const auto& cv : s.firmware.codeVersions) versions.versions.push_back({cv.description, cv.version});
      return ok(command, amthi::encode(versions));
    }
    case Command::GetSecurityParameters: {
      amthi::SecurityParameters p;
      p.enterpriseMode = s.provisioningState == platform::ProvisioningState::Post;
      p.tlsEnabled = s.tlsEnabled;
      p.hwCryptoEnabled = true;
      p.provisioningState = static_cast<std::uint32_t>(s.provisioningState);
      p.networkInterfaceEnabled = s.wired.enabled;
      p.solEnabled = s.features.solEnabled;
      p.iderEnabled = s.features.iderEnabled;
      p.fwUpdateEnabled = s.firmware.fwUpdateState != 0;
      p.linkIsUp = s.wired.linkUp;
      p.kvmEnabled = s.features.kvmEnabled;
      return ok(command, amthi::encode(p));
    }
    case Command::GetMacAddresses: {
      // Integrated LAN: the ME shares the host's MAC.
      amthi::MacAddresses macs{s.wired.mac, s.wired.mac};
      return ok(command, amthi::encode(macs));
    }
    case Command::EnumerateHashHandles: {
      std::vector<std::uint32_t> handles;
      for (const auto& e : s.certHashes) handles.push_back(e.handle);
      return ok(command, amthi::encodeHashHandles(handles));
    }
    case Command::GetCertHashEntry: return certHashEntry(payload);
    case Command::GetZeroTouchEnabled: return okU32(command, s.ztcEnabled ? 1 : 0);
    case Command::GetPkiFqdnSuffix: return ok(command, amthi::encodeAnsiString(s.pkiDnsSuffix));
    case Command::GetDnsSuffixList: return ok(command, amthi::encodeDnsSuffixList(s.dnsSuffixList));
    case Command::SetEnterpriseAccess: return setEnterpriseAccess(payload);
    case Command::OpenUserInitiatedConnection:
    case Command::CloseUserInitiatedConnection: return userInitiatedConnection(command);
    case Command::GetRemoteAccessConnectionStatus: {
      amthi::RemoteAccessConnectionStatus ra;
      ra.networkStatus = s.remoteAccess.networkStatus;
      ra.connectionStatus = s.remoteAccess.connectionStatus;
      ra.trigger = s.remoteAccess.trigger;
      ra.mpsHostname = s.remoteAccess.mpsHostname;
      return ok(command, amthi::encode(ra));
    }
    case Command::GetCurrentPowerPolicy: return ok(command, amthi::encodeAnsiString(s.powerPolicy));
    case Command::GetLanInterfaceSettings: return lanInterfaceSettings(payload);
    case Command::GetFeaturesState: return featuresState(payload);
    case Command::GetLastHostResetReason:
      return ok(command, amthi::encode(amthi::LastHostResetReason{s.lastHostResetReason, s.lastHostResetTimestamp}));
    case Command::GetUserInitiatedEnabledInterfaces:
      // AMT_UserInitiatedConnectionService.EnabledState 32768..32771 less 32768: bit 0 BIOS, bit 1 OS agent.
      return okU32(command, (s.userInitiatedConnectionState - 32768) & 3);
    case Command::GetIpv6LanInterfaceStatus: return ipv6LanInterfaceStatus(payload);
    case Command::GetFqdn: {
      amthi::Fqdn f;
      f.sharedFqdn = s.sharedFqdn;
      f.ddnsUpdateEnabled = s.ddnsUpdateEnabled;
      f.ddnsPeriodicUpdateInterval = s.ddnsUpdateInterval;
      f.ddnsTtl = s.ddnsTtl;
      f.hostNameLength = static_cast<std::uint32_t>(s.hostName.size());
      f.fqdn = s.fqdn();
      return ok(command, amthi::encode(f));
    }
    case Command::GetRedirectionState: {
      std::uint32_t bits = (s.features.solEnabled ? amthi::kRedirectionSol : 0) |
                           (s.features.iderEnabled ? amthi::kRedirectionIder : 0) |
                           (s.features.kvmEnabled ? amthi::kRedirectionKvm : 0);
      return okU32(command, bits);
    }
    case Command::SetHostFqdn: return setHostFqdn(payload);
    case Command::GetUuid: {
      auto wire = amthi::uuidToWire(s.uuid);
      return ok(command, wire);
    }
    case Command::StopConfiguration: return stopConfiguration();
    case Command::GetLocalSystemAccount: {
      amthi::LocalSystemAccount account{s.localSystemAccount.user, s.localSystemAccount.password};
      return ok(command, amthi::encode(account));
    }
    case Command::GetControlMode: return okU32(command, static_cast<std::uint32_t>(s.controlMode));
    case Command::GetEhbcState: return okU32(command, 1);  // EHBC enabled
    case Command::StartConfigurationHBased: return startConfigurationHBased(payload);
    case Command::GetCiraLog: {
      amthi::CiraStatusSummary summary;
      summary.isTunnelOpened = s.remoteAccess.connectionStatus == 2 ? 1 : 0;
      summary.currentConnectionState = static_cast<std::uint8_t>(s.remoteAccess.connectionStatus);
      return ok(command, amthi::encodeCiraLog(0, summary));
    }
  }
  return reply(command, Status::InvalidCommand);
}

Bytes AmthiClient::changeFailed(Command command, ChangeResult result, Status invalidState) {
  switch (result) {
    case ChangeResult::Ok: return ok(command);
    case ChangeResult::InvalidState: return reply(command, invalidState);
    case ChangeResult::InvalidParameter: return reply(command, Status::InvalidParameter);
    case ChangeResult::StorageError:
      MESIM_LOG(Error, kLog, amthi::commandName(amthi::code(command)) << ": " << platform_.lastError());
      return reply(command, Status::InternalError);
  }
  return reply(command, Status::InternalError);
}

Bytes AmthiClient::unprovision(ByteView payload) {
  // Since AMT 7 the firmware ignores ProvisioningMode: agents send 0 (rpc-go) or 2 (a full unprovision), and every
  // value unprovisions alike. respond() has checked the 4-byte length.
  const std::uint32_t mode = amthi::decodeU32(payload).value_or(0);
  // Admin control mode cannot be undone from the host: INVALID_AMT_MODE (rpc-go pkg/pthi/commands.go Unprovision).
  // Client control mode and unfinished configurations get a full unprovision, recorded as a local one; pre stays pre.
  const std::uint32_t now = options_.clock ? core::unixSeconds(options_.clock->now()) : 0;
  auto result = platform_.unprovisionFromHost(platform::makeAuditRecord(
      platform::audit::kSecurityAdmin, platform::audit::kUnprovisioningStarted, {"", true, {}}, now));
  if (result == ChangeResult::Ok) MESIM_LOG(Info, kLog, "unprovisioned (ProvisioningMode " << mode << " ignored)");
  return changeFailed(Command::Unprovision, result, Status::InvalidAmtMode);
}

Bytes AmthiClient::startConfigurationHBased(ByteView payload) {
  auto req = amthi::decodeStartConfigurationHBased(payload);
  if (!req) return reply(Command::StartConfigurationHBased, Status::InvalidParameter);
  platform::HostBasedSetup setup;
  if (req->serverHashAlgorithm == 2)
    setup.serverHashAlgorithm = platform::HashAlgorithm::Sha256;
  else if (req->serverHashAlgorithm == 3)
    setup.serverHashAlgorithm = platform::HashAlgorithm::Sha384;
  else
    return reply(Command::StartConfigurationHBased, Status::InvalidParameter);
  const auto hashSize = platform::hashLength(setup.serverHashAlgorithm);
  setup.serverCertHash.assign(req->serverCertHash.begin(), req->serverCertHash.begin() + hashSize);
  setup.hostVpnEnabled = req->hostVpnEnable;
  setup.dnsSuffixes = req->dnsSuffixes;

  auto result = platform_.startHostBasedConfiguration(setup);
  if (result != ChangeResult::Ok)
    return changeFailed(Command::StartConfigurationHBased, result, Status::InvalidProvisioningState);
  MESIM_LOG(Info, kLog, "host-based configuration started");
  amthi::StartConfigurationHBasedResponse res;
  const auto& s = platform_.state();
  res.hashAlgorithm = static_cast<std::uint8_t>(s.amtCertHashAlgorithm);
  std::copy_n(s.amtCertHash.begin(), std::min(s.amtCertHash.size(), res.amtCertHash.size()), res.amtCertHash.begin());
  return ok(Command::StartConfigurationHBased, amthi::encode(res));
}

Bytes AmthiClient::stopConfiguration() {
  // INVALID_AMT_MODE when not in-provisioning (MeshAgent PTHICommand.c pthi_StopConfiguration).
  return changeFailed(Command::StopConfiguration, platform_.stopConfiguration(), Status::InvalidAmtMode);
}

Bytes AmthiClient::setEnterpriseAccess(ByteView payload) {
  auto req = amthi::decodeSetEnterpriseAccess(payload);
  if (!req || (req->flags & ~1u)) return reply(Command::SetEnterpriseAccess, Status::InvalidParameter);
  platform::EnterpriseAccess access;
  access.flags = req->flags;
  access.hostIp = req->hostIp;
  access.access = req->enterpriseAccess != 0;
  auto result = platform_.setEnterpriseAccess(access);
  if (result != ChangeResult::Ok) return changeFailed(Command::SetEnterpriseAccess, result, Status::InternalError);
  // The answer is one of the remote-access statuses LMS handles (Protocol.cpp _updateEnterpriseAccessStatus;
  // its tests expect one of these from real firmware): host VPN off, AMT on the enterprise LAN, or granted.
  const auto& s = platform_.state();
  if (!s.hostVpnEnabled) return reply(Command::SetEnterpriseAccess, Status::RemoteAccessHostVpnDisabled);
  if (s.remoteAccess.networkStatus == 0) return reply(Command::SetEnterpriseAccess, Status::RemoteAccessNotGranted);
  return reply(Command::SetEnterpriseAccess, Status::RemoteAccessGrantedWithoutDdns);
}

Bytes AmthiClient::setHostFqdn(ByteView payload) {
  auto fqdn = amthi::decodeSetHostFqdn(payload);
  if (!fqdn) return reply(Command::SetHostFqdn, Status::InvalidMessageLength);
  return changeFailed(Command::SetHostFqdn, platform_.setHostFqdn(*fqdn), Status::InternalError);
}

Bytes AmthiClient::userInitiatedConnection(Command command) {
  const bool open = command == Command::OpenUserInitiatedConnection;
  // No user-initiated rule with a server to call: DATA_MISSING, which LMS treats as "nothing to do"
  // (FWCIRAWorkaroundService.cpp). The CIRA client (firmware/cira) acts on the request.
  if (open) {
    const auto policies = platform::ciraPolicies(platform_.state());
    const bool configured = std::any_of(policies.begin(), policies.end(), [](const platform::CiraPolicy& p) {
      return p.trigger == platform::CiraTrigger::UserInitiated && !p.servers.empty();
    });
    if (!configured) return reply(command, Status::DataMissing);
  }
  return changeFailed(command, platform_.setUserInitiatedConnection(open), Status::InternalError);
}

Bytes AmthiClient::ipv6LanInterfaceStatus(ByteView payload) {
  const std::uint32_t index = amthi::decodeU32(payload).value_or(~0u);
  const auto& s = platform_.state();
  const platform::LanInterface* lan = index == 0 ? &s.wired : index == 1 ? &s.wireless : nullptr;
  if (!lan) return reply(Command::GetIpv6LanInterfaceStatus, Status::InvalidParameter);
  if (!lan->present) return reply(Command::GetIpv6LanInterfaceStatus, Status::InterfaceDoesNotExist);
  // Only the wired interface has IPv6 settings (IPS_IPv6PortSettings); it answers what that class shows.
  if (index != 0 || !platform::ipv6Active(s.wiredIpv6, *lan))
    return reply(Command::GetIpv6LanInterfaceStatus, Status::Ipv6InterfaceDisabled);
  amthi::Ipv6LanInterfaceStatus status;
  status.defaultRouter = s.wiredIpv6.defaultRouter;
  status.primaryDns = s.wiredIpv6.primaryDns;
  status.secondaryDns = s.wiredIpv6.secondaryDns;
  for (const auto& a : platform::ipv6CurrentAddresses(s.wiredIpv6, *lan))
    status.addresses.push_back({a.address, a.type, a.state});
  return reply(Command::GetIpv6LanInterfaceStatus, Status::Success, amthi::encode(status));
}

Bytes AmthiClient::lanInterfaceSettings(ByteView payload) {
  const std::uint32_t index = amthi::decodeU32(payload).value_or(~0u);
  const auto& s = platform_.state();
  const platform::LanInterface* lan = index == 0 ? &s.wired : index == 1 ? &s.wireless : nullptr;
  if (!lan || !lan->present) return reply(Command::GetLanInterfaceSettings, Status::InvalidParameter);
  return ok(Command::GetLanInterfaceSettings, amthi::encode(lanSettings(*lan)));
}

Bytes AmthiClient::featuresState(ByteView payload) {
  const std::uint32_t id = amthi::decodeU32(payload).value_or(~0u);
  const auto& f = platform_.features();
  amthi::FeaturesState state;
  state.requestId = id;
  switch (id) {
    case 0: state.data = {f.iderSessionOpen ? 1u : 0u, f.solSessionOpen ? 1u : 0u, 0}; break;
    case 1: state.data = {f.systemDefenseActive ? 1u : 0u, 0, 0}; break;
    case 2: state.data = {f.webUiEnabled ? 1u : 0u, 0, 0}; break;
    case 3: state.data = {f.eacEnabled ? 1u : 0u, 0, 0}; break;
    case 4: state.data = {f.kvmSessionActive ? 1u : 0u, 0, 0}; break;
    default: return reply(Command::GetFeaturesState, Status::InvalidParameter);
  }
  return ok(Command::GetFeaturesState, amthi::encode(state));
}

Bytes AmthiClient::certHashEntry(ByteView payload) {
  auto handle = amthi::decodeU32(payload);
  const auto* entry = handle ? platform_.findCertHash(*handle) : nullptr;
  if (!entry) return reply(Command::GetCertHashEntry, Status::InvalidHandle);
  amthi::CertHashEntry e;
  e.isDefault = entry->isDefault;
  e.isActive = entry->isActive;
  std::copy_n(entry->hash.begin(), std::min(entry->hash.size(), e.hash.size()), e.hash.begin());
  e.algorithm = static_cast<std::uint8_t>(entry->algorithm);
  e.name = entry->name;
  return ok(Command::GetCertHashEntry, amthi::encode(e));
}

Bytes AmthiClient::amtState(ByteView payload) {
  amthi::AmtUuid id{};
  std::copy_n(payload.begin(), std::min(payload.size(), id.size()), id.begin());
  if (id != amthi::kAmtStateLinkState) return reply(Command::GetAmtState, Status::InvalidParameter);
  const auto& s = platform_.state();
  amthi::AmtState state;
  state.id = id;
  state.linkStatus = s.wired.linkUp ? 1 : 0;
  state.cryptoFuse = 1;
  state.flashProtection = 1;
  state.lastMeResetType = s.lastMeResetType;
  return ok(Command::GetAmtState, amthi::encode(state));
}

std::unique_ptr<firmware::FirmwareClient> makeAmthiClient(platform::PlatformModel& platform, AmthiOptions options) {
  return std::make_unique<AmthiClient>(platform, std::move(options));
}

}  // namespace mesim::clients
