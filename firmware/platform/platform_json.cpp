#include "firmware/platform/platform_json.h"

#include <boost/json.hpp>

#include <cinttypes>
#include <cstdio>
#include <limits>

#include "firmware/platform/credentials.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {

// ---------------------------------------------------------------------------------------------
// Small vocabularies
// ---------------------------------------------------------------------------------------------

const char* provisioningName(ProvisioningState s) {
  switch (s) {
    case ProvisioningState::Pre: return "pre";
    case ProvisioningState::In: return "in";
    case ProvisioningState::Post: return "post";
  }
  return "?";
}

const char* controlModeName(ControlMode m) {
  switch (m) {
    case ControlMode::None: return "none";
    case ControlMode::Client: return "client";
    case ControlMode::Admin: return "admin";
  }
  return "?";
}

const char* hashName(HashAlgorithm a) {
  switch (a) {
    case HashAlgorithm::Md5: return "md5";
    case HashAlgorithm::Sha1: return "sha1";
    case HashAlgorithm::Sha256: return "sha256";
    case HashAlgorithm::Sha384: return "sha384";
  }
  return "?";
}

std::string hexWord(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIX32, v);
  return buf;
}

std::string uuidText(const std::array<std::uint8_t, 16>& u) {
  std::string hex = toHex(u.data(), u.size());
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::string macText(const MacAddress& mac) {
  std::string out;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (i) out.push_back(':');
    out += toHex(&mac[i], 1);
  }
  return out;
}

std::string ipv4Text(std::uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xFF) + "." + std::to_string((ip >> 8) & 0xFF) +
         "." + std::to_string(ip & 0xFF);
}

bool parseUuid(std::string_view text, std::array<std::uint8_t, 16>& out) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-') return false;
  std::string hex;
  for (char c : text)
    if (c != '-') hex.push_back(c);
  std::vector<std::uint8_t> bytes;
  if (!fromHex(hex, bytes) || bytes.size() != 16) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

bool parseMac(std::string_view text, MacAddress& out) {
  if (text.size() != 17) return false;
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2) {
      if (text[i] != ':' && text[i] != '-') return false;
    } else {
      hex.push_back(text[i]);
    }
  }
  std::vector<std::uint8_t> bytes;
  if (!fromHex(hex, bytes) || bytes.size() != 6) return false;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return true;
}

bool parseIpv4(std::string_view text, std::uint32_t& out) {
  std::uint32_t value = 0;
  int parts = 0;
  std::size_t pos = 0;
  while (parts < 4) {
    std::size_t end = text.find('.', pos);
    if (end == std::string_view::npos) end = text.size();
    auto part = text.substr(pos, end - pos);
    if (part.empty() || part.size() > 3) return false;
    unsigned octet = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      octet = octet * 10 + static_cast<unsigned>(c - '0');
    }
    if (octet > 255) return false;
    value = value << 8 | octet;
    ++parts;
    pos = end + 1;
    if (end == text.size()) break;
  }
  if (parts != 4 || pos <= text.size()) return false;
  out = value;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reading: every field goes through one of these, which record the first error with its path.
// ---------------------------------------------------------------------------------------------

class Reader {
 public:
  Reader(std::string& error, bool& defaulted) : error_(error), defaulted_(defaulted) {}
  bool ok() const { return error_.empty(); }

  // The member `key` of `obj`, or null (then `defaulted` is set unless `required`, which is an error).
  const json::value* member(const json::object* obj, std::string_view key, const std::string& path, bool required) {
    if (!ok()) return nullptr;
    const json::value* v = obj ? obj->if_contains(key) : nullptr;
    if (!v || v->is_null()) {
      if (required)
        fail(path, "is missing");
      else
        defaulted_ = true;
      return nullptr;
    }
    return v;
  }

  const json::object* object(const json::object* obj, std::string_view key, const std::string& path,
                             bool required = false) {
    const json::value* v = member(obj, key, path, required);
    if (!v) return nullptr;
    if (!v->is_object()) return fail(path, "must be an object"), nullptr;
    return &v->get_object();
  }

  const json::array* array(const json::object* obj, std::string_view key, const std::string& path) {
    const json::value* v = member(obj, key, path, false);
    if (!v) return nullptr;
    if (!v->is_array()) return fail(path, "must be an array"), nullptr;
    return &v->get_array();
  }

  void boolean(const json::object* obj, std::string_view key, const std::string& path, bool& out) {
    const json::value* v = member(obj, key, path, false);
    if (!v) return;
    if (!v->is_bool()) return fail(path, "must be true or false");
    out = v->get_bool();
  }

  void string(const json::object* obj, std::string_view key, const std::string& path, std::string& out,
              bool required = false) {
    const json::value* v = member(obj, key, path, required);
    if (!v) return;
    if (!v->is_string()) return fail(path, "must be a string");
    out = std::string(v->get_string());
  }

  template <class T>
  void unsignedInt(const json::object* obj, std::string_view key, const std::string& path, T& out) {
    const json::value* v = member(obj, key, path, false);
    if (!v) return;
    std::uint64_t value = 0;
    if (v->is_uint64()) {
      value = v->get_uint64();
    } else if (v->is_int64() && v->get_int64() >= 0) {
      value = static_cast<std::uint64_t>(v->get_int64());
    } else if (v->is_string()) {  // "0x00001482" for bit fields
      std::string_view s = v->get_string();
      if (s.size() < 3 || s.size() > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return fail(path, "must be a number or a 0x-prefixed hex string");
      std::vector<std::uint8_t> bytes;
      std::string digits(s.substr(2));
      if (digits.size() % 2) digits.insert(digits.begin(), '0');
      if (!fromHex(digits, bytes)) return fail(path, "is not valid hex");
      for (auto b : bytes) value = value << 8 | b;
    } else {
      return fail(path, "must be a non-negative integer");
    }
    if (value > std::numeric_limits<T>::max()) return fail(path, "is out of range");
    out = static_cast<T>(value);
  }

  void strings(const json::object* obj, std::string_view key, const std::string& path, std::vector<std::string>& out) {
    const json::array* arr = array(obj, key, path);
    if (!arr) return;
    std::vector<std::string> values;
    for (const auto& item : *arr) {
      if (!item.is_string()) return fail(path, "must hold only strings");
      values.emplace_back(item.get_string());
    }
    out = std::move(values);
  }

  void hexBytes(const json::object* obj, std::string_view key, const std::string& path, std::vector<std::uint8_t>& out) {
    std::string text;
    bool had = false;
    if (const json::value* v = member(obj, key, path, false)) {
      if (!v->is_string()) return fail(path, "must be a hex string");
      text = std::string(v->get_string());
      had = true;
    }
    if (!had) return;
    if (!fromHex(text, out)) fail(path, "is not valid hex");
  }

  void hashAlgorithm(const json::object* obj, std::string_view key, const std::string& path, HashAlgorithm& out) {
    std::string name;
    const json::value* v = member(obj, key, path, false);
    if (!v) return;
    if (!v->is_string()) return fail(path, "must be md5, sha1, sha256 or sha384");
    name = std::string(v->get_string());
    for (auto a : {HashAlgorithm::Md5, HashAlgorithm::Sha1, HashAlgorithm::Sha256, HashAlgorithm::Sha384}) {
      if (name == hashName(a)) {
        out = a;
        return;
      }
    }
    fail(path, "must be md5, sha1, sha256 or sha384");
  }

  void provisioning(const json::object* obj, std::string_view key, const std::string& path, ProvisioningState& out) {
    std::string name = provisioningName(out);
    string(obj, key, path, name);
    for (auto s : {ProvisioningState::Pre, ProvisioningState::In, ProvisioningState::Post}) {
      if (name == provisioningName(s)) {
        out = s;
        return;
      }
    }
    fail(path, "must be pre, in or post");
  }

  void controlMode(const json::object* obj, std::string_view key, const std::string& path, ControlMode& out) {
    std::string name = controlModeName(out);
    string(obj, key, path, name);
    for (auto m : {ControlMode::None, ControlMode::Client, ControlMode::Admin}) {
      if (name == controlModeName(m)) {
        out = m;
        return;
      }
    }
    fail(path, "must be none, client or admin");
  }

  void version(const json::object* obj, std::string_view key, const std::string& path, FirmwareVersion& out) {
    std::string text;
    const json::value* v = member(obj, key, path, false);
    if (!v) return;
    if (!v->is_string()) return fail(path, "must be a \"major.minor.hotfix.build\" string");
    text = std::string(v->get_string());
    unsigned parts[4];
    char tail;
    if (std::sscanf(text.c_str(), "%u.%u.%u.%u%c", &parts[0], &parts[1], &parts[2], &parts[3], &tail) != 4)
      return fail(path, "must be a \"major.minor.hotfix.build\" string");
    for (unsigned p : parts)
      if (p > 0xFFFF) return fail(path, "has a part above 65535");
    out = {static_cast<std::uint16_t>(parts[0]), static_cast<std::uint16_t>(parts[1]),
           static_cast<std::uint16_t>(parts[2]), static_cast<std::uint16_t>(parts[3])};
  }

  void lan(const json::object* obj, std::string_view key, const std::string& path, LanInterface& out) {
    const json::object* o = object(obj, key, path);
    if (!o) return;
    boolean(o, "present", path + ".present", out.present);
    boolean(o, "enabled", path + ".enabled", out.enabled);
    boolean(o, "linkUp", path + ".linkUp", out.linkUp);
    boolean(o, "dhcpEnabled", path + ".dhcpEnabled", out.dhcpEnabled);
    unsignedInt(o, "dhcpMode", path + ".dhcpMode", out.dhcpMode);
    std::string mac = macText(out.mac);
    string(o, "mac", path + ".mac", mac);
    if (ok() && !parseMac(mac, out.mac)) fail(path + ".mac", "must look like 02:11:22:33:44:55");
    std::string ip = ipv4Text(out.ipv4);
    string(o, "ipv4", path + ".ipv4", ip);
    if (ok() && !parseIpv4(ip, out.ipv4)) fail(path + ".ipv4", "must be a dotted IPv4 address");
  }

  void signedInt(const json::object* obj, std::string_view key, const std::string& path, std::int64_t& out) {
    const json::value* v = member(obj, key, path, false);
    if (!v) return;
    if (v->is_int64()) {
      out = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      out = static_cast<std::int64_t>(v->get_uint64());
    } else {
      fail(path, "must be an integer");
    }
  }

  // A list of hex strings (log records).
  void hexList(const json::object* obj, std::string_view key, const std::string& path,
               std::vector<std::vector<std::uint8_t>>& out) {
    const json::array* arr = array(obj, key, path);
    if (!arr) return;
    std::vector<std::vector<std::uint8_t>> values;
    for (const auto& item : *arr) {
      std::vector<std::uint8_t> bytes;
      if (!item.is_string() || !fromHex(item.get_string(), bytes)) return fail(path, "must hold only hex strings");
      values.push_back(std::move(bytes));
    }
    out = std::move(values);
  }

  // Each element of the array `key` through `each(object, path)`; a non-object element is an error.
  template <class F>
  void objects(const json::object* obj, std::string_view key, const std::string& path, F each) {
    const json::array* arr = array(obj, key, path);
    if (!arr) return;
    for (std::size_t i = 0; i < arr->size() && ok(); ++i) {
      std::string itemPath = path + "[" + std::to_string(i) + "]";
      if (!(*arr)[i].is_object()) return fail(itemPath, "must be an object");
      each(&(*arr)[i].get_object(), itemPath);
    }
  }

  void tls(const json::object* obj, std::string_view key, const std::string& path, TlsSettings& out) {
    const json::object* o = object(obj, key, path);
    if (!o) return;
    boolean(o, "enabled", path + ".enabled", out.enabled);
    boolean(o, "mutualAuthentication", path + ".mutualAuthentication", out.mutualAuthentication);
    boolean(o, "acceptNonSecureConnections", path + ".acceptNonSecureConnections", out.acceptNonSecureConnections);
    strings(o, "trustedCn", path + ".trustedCn", out.trustedCn);
  }

  void fail(const std::string& path, const std::string& what) {
    if (ok()) error_ = path + " " + what;
  }

 private:
  std::string& error_;
  bool& defaulted_;
};

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

json::object lanJson(const LanInterface& lan) {
  return {{"present", lan.present},     {"enabled", lan.enabled},   {"linkUp", lan.linkUp},
          {"dhcpEnabled", lan.dhcpEnabled}, {"dhcpMode", lan.dhcpMode}, {"mac", macText(lan.mac)},
          {"ipv4", ipv4Text(lan.ipv4)}};
}

json::array stringsJson(const std::vector<std::string>& values) {
  json::array arr;
  for (const auto& v : values) arr.emplace_back(v);
  return arr;
}

json::array hexListJson(const std::vector<std::vector<std::uint8_t>>& records) {
  json::array arr;
  for (const auto& r : records) arr.emplace_back(toHex(r.data(), r.size()));
  return arr;
}

json::object tlsJson(const TlsSettings& t) {
  return {{"enabled", t.enabled},
          {"mutualAuthentication", t.mutualAuthentication},
          {"acceptNonSecureConnections", t.acceptNonSecureConnections},
          {"trustedCn", stringsJson(t.trustedCn)}};
}

// The WS-Man-facing parts (spec/wsman.md §3), added after schema 1 first shipped: all optional on reading.
void addWsmanJson(const PlatformState& s, json::object& root) {
  const auto& b = s.boot;
  const auto& o = s.optIn;
  const auto& r = s.redirection;
  const auto& g = s.general;
  root["hostPower"] = {{"powerState", s.hostPower.powerState},
                       {"requestedPowerState", s.hostPower.requestedPowerState},
                       {"osPowerSavingState", s.hostPower.osPowerSavingState}};
  root["boot"] = {{"biosPause", b.biosPause},
                  {"biosSetup", b.biosSetup},
                  {"useSol", b.useSol},
                  {"useIder", b.useIder},
                  {"useSafeMode", b.useSafeMode},
                  {"reflashBios", b.reflashBios},
                  {"lockKeyboard", b.lockKeyboard},
                  {"lockPowerButton", b.lockPowerButton},
                  {"lockResetButton", b.lockResetButton},
                  {"lockSleepButton", b.lockSleepButton},
                  {"userPasswordBypass", b.userPasswordBypass},
                  {"forcedProgressEvents", b.forcedProgressEvents},
                  {"enforceSecureBoot", b.enforceSecureBoot},
                  {"bootMediaIndex", b.bootMediaIndex},
                  {"iderBootDevice", b.iderBootDevice},
                  {"firmwareVerbosity", b.firmwareVerbosity},
                  {"configurationRole", b.configurationRole},
                  {"bootConfigActive", b.bootConfigActive},
                  {"bootOrder", stringsJson(b.bootOrder)}};
  root["optIn"] = {{"optInRequired", o.optInRequired},
                   {"optInState", o.optInState},
                   {"optInCodeTimeout", o.optInCodeTimeout},
                   {"optInDisplayTimeout", o.optInDisplayTimeout},
                   {"canModifyOptInPolicy", o.canModifyOptInPolicy}};
  root["redirection"] = {{"enabledState", r.enabledState},
                         {"listenerEnabled", r.listenerEnabled},
                         {"kvmEnabledState", r.kvmEnabledState},
                         {"kvmRequestedState", r.kvmRequestedState},
                         {"is5900PortEnabled", r.is5900PortEnabled},
                         {"optInPolicy", r.optInPolicy},
                         {"sessionTimeout", r.sessionTimeout},
                         {"defaultScreen", r.defaultScreen}};
  root["generalSettings"] = {{"amtNetworkEnabled", g.amtNetworkEnabled},
                             {"pingResponseEnabled", g.pingResponseEnabled},
                             {"rmcpPingResponseEnabled", g.rmcpPingResponseEnabled},
                             {"wsmanOnlyMode", g.wsmanOnlyMode},
                             {"idleWakeTimeout", g.idleWakeTimeout},
                             {"preferredAddressFamily", g.preferredAddressFamily},
                             {"privacyLevel", g.privacyLevel},
                             {"dhcpSyncRequiresHostname", g.dhcpSyncRequiresHostname},
                             {"ddnsUpdateByDhcpServerEnabled", g.ddnsUpdateByDhcpServerEnabled}};
  root["tls"] = {{"remote", tlsJson(s.tls[0])}, {"local", tlsJson(s.tls[1])}};
  json::array certs;
  for (const auto& c : s.certificates)
    certs.emplace_back(json::object{{"instanceId", c.instanceId}, {"x509", c.x509}, {"trustedRoot", c.trustedRoot}});
  json::array mps;
  for (const auto& m : s.mpsServers)
    mps.emplace_back(json::object{{"name", m.name},
                                  {"accessInfo", m.accessInfo},
                                  {"infoFormat", m.infoFormat},
                                  {"port", m.port},
                                  {"authMethod", m.authMethod},
                                  {"username", m.username},
                                  {"commonName", m.commonName}});
  json::array rules;
  for (const auto& p : s.remoteAccessPolicies)
    rules.emplace_back(json::object{{"policyRuleName", p.policyRuleName},
                                    {"trigger", p.trigger},
                                    {"tunnelLifeTime", p.tunnelLifeTime},
                                    {"extendedData", p.extendedData},
                                    {"mpsNames", stringsJson(p.mpsNames)}});
  json::array proxies;
  for (const auto& p : s.httpProxies)
    proxies.emplace_back(json::object{{"name", p.name},
                                      {"accessInfo", p.accessInfo},
                                      {"infoFormat", p.infoFormat},
                                      {"port", p.port},
                                      {"networkDnsSuffix", p.networkDnsSuffix}});
  root["certificates"] = {{"nextHandle", s.nextCertificateHandle}, {"items", std::move(certs)}};
  root["remoteAccessConfig"] = {{"mpsServers", std::move(mps)},
                                {"policies", std::move(rules)},
                                {"userInitiatedConnectionState", s.userInitiatedConnectionState}};
  root["httpProxies"] = std::move(proxies);
  root["time"] = {{"amtClockOffset", s.amtClockOffset}};
  root["logs"] = {{"messageLog", hexListJson(s.logs.messageLog)}, {"auditLog", hexListJson(s.logs.auditLog)}};
}

const char* aclAccessName(AclAccess a) {
  switch (a) {
    case AclAccess::LocalOnly: return "local";
    case AclAccess::NetworkOnly: return "network";
    case AclAccess::LocalAndNetwork: return "localAndNetwork";
  }
  return "?";
}

json::array aclUsersJson(const std::vector<AclUser>& users) {
  json::array arr;
  for (const auto& u : users) {
    json::array realms;
    for (auto realm : u.realms) realms.emplace_back(realm);
    arr.emplace_back(json::object{{"handle", u.handle},
                                  {"user", u.user},
                                  {"ha1", u.ha1},
                                  {"access", aclAccessName(u.access)},
                                  {"realms", std::move(realms)},
                                  {"enabled", u.enabled}});
  }
  return arr;
}

json::value toJson(const PlatformState& s) {
  json::array codeVersions;
  for (const auto& cv : s.firmware.codeVersions)
    codeVersions.emplace_back(json::object{{"description", cv.description}, {"version", cv.version}});

  json::value hbs = nullptr;
  if (s.hostBasedSetup) {
    const auto& h = *s.hostBasedSetup;
    hbs = json::object{{"serverHashAlgorithm", hashName(h.serverHashAlgorithm)},
                       {"serverCertHash", toHex(h.serverCertHash.data(), h.serverCertHash.size())},
                       {"hostVpnEnabled", h.hostVpnEnabled},
                       {"dnsSuffixes", stringsJson(h.dnsSuffixes)}};
  }

  json::array hashes;
  for (const auto& e : s.certHashes) {
    hashes.emplace_back(json::object{{"handle", e.handle},
                                     {"name", e.name},
                                     {"algorithm", hashName(e.algorithm)},
                                     {"hash", toHex(e.hash.data(), e.hash.size())},
                                     {"isDefault", e.isDefault},
                                     {"isActive", e.isActive}});
  }

  const auto& f = s.features;
  const auto& ra = s.remoteAccess;
  json::object root{
      {"schema", kPlatformSchema},
      {"identity", {{"uuid", uuidText(s.uuid)}, {"digestRealm", s.digestRealm}}},
      {"firmware",
       {{"code", s.firmware.code.toString()},
        {"recovery", s.firmware.recovery.toString()},
        {"fitc", s.firmware.fitc.toString()},
        {"biosVersion", s.firmware.biosVersion},
        {"codeVersions", std::move(codeVersions)},
        {"capabilities", hexWord(s.firmware.capabilities)},
        {"fwUpdateState", s.firmware.fwUpdateState},
        {"platformType", hexWord(s.firmware.platformType)},
        {"featuresEnabled", hexWord(s.firmware.featuresEnabled)},
        {"featuresAvailable", hexWord(s.firmware.featuresAvailable)}}},
      {"provisioning",
       {{"state", provisioningName(s.provisioningState)},
        {"controlMode", controlModeName(s.controlMode)},
        {"ztcEnabled", s.ztcEnabled},
        {"tlsEnabled", s.tlsEnabled},
        {"hostBasedSetup", std::move(hbs)},
        {"amtCertHashAlgorithm", hashName(s.amtCertHashAlgorithm)},
        {"amtCertHash", toHex(s.amtCertHash.data(), s.amtCertHash.size())}}},
      {"accounts",
       {{"admin", {{"user", s.admin.user}, {"ha1", s.admin.ha1}}},
        {"localSystem", {{"user", s.localSystemAccount.user}, {"password", s.localSystemAccount.password}}},
        {"aclUsers", aclUsersJson(s.aclUsers)}}},
      {"network",
       {{"hostName", s.hostName},
        {"domainName", s.domainName},
        {"pkiDnsSuffix", s.pkiDnsSuffix},
        {"dnsSuffixList", stringsJson(s.dnsSuffixList)},
        {"sharedFqdn", s.sharedFqdn},
        {"ddnsUpdateEnabled", s.ddnsUpdateEnabled},
        {"ddnsUpdateInterval", s.ddnsUpdateInterval},
        {"ddnsTtl", s.ddnsTtl},
        {"hostFqdn", s.hostFqdn},
        {"wired", lanJson(s.wired)},
        {"wireless", lanJson(s.wireless)},
        {"hostVpnEnabled", s.hostVpnEnabled},
        {"enterpriseAccess",
         {{"flags", s.enterpriseAccess.flags},
          {"hostIp", toHex(s.enterpriseAccess.hostIp.data(), s.enterpriseAccess.hostIp.size())},
          {"access", s.enterpriseAccess.access}}}}},
      {"features",
       {{"solEnabled", f.solEnabled},
        {"iderEnabled", f.iderEnabled},
        {"kvmEnabled", f.kvmEnabled},
        {"webUiEnabled", f.webUiEnabled},
        {"systemDefenseActive", f.systemDefenseActive},
        {"eacEnabled", f.eacEnabled},
        {"solSessionOpen", f.solSessionOpen},
        {"iderSessionOpen", f.iderSessionOpen},
        {"kvmSessionActive", f.kvmSessionActive}}},
      {"remoteAccess",
       {{"networkStatus", ra.networkStatus},
        {"connectionStatus", ra.connectionStatus},
        {"trigger", ra.trigger},
        {"mpsHostname", ra.mpsHostname},
        {"userInitiatedConnectionRequested", ra.userInitiatedConnectionRequested}}},
      {"host",
       {{"lastResetReason", s.lastHostResetReason},
        {"lastResetTimestamp", s.lastHostResetTimestamp},
        {"powerPolicy", s.powerPolicy},
        {"lastMeResetType", s.lastMeResetType}}},
      {"certHashes", std::move(hashes)},
  };
  addWsmanJson(s, root);
  return root;
}

void prettyPrint(const json::value& v, std::string& out, int indent) {
  auto newline = [&](int level) {
    out.push_back('\n');
    out.append(static_cast<std::size_t>(level) * 2, ' ');
  };
  switch (v.kind()) {
    case json::kind::object: {
      const auto& obj = v.get_object();
      if (obj.empty()) {
        out += "{}";
        return;
      }
      out.push_back('{');
      bool first = true;
      for (const auto& kv : obj) {
        if (!first) out.push_back(',');
        first = false;
        newline(indent + 1);
        out += json::serialize(json::value(kv.key()));
        out += ": ";
        prettyPrint(kv.value(), out, indent + 1);
      }
      newline(indent);
      out.push_back('}');
      return;
    }
    case json::kind::array: {
      const auto& arr = v.get_array();
      if (arr.empty()) {
        out += "[]";
        return;
      }
      out.push_back('[');
      bool first = true;
      for (const auto& item : arr) {
        if (!first) out.push_back(',');
        first = false;
        newline(indent + 1);
        prettyPrint(item, out, indent + 1);
      }
      newline(indent);
      out.push_back(']');
      return;
    }
    default:
      out += json::serialize(v);
  }
}

void readWsmanState(Reader& r, const json::object* top, PlatformState& s) {
  const json::object* hp = r.object(top, "hostPower", "hostPower");
  r.unsignedInt(hp, "powerState", "hostPower.powerState", s.hostPower.powerState);
  r.unsignedInt(hp, "requestedPowerState", "hostPower.requestedPowerState", s.hostPower.requestedPowerState);
  r.unsignedInt(hp, "osPowerSavingState", "hostPower.osPowerSavingState", s.hostPower.osPowerSavingState);

  const json::object* b = r.object(top, "boot", "boot");
  auto& bs = s.boot;
  r.boolean(b, "biosPause", "boot.biosPause", bs.biosPause);
  r.boolean(b, "biosSetup", "boot.biosSetup", bs.biosSetup);
  r.boolean(b, "useSol", "boot.useSol", bs.useSol);
  r.boolean(b, "useIder", "boot.useIder", bs.useIder);
  r.boolean(b, "useSafeMode", "boot.useSafeMode", bs.useSafeMode);
  r.boolean(b, "reflashBios", "boot.reflashBios", bs.reflashBios);
  r.boolean(b, "lockKeyboard", "boot.lockKeyboard", bs.lockKeyboard);
  r.boolean(b, "lockPowerButton", "boot.lockPowerButton", bs.lockPowerButton);
  r.boolean(b, "lockResetButton", "boot.lockResetButton", bs.lockResetButton);
  r.boolean(b, "lockSleepButton", "boot.lockSleepButton", bs.lockSleepButton);
  r.boolean(b, "userPasswordBypass", "boot.userPasswordBypass", bs.userPasswordBypass);
  r.boolean(b, "forcedProgressEvents", "boot.forcedProgressEvents", bs.forcedProgressEvents);
  r.boolean(b, "enforceSecureBoot", "boot.enforceSecureBoot", bs.enforceSecureBoot);
  r.unsignedInt(b, "bootMediaIndex", "boot.bootMediaIndex", bs.bootMediaIndex);
  r.unsignedInt(b, "iderBootDevice", "boot.iderBootDevice", bs.iderBootDevice);
  r.unsignedInt(b, "firmwareVerbosity", "boot.firmwareVerbosity", bs.firmwareVerbosity);
  r.unsignedInt(b, "configurationRole", "boot.configurationRole", bs.configurationRole);
  r.boolean(b, "bootConfigActive", "boot.bootConfigActive", bs.bootConfigActive);
  r.strings(b, "bootOrder", "boot.bootOrder", bs.bootOrder);

  const json::object* o = r.object(top, "optIn", "optIn");
  r.unsignedInt(o, "optInRequired", "optIn.optInRequired", s.optIn.optInRequired);
  r.unsignedInt(o, "optInState", "optIn.optInState", s.optIn.optInState);
  r.unsignedInt(o, "optInCodeTimeout", "optIn.optInCodeTimeout", s.optIn.optInCodeTimeout);
  r.unsignedInt(o, "optInDisplayTimeout", "optIn.optInDisplayTimeout", s.optIn.optInDisplayTimeout);
  r.unsignedInt(o, "canModifyOptInPolicy", "optIn.canModifyOptInPolicy", s.optIn.canModifyOptInPolicy);

  const json::object* rd = r.object(top, "redirection", "redirection");
  auto& rs = s.redirection;
  r.unsignedInt(rd, "enabledState", "redirection.enabledState", rs.enabledState);
  r.boolean(rd, "listenerEnabled", "redirection.listenerEnabled", rs.listenerEnabled);
  r.unsignedInt(rd, "kvmEnabledState", "redirection.kvmEnabledState", rs.kvmEnabledState);
  r.unsignedInt(rd, "kvmRequestedState", "redirection.kvmRequestedState", rs.kvmRequestedState);
  r.boolean(rd, "is5900PortEnabled", "redirection.is5900PortEnabled", rs.is5900PortEnabled);
  r.boolean(rd, "optInPolicy", "redirection.optInPolicy", rs.optInPolicy);
  r.unsignedInt(rd, "sessionTimeout", "redirection.sessionTimeout", rs.sessionTimeout);
  r.unsignedInt(rd, "defaultScreen", "redirection.defaultScreen", rs.defaultScreen);

  const json::object* g = r.object(top, "generalSettings", "generalSettings");
  auto& gs = s.general;
  r.unsignedInt(g, "amtNetworkEnabled", "generalSettings.amtNetworkEnabled", gs.amtNetworkEnabled);
  r.boolean(g, "pingResponseEnabled", "generalSettings.pingResponseEnabled", gs.pingResponseEnabled);
  r.boolean(g, "rmcpPingResponseEnabled", "generalSettings.rmcpPingResponseEnabled", gs.rmcpPingResponseEnabled);
  r.boolean(g, "wsmanOnlyMode", "generalSettings.wsmanOnlyMode", gs.wsmanOnlyMode);
  r.unsignedInt(g, "idleWakeTimeout", "generalSettings.idleWakeTimeout", gs.idleWakeTimeout);
  r.unsignedInt(g, "preferredAddressFamily", "generalSettings.preferredAddressFamily", gs.preferredAddressFamily);
  r.unsignedInt(g, "privacyLevel", "generalSettings.privacyLevel", gs.privacyLevel);
  r.unsignedInt(g, "dhcpSyncRequiresHostname", "generalSettings.dhcpSyncRequiresHostname", gs.dhcpSyncRequiresHostname);
  r.boolean(g, "ddnsUpdateByDhcpServerEnabled", "generalSettings.ddnsUpdateByDhcpServerEnabled",
            gs.ddnsUpdateByDhcpServerEnabled);

  const json::object* t = r.object(top, "tls", "tls");
  r.tls(t, "remote", "tls.remote", s.tls[0]);
  r.tls(t, "local", "tls.local", s.tls[1]);

  const json::object* c = r.object(top, "certificates", "certificates");
  r.unsignedInt(c, "nextHandle", "certificates.nextHandle", s.nextCertificateHandle);
  if (c && c->contains("items")) {
    std::vector<StoredCertificate> certs;
    r.objects(c, "items", "certificates.items", [&](const json::object* e, const std::string& path) {
      StoredCertificate cert;
      r.string(e, "instanceId", path + ".instanceId", cert.instanceId, true);
      r.string(e, "x509", path + ".x509", cert.x509);
      r.boolean(e, "trustedRoot", path + ".trustedRoot", cert.trustedRoot);
      certs.push_back(std::move(cert));
    });
    s.certificates = std::move(certs);
  }

  const json::object* ra = r.object(top, "remoteAccessConfig", "remoteAccessConfig");
  if (ra && ra->contains("mpsServers")) {
    std::vector<MpsServer> servers;
    r.objects(ra, "mpsServers", "remoteAccessConfig.mpsServers", [&](const json::object* e, const std::string& path) {
      MpsServer m;
      r.string(e, "name", path + ".name", m.name, true);
      r.string(e, "accessInfo", path + ".accessInfo", m.accessInfo);
      r.unsignedInt(e, "infoFormat", path + ".infoFormat", m.infoFormat);
      r.unsignedInt(e, "port", path + ".port", m.port);
      r.unsignedInt(e, "authMethod", path + ".authMethod", m.authMethod);
      r.string(e, "username", path + ".username", m.username);
      r.string(e, "commonName", path + ".commonName", m.commonName);
      servers.push_back(std::move(m));
    });
    s.mpsServers = std::move(servers);
  }
  if (ra && ra->contains("policies")) {
    std::vector<RemoteAccessPolicyRule> rules;
    r.objects(ra, "policies", "remoteAccessConfig.policies", [&](const json::object* e, const std::string& path) {
      RemoteAccessPolicyRule p;
      r.string(e, "policyRuleName", path + ".policyRuleName", p.policyRuleName, true);
      r.unsignedInt(e, "trigger", path + ".trigger", p.trigger);
      r.unsignedInt(e, "tunnelLifeTime", path + ".tunnelLifeTime", p.tunnelLifeTime);
      r.string(e, "extendedData", path + ".extendedData", p.extendedData);
      r.strings(e, "mpsNames", path + ".mpsNames", p.mpsNames);
      rules.push_back(std::move(p));
    });
    s.remoteAccessPolicies = std::move(rules);
  }
  r.unsignedInt(ra, "userInitiatedConnectionState", "remoteAccessConfig.userInitiatedConnectionState",
                s.userInitiatedConnectionState);

  if (top->contains("httpProxies")) {
    std::vector<HttpProxy> proxies;
    r.objects(top, "httpProxies", "httpProxies", [&](const json::object* e, const std::string& path) {
      HttpProxy p;
      r.string(e, "name", path + ".name", p.name, true);
      r.string(e, "accessInfo", path + ".accessInfo", p.accessInfo);
      r.unsignedInt(e, "infoFormat", path + ".infoFormat", p.infoFormat);
      r.unsignedInt(e, "port", path + ".port", p.port);
      r.string(e, "networkDnsSuffix", path + ".networkDnsSuffix", p.networkDnsSuffix);
      proxies.push_back(std::move(p));
    });
    s.httpProxies = std::move(proxies);
  } else {
    r.array(top, "httpProxies", "httpProxies");  // marks the state as defaulted
  }

  const json::object* tm = r.object(top, "time", "time");
  r.signedInt(tm, "amtClockOffset", "time.amtClockOffset", s.amtClockOffset);

  const json::object* logs = r.object(top, "logs", "logs");
  r.hexList(logs, "messageLog", "logs.messageLog", s.logs.messageLog);
  r.hexList(logs, "auditLog", "logs.auditLog", s.logs.auditLog);
}

}  // namespace

std::size_t hashLength(HashAlgorithm alg) {
  switch (alg) {
    case HashAlgorithm::Md5: return 16;
    case HashAlgorithm::Sha1: return 20;
    case HashAlgorithm::Sha256: return 32;
    case HashAlgorithm::Sha384: return 48;
  }
  return 0;
}

std::string FirmwareVersion::toString() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(hotfix) + "." +
         std::to_string(build);
}

std::string serializeState(const PlatformState& state) {
  std::string out;
  prettyPrint(toJson(state), out, 0);
  out.push_back('\n');
  return out;
}

bool parseState(std::string_view text, const PlatformState& fallback, PlatformState& out, bool& defaulted,
                std::string& error) {
  error.clear();
  defaulted = false;
  json::error_code ec;
  json::value root = json::parse(text, ec);
  if (ec) {
    error = "not valid JSON: " + ec.message();
    return false;
  }
  if (!root.is_object()) {
    error = "the top level must be a JSON object";
    return false;
  }
  const json::object* top = &root.get_object();
  Reader r(error, defaulted);

  if (const json::value* v = r.member(top, "schema", "schema", true)) {
    if (!v->is_int64() || v->get_int64() != kPlatformSchema)
      r.fail("schema", "must be " + std::to_string(kPlatformSchema) + " (a state written by another mesim version?)");
  }

  PlatformState s = fallback;
  s.hostBasedSetup.reset();

  const json::object* id = r.object(top, "identity", "identity", true);
  std::string uuid;
  r.string(id, "uuid", "identity.uuid", uuid, true);
  if (r.ok() && !parseUuid(uuid, s.uuid)) r.fail("identity.uuid", "must be a UUID like 8-4-4-4-12 hex digits");
  r.string(id, "digestRealm", "identity.digestRealm", s.digestRealm, true);

  const json::object* fw = r.object(top, "firmware", "firmware");
  r.version(fw, "code", "firmware.code", s.firmware.code);
  r.version(fw, "recovery", "firmware.recovery", s.firmware.recovery);
  r.version(fw, "fitc", "firmware.fitc", s.firmware.fitc);
  r.string(fw, "biosVersion", "firmware.biosVersion", s.firmware.biosVersion);
  if (const json::array* arr = r.array(fw, "codeVersions", "firmware.codeVersions")) {
    std::vector<CodeVersion> versions;
    for (std::size_t i = 0; i < arr->size() && r.ok(); ++i) {
      std::string path = "firmware.codeVersions[" + std::to_string(i) + "]";
      if (!(*arr)[i].is_object()) {
        r.fail(path, "must be an object");
        break;
      }
      CodeVersion cv;
      r.string(&(*arr)[i].get_object(), "description", path + ".description", cv.description, true);
      r.string(&(*arr)[i].get_object(), "version", path + ".version", cv.version, true);
      versions.push_back(std::move(cv));
    }
    s.firmware.codeVersions = std::move(versions);
  }
  r.unsignedInt(fw, "capabilities", "firmware.capabilities", s.firmware.capabilities);
  r.unsignedInt(fw, "fwUpdateState", "firmware.fwUpdateState", s.firmware.fwUpdateState);
  r.unsignedInt(fw, "platformType", "firmware.platformType", s.firmware.platformType);
  r.unsignedInt(fw, "featuresEnabled", "firmware.featuresEnabled", s.firmware.featuresEnabled);
  r.unsignedInt(fw, "featuresAvailable", "firmware.featuresAvailable", s.firmware.featuresAvailable);

  const json::object* prov = r.object(top, "provisioning", "provisioning");
  r.provisioning(prov, "state", "provisioning.state", s.provisioningState);
  r.controlMode(prov, "controlMode", "provisioning.controlMode", s.controlMode);
  r.boolean(prov, "ztcEnabled", "provisioning.ztcEnabled", s.ztcEnabled);
  r.boolean(prov, "tlsEnabled", "provisioning.tlsEnabled", s.tlsEnabled);
  if (prov && prov->if_contains("hostBasedSetup") && !prov->at("hostBasedSetup").is_null()) {
    const json::object* h = r.object(prov, "hostBasedSetup", "provisioning.hostBasedSetup");
    HostBasedSetup setup;
    r.hashAlgorithm(h, "serverHashAlgorithm", "provisioning.hostBasedSetup.serverHashAlgorithm",
                    setup.serverHashAlgorithm);
    r.hexBytes(h, "serverCertHash", "provisioning.hostBasedSetup.serverCertHash", setup.serverCertHash);
    r.boolean(h, "hostVpnEnabled", "provisioning.hostBasedSetup.hostVpnEnabled", setup.hostVpnEnabled);
    r.strings(h, "dnsSuffixes", "provisioning.hostBasedSetup.dnsSuffixes", setup.dnsSuffixes);
    s.hostBasedSetup = std::move(setup);
  }
  r.hashAlgorithm(prov, "amtCertHashAlgorithm", "provisioning.amtCertHashAlgorithm", s.amtCertHashAlgorithm);
  r.hexBytes(prov, "amtCertHash", "provisioning.amtCertHash", s.amtCertHash);

  const json::object* acc = r.object(top, "accounts", "accounts", true);
  const json::object* admin = r.object(acc, "admin", "accounts.admin", true);
  r.string(admin, "user", "accounts.admin.user", s.admin.user);
  r.string(admin, "ha1", "accounts.admin.ha1", s.admin.ha1, true);
  const json::object* lsa = r.object(acc, "localSystem", "accounts.localSystem", true);
  r.string(lsa, "user", "accounts.localSystem.user", s.localSystemAccount.user, true);
  r.string(lsa, "password", "accounts.localSystem.password", s.localSystemAccount.password, true);
  if (acc && acc->contains("aclUsers")) {
    std::vector<AclUser> users;
    r.objects(acc, "aclUsers", "accounts.aclUsers", [&](const json::object* e, const std::string& path) {
      AclUser u;
      r.unsignedInt(e, "handle", path + ".handle", u.handle);
      r.string(e, "user", path + ".user", u.user, true);
      r.string(e, "ha1", path + ".ha1", u.ha1, true);
      std::string access = aclAccessName(u.access);
      r.string(e, "access", path + ".access", access);
      bool known = false;
      for (auto a : {AclAccess::LocalOnly, AclAccess::NetworkOnly, AclAccess::LocalAndNetwork}) {
        if (access == aclAccessName(a)) {
          u.access = a;
          known = true;
        }
      }
      if (!known) r.fail(path + ".access", "must be local, network or localAndNetwork");
      if (const json::array* realms = r.array(e, "realms", path + ".realms")) {
        for (const auto& realm : *realms) {
          std::uint64_t value = std::numeric_limits<std::uint64_t>::max();
          if (realm.is_uint64()) value = realm.get_uint64();
          if (realm.is_int64() && realm.get_int64() >= 0) value = static_cast<std::uint64_t>(realm.get_int64());
          if (value > std::numeric_limits<std::uint32_t>::max()) {
            r.fail(path + ".realms", "must hold only realm numbers");
            break;
          }
          u.realms.push_back(static_cast<std::uint32_t>(value));
        }
      }
      r.boolean(e, "enabled", path + ".enabled", u.enabled);
      users.push_back(std::move(u));
    });
    s.aclUsers = std::move(users);
  } else {
    r.array(acc, "aclUsers", "accounts.aclUsers");  // marks the state as defaulted
  }

  const json::object* net = r.object(top, "network", "network");
  r.string(net, "hostName", "network.hostName", s.hostName);
  r.string(net, "domainName", "network.domainName", s.domainName);
  r.string(net, "pkiDnsSuffix", "network.pkiDnsSuffix", s.pkiDnsSuffix);
  r.strings(net, "dnsSuffixList", "network.dnsSuffixList", s.dnsSuffixList);
  r.boolean(net, "sharedFqdn", "network.sharedFqdn", s.sharedFqdn);
  r.boolean(net, "ddnsUpdateEnabled", "network.ddnsUpdateEnabled", s.ddnsUpdateEnabled);
  r.unsignedInt(net, "ddnsUpdateInterval", "network.ddnsUpdateInterval", s.ddnsUpdateInterval);
  r.unsignedInt(net, "ddnsTtl", "network.ddnsTtl", s.ddnsTtl);
  r.string(net, "hostFqdn", "network.hostFqdn", s.hostFqdn);
  r.lan(net, "wired", "network.wired", s.wired);
  r.lan(net, "wireless", "network.wireless", s.wireless);
  r.boolean(net, "hostVpnEnabled", "network.hostVpnEnabled", s.hostVpnEnabled);
  if (const json::object* ea = r.object(net, "enterpriseAccess", "network.enterpriseAccess")) {
    r.unsignedInt(ea, "flags", "network.enterpriseAccess.flags", s.enterpriseAccess.flags);
    std::vector<std::uint8_t> ip(s.enterpriseAccess.hostIp.begin(), s.enterpriseAccess.hostIp.end());
    r.hexBytes(ea, "hostIp", "network.enterpriseAccess.hostIp", ip);
    if (r.ok() && ip.size() != 16) r.fail("network.enterpriseAccess.hostIp", "must be 16 bytes (32 hex digits)");
    if (r.ok()) std::copy(ip.begin(), ip.end(), s.enterpriseAccess.hostIp.begin());
    r.boolean(ea, "access", "network.enterpriseAccess.access", s.enterpriseAccess.access);
  }

  const json::object* feat = r.object(top, "features", "features");
  r.boolean(feat, "solEnabled", "features.solEnabled", s.features.solEnabled);
  r.boolean(feat, "iderEnabled", "features.iderEnabled", s.features.iderEnabled);
  r.boolean(feat, "kvmEnabled", "features.kvmEnabled", s.features.kvmEnabled);
  r.boolean(feat, "webUiEnabled", "features.webUiEnabled", s.features.webUiEnabled);
  r.boolean(feat, "systemDefenseActive", "features.systemDefenseActive", s.features.systemDefenseActive);
  r.boolean(feat, "eacEnabled", "features.eacEnabled", s.features.eacEnabled);
  r.boolean(feat, "solSessionOpen", "features.solSessionOpen", s.features.solSessionOpen);
  r.boolean(feat, "iderSessionOpen", "features.iderSessionOpen", s.features.iderSessionOpen);
  r.boolean(feat, "kvmSessionActive", "features.kvmSessionActive", s.features.kvmSessionActive);

  const json::object* ra = r.object(top, "remoteAccess", "remoteAccess");
  r.unsignedInt(ra, "networkStatus", "remoteAccess.networkStatus", s.remoteAccess.networkStatus);
  r.unsignedInt(ra, "connectionStatus", "remoteAccess.connectionStatus", s.remoteAccess.connectionStatus);
  r.unsignedInt(ra, "trigger", "remoteAccess.trigger", s.remoteAccess.trigger);
  r.string(ra, "mpsHostname", "remoteAccess.mpsHostname", s.remoteAccess.mpsHostname);
  r.boolean(ra, "userInitiatedConnectionRequested", "remoteAccess.userInitiatedConnectionRequested",
            s.remoteAccess.userInitiatedConnectionRequested);

  const json::object* host = r.object(top, "host", "host");
  r.unsignedInt(host, "lastResetReason", "host.lastResetReason", s.lastHostResetReason);
  r.unsignedInt(host, "lastResetTimestamp", "host.lastResetTimestamp", s.lastHostResetTimestamp);
  r.string(host, "powerPolicy", "host.powerPolicy", s.powerPolicy);
  r.unsignedInt(host, "lastMeResetType", "host.lastMeResetType", s.lastMeResetType);

  if (const json::array* arr = r.array(top, "certHashes", "certHashes")) {
    std::vector<CertHashEntry> entries;
    for (std::size_t i = 0; i < arr->size() && r.ok(); ++i) {
      std::string path = "certHashes[" + std::to_string(i) + "]";
      if (!(*arr)[i].is_object()) {
        r.fail(path, "must be an object");
        break;
      }
      const json::object* e = &(*arr)[i].get_object();
      CertHashEntry entry;
      if (!e->contains("handle") || !e->contains("hash")) {
        r.fail(path, "needs at least handle and hash");
        break;
      }
      r.unsignedInt(e, "handle", path + ".handle", entry.handle);
      r.string(e, "name", path + ".name", entry.name);
      r.hashAlgorithm(e, "algorithm", path + ".algorithm", entry.algorithm);
      r.hexBytes(e, "hash", path + ".hash", entry.hash);
      r.boolean(e, "isDefault", path + ".isDefault", entry.isDefault);
      r.boolean(e, "isActive", path + ".isActive", entry.isActive);
      entries.push_back(std::move(entry));
    }
    s.certHashes = std::move(entries);
  }

  readWsmanState(r, top, s);

  if (!r.ok()) return false;
  if (!validateState(s, error)) return false;
  out = std::move(s);
  return true;
}

bool validateState(const PlatformState& s, std::string& error) {
  auto fail = [&](std::string what) {
    error = std::move(what);
    return false;
  };
  std::vector<std::uint8_t> bytes;
  if (s.digestRealm.size() != 39 || s.digestRealm.rfind("Digest:", 0) != 0 || !fromHex(s.digestRealm.substr(7), bytes))
    return fail("identity.digestRealm must be \"Digest:\" followed by 32 hex digits");
  if (s.admin.user.empty()) return fail("accounts.admin.user must not be empty");
  if (s.admin.ha1.size() != 32 || !fromHex(s.admin.ha1, bytes)) return fail("accounts.admin.ha1 must be 32 hex digits");
  if (s.localSystemAccount.user.empty() || s.localSystemAccount.user.size() > 32)
    return fail("accounts.localSystem.user must have 1 to 32 characters");
  if (s.localSystemAccount.password.empty() || s.localSystemAccount.password.size() > 32)
    return fail("accounts.localSystem.password must have 1 to 32 characters");
  for (std::size_t i = 0; i < s.aclUsers.size(); ++i) {
    const auto& u = s.aclUsers[i];
    const std::string path = "accounts.aclUsers[" + std::to_string(i) + "]";
    if (u.handle == 0) return fail(path + ".handle must not be 0");
    if (u.user.empty() || u.user.size() > 32) return fail(path + ".user must have 1 to 32 characters");
    if (u.user == s.admin.user) return fail(path + ".user must not be the admin's name");
    if (u.ha1.size() != 32 || !fromHex(u.ha1, bytes)) return fail(path + ".ha1 must be 32 hex digits");
    for (std::size_t j = 0; j < i; ++j) {
      if (s.aclUsers[j].handle == u.handle) return fail(path + ".handle duplicates another entry");
      if (s.aclUsers[j].user == u.user) return fail(path + ".user duplicates another entry");
    }
  }
  if (s.firmware.biosVersion.size() > 64) return fail("firmware.biosVersion is longer than 64 characters");
  if (s.firmware.codeVersions.size() > 50) return fail("firmware.codeVersions has more than 50 entries");
  for (const auto& cv : s.firmware.codeVersions) {
    if (cv.description.size() > 19 || cv.version.size() > 19)
      return fail("firmware.codeVersions entry \"" + cv.description + "\" has a string longer than 19 characters");
  }
  if ((s.provisioningState == ProvisioningState::Post) != (s.controlMode != ControlMode::None))
    return fail("provisioning.controlMode must be client or admin exactly when provisioning.state is post");
  if (s.hostFqdn.size() > 255) return fail("network.hostFqdn is longer than 255 characters");
  if (s.fqdn().size() > 255) return fail("network.hostName + domainName is longer than 255 characters");
  if (!s.amtCertHash.empty() && s.amtCertHash.size() != hashLength(s.amtCertHashAlgorithm))
    return fail("provisioning.amtCertHash length does not match its algorithm");
  if (s.hostBasedSetup && s.hostBasedSetup->serverCertHash.size() > 64)
    return fail("provisioning.hostBasedSetup.serverCertHash is longer than 64 bytes");
  if (s.certHashes.size() > 23) return fail("certHashes has more than 23 entries");
  if (s.logs.messageLog.size() > EventLogs::kMaxMessageLogRecords) return fail("logs.messageLog has too many records");
  for (const auto& rec : s.logs.messageLog)
    if (rec.size() != 21) return fail("logs.messageLog records must be 21 bytes");
  if (s.logs.auditLog.size() > EventLogs::kMaxAuditLogRecords) return fail("logs.auditLog has too many records");
  for (std::size_t i = 0; i < s.certHashes.size(); ++i) {
    const auto& e = s.certHashes[i];
    if (e.hash.size() != hashLength(e.algorithm))
      return fail("certHashes[" + std::to_string(i) + "].hash length does not match its algorithm");
    if (e.name.size() > 255) return fail("certHashes[" + std::to_string(i) + "].name is too long");
    for (std::size_t j = 0; j < i; ++j)
      if (s.certHashes[j].handle == e.handle)
        return fail("certHashes[" + std::to_string(i) + "].handle duplicates another entry");
  }
  return true;
}

}  // namespace mesim::platform
