// Faults QA injects into WS-Man answers (issue 11, the control API's /faults/wsman): for calls of a class and/or
// operation, the answer comes late, or is a SOAP fault, or an HTTP error, for a number of calls or until cleared.
// The composer owns the rules and hands them to WsmanService, which consults them for every call; wsman/ knows
// nothing of the control API. A delay is real time (network I/O, as the client's own timeouts are).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wsman/soap/fault.h"

namespace mesim::wsman::ops {

struct WsmanFaultRule {
  enum class Action { Delay, SoapFault, HttpStatus };
  std::string className;  // e.g. AMT_GeneralSettings; empty: every class
  std::string operation;  // Get, Put, Create, Delete, Enumerate, Pull, Release, Subscribe, Unsubscribe, Renew,
                          // Identify or a method name; empty: every operation
  Action action = Action::Delay;
  std::chrono::milliseconds delay{0};                          // Delay: how much later the answer goes
  soap::FaultCode fault = soap::FaultCode::InternalError;      // SoapFault: the fault answered instead
  unsigned httpStatus = 500;                                    // HttpStatus: the status answered instead
  std::optional<std::uint64_t> remaining;                      // calls still to be hit; none: until cleared
  std::uint32_t id = 0;                                        // set by WsmanFaultRules::add
  std::uint64_t hits = 0;                                      // calls hit so far
};
const char* toString(WsmanFaultRule::Action action);
// A WS-Man fault subcode as AMT names it ("InternalError", "AccessDenied", "TimedOut", ...), case-insensitive.
std::optional<soap::FaultCode> parseFaultSubcode(std::string_view name);

class WsmanFaultRules {
 public:
  // Returns the rule's id.
  std::uint32_t add(WsmanFaultRule rule);
  bool remove(std::uint32_t id);
  void clear() { rules_.clear(); }
  bool empty() const { return rules_.empty(); }
  const std::vector<WsmanFaultRule>& rules() const { return rules_; }
  // The rule a call of `operation` on `className` meets, counted (a rule whose count runs out goes); the newest
  // matching rule wins. Names compare without regard to case.
  std::optional<WsmanFaultRule> take(std::string_view className, std::string_view operation);

 private:
  std::vector<WsmanFaultRule> rules_;
  std::uint32_t nextId_ = 1;
};

}  // namespace mesim::wsman::ops
