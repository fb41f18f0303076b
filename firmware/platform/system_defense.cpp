#include "firmware/platform/system_defense_state.h"

#include <algorithm>

namespace mesim::platform {

const char* toString(SdSource source) {
  switch (source) {
    case SdSource::SystemDefense: return "system-defense";
    case SdSource::AgentPresence: return "agent-presence";
    case SdSource::EnvironmentDetection: return "environment-detection";
    case SdSource::Default: return "default";
  }
  return "?";
}

const SdPolicy* SystemDefenseState::policy(std::uint32_t handle) const {
  for (const auto& p : policies)
    if (p.handle == handle) return &p;
  return nullptr;
}

SdPolicy* SystemDefenseState::policy(std::uint32_t handle) {
  for (auto& p : policies)
    if (p.handle == handle) return &p;
  return nullptr;
}

const SdFilter* SystemDefenseState::filter(std::uint32_t handle) const {
  for (const auto& f : filters)
    if (f.handle == handle) return &f;
  return nullptr;
}

bool sdSlotExpired(const SystemDefenseState& s, const SdSlot& slot, std::int64_t now) {
  const SdPolicy* p = s.policy(slot.policy);
  if (!p || p->timeoutMinutes == 0) return false;
  return now >= slot.since + static_cast<std::int64_t>(p->timeoutMinutes) * 60;
}

bool sdOutsideEnterprise(const SystemDefenseState& s, const std::string& domain) {
  // No detection strings: environment detection is not configured, so the platform is never "outside".
  if (s.environment.detectionStrings.empty()) return false;
  auto endsWith = [](const std::string& text, const std::string& suffix) {
    return !suffix.empty() && text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return std::none_of(s.environment.detectionStrings.begin(), s.environment.detectionStrings.end(),
                      [&](const std::string& suffix) { return endsWith(domain, suffix); });
}

std::optional<SdActive> sdActivePolicy(const SystemDefenseState& s, std::size_t nic, std::int64_t now,
                                       const std::string& domain) {
  if (nic >= s.nics.size()) return std::nullopt;
  std::optional<SdActive> best;
  std::uint32_t bestPrecedence = 0;
  for (std::size_t i = 0; i < s.nics[nic].slots.size(); ++i) {
    const SdSlot& slot = s.nics[nic].slots[i];
    const auto source = static_cast<SdSource>(i);
    const SdPolicy* p = s.policy(slot.policy);
    if (!p || !slot.enabled || sdSlotExpired(s, slot, now)) continue;
    if (source == SdSource::EnvironmentDetection && !sdOutsideEnterprise(s, domain)) continue;
    if (best && p->precedence <= bestPrecedence) continue;  // sources come in tie-break order
    best = SdActive{p->handle, source, slot.since};
    bestPrecedence = p->precedence;
  }
  return best;
}

std::optional<std::int64_t> sdNextExpiry(const SystemDefenseState& s, std::int64_t now) {
  std::optional<std::int64_t> next;
  for (const auto& nic : s.nics)
    for (const auto& slot : nic.slots) {
      const SdPolicy* p = s.policy(slot.policy);
      if (!p || !slot.enabled || p->timeoutMinutes == 0) continue;
      const std::int64_t end = slot.since + static_cast<std::int64_t>(p->timeoutMinutes) * 60;
      if (end > now && (!next || end < *next)) next = end;
    }
  return next;
}

}  // namespace mesim::platform
