// The control API's fault and log-read parameters, read from a request's query (issue 11). Pure functions of the
// query, apart from any device, so that the parser of this boundary is fuzzed on its own (tests/fuzz/
// fuzz_control_params.cpp). Each error names the parameter and what it accepts: the route answers it as a 400.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/control_routes.h"
#include "common/result.h"
#include "firmware/hbm/hbm_engine.h"
#include "hostif/link/hbm_wire.h"
#include "wsman/ops/wsman_faults.h"

namespace mesim::app {

// ?client=amthi|mkhi|mkhi-fix|lme|watchdog|<GUID>: the firmware client a fault is aimed at.
struct ClientChoice {
  hbm::Guid guid;
  std::string label;  // what the client asked for, for answers and logs
};
Result<ClientChoice> parseClientChoice(const ControlRequest& request);

// POST /faults/hbm?client=...&action=drop|delay|corrupt[&count=N][&ms=M][&direction=to-host|to-firmware]
struct HbmFaultChoice {
  ClientChoice client;
  firmware::MessageFault fault;
};
Result<HbmFaultChoice> parseHbmFault(const ControlRequest& request);

// POST /faults/fw-status?error=NAME, or ?value=0x...[&index=0..5]: the registers the host then reads.
struct FwStatusChoice {
  std::string condition;  // the named condition, or "value"
  hbm::ReadyInfo registers;
};
// `healthy`: the registers of a healthy ME, which named conditions start from and `value` changes one of.
Result<FwStatusChoice> parseFwStatus(const ControlRequest& request, const hbm::ReadyInfo& healthy,
                                     const hbm::ReadyInfo& current);
// The named conditions, for errors and docs.
const char* fwStatusConditionNames();

// POST /faults/wsman?[class=C][&operation=O]&action=delay|fault|http[&ms=M][&subcode=S][&status=N][&count=N]
Result<wsman::ops::WsmanFaultRule> parseWsmanFault(const ControlRequest& request);

// POST /faults/subscriber-unreachable?subscription=ID|address=URL[&seconds=N]
struct OutageChoice {
  std::optional<std::uint32_t> subscription;
  std::string address;
  std::optional<std::chrono::milliseconds> duration;  // none: until cleared
};
Result<OutageChoice> parseOutage(const ControlRequest& request);

// GET /logs/...?[limit=N][&since=UNIX_SECONDS]
struct LogQuery {
  std::size_t limit = 0;  // 0: all
  std::optional<std::uint32_t> since;
};
Result<LogQuery> parseLogQuery(const ControlRequest& request);

// A decimal number in [min, max] (no sign, no spaces), or an error naming `name`.
Result<std::uint64_t> parseNumber(std::string_view name, std::string_view text, std::uint64_t min, std::uint64_t max);

}  // namespace mesim::app
