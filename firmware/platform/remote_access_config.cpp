#include "firmware/platform/remote_access_config.h"

#include "common/text_codecs.h"

namespace mesim::platform {

std::optional<PeriodicSchedule> parsePeriodicSchedule(const std::string& extendedDataBase64) {
  const auto bytes = text::base64Decode(extendedDataBase64);
  if (!bytes || (bytes->size() != 8 && bytes->size() != 12)) return std::nullopt;
  auto word = [&](std::size_t at) {
    return static_cast<std::uint32_t>((*bytes)[at]) << 24 | static_cast<std::uint32_t>((*bytes)[at + 1]) << 16 |
           static_cast<std::uint32_t>((*bytes)[at + 2]) << 8 | static_cast<std::uint32_t>((*bytes)[at + 3]);
  };
  PeriodicSchedule schedule;
  const std::uint32_t kind = word(0);
  if (kind == 0 && bytes->size() == 8) {
    schedule.intervalSeconds = word(4);
    return schedule;
  }
  if (kind == 1 && bytes->size() == 12) {
    schedule.kind = PeriodicSchedule::Kind::Daily;
    schedule.hour = word(4);
    schedule.minute = word(8);
    if (schedule.hour > 23 || schedule.minute > 59) return std::nullopt;
    return schedule;
  }
  return std::nullopt;
}

std::vector<CiraPolicy> ciraPolicies(const PlatformState& state) {
  std::vector<CiraPolicy> out;
  for (const auto& rule : state.remoteAccessPolicies) {
    CiraPolicy policy;
    policy.trigger = static_cast<CiraTrigger>(rule.trigger);
    policy.tunnelLifeTime = rule.tunnelLifeTime;
    if (policy.trigger == CiraTrigger::Periodic) policy.periodic = parsePeriodicSchedule(rule.extendedData);
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
