// platform.json's "network.wiredIpv6" object <-> Ipv6Settings (called from platform_json.cpp), and the IPv6 text
// form IPS_IPv6PortSettings' Put checks values with.
#pragma once

#include <string>

#include <boost/json/fwd.hpp>

#include "firmware/platform/ipv6_state.h"

namespace mesim::platform {

boost::json::value ipv6ToJson(const Ipv6Settings& settings);
// "" on success, else what was wrong, starting with the member's name. `out` is changed only on success.
std::string ipv6FromJson(const boost::json::value& in, Ipv6Settings& out);
// The canonical text of an IPv6 address, or "" if `text` is not one.
std::string canonicalIpv6(const std::string& text);

}  // namespace mesim::platform
