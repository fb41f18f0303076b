// platform.json's "thirdPartyStorage" object <-> ThirdPartyStorageState (platform_json.cpp calls these). A file
// without the object (written before the 3PDS existed) loads with empty storage and the default limits.
#pragma once

#include <boost/json/value.hpp>

#include "common/result.h"
#include "firmware/platform/third_party_storage_state.h"

namespace mesim::platform {

boost::json::value thirdPartyStorageToJson(const ThirdPartyStorageState& state);
// Errors name the field ("thirdPartyStorage.blocks[2].data ..."); checks the limits a state must keep (sizes in
// MTUs within the total, names' lengths, handles unique and below nextHandle). `out` is changed only on success.
Result<> thirdPartyStorageFromJson(const boost::json::value& in, ThirdPartyStorageState& out);

}  // namespace mesim::platform
