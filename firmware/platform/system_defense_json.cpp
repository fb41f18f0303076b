#include "firmware/platform/system_defense_json.h"

#include <boost/json.hpp>

#include <limits>
#include <stdexcept>

#include "common/text_codecs.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {

json::value bytes(const std::vector<std::uint8_t>& b) { return json::string(text::toHex(b)); }

json::object filterJson(const SdFilter& f) {
  json::object o{{"handle", f.handle},
                 {"name", f.name},
                 {"kind", f.kind == SdFilterKind::Ethernet ? "ethernet" : "ip"},
                 {"negated", f.negated},
                 {"direction", f.direction},
                 {"profile", f.profile},
                 {"profileData", f.profileData},
                 {"eventOnMatch", f.eventOnMatch}};
  if (f.kind == SdFilterKind::Ethernet) {
    o["etherType"] = f.etherType;
    return o;
  }
  o["ipVersion"] = f.ipVersion;
  o["srcAddress"] = bytes(f.srcAddress);
  o["srcMask"] = bytes(f.srcMask);
  o["srcEndOfRange"] = bytes(f.srcEndOfRange);
  o["destAddress"] = bytes(f.destAddress);
  o["destMask"] = bytes(f.destMask);
  o["destEndOfRange"] = bytes(f.destEndOfRange);
  if (f.protocol) o["protocol"] = *f.protocol;
  o["srcPorts"] = json::array{f.srcPortStart, f.srcPortEnd};
  o["destPorts"] = json::array{f.destPortStart, f.destPortEnd};
  if (f.dscp) o["dscp"] = *f.dscp;
  if (f.flowLabel) o["flowLabel"] = *f.flowLabel;
  o["tcpFlagsOn"] = f.tcpFlagsOn;
  o["tcpFlagsOff"] = f.tcpFlagsOff;
  return o;
}

json::object policyJson(const SdPolicy& p) {
  json::array filters;
  for (auto h : p.filters) filters.push_back(h);
  return json::object{{"handle", p.handle},
                      {"name", p.name},
                      {"precedence", p.precedence},
                      {"antiSpoofing", p.antiSpoofing},
                      {"filters", std::move(filters)},
                      {"txDefaultDrop", p.txDefaultDrop},
                      {"txDefaultMatchEvent", p.txDefaultMatchEvent},
                      {"txDefaultCount", p.txDefaultCount},
                      {"rxDefaultDrop", p.rxDefaultDrop},
                      {"rxDefaultMatchEvent", p.rxDefaultMatchEvent},
                      {"rxDefaultCount", p.rxDefaultCount},
                      {"timeoutMinutes", p.timeoutMinutes}};
}

// Reading: throws std::invalid_argument naming the field; systemDefenseFromJson turns it into an error.
class In {
 public:
  In(const json::value& v, std::string path) : path_(std::move(path)) {
    if (!v.is_object()) throw std::invalid_argument(path_ + " must be an object");
    obj_ = &v.get_object();
  }
  // An object the caller keeps alive (a json::value made from it here would not outlive the constructor).
  In(const json::object& o, std::string path) : obj_(&o), path_(std::move(path)) {}
  const json::value* find(std::string_view key) const { return obj_->if_contains(key); }
  std::string at(std::string_view key) const { return path_ + "." + std::string(key); }

  template <class T>
  void number(std::string_view key, T& out) const {
    const json::value* v = find(key);
    if (!v) return;
    std::uint64_t n = 0;
    if (v->is_uint64()) n = v->get_uint64();
    else if (v->is_int64() && v->get_int64() >= 0) n = static_cast<std::uint64_t>(v->get_int64());
    else throw std::invalid_argument(at(key) + " must be a non-negative integer");
    if (n > std::numeric_limits<T>::max()) throw std::invalid_argument(at(key) + " is out of range");
    out = static_cast<T>(n);
  }
  void number(std::string_view key, std::int64_t& out) const {
    const json::value* v = find(key);
    if (!v) return;
    if (!v->is_int64()) throw std::invalid_argument(at(key) + " must be an integer");
    out = v->get_int64();
  }
  template <class T>
  void optionalNumber(std::string_view key, std::optional<T>& out) const {
    if (!find(key)) return;
    T n{};
    number(key, n);
    out = n;
  }
  void boolean(std::string_view key, bool& out) const {
    const json::value* v = find(key);
    if (!v) return;
    if (!v->is_bool()) throw std::invalid_argument(at(key) + " must be true or false");
    out = v->get_bool();
  }
  void string(std::string_view key, std::string& out) const {
    const json::value* v = find(key);
    if (!v) return;
    if (!v->is_string()) throw std::invalid_argument(at(key) + " must be a string");
    out = std::string(v->get_string());
  }
  void bytes(std::string_view key, std::vector<std::uint8_t>& out) const {
    std::string hex;
    string(key, hex);
    auto b = text::fromHex(hex);
    if (!b || (!b->empty() && b->size() != 4 && b->size() != 16))
      throw std::invalid_argument(at(key) + " must be the hex of 4 or 16 bytes, or empty");
    out = std::move(*b);
  }
  const json::array* array(std::string_view key) const {
    const json::value* v = find(key);
    if (!v) return nullptr;
    if (!v->is_array()) throw std::invalid_argument(at(key) + " must be an array");
    return &v->get_array();
  }
  void portRange(std::string_view key, std::uint16_t& start, std::uint16_t& end) const {
    const json::array* a = array(key);
    if (!a) return;
    if (a->size() != 2) throw std::invalid_argument(at(key) + " must be [start, end]");
    json::object o{{"s", (*a)[0]}, {"e", (*a)[1]}};
    In range(o, at(key));
    range.number("s", start);
    range.number("e", end);
  }

 private:
  const json::object* obj_ = nullptr;
  std::string path_;
};

SdFilter readFilter(const json::value& v, const std::string& path) {
  In in(v, path);
  SdFilter f;
  in.number("handle", f.handle);
  in.string("name", f.name);
  std::string kind = "ip";
  in.string("kind", kind);
  if (kind != "ip" && kind != "ethernet") throw std::invalid_argument(in.at("kind") + " must be \"ip\" or \"ethernet\"");
  f.kind = kind == "ip" ? SdFilterKind::IpHeaders : SdFilterKind::Ethernet;
  in.boolean("negated", f.negated);
  in.number("direction", f.direction);
  in.number("profile", f.profile);
  in.number("profileData", f.profileData);
  in.boolean("eventOnMatch", f.eventOnMatch);
  in.number("etherType", f.etherType);
  in.number("ipVersion", f.ipVersion);
  in.bytes("srcAddress", f.srcAddress);
  in.bytes("srcMask", f.srcMask);
  in.bytes("srcEndOfRange", f.srcEndOfRange);
  in.bytes("destAddress", f.destAddress);
  in.bytes("destMask", f.destMask);
  in.bytes("destEndOfRange", f.destEndOfRange);
  in.optionalNumber("protocol", f.protocol);
  in.portRange("srcPorts", f.srcPortStart, f.srcPortEnd);
  in.portRange("destPorts", f.destPortStart, f.destPortEnd);
  in.optionalNumber("dscp", f.dscp);
  in.optionalNumber("flowLabel", f.flowLabel);
  in.number("tcpFlagsOn", f.tcpFlagsOn);
  in.number("tcpFlagsOff", f.tcpFlagsOff);
  if (f.handle == 0) throw std::invalid_argument(path + ".handle must not be 0");
  if (f.direction > kSdRx || f.profile > sd_profile::kDrop)
    throw std::invalid_argument(path + ": direction must be 0..1 and profile 0..4");
  return f;
}

SdPolicy readPolicy(const json::value& v, const std::string& path) {
  In in(v, path);
  SdPolicy p;
  in.number("handle", p.handle);
  in.string("name", p.name);
  in.number("precedence", p.precedence);
  in.number("antiSpoofing", p.antiSpoofing);
  if (const json::array* a = in.array("filters")) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      json::object o{{"h", (*a)[i]}};
      In item(o, in.at("filters") + "[" + std::to_string(i) + "]");
      std::uint32_t h = 0;
      item.number("h", h);
      p.filters.push_back(h);
    }
  }
  in.boolean("txDefaultDrop", p.txDefaultDrop);
  in.boolean("txDefaultMatchEvent", p.txDefaultMatchEvent);
  in.boolean("txDefaultCount", p.txDefaultCount);
  in.boolean("rxDefaultDrop", p.rxDefaultDrop);
  in.boolean("rxDefaultMatchEvent", p.rxDefaultMatchEvent);
  in.boolean("rxDefaultCount", p.rxDefaultCount);
  in.number("timeoutMinutes", p.timeoutMinutes);
  if (p.handle == 0) throw std::invalid_argument(path + ".handle must not be 0");
  return p;
}

constexpr const char* kSlotNames[] = {"systemDefense", "agentPresence", "environmentDetection", "default"};

}  // namespace

json::value systemDefenseToJson(const SystemDefenseState& s) {
  json::array policies, filters, nics, detection;
  for (const auto& p : s.policies) policies.push_back(policyJson(p));
  for (const auto& f : s.filters) filters.push_back(filterJson(f));
  for (const auto& nic : s.nics) {
    json::object o;
    for (std::size_t i = 0; i < nic.slots.size(); ++i) {
      const SdSlot& slot = nic.slots[i];
      if (slot.policy == 0) continue;
      o[kSlotNames[i]] = json::object{{"policy", slot.policy}, {"enabled", slot.enabled}, {"since", slot.since}};
    }
    nics.push_back(std::move(o));
  }
  for (const auto& d : s.environment.detectionStrings) detection.push_back(json::string(d));
  return json::object{{"nextHandle", s.nextHandle},
                      {"policies", std::move(policies)},
                      {"filters", std::move(filters)},
                      {"nics", std::move(nics)},
                      {"detectionStrings", std::move(detection)},
                      {"vpnRoutingEnabled", s.environment.vpnRoutingEnabled}};
}

Result<> systemDefenseFromJson(const json::value& v, SystemDefenseState& out) {
  try {
    SystemDefenseState s;
    In in(v, "systemDefense");
    in.number("nextHandle", s.nextHandle);
    if (const json::array* a = in.array("policies"))
      for (std::size_t i = 0; i < a->size(); ++i)
        s.policies.push_back(readPolicy((*a)[i], "systemDefense.policies[" + std::to_string(i) + "]"));
    if (const json::array* a = in.array("filters"))
      for (std::size_t i = 0; i < a->size(); ++i)
        s.filters.push_back(readFilter((*a)[i], "systemDefense.filters[" + std::to_string(i) + "]"));
    if (const json::array* a = in.array("nics")) {
      if (a->size() > kSdNics) throw std::invalid_argument("systemDefense.nics has more than 2 entries");
      for (std::size_t n = 0; n < a->size(); ++n) {
        In nic((*a)[n], "systemDefense.nics[" + std::to_string(n) + "]");
        for (std::size_t i = 0; i < std::size(kSlotNames); ++i) {
          const json::value* sv = nic.find(kSlotNames[i]);
          if (!sv) continue;
          In slot(*sv, nic.at(kSlotNames[i]));
          SdSlot& to = s.nics[n].slots[i];
          slot.number("policy", to.policy);
          slot.boolean("enabled", to.enabled);
          slot.number("since", to.since);
        }
      }
    }
    in.boolean("vpnRoutingEnabled", s.environment.vpnRoutingEnabled);
    if (const json::array* a = in.array("detectionStrings"))
      for (const auto& d : *a) {
        if (!d.is_string()) throw std::invalid_argument("systemDefense.detectionStrings must hold strings");
        s.environment.detectionStrings.emplace_back(d.get_string());
      }
    for (const auto& p : s.policies)
      if (p.handle >= s.nextHandle) throw std::invalid_argument("systemDefense.nextHandle must exceed every handle");
    for (const auto& f : s.filters)
      if (f.handle >= s.nextHandle) throw std::invalid_argument("systemDefense.nextHandle must exceed every handle");
    out = std::move(s);
    return {};
  } catch (const std::invalid_argument& e) {
    return fail(e.what());
  }
}

}  // namespace mesim::platform
