// Scenario files (YAML, docs/scenarios.md) into a Scenario. Strict, since a QA case that silently means something
// else is worse than one refused: unknown keys, duplicate keys, steps out of time order and durations without a
// unit are errors that name the line and column. The text crosses a boundary (POST /scenarios): bounded in size,
// nesting (yaml-cpp's own guard), aliases and everything it holds (tests/fuzz/fuzz_scenario.cpp).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "qa/scenario.h"

namespace mesim::qa {

inline constexpr std::size_t kMaxScenarioBytes = 256 * 1024;

// The scenario, or "line L, column C: what is wrong" (and `errorAt` set to L and C when given; 0 if the text has
// no position, e.g. too large).
Result<Scenario> parseScenario(std::string_view text, SourceMark* errorAt = nullptr);

// "120s", "1.5s", "250ms", "100us", "2m", "1h", "0": firmware time to the microsecond, at most ten years.
Result<Offset> parseOffset(std::string_view text);

}  // namespace mesim::qa
