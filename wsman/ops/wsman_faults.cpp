#include "wsman/ops/wsman_faults.h"

#include <algorithm>
#include <cctype>

namespace mesim::wsman::ops {
namespace {
bool sameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
}  // namespace

const char* toString(WsmanFaultRule::Action action) {
  switch (action) {
    case WsmanFaultRule::Action::Delay: return "delay";
    case WsmanFaultRule::Action::SoapFault: return "fault";
    case WsmanFaultRule::Action::HttpStatus: return "http";
  }
  return "?";
}

std::optional<soap::FaultCode> parseFaultSubcode(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(soap::FaultCode::MustUnderstand); ++i) {
    const auto code = static_cast<soap::FaultCode>(i);
    if (sameName(name, soap::faultName(code))) return code;  // the first TimedOut is wsman's
  }
  return std::nullopt;
}

std::uint32_t WsmanFaultRules::add(WsmanFaultRule rule) {
  rule.id = nextId_++;
  rule.hits = 0;
  rules_.push_back(std::move(rule));
  return rules_.back().id;
}

bool WsmanFaultRules::remove(std::uint32_t id) {
  auto it = std::find_if(rules_.begin(), rules_.end(), [id](const WsmanFaultRule& r) { return r.id == id; });
  if (it == rules_.end()) return false;
  rules_.erase(it);
  return true;
}

std::optional<WsmanFaultRule> WsmanFaultRules::take(std::string_view className, std::string_view operation) {
  for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
    if (!it->className.empty() && !sameName(it->className, className)) continue;
    if (!it->operation.empty() && !sameName(it->operation, operation)) continue;
    ++it->hits;
    WsmanFaultRule hit = *it;
    if (it->remaining && --*it->remaining == 0) rules_.erase(std::next(it).base());
    return hit;
  }
  return std::nullopt;
}

}  // namespace mesim::wsman::ops
