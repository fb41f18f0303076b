#include "firmware/clients/mkhi_client.h"

#include "firmware/clients/client_guids.h"
#include "firmware/platform/host_power.h"
#include "common/log.h"

namespace mesim::clients {

using hbm::Bytes;
using hbm::ByteView;
using mkhi::Result;

namespace {

constexpr const char* kLog = "mkhi";

mkhi::FwVersionBlock block(const platform::FirmwareVersion& v) {
  // platform 0: the kernel prints it first in sysfs fw_ver, and LMS reads minor/major as u16 pairs.
  return {v.minor, static_cast<std::uint8_t>(v.major), 0, v.build, v.hotfix};
}

}  // namespace

MkhiClient::MkhiClient(platform::PlatformModel& platform, hbm::Guid guid, MkhiOptions options)
    : platform_(platform), guid_(guid), options_(options), name_(guid == kMkhiFixGuid ? "MKHI-fix" : "MKHI") {}

hbm::ClientProperties MkhiClient::properties() const {
  return firmware::dynamicClientProperties(guid_, kProtocolVersion, options_.maxConnections, options_.maxMessageLength);
}

void MkhiClient::onMessage(const std::shared_ptr<firmware::ClientConnection>& connection, ByteView message) {
  if (auto response = respond(message)) connection->send(std::move(*response));
}

std::optional<Bytes> MkhiClient::respond(ByteView request) {
  auto header = mkhi::readHeader(request);
  if (!header) {
    MESIM_LOG(Warn, kLog, name_ << ": request of " << request.size() << " bytes is shorter than the MKHI header");
    std::uint8_t group = request.size() > 0 ? request[0] : 0;
    std::uint8_t command = request.size() > 1 ? request[1] & 0x7F : 0;
    return mkhi::makeResponse(group, command, Result::SizeError);
  }
  const ByteView payload = request.subspan(mkhi::kHeaderSize);
  const auto group = static_cast<mkhi::Group>(header->group);
  const std::uint8_t command = header->command;
  auto fail = [&](Result result) {
    MESIM_LOG(Info, kLog, name_ << ": group 0x" << std::hex << int(header->group) << " command 0x" << int(command)
                                << " -> result 0x" << int(result));
    return mkhi::makeResponse(header->group, command, result);
  };
  if (header->isResponse) return fail(Result::InvalidCommand);

  if (group == mkhi::Group::Gen) {
    if (command == mkhi::gen::kGetFwVersion) {
      if (!payload.empty()) return fail(Result::SizeError);
      const auto& fw = platform_.firmware();
      const mkhi::FwVersionBlock blocks[] = {block(fw.code), block(fw.recovery), block(fw.fitc)};
      return mkhi::makeResponse(header->group, command, Result::Success, mkhi::encodeFwVersion(blocks));
    }
    if (command == mkhi::gen::kGetBootState) {
      if (!payload.empty()) return fail(Result::SizeError);
      // The BIOS sends Core BIOS Done and End of POST on its way to the OS: done while the host is powered on
      // (a host program can ask only then), not yet while it is off or asleep.
      const bool booted = platform_.state().hostPower.powerState == platform::power::kOn;
      const std::uint32_t state = booted ? (mkhi::gen::kBootStateEndOfPost | mkhi::gen::kBootStateCoreBiosDone) : 0;
      Bytes body;
      for (std::uint32_t word : {state, 0u})
        for (int i = 0; i < 4; ++i) body.push_back(static_cast<std::uint8_t>(word >> (8 * i)));
      return mkhi::makeResponse(header->group, command, Result::Success, body);
    }
    if (command == mkhi::gen::kGetMkhiVersion) {
      if (!payload.empty()) return fail(Result::SizeError);
      return mkhi::makeResponse(header->group, command, Result::Success, mkhi::encode(kMkhiVersion));
    }
    return fail(Result::InvalidCommand);
  }
  if (group == mkhi::Group::FwCaps) {
    if (command == mkhi::fwcaps::kGetRule) return getRule(command, payload);
    if (command == mkhi::fwcaps::kSetOsVersion) {
      // Sent by the kernel with MEI_CL_IO_TX_INTERNAL right before it disconnects: no reply.
      if (auto os = mkhi::decodeOsVersion(payload))
        MESIM_LOG(Info, kLog, "host OS type " << int(os->osType) << " version " << int(os->major) << "."
                                              << int(os->minor) << " build " << os->build);
      else
        MESIM_LOG(Warn, kLog, "malformed OS-version message (" << payload.size() << " payload bytes)");
      return std::nullopt;
    }
    return fail(Result::InvalidCommand);
  }
  return fail(Result::InvalidCommand);
}

Bytes MkhiClient::getRule(std::uint8_t command, ByteView payload) {
  const std::uint8_t group = static_cast<std::uint8_t>(mkhi::Group::FwCaps);
  auto ruleId = mkhi::decodeRuleId(payload);
  if (!ruleId) return mkhi::makeResponse(group, command, Result::SizeError);
  const auto& fw = platform_.firmware();
  std::optional<std::uint32_t> value;
  switch (*ruleId) {  // feature id 0: ME rules
    case mkhi::rule::kFwSku: value = fw.capabilities; break;
    case mkhi::rule::kFwUpdate: value = fw.fwUpdateState; break;
    case mkhi::rule::kPlatformType: value = fw.platformType; break;
    case mkhi::rule::kFeatureEnable: value = fw.featuresEnabled; break;
    case mkhi::rule::kAvailableBitmap: value = fw.featuresAvailable; break;
    default: break;
  }
  if (!value) {
    MESIM_LOG(Info, kLog, name_ << ": GET_RULE for unknown rule 0x" << std::hex << *ruleId);
    return mkhi::makeResponse(group, command, Result::NotFound);
  }
  const std::uint8_t data[4] = {static_cast<std::uint8_t>(*value), static_cast<std::uint8_t>(*value >> 8),
                                static_cast<std::uint8_t>(*value >> 16), static_cast<std::uint8_t>(*value >> 24)};
  return mkhi::makeResponse(group, command, Result::Success, mkhi::encodeRuleResponse(*ruleId, data));
}

std::unique_ptr<firmware::FirmwareClient> makeMkhiClient(platform::PlatformModel& platform, hbm::Guid which) {
  return std::make_unique<MkhiClient>(platform, which);
}

}  // namespace mesim::clients
