// platform.json's "wifi" and "wired8021x" objects <-> WifiSettings / Wired8021xSettings (called from
// platform_json.cpp). Internal to the platform library.
#pragma once

#include <string>

#include <boost/json/fwd.hpp>

#include "firmware/platform/wifi_state.h"

namespace mesim::platform {

boost::json::value wifiToJson(const WifiSettings& settings);
// "" on success, else what was wrong, starting with the field's path (e.g. "profiles[0].ssid must be a string").
// `out` is changed only on success.
std::string wifiFromJson(const boost::json::value& in, WifiSettings& out);

boost::json::value wired8021xToJson(const Wired8021xSettings& settings);
std::string wired8021xFromJson(const boost::json::value& in, Wired8021xSettings& out);

}  // namespace mesim::platform
