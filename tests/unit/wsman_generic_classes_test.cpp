// Accounts and roles over the ACL, registered profiles, the wired port's classes and the generic associations
// (wsman/cim/accounts_and_roles.cpp, network_ports.cpp, generic_associations.cpp): every reference they return names
// an instance a Get finds, and the account classes follow AMT_AuthorizationService's users.
#include <gtest/gtest.h>

#include <algorithm>

#include "firmware/platform/host_power.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/realms.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/webui/web_ui.h"

namespace mesim::wsman::cim {
namespace {

const std::vector<std::string> kAssociations = {
    "CIM_AssignedIdentity",        "CIM_AccountOnSystem",        "CIM_MemberOfCollection",
    "CIM_OwningCollectionElement", "CIM_RoleLimitedToTarget",    "CIM_ElementConformsToProfile",
    "CIM_ReferencedProfile",       "CIM_HostedService",          "CIM_HostedAccessPoint",
    "CIM_ElementCapabilities",     "CIM_ElementSettingData",     "CIM_ServiceAffectsElement",
    "CIM_SAPAvailableForElement",  "CIM_ServiceAccessBySAP",     "CIM_ServiceServiceDependency",
    "CIM_ElementSoftwareIdentity", "CIM_InstalledSoftwareIdentity", "CIM_DeviceSAPImplementation"};

class GenericClassesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    ctx = std::make_unique<CimContext>(CimContext{*model, clock, *power, runtime, "admin", false});
    ctx->registry = &registry;
  }

  std::vector<Instance> instances(const std::string& className) {
    const ClassDef* cls = registry.byName(className);
    EXPECT_NE(cls, nullptr) << className;
    return cls && cls->enumerate ? cls->enumerate(*ctx) : std::vector<Instance>{};
  }

  // What a Get of `epr` answers: the instance of its class (or a subclass) with exactly those keys.
  std::optional<Instance> get(const EndpointReference& epr) {
    const ClassDef* cls = registry.byUri(epr.resourceUri);
    if (!cls) return std::nullopt;
    for (auto& served : instancesOf(registry, *cls, *ctx)) {
      EndpointReference found = served.cls->eprOf(served.instance);
      found.resourceUri = epr.resourceUri;
      if (found == epr) return served.instance;
    }
    return std::nullopt;
  }

  std::vector<Instance> linksOf(const std::string& association, const std::string& role, const EndpointReference& to) {
    std::vector<Instance> out;
    for (auto& i : instances(association))
      if (const Value* v = i.get(role); v && v->isRef() && v->refs.front() == to) out.push_back(i);
    return out;
  }

  std::uint32_t addUser(const std::string& name, std::vector<std::uint32_t> realms) {
    std::uint32_t handle = static_cast<std::uint32_t>(model->state().aclUsers.size() + 1);
    model->update([&](platform::PlatformState& s) {
      platform::AclUser u;
      u.handle = handle;
      u.user = name;
      u.ha1 = std::string(32, 'a');
      u.realms = std::move(realms);
      s.aclUsers.push_back(u);
    });
    return handle;
  }

  test::TempDir dir{"generic"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  CimRuntime runtime;
  ClassRegistry registry = makeAmtClassRegistry();
  std::unique_ptr<CimContext> ctx;
};

TEST_F(GenericClassesTest, EveryReferenceOfAnAssociationIsFoundByAGet) {
  addUser("operator", {3, 5});
  for (const auto& name : kAssociations) {
    auto links = instances(name);
    EXPECT_FALSE(links.empty()) << name;
    for (const auto& link : links)
      for (const auto& key : registry.byName(name)->keys) {  // an association's keys are its references
        const Value* value = link.get(key);
        ASSERT_TRUE(value && value->isRef()) << name << "." << key;
        EXPECT_TRUE(get(value->refs.front())) << name << "." << key << " -> " << value->refs.front().resourceUri;
      }
  }
}

TEST_F(GenericClassesTest, AccountsFollowTheAcl) {
  EXPECT_EQ(instances("CIM_Account").size(), 1u);  // the admin alone
  const std::uint32_t handle = addUser("operator", {static_cast<std::uint32_t>(Realm::RemoteControl)});
  auto accounts = instances("CIM_Account");
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[0].str("UserID"), "admin");
  EXPECT_EQ(accounts[1].str("UserID"), "operator");
  EXPECT_EQ(accounts[1].str("EnabledState"), "2");
  EXPECT_EQ(instances("CIM_Identity").size(), 2u);

  // Disabling the account disables the ACL entry, as SetAclEnabledState does; enabling gives it back.
  const ClassDef* account = registry.byName("CIM_Account");
  const MethodDef* rsc = account->method("RequestStateChange");
  ASSERT_NE(rsc, nullptr);
  EXPECT_EQ(rsc->handler(*ctx, accounts[1], {{"RequestedState", Value::number(3)}}).returnValue, 0u);
  EXPECT_FALSE(model->state().aclUsers[0].enabled);
  EXPECT_EQ(instances("CIM_Account")[1].str("EnabledState"), "3");
  EXPECT_EQ(rsc->handler(*ctx, accounts[1], {{"RequestedState", Value::number(2)}}).returnValue, 0u);
  EXPECT_TRUE(model->state().aclUsers[0].enabled);
  EXPECT_EQ(rsc->handler(*ctx, accounts[1], {{"RequestedState", Value::number(7)}}).returnValue, 5u);
  EXPECT_EQ(rsc->handler(*ctx, accounts[0], {{"RequestedState", Value::number(3)}}).returnValue, 1u);  // the admin

  // A rename keeps the account's keys (they follow the handle).
  model->update([&](platform::PlatformState& s) { s.aclUsers[0].user = "renamed"; });
  EXPECT_EQ(instances("CIM_Account")[1].str("Name"), accounts[1].str("Name"));
  EXPECT_EQ(instances("CIM_Account")[1].str("UserID"), "renamed");

  model->update([&](platform::PlatformState& s) { std::erase_if(s.aclUsers, [&](auto& u) { return u.handle == handle; }); });
  EXPECT_EQ(instances("CIM_Account").size(), 1u);
  EXPECT_EQ(instances("CIM_AssignedIdentity").size(), 1u);

  // AMT adds users with AddUserAclEntryEx only.
  const MethodDef* create = registry.byName("CIM_AccountManagementService")->method("CreateAccount");
  EXPECT_EQ(create->handler(*ctx, instances("CIM_AccountManagementService")[0], {}).returnValue, 1u);
  EXPECT_EQ(instances("CIM_Account").size(), 1u);
}

TEST_F(GenericClassesTest, RolesAreRealmsAndIdentitiesAreInTheirRealms) {
  const auto roles = instances("CIM_Role");
  EXPECT_EQ(roles.size(), kAllRealms.size());
  const std::uint32_t handle = addUser("operator", {static_cast<std::uint32_t>(Realm::RemoteControl),
                                                    static_cast<std::uint32_t>(Realm::Redirection)});
  const ClassDef* identity = registry.byName("CIM_Identity");
  std::optional<EndpointReference> operatorIdentity;
  for (auto& i : instances("CIM_Identity"))
    if (i.str("ElementName") == "operator") operatorIdentity = identity->eprOf(i);
  ASSERT_TRUE(operatorIdentity);
  std::vector<std::string> roleNames;
  for (auto& link : linksOf("CIM_MemberOfCollection", "Member", *operatorIdentity))
    roleNames.push_back(get(link.get("Collection")->refs.front())->str("Name"));
  std::sort(roleNames.begin(), roleNames.end());
  EXPECT_EQ(roleNames, (std::vector<std::string>{"RedirectionRealm", "RemoteControlRealm"}));

  // The admin is in every realm.
  std::optional<EndpointReference> adminIdentity;
  for (auto& i : instances("CIM_Identity"))
    if (i.str("ElementName") == "admin") adminIdentity = identity->eprOf(i);
  ASSERT_TRUE(adminIdentity);
  EXPECT_EQ(linksOf("CIM_MemberOfCollection", "Member", *adminIdentity).size(), kAllRealms.size());

  // Taking a realm away takes the identity out of the role.
  model->update([&](platform::PlatformState& s) { s.aclUsers[0].realms = {static_cast<std::uint32_t>(Realm::Redirection)}; });
  EXPECT_EQ(linksOf("CIM_MemberOfCollection", "Member", *operatorIdentity).size(), 1u);
  (void)handle;
}

TEST_F(GenericClassesTest, ProfilesConformingElements) {
  const auto profiles = instances("CIM_RegisteredProfile");
  EXPECT_GE(profiles.size(), 10u);
  std::vector<std::string> names;
  for (auto& p : profiles) names.push_back(p.str("RegisteredName"));
  for (const char* expected : {"Base Desktop and Mobile", "Power State Management", "Boot Control",
                               "Role Based Authorization", "Simple Identity Management", "Ethernet Port"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  // Each profile but Profile Registration has a conforming element.
  const ClassDef* profile = registry.byName("CIM_RegisteredProfile");
  for (auto& p : profiles) {
    if (p.str("RegisteredName") == "Profile Registration") continue;
    EXPECT_FALSE(linksOf("CIM_ElementConformsToProfile", "ConformantStandard", profile->eprOf(p)).empty())
        << p.str("RegisteredName");
  }
}

TEST_F(GenericClassesTest, EthernetPortIsTheWiredInterface) {
  auto ports = instances("CIM_EthernetPort");
  ASSERT_EQ(ports.size(), 1u);
  // System Defense's policies name the port by exactly these keys.
  EXPECT_EQ(ports[0].str("CreationClassName"), "CIM_EthernetPort");
  EXPECT_EQ(ports[0].str("DeviceID"), "Intel(r) AMT Ethernet Port 0");
  EXPECT_EQ(ports[0].str("SystemCreationClassName"), "CIM_ComputerSystem");
  EXPECT_EQ(ports[0].str("SystemName"), "Intel(r) AMT");
  // The same MAC AMT_EthernetPortSettings 0 shows, without separators.
  std::string settingsMac = instances("AMT_EthernetPortSettings")[0].str("MACAddress");
  std::erase(settingsMac, '-');
  std::transform(settingsMac.begin(), settingsMac.end(), settingsMac.begin(), ::toupper);
  EXPECT_EQ(ports[0].str("PermanentAddress"), settingsMac);
  EXPECT_EQ(instances("CIM_LANEndpoint")[0].str("MACAddress"), settingsMac);

  model->update([](platform::PlatformState& s) { s.wired.linkUp = false; });
  EXPECT_EQ(instances("CIM_EthernetPort")[0].get("OperationalStatus")->items, (std::vector<std::string>{"10"}));
  EXPECT_EQ(instances("CIM_LANEndpoint")[0].str("EnabledState"), "3");

  model->update([](platform::PlatformState& s) {
    s.wired.dhcpEnabled = false;
    s.wired.ipv4 = 0x0A000005;
  });
  auto hostIp = instances("IPS_HostIPSettings");
  ASSERT_EQ(hostIp.size(), 1u);
  EXPECT_EQ(hostIp[0].str("IpAddress"), "10.0.0.5");
  EXPECT_EQ(hostIp[0].str("DHCPEnabled"), "false");
}

TEST_F(GenericClassesTest, EveryServiceIsHostedAndCapabilitiesFindTheirService) {
  std::size_t services = 0;
  for (const auto& cls : registry.all()) {
    if (!cls->enumerate || !cls->name.ends_with("Service") || cls->keys != kServiceKeys) continue;
    for (auto& i : cls->enumerate(*ctx)) {
      ++services;
      EXPECT_EQ(linksOf("CIM_HostedService", "Dependent", cls->eprOf(i)).size(), 1u) << cls->name;
    }
  }
  EXPECT_EQ(instances("CIM_HostedService").size(), services);
  const ClassDef* caps = registry.byName("CIM_AccountManagementCapabilities");
  auto links = linksOf("CIM_ElementCapabilities", "Capabilities", caps->eprOf(instances(caps->name)[0]));
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(get(links[0].get("ManagedElement")->refs.front())->str("CreationClassName"), "CIM_AccountManagementService");
}

// The service gives providers the registry: the generic associations answer over WS-Man.
TEST_F(GenericClassesTest, ServedOverWsman) {
  ops::WsmanService service(*model, clock, *power);
  const std::string uri = resourceUri(Schema::Cim, "CIM_HostedService");
  auto r = service.handle(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", uri,
                                              "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />", "1"),
                          {"admin", false});
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  const auto start = r.body.find("EnumerationContext>") + 19;
  const std::string context = r.body.substr(start, r.body.find('<', start) - start);
  auto pulled = service.handle(
      test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", uri,
                          "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" + context +
                              "</EnumerationContext><MaxElements>999</MaxElements></Pull>",
                          "2"),
      {"admin", false});
  ASSERT_EQ(pulled.httpStatus, 200u) << pulled.body;
  EXPECT_NE(pulled.body.find("AMT_AuthorizationService"), std::string::npos) << pulled.body;
  EXPECT_NE(pulled.body.find("CIM_AccountManagementService"), std::string::npos);
}

}  // namespace
}  // namespace mesim::wsman::cim

namespace mesim::wsman::cim {
namespace {

std::string ipv6SettingsSelector() { return "<w:Selector Name=\"InstanceID\">Intel(r) IPS IPv6 Settings 0</w:Selector>"; }

// MeshCommander's IPv6 dialog: Put IPS_IPv6PortSettings, then Put CIM_ElementSettingData.IsCurrent (1 on, 2 off)
// with the port and the settings as EPR selectors.
TEST_F(GenericClassesTest, Ipv6IsSetAndSwitchedAsMeshCommanderDoes) {
  ops::WsmanService service(*model, clock, *power);
  const std::string transfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
  const std::string v6Uri = resourceUri(Schema::Ips, "IPS_IPv6PortSettings");
  auto put = [&](const std::string& uri, const std::string& cls, const std::string& props, const std::string& selectors) {
    return service.handle(test::wsmanEnvelope(transfer + "Put", uri,
                                              "<h:" + cls + " xmlns:h=\"" + uri + "\">" + props + "</h:" + cls + ">", "3",
                                              selectors),
                          {"admin", false});
  };
  auto r = put(v6Uri, "IPS_IPv6PortSettings",
               "<h:DefaultRouter>2001:DB8::1</h:DefaultRouter><h:ElementName>Intel(r) IPS IPv6 Settings</h:ElementName>"
               "<h:IPv6Address>2001:db8::0:5</h:IPv6Address><h:InstanceID>Intel(r) IPS IPv6 Settings 0</h:InstanceID>"
               "<h:InterfaceIDType>1</h:InterfaceIDType><h:PrimaryDNS>::</h:PrimaryDNS><h:SecondaryDNS>::</h:SecondaryDNS>",
               ipv6SettingsSelector());
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  EXPECT_EQ(model->state().wiredIpv6.address, "2001:db8::5");
  EXPECT_EQ(model->state().wiredIpv6.defaultRouter, "2001:db8::1");
  EXPECT_EQ(model->state().wiredIpv6.primaryDns, "");
  EXPECT_FALSE(model->state().wiredIpv6.enabled);
  EXPECT_EQ(instances("IPS_IPv6PortSettings")[0].get("CurrentAddressInfo"), nullptr);  // off: no addresses

  // Not an address: refused, nothing changed.
  r = put(v6Uri, "IPS_IPv6PortSettings", "<h:IPv6Address>2001:db8::zz</h:IPv6Address>", ipv6SettingsSelector());
  EXPECT_EQ(r.httpStatus, 400u) << r.body;
  EXPECT_EQ(model->state().wiredIpv6.address, "2001:db8::5");

  const std::string esdUri = resourceUri(Schema::Cim, "CIM_ElementSettingData");
  const std::string epr = "<a:EndpointReference xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"><a:Address>"
                          "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters>";
  const std::string selectors =
      "<w:Selector Name=\"ManagedElement\">" + epr + "<w:ResourceURI>" + resourceUri(Schema::Cim, "CIM_EthernetPort") +
      "</w:ResourceURI><w:SelectorSet><w:Selector Name=\"CreationClassName\">CIM_EthernetPort</w:Selector><w:Selector "
      "Name=\"DeviceID\">Intel(r) AMT Ethernet Port 0</w:Selector><w:Selector Name=\"SystemCreationClassName\">"
      "CIM_ComputerSystem</w:Selector><w:Selector Name=\"SystemName\">Intel(r) AMT</w:Selector></w:SelectorSet>"
      "</a:ReferenceParameters></a:EndpointReference></w:Selector><w:Selector Name=\"SettingData\">" +
      epr + "<w:ResourceURI>" + v6Uri + "</w:ResourceURI><w:SelectorSet>" + ipv6SettingsSelector() +
      "</w:SelectorSet></a:ReferenceParameters></a:EndpointReference></w:Selector>";
  r = put(esdUri, "CIM_ElementSettingData", "<h:IsCurrent>1</h:IsCurrent>", selectors);
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  EXPECT_TRUE(model->state().wiredIpv6.enabled);
  auto v6 = instances("IPS_IPv6PortSettings")[0];
  ASSERT_NE(v6.get("CurrentAddressInfo"), nullptr);
  const auto& mac = model->wired().mac;
  char linkLocal[64];
  std::snprintf(linkLocal, sizeof linkLocal, "fe80::%x:%x:%x:8086,0,1", (mac[0] << 8) | mac[1], (mac[2] << 8) | mac[3],
                (mac[4] << 8) | mac[5]);
  EXPECT_EQ(v6.get("CurrentAddressInfo")->items, (std::vector<std::string>{linkLocal, "2001:db8::5,3,1"}));
  EXPECT_EQ(v6.str("CurrentDefaultRouter"), "2001:db8::1");

  // The web UI's IPv6 page shows the same settings.
  webui::WebUi web(*model, clock, *power, registry);
  http::WebRequest page;
  page.method = "GET";
  page.target = page.path = "/ipv6.htm";
  page.user = "admin";
  const auto shown = web.handle(page);
  ASSERT_EQ(shown.status, 200u) << shown.body;
  EXPECT_NE(shown.body.find("Enabled"), std::string::npos) << shown.body;
  EXPECT_NE(shown.body.find("2001:db8::5"), std::string::npos) << shown.body;

  // Persisted: a restart finds IPv6 on with the same settings.
  model.reset();
  auto reopened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_TRUE((*reopened)->state().wiredIpv6.enabled);
  EXPECT_EQ((*reopened)->state().wiredIpv6.address, "2001:db8::5");
}

TEST_F(GenericClassesTest, Ipv6SettingsRefuseWhatAmtRefuses) {
  const ClassDef* cls = registry.byName("IPS_IPv6PortSettings");
  const Instance current = instances("IPS_IPv6PortSettings")[0];
  EXPECT_TRUE(cls->put(*ctx, current, {{"InterfaceIDType", Value::number(2)}}));  // manual without an ID
  EXPECT_TRUE(cls->put(*ctx, current, {{"ManualInterfaceID", Value::text("0102")}}));
  EXPECT_TRUE(cls->put(*ctx, current, {{"InterfaceIDType", Value::number(3)}}));
  EXPECT_FALSE(cls->put(*ctx, current,
                        {{"InterfaceIDType", Value::number(2)}, {"ManualInterfaceID", Value::text("0102030405060708")}}));
  EXPECT_EQ(model->state().wiredIpv6.interfaceIdType, platform::Ipv6InterfaceIdType::Manual);
  model->update([](platform::PlatformState& s) { s.wiredIpv6.enabled = true; });
  EXPECT_EQ(instances("IPS_IPv6PortSettings")[0].get("CurrentAddressInfo")->items,
            (std::vector<std::string>{"fe80::102:304:506:708,0,1"}));
  // Only IPv6's setting link can be switched.
  const ClassDef* esd = registry.byName("CIM_ElementSettingData");
  for (const auto& link : instances("CIM_ElementSettingData")) {
    if (link.get("SettingData")->refs.front().resourceUri.ends_with("IPS_IPv6PortSettings")) continue;
    EXPECT_TRUE(esd->put(*ctx, link, {{"IsCurrent", Value::number(2)}}));
    EXPECT_FALSE(esd->put(*ctx, link, {{"IsCurrent", Value::number(1)}}));
  }
}

}  // namespace
}  // namespace mesim::wsman::cim
