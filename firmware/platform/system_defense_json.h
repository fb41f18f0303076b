// platform.json's "systemDefense" object <-> SystemDefenseState (platform_json.cpp calls these). A file without
// the object (written before System Defense existed) loads with no policies.
#pragma once

#include <boost/json/value.hpp>

#include "common/result.h"
#include "firmware/platform/system_defense_state.h"

namespace mesim::platform {

boost::json::value systemDefenseToJson(const SystemDefenseState& state);
// Errors name the field ("systemDefense.policies[2].name ...").
Result<> systemDefenseFromJson(const boost::json::value& in, SystemDefenseState& out);

}  // namespace mesim::platform
