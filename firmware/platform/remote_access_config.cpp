#include "firmware/platform/remote_access_config.h"

#include "common/text_codecs.h"

namespace mesim::platform {

std::vector<CiraPolicy> ciraPolicies(const PlatformState& state) {
  std::vector<CiraPolicy> out;
  for (const auto& rule : state.remoteAccessPolicies) {
    CiraPolicy policy;
    policy.trigger = static_cast<CiraTrigger>(rule.trigger);
    policy.tunnelLifeTime = rule.tunnelLifeTime;
    if (policy.trigger == CiraTrigger::Periodic) {
      // Two big-endian 32-bit numbers: the kind of period (0 every N seconds) and N.
      const auto bytes = text::base64Decode(rule.extendedData);
      if (bytes && bytes->size() == 8 && (*bytes)[3] == 0)
        policy.periodicInterval = static_cast<std::uint32_t>((*bytes)[4]) << 24 | (*bytes)[5] << 16 | (*bytes)[6] << 8 |
                                  (*bytes)[7];
    }
    for (std::size_t k = 0; k < rule.mpsNames.size(); ++k) {
      for (const auto& server : state.mpsServers) {
        if (server.name != rule.mpsNames[k]) continue;
        const std::uint32_t type = k < rule.mpsTypes.size() ? rule.mpsTypes[k] : 0;
        policy.servers.push_back({&server, static_cast<MpsReach>(type)});
      }
    }
    out.push_back(std::move(policy));
  }
  return out;
}

}  // namespace mesim::platform
