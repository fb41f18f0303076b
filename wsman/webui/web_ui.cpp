#include "wsman/webui/web_ui.h"

#include <cstdio>
#include <ctime>
#include <optional>

#include "common/text_codecs.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/wifi_profiles.h"
#include "wsman/cim/realms.h"
#include "wsman/webui/amt_storage.h"
#include "wsman/webui/html.h"

namespace mesim::wsman::webui {

using cim::Realm;
using cim::RealmSet;
using http::WebRequest;
using http::WebResponse;

struct WebUi::Caller {
  std::string user;
  bool local = false;
  std::string peerAddress;
  RealmSet realms;
};

namespace {

constexpr std::string_view kInvalidRequest = "/invreq.htm";

WebResponse redirect(std::string location) {
  WebResponse r;
  r.status = 303;
  r.header("Location", std::move(location)).header("Content-Type", "text/html");
  return r;
}

WebResponse simple(unsigned status, std::string title, std::string detail) {
  WebResponse r;
  r.status = status;
  r.header("Content-Type", "text/html").header("Cache-Control", "no-cache");
  r.body = "<html><head><title>" + escapeHtml(title) + "</title></head><body><h1>" + escapeHtml(title) + "</h1><p>" +
           escapeHtml(detail) + "</p></body></html>\n";
  return r;
}

// The realms a page or form needs (any one of them); an empty set: any user who logged on. nullopt: no such page.
std::optional<RealmSet> realmsFor(std::string_view path) {
  if (path == "/index.htm" || path == "/invreq.htm") return RealmSet{Realm::GeneralInfo};
  if (path.starts_with("/hw-")) return RealmSet{Realm::HardwareAsset};
  if (path == "/events.htm") return RealmSet{Realm::EventLogReader, Realm::EventManager};
  if (path == "/remote.htm" || path == "/remoteform") return RealmSet{Realm::RemoteControl};
  if (path == "/power.htm" || path == "/ip.htm" || path == "/ipv6.htm" || path == "/wlan.htm" || path == "/fqdn.htm" ||
      path == "/fqdnform")
    return RealmSet{Realm::PtAdministration};
  if (path == "/acl.htm" || path == "/user.htm" || path == "/userform") return RealmSet{Realm::PtAdministration};
  if (path == "/links.htm") return RealmSet{};
  return std::nullopt;
}

bool isForm(std::string_view path) { return path == "/remoteform" || path == "/fqdnform" || path == "/user.htm" || path == "/userform"; }

std::string hiddenToken(const std::string& token) {
  return "<input type=\"hidden\" name=\"t\" value=\"" + escapeHtml(token) + "\">";
}

std::string message(std::string_view text, bool error) {
  if (text.empty()) return {};
  return std::string("<p class=\"") + (error ? "error" : "note") + "\">" + escapeHtml(text) + "</p>\n";
}

std::string powerStateText(std::uint32_t state) {
  namespace power = platform::power;
  switch (state) {
    case power::kOn: return "On";
    case power::kSleepLight:
    case power::kSleepDeep: return "Sleep";
    case power::kHibernate: return "Hibernate";
    default: return "Off";
  }
}

std::string dateText(std::uint32_t unixSeconds, const char* format) {
  const std::time_t t = unixSeconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[64];
  std::strftime(out, sizeof out, format, &tm);
  return out;
}

std::string accessText(platform::AclAccess access) {
  switch (access) {
    case platform::AclAccess::LocalOnly: return "Local";
    case platform::AclAccess::NetworkOnly: return "Network";
    default: return "Local and network";
  }
}

// AMT's web UI takes plain passwords and holds them to its strong-password rule (8..32 characters with a digit, a
// lower- and an upper-case letter and a symbol); only their HA1 is kept.
bool strongPassword(std::string_view password) {
  if (password.size() < 8 || password.size() > 32) return false;
  bool digit = false, lower = false, upper = false, symbol = false;
  for (unsigned char c : password) {
    if (c < 0x21 || c > 0x7E) return false;
    if (c >= '0' && c <= '9') digit = true;
    else if (c >= 'a' && c <= 'z') lower = true;
    else if (c >= 'A' && c <= 'Z') upper = true;
    else symbol = true;
  }
  return digit && lower && upper && symbol;
}

std::string returnValueText(std::uint32_t rv) {
  switch (rv) {
    case cim::status::kSuccess: return "";
    case cim::status::kInvalidParameter: return "The user name is not valid (1 to 32 characters, not beginning with $$).";
    case cim::status::kInvalidPassword: return "The password is not valid.";
    case cim::status::kInvalidRealm: return "A selected permission cannot be given to a user.";
    case cim::status::kDuplicate: return "A user of that name exists already.";
    case cim::status::kMaxLimitReached: return "No more users can be added.";
    case cim::status::kInvalidHandle: return "There is no such user.";
    default: return "The change could not be made (status " + std::to_string(rv) + ").";
  }
}

// The label of each remote-control radio button and the RequestPowerStateChange code it sends.
struct RemoteAction {
  const char* value;
  const char* label;
  std::uint32_t request;
};
constexpr RemoteAction kRemoteActions[] = {
    {"1", "Turn power off", platform::power::kOffSoft},
    {"2", "Turn power on", platform::power::kOn},
    {"3", "Cycle power off and on", platform::power::kPowerCycleSoft},
    {"4", "Reset", platform::power::kMasterBusReset},
    {"5", "Shut down the operating system", platform::power::kOffSoftGraceful},
};

}  // namespace

WebUi::WebUi(platform::PlatformModel& platform, const core::FirmwareClock& clock, platform::HostPowerStateMachine& power,
             const cim::ClassRegistry& registry)
    : platform_(platform), clock_(clock), power_(power), registry_(registry) {}

bool WebUi::isPublic(std::string_view method, std::string_view path) const {
  if (method != "GET" && method != "HEAD") return false;
  return path == "/" || path == "/logon.htm" || path == "/styles.css" || path == "/logo.gif" || path == "/run.gif";
}

http::WebService WebUi::service() {
  http::WebService s;
  s.isPublic = [this](std::string_view method, std::string_view path) { return isPublic(method, path); };
  s.handle = [this](const WebRequest& request) { return handle(request); };
  return s;
}

std::string WebUi::computerName() const {
  const auto& name = platform_.state().hostName;
  return name.empty() ? platform_.fqdn() : name;
}

cim::CimContext WebUi::context(const Caller& caller) {
  cim::CimContext ctx{platform_, clock_, power_, runtime_, caller.user, caller.local};
  ctx.hardware = hardware_;
  return ctx;
}

WebResponse WebUi::framed(std::string_view path, std::string main) {
  ++stats_.pages;
  WebResponse r;
  r.header("Content-Type", "text/html; charset=utf-8").header("Cache-Control", "no-cache").header("X-Frame-Options", "DENY");
  r.body = framedPage(computerName(), path, main);
  return r;
}

WebResponse WebUi::handle(const WebRequest& request) {
  const std::string_view path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  // AMT_WebUIService / MEBx can switch the web UI off: then there is no page but the redirect.
  if (!platform_.features().webUiEnabled && path != "/") {
    ++stats_.notFound;
    return simple(404, "Not Found", "The web user interface is disabled on this computer.");
  }
  if (AmtStorage::handles(path)) {
    if (!storage_) return simple(404, "Not Found", "This computer has no web storage.");
    return storage_->handle(request, cim::callerRealms(platform_, request.user, request.local));
  }
  if (isPublic(request.method, path)) {
    if (path == "/") return redirect("/logon.htm");
    WebResponse r;
    r.header("Cache-Control", "max-age=3600");
    if (path == "/logon.htm") {
      if (storage_) {
        if (auto stored = storage_->frontPage("logon.htm")) return *stored;  // a stored logon page replaces ours
      }
      r.header("Content-Type", "text/html; charset=utf-8");
      r.body = logonPage(computerName());
    } else if (path == "/styles.css") {
      r.header("Content-Type", "text/css");
      r.body = stylesheet();
    } else {
      r.header("Content-Type", "image/gif");
      r.body = path == "/logo.gif" ? logoImage() : runImage();
    }
    return r;
  }
  const auto needed = realmsFor(path);
  if (!needed) {
    ++stats_.notFound;
    return simple(404, "Not Found", "There is no page " + std::string(path) + " here.");
  }
  Caller caller{request.user, request.local, request.peerAddress, cim::callerRealms(platform_, request.user, request.local)};
  if (!needed->empty() && !caller.realms.intersects(*needed)) {
    ++stats_.forbidden;
    MESIM_LOG(Info, "webui", "user '" << request.user << "' may not use " << path);
    return simple(403, "Forbidden", "Your user account is not permitted to use this page.");
  }
  if (isForm(path)) {
    if (request.method != "POST") {
      WebResponse r = simple(405, "Method Not Allowed", "This form takes POST.");
      r.header("Allow", "POST");
      return r;
    }
    return form(caller, path, request);
  }
  if (!get) {
    WebResponse r = simple(405, "Method Not Allowed", "This page takes GET.");
    r.header("Allow", "GET, HEAD");
    return r;
  }
  if (path == "/index.htm" && storage_) {
    if (auto stored = storage_->frontPage("index.htm")) return *stored;  // a stored front page replaces ours
  }
  return page(caller, path);
}

WebResponse WebUi::page(const Caller& caller, std::string_view path) {
  if (path == "/index.htm") return framed(path, statusPage());
  if (path.starts_with("/hw-")) {
    auto main = hardwarePage(caller, path);
    if (main.empty()) {
      ++stats_.notFound;
      return simple(404, "Not Found", "There is no page " + std::string(path) + " here.");
    }
    return framed(path, std::move(main));
  }
  if (path == "/events.htm") return framed(path, eventsPage());
  if (path == "/remote.htm") return framed(path, remotePage(caller, ""));
  if (path == "/power.htm") return framed(path, powerPage());
  if (path == "/ip.htm") return framed(path, ipPage());
  if (path == "/ipv6.htm") return framed(path, ipv6Page());
  if (path == "/wlan.htm") return framed(path, wlanPage());
  if (path == "/fqdn.htm") return framed(path, fqdnPage(caller, ""));
  if (path == "/acl.htm") return framed(path, aclPage(caller, "", false));
  if (path == "/links.htm") return framed(path, linksPage());
  if (path == kInvalidRequest)
    return framed(path, "<h1>Invalid Request</h1>\n<p class=\"error\">The request was not accepted: its form was "
                        "stale or not sent from this web interface. Open the page again and repeat it.</p>\n");
  ++stats_.notFound;
  return simple(404, "Not Found", "There is no page " + std::string(path) + " here.");
}

// ---- pages

std::string WebUi::statusPage() {
  const auto& s = platform_.state();
  const auto now = core::unixSeconds(clock_.now()) + static_cast<std::uint32_t>(s.amtClockOffset);
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Power", powerStateText(power_.state())},
      {"IP address", s.wired.ipv4 ? text::ipv4Text(s.wired.ipv4) : "Not available"},
      {"IPv6 address", !s.wiredIpv6.enabled ? std::string("IPv6 is disabled")
                       : s.wiredIpv6.address.empty() ? std::string("Automatic") : s.wiredIpv6.address},
      {"System ID", platform_.uuidString()},
      {"Date", dateText(now, "%m/%d/%Y")},
      {"Time", dateText(now, "%I:%M %p")},
  };
  return "<h1>System Status</h1>\n" + labelValueTable("System", rows) +
         labelValueTable("Intel\xC2\xAE Active Management Technology",
                         {{"Version", s.firmware.code.toString()},
                          {"Provisioning state", s.provisioningState == platform::ProvisioningState::Post ? "Provisioned"
                                                 : s.provisioningState == platform::ProvisioningState::In
                                                     ? "In provisioning"
                                                     : "Not provisioned"},
                          {"Control mode", s.controlMode == platform::ControlMode::Admin    ? "Admin control mode"
                                           : s.controlMode == platform::ControlMode::Client ? "Client control mode"
                                                                                            : "None"}});
}

std::string WebUi::hardwarePage(const Caller& caller, std::string_view path) {
  auto ctx = context(caller);
  // The instances WS-Man serves for `className` itself (not its subclasses).
  auto own = [&](std::string_view className) -> std::vector<cim::Instance> {
    const auto* cls = registry_.byName(className);
    if (!cls || !cls->enumerate) return {};
    return cls->enumerate(ctx);
  };
  auto rowsOf = [](const cim::Instance& i, std::initializer_list<std::pair<const char*, const char*>> fields) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& [label, property] : fields) {
      auto value = i.str(property);
      if (!value.empty()) rows.emplace_back(label, std::move(value));
    }
    return rows;
  };
  std::string main;
  if (path == "/hw-sys.htm") {
    main = "<h1>System Information</h1>\n";
    for (const auto& i : own("CIM_Chassis")) {
      auto rows = rowsOf(i, {{"Manufacturer", "Manufacturer"}, {"Model", "Model"}, {"Version", "Version"},
                             {"Serial number", "SerialNumber"}});
      rows.emplace_back("System ID", platform_.uuidString());
      main += labelValueTable("Platform", rows);
    }
    for (const auto& i : own("CIM_Card"))
      main += labelValueTable("Baseboard", rowsOf(i, {{"Manufacturer", "Manufacturer"}, {"Product name", "Model"},
                                                      {"Version", "Version"}, {"Serial number", "SerialNumber"},
                                                      {"Asset tag", "Tag"}, {"Replaceable?", "CanBeFRUed"}}));
    for (const auto& i : own("CIM_BIOSElement")) {
      auto rows = rowsOf(i, {{"Vendor", "Manufacturer"}, {"Version", "Version"}});
      if (auto date = i.str("ReleaseDate"); date.size() >= 10)
        rows.emplace_back("Release date", date.substr(5, 2) + "/" + date.substr(8, 2) + "/" + date.substr(0, 4));
      main += labelValueTable("BIOS", rows);
    }
  } else if (path == "/hw-proc.htm") {
    main = "<h1>Processor Information</h1>\n";
    const auto chips = own("CIM_Chip");
    const auto cpus = own("CIM_Processor");
    for (std::size_t n = 0; n < cpus.size(); ++n) {
      std::vector<std::pair<std::string, std::string>> rows;
      if (n < chips.size())
        rows = rowsOf(chips[n], {{"Manufacturer", "Manufacturer"}, {"Version", "Version"}});
      for (auto& row : rowsOf(cpus[n], {{"Family", "Family"}, {"Maximum socket speed (MHz)", "MaxClockSpeed"},
                                        {"Current speed (MHz)", "CurrentClockSpeed"},
                                        {"External bus speed (MHz)", "ExternalBusClockSpeed"}, {"Stepping", "Stepping"}}))
        rows.push_back(std::move(row));
      rows.emplace_back("Status", cpus[n].str("CPUStatus") == "1" ? "Enabled" : "Disabled");
      main += labelValueTable("Processor " + std::to_string(n + 1), rows);
    }
    if (cpus.empty()) main += "<p class=\"note\">No processor information.</p>\n";
  } else if (path == "/hw-mem.htm") {
    main = "<h1>Memory Information</h1>\n";
    std::size_t n = 0;
    for (const auto& i : own("CIM_PhysicalMemory")) {
      auto rows = rowsOf(i, {{"Module", "BankLabel"}, {"Manufacturer", "Manufacturer"}, {"Serial number", "SerialNumber"},
                             {"Part number", "PartNumber"}, {"Speed (MHz)", "MaxMemorySpeed"},
                             {"Form factor", "FormFactor"}, {"Type", "MemoryType"}, {"Asset tag", "Tag"}});
      if (auto capacity = i.str("Capacity"); !capacity.empty())
        rows.insert(rows.begin() + 1, {"Size (MB)", std::to_string(std::stoull(capacity) / (1024 * 1024))});
      main += labelValueTable("Module " + std::to_string(++n), rows);
    }
    if (n == 0) main += "<p class=\"note\">No memory information.</p>\n";
  } else if (path == "/hw-disk.htm") {
    main = "<h1>Disk Information</h1>\n";
    std::size_t n = 0;
    for (const auto& i : own("CIM_MediaAccessDevice")) {
      auto rows = rowsOf(i, {{"Device", "ElementName"}, {"Device ID", "DeviceID"}});
      if (auto size = i.str("MaxMediaSize"); !size.empty())
        rows.emplace_back("Size (MB)", std::to_string(std::stoull(size) / 1000));
      main += labelValueTable("Disk " + std::to_string(++n), rows);
    }
    if (n == 0) main += "<p class=\"note\">No disk information.</p>\n";
  } else if (path == "/hw-batt.htm") {
    main = "<h1>Battery Information</h1>\n";
    std::size_t n = 0;
    for (const auto& i : own("CIM_Battery"))
      main += labelValueTable("Battery " + std::to_string(++n),
                              rowsOf(i, {{"Device", "ElementName"}, {"Device ID", "DeviceID"}, {"Chemistry", "Chemistry"},
                                         {"Design capacity", "DesignCapacity"}, {"Design voltage", "DesignVoltage"}}));
    if (n == 0) main += "<p class=\"note\">This computer reports no battery.</p>\n";
  }
  return main;
}

std::string WebUi::eventsPage() {
  std::string main = "<h1>Event Log</h1>\n<table class=\"log\">\n<tr><th>Event</th><th>Date</th><th>Time</th>"
                     "<th>Source</th><th>Description</th></tr>\n";
  const auto& records = platform_.state().logs.messageLog;
  std::size_t number = 0;
  for (auto it = records.rbegin(); it != records.rend(); ++it) {  // newest first, as AMT lists them
    const auto record = platform::decodeMessageLogRecord(*it);
    if (!record) continue;
    std::string description = platform::describeMessageLogEvent(record->event);
    if (description.empty()) description = platform::eventTypeName(record->event.eventType);
    std::string source = platform::sensorTypeName(record->event.sensorType);
    if (source.empty()) source = "Sensor type " + std::to_string(record->event.sensorType);
    main += "<tr><td class=\"r1\">" + std::to_string(++number) + "</td><td class=\"r1\">" +
            dateText(record->timestamp, "%m/%d/%Y") + "</td><td class=\"r1\">" + dateText(record->timestamp, "%I:%M %p") +
            "</td><td class=\"r1\">" + escapeHtml(source) + "</td><td class=\"r1\">" + escapeHtml(description) +
            "</td></tr>\n";
  }
  main += "</table>\n";
  if (number == 0) main += "<p class=\"note\">The event log is empty.</p>\n";
  return main;
}

std::string WebUi::remotePage(const Caller& caller, std::string_view note) {
  const auto token = tokens_.issue(caller.user, clock_.now());
  const auto available = power_.availableRequests();
  std::string main = "<h1>Remote Control</h1>\n" + message(note, true) + "<p>Power state: " +
                     powerStateText(power_.state()) + "</p>\n"
                     "<form method=\"post\" action=\"/remoteform\" onsubmit=\"return confirm('Are you sure you want to "
                     "send this command to the computer? It may lose unsaved work.');\">\n" +
                     hiddenToken(token) + "\n<h2>Select a command</h2>\n";
  for (const auto& action : kRemoteActions) {
    const bool possible = std::find(available.begin(), available.end(), action.request) != available.end();
    main += std::string("<p><input type=\"radio\" name=\"amt_html_rc_radio_group\" value=\"") + action.value + "\"" +
            (possible ? "" : " disabled") + "> " + action.label + "</p>\n";
  }
  main += "<h2>Boot options</h2>\n<p><select name=\"amt_html_rc_boot_special\"><option value=\"1\" selected>Normal "
          "boot</option></select></p>\n<p><input type=\"submit\" value=\"Send Command\"></p>\n</form>\n";
  return main;
}

std::string WebUi::powerPage() {
  const auto& s = platform_.state();
  const std::string policy = s.powerPolicy.empty() ? "Desktop: ON in S0, S3, S4-5" : s.powerPolicy;
  return "<h1>Power Policies</h1>\n" +
         labelValueTable("Power", {{"Power state", powerStateText(power_.state())}, {"Active power policy", policy}}) +
         "<p class=\"note\">The power policy is chosen in the Intel\xC2\xAE MEBx.</p>\n";
}

std::string WebUi::ipPage() {
  const auto& w = platform_.state().wired;
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Network interface", w.enabled ? "Enabled" : "Disabled"},
      {"Link", w.linkUp ? "Up" : "Down"},
      {"MAC address", text::macText(w.mac, '-')},
      {"Obtain IP settings", w.dhcpEnabled ? "Automatically (DHCP)" : "Manually"},
      {"IP address", w.ipv4 ? text::ipv4Text(w.ipv4) : "Not available"},
      {"Subnet mask", text::ipv4Text(w.effectiveSubnetMask())},
      {"Default gateway", text::ipv4Text(w.effectiveGateway())},
      {"Preferred DNS server", text::ipv4Text(w.effectivePrimaryDns())},
      {"Alternate DNS server", w.secondaryDns ? text::ipv4Text(w.secondaryDns) : "Not set"},
  };
  return "<h1>Network Settings</h1>\n" + labelValueTable("Wired network", rows);
}

// The wired port's IPv6 settings (IPS_IPv6PortSettings, switched by its CIM_ElementSettingData).
std::string WebUi::ipv6Page() {
  const auto& v6 = platform_.state().wiredIpv6;
  static const char* const kIdTypes[] = {"Randomized", "Intel MAC based", "Manual"};
  const auto type = static_cast<std::size_t>(v6.interfaceIdType);
  auto orNone = [](const std::string& v) { return v.empty() ? std::string("None") : v; };  // the table escapes
  std::string page = "<h1>IPv6 Network Settings</h1>\n" +
                     labelValueTable("IPv6", {{"IPv6", v6.enabled ? "Enabled" : "Disabled"},
                                              {"Interface ID type", type < 3 ? kIdTypes[type] : "Unknown"},
                                              {"Static IPv6 address", orNone(v6.address)},
                                              {"Default router", orNone(v6.defaultRouter)},
                                              {"Preferred DNS server", orNone(v6.primaryDns)},
                                              {"Alternate DNS server", orNone(v6.secondaryDns)}});
  if (!v6.enabled) page += "<p class=\"note\">IPv6 is not enabled on this computer's Intel\xC2\xAE AMT network interface.</p>\n";
  return page;
}

// The wireless port and its profiles (docs/wireless-and-8021x.md); the passphrases stay in AMT.
std::string WebUi::wlanPage() {
  const auto& s = platform_.state();
  if (!s.wireless.present)
    return "<h1>Wireless Settings</h1>\n<p class=\"note\">This computer has no wireless network interface.</p>\n";
  namespace ps = platform::wifi_port_state;
  const char* state = s.wifi.portState == ps::kEnabledInS0AndSxAc ? "Enabled in S0 and in Sx on AC power"
                      : s.wifi.portState == ps::kEnabledInS0     ? "Enabled in S0"
                                                                  : "Disabled";
  const platform::WifiProfile* connected = platform::connectedProfile(s.wifi);
  std::string page = "<h1>Wireless Settings</h1>\n" +
                     labelValueTable("Wireless network", {{"Wireless management", state},
                                                          {"Link", s.wireless.linkUp ? "Up" : "Down"},
                                                          {"Connected network", connected ? connected->ssid : "None"},
                                                          {"MAC address", text::macText(s.wireless.mac, '-')},
                                                          {"IP address", s.wireless.ipv4 ? text::ipv4Text(s.wireless.ipv4) : "Not available"}});
  auto security = [](const platform::WifiProfile& p) {
    namespace a = platform::wifi_auth;
    switch (p.authenticationMethod) {
      case a::kOpenSystem: return "Open system";
      case a::kSharedKey: return "Shared key";
      case a::kWpaPsk: return "WPA PSK";
      case a::kWpaIeee8021x: return "WPA 802.1X";
      case a::kWpa2Psk: return "WPA2 PSK";
      case a::kWpa2Ieee8021x: return "WPA2 802.1X";
      default: return "Other";
    }
  };
  page += "<h2>Wireless profiles</h2>\n";
  if (s.wifi.profiles.empty()) return page + "<p class=\"note\">No wireless profile.</p>\n";
  page += "<table class=\"log\">\n<tr><th>Profile name</th><th>Network name (SSID)</th><th>Priority</th><th>Security</th>"
          "<th>Encryption</th><th>Type</th></tr>\n";
  for (const auto& p : s.wifi.profiles) {
    namespace e = platform::wifi_encryption;
    const char* encryption = p.encryptionMethod == e::kCcmp ? "CCMP (AES)" : p.encryptionMethod == e::kTkip ? "TKIP"
                             : p.encryptionMethod == e::kWep ? "WEP" : "None";
    page += "<tr><td class=\"r1\">" + escapeHtml(p.elementName) + "</td><td class=\"r1\">" + escapeHtml(p.ssid) +
            "</td><td class=\"r1\">" + std::to_string(p.priority) + "</td><td class=\"r1\">" + security(p) +
            "</td><td class=\"r1\">" + encryption + "</td><td class=\"r1\">" + (p.userProfile ? "User" : "Admin") +
            "</td></tr>\n";
  }
  return page + "</table>\n";
}

std::string WebUi::fqdnPage(const Caller& caller, std::string_view note) {
  const auto& s = platform_.state();
  const auto token = tokens_.issue(caller.user, clock_.now());
  return "<h1>System Name Settings</h1>\n" + message(note, true) +
         "<form method=\"post\" action=\"/fqdnform\">\n" + hiddenToken(token) +
         "\n<table class=\"log\">\n<tr><td class=\"r1\">Computer host name</td><td class=\"r1\"><input type=\"text\" "
         "name=\"HostName\" maxlength=\"63\" value=\"" +
         escapeHtml(s.hostName) +
         "\"></td></tr>\n<tr><td class=\"r1\">Domain name</td><td class=\"r1\"><input type=\"text\" name=\"DomainName\" "
         "maxlength=\"191\" value=\"" +
         escapeHtml(s.domainName) + "\"></td></tr>\n</table>\n<p>Fully qualified domain name: " +
         escapeHtml(s.fqdn()) + "</p>\n<p><input type=\"submit\" value=\"   Submit   \"></p>\n</form>\n";
}

std::string WebUi::aclPage(const Caller& caller, std::string_view note, bool error) {
  const auto& s = platform_.state();
  const auto token = tokens_.issue(caller.user, clock_.now());
  std::string main = "<h1>User Accounts</h1>\n" + message(note, error) +
                     labelValueTable("Administrator", {{"User name", s.admin.user}}) +
                     "<h2>Users</h2>\n<form method=\"post\" action=\"/user.htm\">\n" + hiddenToken(token) +
                     "\n<table class=\"log\">\n<tr><th></th><th>User name</th><th>Access</th><th>Permissions</th>"
                     "<th>Enabled</th></tr>\n";
  for (const auto& u : s.aclUsers) {
    std::string realms;
    for (auto number : u.realms)
      if (auto realm = cim::assignableRealm(number)) realms += (realms.empty() ? "" : ", ") + std::string(cim::realmName(*realm));
    main += "<tr><td class=\"r1\"><input type=\"radio\" name=\"SelUser\" value=\"" + escapeHtml(u.user) +
            "\"></td><td class=\"r1\">" + escapeHtml(u.user) + "</td><td class=\"r1\">" + accessText(u.access) +
            "</td><td class=\"r1\">" + escapeHtml(realms) + "</td><td class=\"r1\">" + (u.enabled ? "Yes" : "No") +
            "</td></tr>\n";
  }
  main += "</table>\n";
  if (s.aclUsers.empty()) main += "<p class=\"note\">There are no users besides the administrator.</p>\n";
  main += "<p><input type=\"submit\" name=\"UserSubmit\" value=\"  New...  \"> <input type=\"submit\" "
          "name=\"UserSubmit\" value=\"  Edit...  \"> <input type=\"submit\" name=\"UserSubmit\" value=\"  Delete  \">"
          "</p>\n</form>\n";
  return main;
}

std::string WebUi::linksPage() {
  std::string main = "<h1>Web Applications Links</h1>\n";
  const auto links = storage_ ? storage_->links() : std::vector<std::pair<std::string, std::string>>{};
  if (links.empty()) return main + "<p class=\"note\">No web applications are stored on this computer.</p>\n";
  main += "<ul>\n";
  for (const auto& [title, href] : links)
    main += "<li><a href=\"" + escapeHtml(href) + "\">" + escapeHtml(title) + "</a></li>\n";
  return main + "</ul>\n";
}

// ---- forms

WebResponse WebUi::form(const Caller& caller, std::string_view path, const WebRequest& request) {
  auto parsed = parseForm(request.body);
  if (!parsed) {
    ++stats_.invalidForms;
    MESIM_LOG(Info, "webui", "form " << path << " from " << request.peerAddress << " refused: " << parsed.error().message);
    return redirect(std::string(kInvalidRequest));
  }
  const auto* token = parsed->find("t");
  if (!token || !tokens_.consume(*token, caller.user, clock_.now())) {
    ++stats_.invalidForms;
    MESIM_LOG(Info, "webui", "form " << path << " from " << request.peerAddress << " refused: "
                                     << (token ? "its token is not valid" : "it has no token"));
    return redirect(std::string(kInvalidRequest));
  }
  ++stats_.forms;
  if (path == "/remoteform") return remoteForm(caller, *parsed);
  if (path == "/fqdnform") return fqdnForm(caller, *parsed);
  if (path == "/user.htm") return userPage(caller, *parsed);
  return userForm(caller, *parsed);
}

WebResponse WebUi::remoteForm(const Caller& caller, const FormData& form) {
  const auto choice = form.get("amt_html_rc_radio_group");
  const RemoteAction* action = nullptr;
  for (const auto& a : kRemoteActions)
    if (choice == a.value) action = &a;
  const auto boot = form.find("amt_html_rc_boot_special");
  if (!action || (boot && *boot != "1")) {
    ++stats_.invalidForms;
    return redirect(std::string(kInvalidRequest));
  }
  const auto status = power_.request(action->request, platform::AuditInitiator{caller.user, caller.local, caller.peerAddress});
  MESIM_LOG(Info, "webui", "user '" << caller.user << "': " << action->label << " -> status "
                                    << static_cast<std::uint32_t>(status));
  if (status == platform::PowerChangeStatus::Completed) return redirect("/remote.htm");
  const std::string why = status == platform::PowerChangeStatus::InvalidState
                              ? std::string("The command is not possible while the power state is ") +
                                    powerStateText(power_.state()) + "."
                              : "The command failed.";
  return framed("/remote.htm", remotePage(caller, why));
}

WebResponse WebUi::fqdnForm(const Caller& caller, const FormData& form) {
  const auto* host = form.find("HostName");
  const auto* domain = form.find("DomainName");
  if (!host || !domain) {
    ++stats_.invalidForms;
    return redirect(std::string(kInvalidRequest));
  }
  const auto* cls = registry_.byName("AMT_GeneralSettings");
  auto ctx = context(caller);
  const auto current = cls && cls->enumerate ? cls->enumerate(ctx) : std::vector<cim::Instance>{};
  if (!cls || !cls->put || current.empty()) return framed("/fqdn.htm", fqdnPage(caller, "System names cannot be set."));
  // AMT_GeneralSettings' own Put: the same checks and the same state as a console's.
  const auto fault = cls->put(ctx, current.front(), {{"HostName", cim::Value::text(*host)},
                                                      {"DomainName", cim::Value::text(*domain)}});
  if (fault)
    return framed("/fqdn.htm", fqdnPage(caller, fault->reason.empty() ? "The host name or domain name is not valid."
                                                                      : fault->reason));
  return redirect("/fqdn.htm");
}

WebResponse WebUi::userPage(const Caller& caller, const FormData& form) {
  const auto submit = form.get("UserSubmit");
  const auto selected = form.get("SelUser");
  const auto& users = platform_.state().aclUsers;
  const platform::AclUser* user = nullptr;
  for (const auto& u : users)
    if (u.user == selected) user = &u;
  const auto token = tokens_.issue(caller.user, clock_.now());
  auto trimmed = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  const auto verb = trimmed(submit);
  if ((verb == "Edit..." || verb == "Delete") && !user)
    return framed("/acl.htm", aclPage(caller, "Select a user first."));
  if (verb == "Delete") {
    return framed("/acl.htm", "<h1>Delete User</h1>\n<form method=\"post\" action=\"/userform\">\n" + hiddenToken(token) +
                                  "\n<input type=\"hidden\" name=\"OldUserName\" value=\"" + escapeHtml(user->user) +
                                  "\"><input type=\"hidden\" name=\"command\" value=\"3\">\n<p>Delete the user " +
                                  escapeHtml(user->user) +
                                  "?</p>\n<p><input type=\"submit\" name=\"UserSubmit\" value=\"Delete\"></p>\n</form>\n");
  }
  if (verb != "New..." && verb != "Edit...") {
    ++stats_.invalidForms;
    return redirect(std::string(kInvalidRequest));
  }
  const bool editing = verb == "Edit...";
  std::string main = std::string("<h1>") + (editing ? "Edit User" : "New User") +
                     "</h1>\n<form method=\"post\" action=\"/userform\">\n" + hiddenToken(token) +
                     "\n<input type=\"hidden\" name=\"OldUserName\" value=\"" + (editing ? escapeHtml(user->user) : "") +
                     "\"><input type=\"hidden\" name=\"command\" value=\"" + (editing ? "2" : "1") +
                     "\">\n<table class=\"log\">\n<tr><td class=\"r1\">User name</td><td class=\"r1\"><input type=\"text\" "
                     "name=\"UserName\" maxlength=\"32\" value=\"" +
                     (editing ? escapeHtml(user->user) : "") +
                     "\"></td></tr>\n<tr><td class=\"r1\">Password</td><td class=\"r1\"><input type=\"password\" "
                     "name=\"UserPwd\" maxlength=\"32\"></td></tr>\n<tr><td class=\"r1\">Confirm password</td><td "
                     "class=\"r1\"><input type=\"password\" name=\"UserPwd2\" maxlength=\"32\"></td></tr>\n"
                     "<tr><td class=\"r1\">Access</td><td class=\"r1\"><select name=\"AccessPermission\">";
  const auto access = editing ? user->access : platform::AclAccess::LocalAndNetwork;
  for (auto a : {platform::AclAccess::LocalOnly, platform::AclAccess::NetworkOnly, platform::AclAccess::LocalAndNetwork})
    main += "<option value=\"" + std::to_string(static_cast<unsigned>(a)) + "\"" + (a == access ? " selected" : "") + ">" +
            accessText(a) + "</option>";
  main += "</select></td></tr>\n<tr><td class=\"r1\">Permissions</td><td class=\"r1\">\n";
  for (auto realm : cim::kAllRealms) {
    const auto number = static_cast<std::uint32_t>(realm);
    if (!cim::assignableRealm(number)) continue;
    const bool has = editing && std::find(user->realms.begin(), user->realms.end(), number) != user->realms.end();
    main += "<input type=\"checkbox\" name=\"Realm\" value=\"" + std::to_string(number) + "\"" + (has ? " checked" : "") +
            "> " + std::string(cim::realmName(realm)) + "<br>\n";
  }
  main += "</td></tr>\n</table>\n<p class=\"note\">A password has 8 to 32 characters, among them a digit, a lower- and "
          "an upper-case letter and a symbol. Leave it empty to keep the current one (not when renaming).</p>\n"
          "<p><input type=\"submit\" name=\"UserSubmit\" value=\"Submit\"></p>\n</form>\n";
  return framed("/acl.htm", std::move(main));
}

WebResponse WebUi::userForm(const Caller& caller, const FormData& form) {
  const auto command = form.get("command");
  const auto oldName = form.get("OldUserName");
  const auto& state = platform_.state();
  const platform::AclUser* existing = nullptr;
  for (const auto& u : state.aclUsers)
    if (u.user == oldName) existing = &u;
  const auto* cls = registry_.byName("AMT_AuthorizationService");
  if (!cls || (command != "1" && command != "2" && command != "3") || (command != "1" && !existing)) {
    ++stats_.invalidForms;
    return redirect(std::string(kInvalidRequest));
  }
  auto ctx = context(caller);
  const auto targets = cls->enumerate ? cls->enumerate(ctx) : std::vector<cim::Instance>{};
  if (targets.empty()) return framed("/acl.htm", aclPage(caller, "User accounts cannot be changed."));
  // AMT_AuthorizationService's own methods: the same checks and state as a console's Add/Update/RemoveUserAclEntry.
  auto call = [&](std::string_view name, const cim::Arguments& in) -> std::uint32_t {
    const auto* method = cls->method(name);
    return method ? method->handler(ctx, targets.front(), in).returnValue : cim::status::kInternalError;
  };
  std::uint32_t rv = 0;
  std::string done;
  if (command == "3") {
    rv = call("RemoveUserAclEntry", {{"Handle", cim::Value::number(existing->handle)}});
    done = "The user " + oldName + " was deleted.";
  } else {
    const auto name = form.get("UserName");
    const auto password = form.get("UserPwd");
    if (password != form.get("UserPwd2")) return framed("/acl.htm", aclPage(caller, "The passwords do not match."));
    std::string ha1;
    if (!password.empty()) {
      if (!strongPassword(password))
        return framed("/acl.htm", aclPage(caller, "The password is not strong enough: it needs 8 to 32 characters "
                                                  "with a digit, a lower- and an upper-case letter and a symbol."));
      ha1 = platform::digestHa1(name, platform_.digestRealm(), password);
    } else if (command == "2" && name == oldName) {
      ha1 = existing->ha1;  // unchanged: the HA1 still matches the name
    } else {
      return framed("/acl.htm", aclPage(caller, "Enter a password for the user."));
    }
    const auto ha1Bytes = text::fromHex(ha1);
    cim::Arguments in{{"DigestUsername", cim::Value::text(name)},
                      {"DigestPassword", cim::Value::text(text::base64Encode(ha1Bytes ? *ha1Bytes : std::vector<std::uint8_t>{}))},
                      {"AccessPermission", cim::Value::text(form.get("AccessPermission").empty() ? "2" : form.get("AccessPermission"))}};
    const auto realms = form.all("Realm");
    if (!realms.empty()) in["Realms"] = cim::Value::list(realms);
    if (command == "1") {
      rv = call("AddUserAclEntryEx", in);
      done = "The user " + name + " was added.";
    } else {
      in["Handle"] = cim::Value::number(existing->handle);
      rv = call("UpdateUserAclEntryEx", in);
      done = "The user " + name + " was changed.";
    }
  }
  MESIM_LOG(Info, "webui", "user '" << caller.user << "' user-account command " << command << ": status " << rv);
  if (rv != cim::status::kSuccess) return framed("/acl.htm", aclPage(caller, returnValueText(rv)));
  return framed("/acl.htm", aclPage(caller, done, false));
}

}  // namespace mesim::wsman::webui
