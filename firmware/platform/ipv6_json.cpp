#include "firmware/platform/ipv6_json.h"

#include <arpa/inet.h>

#include <boost/json.hpp>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace json = boost::json;

std::string canonicalIpv6(const std::string& text) {
  in6_addr address{};
  if (inet_pton(AF_INET6, text.c_str(), &address) != 1) return {};
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, &address, buf, sizeof buf) ? std::string(buf) : std::string{};
}

json::value ipv6ToJson(const Ipv6Settings& s) {
  return json::object{{"enabled", s.enabled},
                      {"interfaceIdType", static_cast<std::uint32_t>(s.interfaceIdType)},
                      {"manualInterfaceId", s.manualInterfaceId},
                      {"address", s.address},
                      {"defaultRouter", s.defaultRouter},
                      {"primaryDns", s.primaryDns},
                      {"secondaryDns", s.secondaryDns}};
}

std::string ipv6FromJson(const json::value& in, Ipv6Settings& out) {
  if (!in.is_object()) return "must be an object";
  const json::object& o = in.get_object();
  Ipv6Settings s;
  if (const auto* v = o.if_contains("enabled")) {
    if (!v->is_bool()) return "enabled must be true or false";
    s.enabled = v->get_bool();
  }
  if (const auto* v = o.if_contains("interfaceIdType")) {
    const auto* n = v->if_int64();
    if (!n || *n < 0 || *n > 2) return "interfaceIdType must be 0 (randomized), 1 (Intel MAC based) or 2 (manual)";
    s.interfaceIdType = static_cast<Ipv6InterfaceIdType>(*n);
  }
  if (const auto* v = o.if_contains("manualInterfaceId")) {
    const auto bytes = v->is_string() ? text::fromHex(v->get_string()) : std::nullopt;
    if (!bytes || (bytes->size() != 8 && !bytes->empty())) return "manualInterfaceId must be 16 hex digits";
    s.manualInterfaceId = std::string(v->get_string());
  }
  for (auto [key, field] : {std::pair{"address", &s.address}, std::pair{"defaultRouter", &s.defaultRouter},
                            std::pair{"primaryDns", &s.primaryDns}, std::pair{"secondaryDns", &s.secondaryDns}}) {
    const auto* v = o.if_contains(key);
    if (!v) continue;
    if (!v->is_string()) return std::string(key) + " must be a string";
    const std::string text(v->get_string());
    if (!text.empty() && canonicalIpv6(text).empty()) return std::string(key) + " is not an IPv6 address";
    *field = text.empty() ? text : canonicalIpv6(text);
  }
  out = std::move(s);
  return {};
}

}  // namespace mesim::platform
