// platform.json's "pet" object <-> PetSettings (called from platform_json.cpp). Internal to the platform library.
#pragma once

#include <string>

#include <boost/json/fwd.hpp>

#include "firmware/platform/pet_state.h"

namespace mesim::platform {

boost::json::value petToJson(const PetSettings& settings);
// "" on success, else what was wrong, starting with the field's path below "pet" (e.g. "filters[2].policyId is out
// of range"). `out` is changed only on success.
std::string petFromJson(const boost::json::value& in, PetSettings& out);

}  // namespace mesim::platform
