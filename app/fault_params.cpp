#include "app/fault_params.h"

#include <algorithm>
#include <cctype>

#include "common/text_codecs.h"
#include "firmware/clients/client_guids.h"
#include "firmware/lme/lme_client.h"
#include "watchdog_fw/wd_client.h"

namespace mesim::app {
namespace {

constexpr std::uint64_t kMaxCount = 1'000'000;
constexpr std::uint64_t kMaxDelayMs = 600'000;       // ten minutes: longer than any client waits
constexpr std::uint64_t kMaxOutageSeconds = 86'400 * 365;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Refuses a request with a parameter the route does not know (a typo would otherwise inject another fault).
Result<> onlyKnown(const ControlRequest& request, const std::vector<std::string_view>& known) {
  if (auto unknown = request.unknownParam(known)) {
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return fail("unknown parameter '" + *unknown + "' (known: " + list + ")");
  }
  return {};
}

// A CIM class or method name: letters, digits and underscores, as WS-Man names them.
bool isCimName(std::string_view text) {
  return !text.empty() && text.size() <= 128 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

struct FwCondition {
  const char* name;
  std::uint32_t clear;  // HFSTS1 bits cleared from the healthy value
  std::uint32_t set;    // then set
};
// HFSTS1: bits 3:0 working state, 4 manufacturing mode, 5 flash partition table bad, 9 init complete, 15:12 error
// code, 19:16 operation mode (the layout fwupd and coreboot read).
constexpr std::uint32_t kWorkingState = 0xF, kManufacturing = 1u << 4, kFptBad = 1u << 5, kInitComplete = 1u << 9,
                        kErrorCode = 0xFu << 12, kOperationMode = 0xFu << 16;
constexpr FwCondition kFwConditions[] = {
    {"normal", 0, 0},
    {"initializing", kWorkingState | kInitComplete, 0x1},
    {"recovery", kWorkingState, 0x2},
    {"disabled", kWorkingState | kOperationMode, 0x4 | 3u << 16},
    {"manufacturing", 0, kManufacturing},
    {"flash-corrupted", 0, kFptBad},
    {"error", kErrorCode, 1u << 12},
    {"image-failure", kWorkingState | kErrorCode, 0x2 | 3u << 12},
    {"debug", kOperationMode, 2u << 16},
    {"override-jumper", kOperationMode, 4u << 16},
    {"override-mei", kOperationMode, 5u << 16},
};

}  // namespace

Result<std::uint64_t> parseNumber(std::string_view name, std::string_view text, std::uint64_t min, std::uint64_t max) {
  auto bad = [&] {
    return fail(std::string(name) + " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  };
  if (text.empty() || text.size() > 20) return bad();
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return bad();
    value = value * 10 + digit;
  }
  if (value < min || value > max) return bad();
  return value;
}

Result<ClientChoice> parseClientChoice(const ControlRequest& request) {
  auto given = request.param("client");
  if (!given || given->empty())
    return fail("client is required: amthi, mkhi, mkhi-fix, lme, watchdog or a client GUID");
  const std::string name = lower(*given);
  if (name == "amthi") return ClientChoice{clients::kAmthiGuid, name};
  if (name == "mkhi") return ClientChoice{clients::kMkhiGuid, name};
  if (name == "mkhi-fix") return ClientChoice{clients::kMkhiFixGuid, name};
  if (name == "lme") return ClientChoice{lme::kLmeGuid, name};
  if (name == "watchdog" || name == "wd") return ClientChoice{watchdog::kWatchdogGuid, "watchdog"};
  if (auto guid = hbm::Guid::parse(*given)) return ClientChoice{*guid, guid->toString()};
  return fail("client must be amthi, mkhi, mkhi-fix, lme, watchdog or a client GUID "
              "(like 12F80028-B4B7-4B2D-ACA8-46E0FF65814C), not '" + *given + "'");
}

Result<HbmFaultChoice> parseHbmFault(const ControlRequest& request) {
  if (auto r = onlyKnown(request, {"client", "action", "count", "ms", "direction"}); !r) return r.error();
  auto client = parseClientChoice(request);
  if (!client) return client.error();
  HbmFaultChoice out{*client, {}};
  auto& fault = out.fault;
  const auto action = request.param("action");
  if (!action) return fail("action is required: drop, delay or corrupt");
  if (*action == "drop") fault.action = firmware::MessageFault::Action::Drop;
  else if (*action == "delay") fault.action = firmware::MessageFault::Action::Delay;
  else if (*action == "corrupt") fault.action = firmware::MessageFault::Action::Corrupt;
  else return fail("action must be drop, delay or corrupt, not '" + *action + "'");
  if (auto direction = request.param("direction")) {
    if (*direction == "to-host") fault.direction = firmware::MessageFault::Direction::ToHost;
    else if (*direction == "to-firmware") fault.direction = firmware::MessageFault::Direction::ToFirmware;
    else return fail("direction must be to-host or to-firmware, not '" + *direction + "'");
  }
  if (auto count = request.param("count")) {
    auto n = parseNumber("count", *count, 1, kMaxCount);
    if (!n) return n.error();
    fault.count = static_cast<unsigned>(*n);
  }
  const auto ms = request.param("ms");
  if (fault.action == firmware::MessageFault::Action::Delay) {
    if (!ms) return fail("ms is required with action=delay: how long each message is held, in real milliseconds");
    auto n = parseNumber("ms", *ms, 1, kMaxDelayMs);
    if (!n) return n.error();
    fault.delay = std::chrono::milliseconds(*n);
  } else if (ms) {
    return fail("ms applies to action=delay only");
  }
  return out;
}

const char* fwStatusConditionNames() {
  return "normal, initializing, recovery, disabled, manufacturing, flash-corrupted, error, image-failure, debug, "
         "override-jumper, override-mei";
}

Result<FwStatusChoice> parseFwStatus(const ControlRequest& request, const hbm::ReadyInfo& healthy,
                                     const hbm::ReadyInfo& current) {
  if (auto r = onlyKnown(request, {"error", "value", "index"}); !r) return r.error();
  const auto error = request.param("error");
  const auto value = request.param("value");
  if (error && (value || request.param("index")))
    return fail("give either error=NAME or value=0x...[&index=N], not both");
  if (error) {
    for (const auto& c : kFwConditions) {
      if (lower(*error) != c.name) continue;
      FwStatusChoice out{c.name, healthy};
      out.registers.fwStatus[0] = (healthy.fwStatus[0] & ~c.clear) | c.set;
      return out;
    }
    return fail("error must be one of " + std::string(fwStatusConditionNames()) + ", not '" + *error + "'");
  }
  if (!value) return fail("give error=NAME (" + std::string(fwStatusConditionNames()) + ") or value=0x...[&index=0..5]");
  std::string_view digits = *value;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) digits.remove_prefix(2);
  auto badValue = fail("value must be 1 to 8 hex digits, optionally after 0x, not '" + *value + "'");
  if (digits.empty() || digits.size() > 8 || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) {
        return std::isxdigit(c);
      }))
    return badValue;
  std::size_t index = 0;
  if (auto given = request.param("index")) {
    auto n = parseNumber("index", *given, 0, 5);
    if (!n) return n.error();
    index = static_cast<std::size_t>(*n);
  }
  FwStatusChoice out{"value", current};
  out.registers.fwStatus[index] = static_cast<std::uint32_t>(std::stoul(std::string(digits), nullptr, 16));
  return out;
}

Result<wsman::ops::WsmanFaultRule> parseWsmanFault(const ControlRequest& request) {
  using Rule = wsman::ops::WsmanFaultRule;
  if (auto r = onlyKnown(request, {"class", "operation", "action", "ms", "subcode", "status", "count"}); !r)
    return r.error();
  Rule rule;
  if (auto cls = request.param("class")) {
    if (!isCimName(*cls)) return fail("class must be a CIM class name like AMT_GeneralSettings, not '" + *cls + "'");
    rule.className = *cls;
  }
  if (auto operation = request.param("operation")) {
    if (!isCimName(*operation))
      return fail("operation must be Get, Put, Create, Delete, Enumerate, Pull, Release, Subscribe, Unsubscribe, "
                  "Renew, Identify or a method name, not '" + *operation + "'");
    rule.operation = *operation;
  }
  const auto action = request.param("action");
  if (!action) return fail("action is required: delay, fault or http");
  const auto ms = request.param("ms");
  const auto subcode = request.param("subcode");
  const auto status = request.param("status");
  if (*action == "delay") {
    rule.action = Rule::Action::Delay;
    if (!ms) return fail("ms is required with action=delay: how much later the answer goes, in real milliseconds");
    auto n = parseNumber("ms", *ms, 1, kMaxDelayMs);
    if (!n) return n.error();
    rule.delay = std::chrono::milliseconds(*n);
  } else if (*action == "fault") {
    rule.action = Rule::Action::SoapFault;
    if (subcode) {
      auto code = wsman::ops::parseFaultSubcode(*subcode);
      if (!code)
        return fail("subcode must be a WS-Management fault subcode such as InternalError, AccessDenied, TimedOut, "
                    "InvalidParameter or ActionNotSupported, not '" + *subcode + "'");
      rule.fault = *code;
    }
  } else if (*action == "http") {
    rule.action = Rule::Action::HttpStatus;
    if (status) {
      auto n = parseNumber("status", *status, 400, 599);
      if (!n) return n.error();
      rule.httpStatus = static_cast<unsigned>(*n);
    }
  } else {
    return fail("action must be delay, fault or http, not '" + *action + "'");
  }
  if (ms && rule.action != Rule::Action::Delay) return fail("ms applies to action=delay only");
  if (subcode && rule.action != Rule::Action::SoapFault) return fail("subcode applies to action=fault only");
  if (status && rule.action != Rule::Action::HttpStatus) return fail("status applies to action=http only");
  if (auto count = request.param("count")) {
    auto n = parseNumber("count", *count, 1, kMaxCount);
    if (!n) return n.error();
    rule.remaining = *n;
  }
  return rule;
}

Result<OutageChoice> parseOutage(const ControlRequest& request) {
  if (auto r = onlyKnown(request, {"subscription", "address", "seconds"}); !r) return r.error();
  OutageChoice out;
  const auto subscription = request.param("subscription");
  const auto address = request.param("address");
  if (subscription.has_value() == address.has_value())
    return fail("give one of subscription=ID (see GET /subscriptions) or address=URL (a NotifyTo address)");
  if (subscription) {
    auto n = parseNumber("subscription", *subscription, 1, 0xFFFFFFFF);
    if (!n) return n.error();
    out.subscription = static_cast<std::uint32_t>(*n);
  } else {
    const bool web = address->rfind("http://", 0) == 0 || address->rfind("https://", 0) == 0;
    if (!web || address->size() > 2048 || !text::isXmlText(*address))
      return fail("address must be an http:// or https:// URL, as the subscription's NotifyTo");
    out.address = *address;
  }
  if (auto seconds = request.param("seconds")) {
    auto n = parseNumber("seconds", *seconds, 1, kMaxOutageSeconds);
    if (!n) return n.error();
    out.duration = std::chrono::seconds(*n);
  }
  return out;
}

Result<LogQuery> parseLogQuery(const ControlRequest& request) {
  if (auto r = onlyKnown(request, {"limit", "since"}); !r) return r.error();
  LogQuery query;
  if (auto limit = request.param("limit")) {
    auto n = parseNumber("limit", *limit, 1, 100'000);
    if (!n) return n.error();
    query.limit = static_cast<std::size_t>(*n);
  }
  if (auto since = request.param("since")) {
    auto n = parseNumber("since (seconds since the Unix epoch)", *since, 0, 0xFFFFFFFF);
    if (!n) return n.error();
    query.since = static_cast<std::uint32_t>(*n);
  }
  return query;
}

}  // namespace mesim::app
