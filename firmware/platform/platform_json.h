// platform.json <-> PlatformState (internal to the platform library). Layout version: "schema": 1.
#pragma once

#include <string>
#include <string_view>

#include "firmware/platform/platform_state.h"

namespace mesim::platform {

constexpr int kPlatformSchema = 1;

// Human-editable, indented JSON.
std::string serializeState(const PlatformState& state);

// Parses `text`. Identity fields (uuid, realm, admin HA1, local system account) are required; any other
// missing field takes its value from `fallback` and sets `defaulted`. Wrong types or invalid values are
// errors: false with `error` naming the field.
bool parseState(std::string_view text, const PlatformState& fallback, PlatformState& out, bool& defaulted,
                std::string& error);

// Invariants every stored state keeps; false with `error` naming the first violation.
bool validateState(const PlatformState& state, std::string& error);

}  // namespace mesim::platform
