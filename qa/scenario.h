// A QA scenario as parsed from its YAML file (docs/scenarios.md): actions on control routes at firmware times, and
// expectations that GET a route and compare a value of its JSON answer, each over a window of firmware time.
// Times are offsets from the scenario's start, in microseconds (the control API's clock reads to the microsecond).
// A `wait_until` step (a gate) holds the timeline until its expectation holds: what follows the k-th gate is in
// segment k, and runs as much later as the gate took (times are written as if it took none).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "qa/json_check.h"

namespace mesim::qa {

using Offset = std::chrono::microseconds;

// Where something was written in the scenario file (1-based), for error messages and reports.
struct SourceMark {
  int line = 0;
  int column = 0;
};

// A control route call: what an action does and what an expectation reads.
struct RouteCall {
  std::string method;  // GET, POST, PUT, DELETE
  std::string path;    // "/host/os-crash", "/devices/b/status": as the control API takes it, query apart
  std::vector<std::pair<std::string, std::string>> params;  // the query, in order (a name may repeat)
  std::string body;
  // "POST /host/os-crash": for names and reports.
  std::string label() const { return method + " " + path; }
};

struct Step {
  enum class Kind { Action, Wait };
  Kind kind = Kind::Action;
  std::size_t number = 0;  // 1-based place among the scenario's steps (inline expectations count too)
  std::string name;        // given, or made from the call
  Offset at{};             // when it runs: firmware time since the start, if every gate before it took no time
  std::size_t segment = 0;  // the gates before it
  RouteCall call;          // Action
  std::optional<unsigned> status;  // the answer's status it needs; unset: any 2xx
  SourceMark mark;
};

struct Expectation {
  // At: holds at its anchor (checked once there); Within: holds at some check in [anchor, anchor + span];
  // During: holds at every check in that window.
  enum class Window { At, Within, During };
  std::size_t number = 0;  // 1-based among the scenario's expectations, in file order
  std::string name;        // given, or made from what it checks
  RouteCall query;         // a GET
  JsonPath path;
  Check check;
  Window window = Window::At;
  Offset anchor{};  // firmware time its window opens
  Offset span{};    // Within and During
  std::size_t afterStep = 0;  // the step it follows (its anchor), 0 for the start
  std::size_t segment = 0;    // the gates before its anchor
  std::size_t gate = 0;       // k > 0: the k-th wait_until, which later steps wait for
  SourceMark mark;
  Offset deadline() const { return anchor + span; }
};

struct Scenario {
  std::string name;
  std::string description;
  std::optional<std::string> device;  // the device it drives; unset: the one it was given to
  // Real time the runner lets in-flight network I/O (alert deliveries) finish after each step before it checks
  // and moves the clock on (docs/scenarios.md "Timing").
  std::chrono::milliseconds settle{1000};
  std::vector<Step> steps;
  std::vector<Expectation> expectations;
  // The time of its last step: where expectations after the steps are anchored by default.
  Offset end() const { return steps.empty() ? Offset{} : steps.back().at; }
};

// "1.5s", "250ms", "2m", "0": the text of an offset, shortest unit that is exact.
std::string formatOffset(Offset offset);

}  // namespace mesim::qa
