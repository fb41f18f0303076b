// Wireless and 802.1X inside one process (docs/wireless-and-8021x.md): the profile rules of platform/wifi_profiles.h,
// then AMT_WiFiPortConfigurationService.AddWiFiSettings as wsman-messages writes it, the profiles, the port's
// RequestStateChange and what the wireless interface shows after it, the delete methods, the service's Put, the wired
// 802.1X classes with SetCertificates, and the state surviving a restart of the model.
#include <gtest/gtest.h>

#include <sstream>

#include <pugixml.hpp>

#include "firmware/platform/host_power.h"
#include "firmware/platform/wifi_profiles.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman {
namespace {

using platform::WifiProfile;
using platform::WifiProfileCheck;
using platform::WifiSettings;

const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kService = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_WiFiPortConfigurationService";
const std::string kIps8021x = "http://intel.com/wbem/wscim/1/ips-schema/1/IPS_IEEE8021xSettings";
const std::string kAmtProfile = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_8021XProfile";
const std::string kCertificate = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_PublicKeyCertificate";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";
const std::string kServiceSelector = "<w:Selector Name=\"Name\">Intel(r) AMT WiFi Port Configuration Service</w:Selector>";

WifiProfile psk(std::string name, std::uint32_t priority, std::string passphrase = "P@ssw0rd!") {
  WifiProfile p;
  p.elementName = name;
  p.instanceId = platform::itProfileInstanceId(name);
  p.ssid = "net-" + name;
  p.priority = priority;
  p.pskPassPhrase = std::move(passphrase);
  return p;
}

TEST(WifiProfiles, ItProfileRules) {
  WifiSettings s;
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 1)), WifiProfileCheck::Ok);
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 1, "1234567")), WifiProfileCheck::InvalidPassphrase);
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 1, "12345678")), WifiProfileCheck::Ok);
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 1, std::string(63, 'x'))), WifiProfileCheck::Ok);
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 1, std::string(64, 'x'))), WifiProfileCheck::InvalidPassphrase);
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 1, "tab\there!")), WifiProfileCheck::InvalidPassphrase);
  EXPECT_EQ(platform::checkItProfile(s, psk("", 1)), WifiProfileCheck::InvalidName);
  EXPECT_EQ(platform::checkItProfile(s, psk(std::string(33, 'n'), 1)), WifiProfileCheck::InvalidName);
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 0)), WifiProfileCheck::InvalidPriority);
  auto noSsid = psk("home", 1);
  noSsid.ssid.clear();
  EXPECT_EQ(platform::checkItProfile(s, noSsid), WifiProfileCheck::InvalidSsid);
  // IT profiles: WPA or better with TKIP or CCMP.
  auto open = psk("open", 1, "");
  open.authenticationMethod = platform::wifi_auth::kOpenSystem;
  open.encryptionMethod = platform::wifi_encryption::kNone;
  EXPECT_EQ(platform::checkItProfile(s, open), WifiProfileCheck::InvalidSecurity);
  auto wep = psk("wep", 1);
  wep.encryptionMethod = platform::wifi_encryption::kWep;
  EXPECT_EQ(platform::checkItProfile(s, wep), WifiProfileCheck::InvalidSecurity);

  platform::addProfile(s, psk("home", 1));
  EXPECT_EQ(platform::checkItProfile(s, psk("home", 2)), WifiProfileCheck::DuplicateName);
  EXPECT_EQ(platform::checkItProfile(s, psk("office", 1)), WifiProfileCheck::DuplicatePriority);
  for (std::uint32_t i = 2; i <= 16; ++i) platform::addProfile(s, psk("p" + std::to_string(i), i));
  EXPECT_EQ(platform::checkItProfile(s, psk("seventeen", 17)), WifiProfileCheck::TooManyProfiles);
}

TEST(WifiProfiles, Ieee8021xNeedsItsCredentials) {
  WifiSettings s;
  auto p = psk("corp", 1, "");
  p.authenticationMethod = platform::wifi_auth::kWpa2Ieee8021x;
  EXPECT_EQ(platform::checkItProfile(s, p), WifiProfileCheck::Invalid8021x);  // no 802.1X profile
  p.ieee8021x.emplace();
  p.ieee8021x->authenticationProtocol = 0;  // EAP-TLS
  EXPECT_EQ(platform::checkItProfile(s, p), WifiProfileCheck::Invalid8021x);  // no client certificate
  p.ieee8021x->clientCertificateId = "Intel(r) AMT Certificate: Handle: 1";
  EXPECT_EQ(platform::checkItProfile(s, p), WifiProfileCheck::Ok);
  p.ieee8021x->authenticationProtocol = 2;  // PEAP/MSCHAPv2: a user name
  EXPECT_EQ(platform::checkItProfile(s, p), WifiProfileCheck::Invalid8021x);
  p.ieee8021x->username = "alice";
  EXPECT_EQ(platform::checkItProfile(s, p), WifiProfileCheck::Ok);
  p.ieee8021x->authenticationProtocol = 6;  // EAP-MD5: not in AMT
  EXPECT_EQ(platform::checkItProfile(s, p), WifiProfileCheck::Invalid8021x);
  p.ieee8021x->authenticationProtocol = 2;
  p.pskPassPhrase = "P@ssw0rd!";  // a passphrase on an 802.1X profile
  EXPECT_EQ(platform::checkItProfile(s, p), WifiProfileCheck::InvalidPassphrase);
}

TEST(WifiProfiles, NinthUserProfileOverwritesTheOldest) {
  WifiSettings s;
  platform::addProfile(s, psk("it", 1));
  for (int i = 1; i <= 8; ++i) ASSERT_EQ(platform::addUserProfile(s, psk("user" + std::to_string(i), 1)), WifiProfileCheck::Ok);
  ASSERT_EQ(s.profiles.size(), 9u);
  ASSERT_EQ(platform::addUserProfile(s, psk("user9", 1)), WifiProfileCheck::Ok);
  ASSERT_EQ(s.profiles.size(), 9u);
  EXPECT_TRUE(std::none_of(s.profiles.begin(), s.profiles.end(), [](const WifiProfile& p) { return p.elementName == "user1"; }));
  EXPECT_EQ(s.profiles.front().elementName, "it");  // IT profiles are never overwritten
  auto enterprise = psk("user10", 1, "");  // "802.1x profiles are not automatically synchronized"
  enterprise.authenticationMethod = platform::wifi_auth::kWpa2Ieee8021x;
  EXPECT_EQ(platform::addUserProfile(s, enterprise), WifiProfileCheck::InvalidSecurity);
  EXPECT_EQ(s.profiles.size(), 9u);
}

TEST(WifiProfiles, TheHighestPriorityItProfileConnects) {
  WifiSettings s;
  platform::addProfile(s, psk("second", 2));
  platform::addProfile(s, psk("first", 1));
  EXPECT_EQ(platform::connectedProfile(s), nullptr);  // the port is off
  s.portState = platform::wifi_port_state::kEnabledInS0AndSxAc;
  ASSERT_NE(platform::connectedProfile(s), nullptr);
  EXPECT_EQ(platform::connectedProfile(s)->elementName, "first");
}

std::vector<pugi::xml_node> all(pugi::xml_node root, std::string_view local) {
  std::vector<pugi::xml_node> out;
  struct Walker : pugi::xml_tree_walker {
    std::string_view local;
    std::vector<pugi::xml_node>* out;
    bool for_each(pugi::xml_node& n) override {
      if (n.type() == pugi::node_element && soap::localName(n) == local) out->push_back(n);
      return true;
    }
  } w;
  w.local = local;
  w.out = &out;
  root.traverse(w);
  return out;
}

std::string first(pugi::xml_node root, std::string_view local) {
  auto nodes = all(root, local);
  return nodes.empty() ? std::string("<none>") : soap::text(nodes.front());
}

std::string reference(const std::string& uri, const std::string& selectorName, const std::string& value) {
  return "<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>" + uri +
         "</w:ResourceURI><w:SelectorSet><w:Selector Name=\"" + selectorName + "\">" + value +
         "</w:Selector></w:SelectorSet></a:ReferenceParameters>";
}

// AddWiFiSettings_INPUT as wsman-messages 5.x writes it (amt/messages.js WiFiPortConfigurationService).
std::string addWifi(const std::string& name, int priority, const std::string& passphrase, int auth = 6, int encryption = 4,
                    const std::string& extra = "") {
  const std::string q = kCim + "CIM_WiFiEndpointSettings";
  std::string body = "<h:AddWiFiSettings_INPUT xmlns:h=\"" + kService + "\"><h:WiFiEndpoint>" +
                     reference(kCim + "CIM_WiFiEndpoint", "Name", "WiFi Endpoint 0") +
                     "</h:WiFiEndpoint><h:WiFiEndpointSettingsInput xmlns:q=\"" + q + "\"><q:ElementName>" + name +
                     "</q:ElementName><q:InstanceID>Intel(r) AMT:WiFi Endpoint Settings " + name +
                     "</q:InstanceID><q:AuthenticationMethod>" + std::to_string(auth) +
                     "</q:AuthenticationMethod><q:EncryptionMethod>" + std::to_string(encryption) +
                     "</q:EncryptionMethod><q:SSID>ssid-" + name + "</q:SSID><q:Priority>" + std::to_string(priority) +
                     "</q:Priority>";
  if (!passphrase.empty()) body += "<q:PSKPassPhrase>" + passphrase + "</q:PSKPassPhrase>";
  body += "</h:WiFiEndpointSettingsInput>" + extra + "</h:AddWiFiSettings_INPUT>";
  return test::wsmanEnvelope(kService + "/AddWiFiSettings", kService, body, "1", kServiceSelector);
}

class WifiTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    service.reset();
    power.reset();
    model.reset();
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }

  pugi::xml_document& send(const std::string& request, unsigned httpStatus = 200) {
    auto r = service->handle(request, {"admin", false});
    EXPECT_EQ(r.httpStatus, httpStatus) << r.body;
    docs.emplace_back(std::make_unique<pugi::xml_document>());
    EXPECT_TRUE(docs.back()->load_string(r.body.c_str())) << r.body;
    return *docs.back();
  }
  std::string returnValue(const std::string& request) { return first(send(request).document_element(), "ReturnValue"); }

  std::vector<pugi::xml_node> enumerate(const std::string& uri, std::string_view className) {
    auto& e = send(test::wsmanEnvelope(kEnum + "Enumerate", uri, "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />"));
    const std::string context = first(e.document_element(), "EnumerationContext");
    auto& p = send(test::wsmanEnvelope(kEnum + "Pull", uri,
                                       "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                                           context + "</EnumerationContext><MaxElements>999</MaxElements></Pull>"));
    return all(p.document_element(), className);
  }
  pugi::xml_node get(const std::string& uri, std::string_view className, const std::string& selectors = "") {
    auto& d = send(test::wsmanEnvelope(kTransfer + "Get", uri, "", "1", selectors));
    auto nodes = all(d.document_element(), className);
    return nodes.empty() ? pugi::xml_node() : nodes.front();
  }
  std::string requestPortState(int state) {
    return returnValue(test::wsmanEnvelope(kCim + "CIM_WiFiPort/RequestStateChange", kCim + "CIM_WiFiPort",
                                           "<h:RequestStateChange_INPUT xmlns:h=\"" + kCim + "CIM_WiFiPort\"><h:RequestedState>" +
                                               std::to_string(state) + "</h:RequestedState></h:RequestStateChange_INPUT>"));
  }

  test::TempDir dir{"wifi"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
  std::vector<std::unique_ptr<pugi::xml_document>> docs;
};

TEST_F(WifiTest, AddWiFiSettingsKeepsTheProfileAndNeverShowsItsPassphrase) {
  EXPECT_TRUE(enumerate(kCim + "CIM_WiFiEndpointSettings", "CIM_WiFiEndpointSettings").empty());
  EXPECT_EQ(returnValue(addWifi("home", 1, "p&apos;ass&lt;&gt;&amp;&quot;code")), "0");
  auto profiles = enumerate(kCim + "CIM_WiFiEndpointSettings", "CIM_WiFiEndpointSettings");
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(first(profiles[0], "ElementName"), "home");
  EXPECT_EQ(first(profiles[0], "InstanceID"), "Intel(r) AMT:WiFi Endpoint Settings home");
  EXPECT_EQ(first(profiles[0], "SSID"), "ssid-home");
  EXPECT_EQ(first(profiles[0], "Priority"), "1");
  EXPECT_EQ(first(profiles[0], "AuthenticationMethod"), "6");
  EXPECT_EQ(first(profiles[0], "PSKPassPhrase"), "<none>");
  EXPECT_EQ(model->state().wifi.profiles.at(0).pskPassPhrase, "p'ass<>&\"code");  // XML-escaped on the wire

  // The SDK's return values: 3 invalid parameter (duplicates, passphrase length, security), 4 a reference to nothing.
  EXPECT_EQ(returnValue(addWifi("home", 2, "P@ssw0rd!")), "3");
  EXPECT_EQ(returnValue(addWifi("office", 1, "P@ssw0rd!")), "3");
  EXPECT_EQ(returnValue(addWifi("office", 2, "short")), "3");
  EXPECT_EQ(returnValue(addWifi("office", 2, std::string(64, 'a'))), "3");
  EXPECT_EQ(returnValue(addWifi("office", 2, "", 2, 5)), "3");  // open system: user profiles only
  EXPECT_EQ(returnValue(addWifi("office", 2, "", 7, 4)), "3");  // WPA2 802.1X without its 802.1X profile
  std::string wrongEndpoint = addWifi("office", 2, "P@ssw0rd!");
  wrongEndpoint.replace(wrongEndpoint.find("WiFi Endpoint 0"), 15, "WiFi Endpoint 9");
  EXPECT_EQ(returnValue(wrongEndpoint), "4");
  for (int i = 2; i <= 16; ++i) ASSERT_EQ(returnValue(addWifi("p" + std::to_string(i), i, "P@ssw0rd!")), "0") << i;
  EXPECT_EQ(returnValue(addWifi("p17", 17, "P@ssw0rd!")), "2");  // 16 profiles: AMT's limit
  EXPECT_EQ(enumerate(kCim + "CIM_WiFiEndpointSettings", "CIM_WiFiEndpointSettings").size(), 16u);
}

TEST_F(WifiTest, Ieee8021xProfileWithCertificateReferences) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.certificates.push_back({"Intel(r) AMT Certificate: Handle: 0", "AAAA", true});
    s.certificates.push_back({"Intel(r) AMT Certificate: Handle: 1", "AAAA", false});
  }), platform::ChangeResult::Ok);
  const std::string x = kCim + "CIM_IEEE8021xSettings";
  auto dot1x = [&](const std::string& client) {
    return "<h:IEEE8021xSettingsInput xmlns:q=\"" + x + "\"><q:ElementName>corp-8021x</q:ElementName>"
           "<q:AuthenticationProtocol>0</q:AuthenticationProtocol></h:IEEE8021xSettingsInput><h:ClientCredential>" +
           reference(kCertificate, "InstanceID", client) + "</h:ClientCredential><h:CACredential>" +
           reference(kCertificate, "InstanceID", "Intel(r) AMT Certificate: Handle: 0") + "</h:CACredential>";
  };
  EXPECT_EQ(returnValue(addWifi("corp", 1, "", 7, 4, dot1x("Intel(r) AMT Certificate: Handle: 9"))), "4");
  EXPECT_EQ(returnValue(addWifi("corp", 1, "", 7, 4, dot1x("Intel(r) AMT Certificate: Handle: 1"))), "0");
  auto settings = enumerate(x, "CIM_IEEE8021xSettings");
  ASSERT_EQ(settings.size(), 1u);  // the wired port's IPS_IEEE8021xSettings is its subclass, listed apart
  EXPECT_EQ(first(settings[0], "ElementName"), "corp-8021x");
  const auto& stored = *model->state().wifi.profiles.at(0).ieee8021x;
  EXPECT_EQ(stored.clientCertificateId, "Intel(r) AMT Certificate: Handle: 1");
  EXPECT_EQ(stored.caCertificateId, "Intel(r) AMT Certificate: Handle: 0");
  // CIM_ConcreteComponent ties the profile to its 802.1X part.
  auto parts = enumerate(kCim + "CIM_ConcreteComponent", "CIM_ConcreteComponent");
  ASSERT_EQ(parts.size(), 1u);
  std::ostringstream xml;
  parts[0].print(xml);
  EXPECT_NE(xml.str().find(model->state().wifi.profiles.at(0).instanceId), std::string::npos) << xml.str();
  EXPECT_NE(xml.str().find(stored.instanceId), std::string::npos) << xml.str();
}

TEST_F(WifiTest, PortStateChangesTheWirelessInterface) {
  auto port = get(kCim + "CIM_WiFiPort", "CIM_WiFiPort");
  EXPECT_EQ(first(port, "EnabledState"), "3");  // disabled, as AMT ships it
  EXPECT_EQ(first(port, "DeviceID"), "WiFi Port 0");
  EXPECT_EQ(requestPortState(2), "5");  // plain "Enabled" is not one of AMT's Wi-Fi states
  EXPECT_EQ(requestPortState(32769), "0");
  EXPECT_EQ(first(get(kCim + "CIM_WiFiPort", "CIM_WiFiPort"), "EnabledState"), "32769");
  EXPECT_TRUE(model->wireless().enabled);
  EXPECT_FALSE(model->wireless().linkUp);  // no profile to connect with
  ASSERT_EQ(returnValue(addWifi("home", 1, "P@ssw0rd!")), "0");
  EXPECT_TRUE(model->wireless().linkUp);
  EXPECT_EQ(model->wireless().ipv4, platform::kWirelessLease);
  auto endpoint = get(kCim + "CIM_WiFiEndpoint", "CIM_WiFiEndpoint");
  EXPECT_EQ(first(endpoint, "LANID"), "ssid-home");
  EXPECT_EQ(first(get(kService, "AMT_WiFiPortConfigurationService"), "LastConnectedSsidUnderMeControl"), "ssid-home");
  // The profile is the endpoint's current setting (CIM_ElementSettingData, IsCurrent 1), as AddWiFiSettings links it.
  bool current = false;
  for (auto link : enumerate(kCim + "CIM_ElementSettingData", "CIM_ElementSettingData")) {
    bool toProfile = false;
    for (auto selector : all(link, "Selector")) toProfile |= soap::text(selector) == "Intel(r) AMT:WiFi Endpoint Settings home";
    if (toProfile) current = first(link, "IsCurrent") == "1";
  }
  EXPECT_TRUE(current);
  EXPECT_EQ(enumerate(kCim + "CIM_DeviceSAPImplementation", "CIM_DeviceSAPImplementation").size(), 2u);  // wired, Wi-Fi
  auto settings = enumerate("http://intel.com/wbem/wscim/1/amt-schema/1/AMT_EthernetPortSettings", "AMT_EthernetPortSettings");
  ASSERT_EQ(settings.size(), 2u);
  EXPECT_EQ(first(settings[1], "LinkIsUp"), "true");
  EXPECT_EQ(first(settings[1], "IPAddress"), "192.168.2.100");

  // Deleting the profile drops the link; disabling the port turns the interface off.
  send(test::wsmanEnvelope(kTransfer + "Delete", kCim + "CIM_WiFiEndpointSettings", "", "1",
                           "<w:Selector Name=\"InstanceID\">Intel(r) AMT:WiFi Endpoint Settings home</w:Selector>"));
  EXPECT_TRUE(enumerate(kCim + "CIM_WiFiEndpointSettings", "CIM_WiFiEndpointSettings").empty());
  EXPECT_FALSE(model->wireless().linkUp);
  EXPECT_EQ(requestPortState(3), "0");
  EXPECT_FALSE(model->wireless().enabled);
}

TEST_F(WifiTest, DeleteAllProfilesOfAKindAndPutTheSyncSettings) {
  ASSERT_EQ(returnValue(addWifi("it1", 1, "P@ssw0rd!")), "0");
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    ASSERT_EQ(platform::addUserProfile(s.wifi, psk("user", 5)), WifiProfileCheck::Ok);
  }), platform::ChangeResult::Ok);
  auto call = [&](const std::string& method) {
    return returnValue(test::wsmanEnvelope(kService + "/" + method, kService,
                                           "<h:" + method + "_INPUT xmlns:h=\"" + kService + "\"></h:" + method + "_INPUT>",
                                           "1", kServiceSelector));
  };
  EXPECT_EQ(call("DeleteAllUserProfiles"), "0");
  ASSERT_EQ(model->state().wifi.profiles.size(), 1u);
  EXPECT_EQ(model->state().wifi.profiles[0].elementName, "it1");
  EXPECT_EQ(call("DeleteAllITProfiles"), "0");
  EXPECT_TRUE(model->state().wifi.profiles.empty());

  const std::string put = "<h:AMT_WiFiPortConfigurationService xmlns:h=\"" + kService +
                          "\"><h:localProfileSynchronizationEnabled>3</h:localProfileSynchronizationEnabled>"
                          "</h:AMT_WiFiPortConfigurationService>";
  send(test::wsmanEnvelope(kTransfer + "Put", kService, put, "1", kServiceSelector));
  EXPECT_EQ(first(get(kService, "AMT_WiFiPortConfigurationService"), "localProfileSynchronizationEnabled"), "3");
  std::string bad = put;
  bad.replace(bad.find(">3<"), 3, ">2<");
  send(test::wsmanEnvelope(kTransfer + "Put", kService, bad, "1", kServiceSelector), 400);
  EXPECT_EQ(model->state().wifi.localProfileSynchronization, 3u);
}

TEST_F(WifiTest, WiredProfilePutAndSetCertificates) {
  // AMT_8021XProfile's Put as consoles send it (wsman-messages' IEEE8021xProfile.Put body).
  const std::string put = "<h:AMT_8021XProfile xmlns:h=\"" + kAmtProfile +
                          "\"><h:ElementName>test</h:ElementName><h:InstanceID>Intel(r) AMT: 8021X Profile</h:InstanceID>"
                          "<h:Enabled>true</h:Enabled><h:ActiveInS0>true</h:ActiveInS0><h:AuthenticationProtocol>2"
                          "</h:AuthenticationProtocol><h:Username>alice</h:Username><h:Password>secret</h:Password>"
                          "<h:Domain>corp</h:Domain><h:PxeTimeout>60</h:PxeTimeout></h:AMT_8021XProfile>";
  send(test::wsmanEnvelope(kTransfer + "Put", kAmtProfile, put, "1",
                           "<w:Selector Name=\"InstanceID\">Intel(r) AMT: 8021X Profile</w:Selector>"));
  auto ips = get(kIps8021x, "IPS_IEEE8021xSettings");
  EXPECT_EQ(first(ips, "Enabled"), "2");
  EXPECT_EQ(first(ips, "AuthenticationProtocol"), "2");
  EXPECT_EQ(first(ips, "Username"), "alice");
  EXPECT_EQ(first(ips, "PxeTimeout"), "60");
  EXPECT_EQ(first(ips, "Password"), "<none>");

  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.certificates.push_back({"Intel(r) AMT Certificate: Handle: 0", "AAAA", true});
    s.certificates.push_back({"Intel(r) AMT Certificate: Handle: 1", "AAAA", false});
  }), platform::ChangeResult::Ok);
  auto setCertificates = [&](const std::string& issuer, const std::string& client) {
    std::string body = "<h:SetCertificates_INPUT xmlns:h=\"" + kIps8021x + "\">";
    if (!issuer.empty())
      body += "<h:ServerCertificateIssuer>" + reference(kCertificate, "InstanceID", issuer) + "</h:ServerCertificateIssuer>";
    if (!client.empty()) body += "<h:ClientCertificate>" + reference(kCertificate, "InstanceID", client) + "</h:ClientCertificate>";
    return returnValue(test::wsmanEnvelope(kIps8021x + "/SetCertificates", kIps8021x, body + "</h:SetCertificates_INPUT>"));
  };
  EXPECT_EQ(setCertificates("", ""), "36");                                        // nothing to set
  EXPECT_EQ(setCertificates("Intel(r) AMT Certificate: Handle: 7", ""), "2068");   // no such certificate
  EXPECT_EQ(setCertificates("Intel(r) AMT Certificate: Handle: 1", ""), "2063");   // the issuer is not a trusted root
  EXPECT_EQ(setCertificates("", "Intel(r) AMT Certificate: Handle: 1"), "2063");   // AMT holds no key for it
  EXPECT_TRUE(enumerate("http://intel.com/wbem/wscim/1/ips-schema/1/IPS_8021xCredentialContext", "IPS_8021xCredentialContext").empty());
  EXPECT_EQ(setCertificates("Intel(r) AMT Certificate: Handle: 0", ""), "0");
  auto contexts = enumerate("http://intel.com/wbem/wscim/1/ips-schema/1/IPS_8021xCredentialContext", "IPS_8021xCredentialContext");
  ASSERT_EQ(contexts.size(), 1u);
  EXPECT_NE(contexts[0].find_child([](pugi::xml_node n) { return soap::localName(n) == "ElementInContext"; }), pugi::xml_node());
  EXPECT_EQ(first(contexts[0], "Selector"), "Intel(r) AMT Certificate: Handle: 0");
  EXPECT_EQ(enumerate("http://intel.com/wbem/wscim/1/amt-schema/1/AMT_8021xCredentialContext", "AMT_8021xCredentialContext").size(), 1u);
  EXPECT_EQ(model->state().wired8021x.profile.caCertificateId, "Intel(r) AMT Certificate: Handle: 0");
}

TEST_F(WifiTest, ProfilesAndPortStateSurviveARestart) {
  ASSERT_EQ(returnValue(addWifi("home", 1, "P@ssw0rd!")), "0");
  ASSERT_EQ(requestPortState(32768), "0");
  open();
  ASSERT_EQ(model->state().wifi.profiles.size(), 1u);
  EXPECT_EQ(model->state().wifi.profiles[0].pskPassPhrase, "P@ssw0rd!");
  EXPECT_EQ(first(get(kCim + "CIM_WiFiPort", "CIM_WiFiPort"), "EnabledState"), "32768");
  EXPECT_EQ(enumerate(kCim + "CIM_WiFiEndpointSettings", "CIM_WiFiEndpointSettings").size(), 1u);
  EXPECT_TRUE(model->wireless().linkUp);
}

TEST_F(WifiTest, NoWirelessNicNoWirelessClasses) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.wireless.present = false; }), platform::ChangeResult::Ok);
  EXPECT_TRUE(enumerate(kCim + "CIM_WiFiPort", "CIM_WiFiPort").empty());
  EXPECT_TRUE(enumerate(kService, "AMT_WiFiPortConfigurationService").empty());
  EXPECT_EQ(enumerate(kIps8021x, "IPS_IEEE8021xSettings").size(), 1u);  // the wired port's 802.1X stays
}

}  // namespace
}  // namespace mesim::wsman
