// AMT's remote-access (CIRA) configuration over WsmanService: AddMpServer with its credential, the policy rules
// and which servers they use in which order (AMT_RemoteAccessPolicyAppliesToMPS), AMT_MPSUsernamePassword, what
// AMT refuses, persistence, and the firmware-side view the CIRA connection reads (platform::ciraPolicies).
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "firmware/platform/host_power.h"
#include "firmware/platform/remote_access_config.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/cim_util.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::wsman {
namespace {

const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kRas = kAmt + "AMT_RemoteAccessService";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kServer0 = "Intel(r) AMT:Management Presence Server 0";
const std::string kServer1 = "Intel(r) AMT:Management Presence Server 1";

std::string returnValue(const std::string& xml) {
  const auto at = xml.find("ReturnValue>");
  return at == std::string::npos ? "<none>" : xml.substr(at + 12, xml.find('<', at + 12) - at - 12);
}

std::string sel(const std::string& name, const std::string& value) {
  return "<w:Selector Name=\"" + name + "\">" + value + "</w:Selector>";
}

std::string sapRef(const std::string& name) {
  return "<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>" + kAmt +
         "AMT_ManagementPresenceRemoteSAP</w:ResourceURI><w:SelectorSet>" +
         sel("CreationClassName", "AMT_ManagementPresenceRemoteSAP") + sel("Name", name) +
         sel("SystemCreationClassName", "CIM_ComputerSystem") + sel("SystemName", "Intel(r) AMT") +
         "</w:SelectorSet></a:ReferenceParameters>";
}

std::string ruleSelectors(const std::string& name) {
  return sel("CreationClassName", "AMT_RemoteAccessPolicyRule") + sel("PolicyRuleName", name) +
         sel("SystemCreationClassName", "CIM_ComputerSystem") + sel("SystemName", "Intel(r) AMT");
}

std::string ruleRef(const std::string& name) {
  return "<a:Address>/wsman</a:Address><a:ReferenceParameters><w:ResourceURI>" + kAmt +
         "AMT_RemoteAccessPolicyRule</w:ResourceURI><w:SelectorSet>" + ruleSelectors(name) +
         "</w:SelectorSet></a:ReferenceParameters>";
}

class RemoteAccessTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    service.reset();
    power.reset();
    model.reset();
    auto opened = platform::PlatformModel::open(dir.path(), platform::PlatformDefaults{});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }
  ops::WsmanResult send(const std::string& body) { return service->handle(body, {"admin", false}); }
  std::string invoke(const std::string& method, const std::string& params) {
    auto r = send(test::wsmanEnvelope(kRas + "/" + method, kRas,
                                      "<h:" + method + "_INPUT xmlns:h=\"" + kRas + "\">" + params + "</h:" + method +
                                          "_INPUT>"));
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    return r.body;
  }
  std::string addServer(const std::string& host, const std::string& extra = "<h:AuthMethod>2</h:AuthMethod>"
                                                                           "<h:Username>mpsuser</h:Username>"
                                                                           "<h:Password>mpspass1</h:Password>") {
    return returnValue(invoke("AddMpServer", "<h:AccessInfo>" + host + "</h:AccessInfo><h:InfoFormat>201</h:InfoFormat>"
                                             "<h:Port>4433</h:Port>" + extra + "<h:CN>" + host + "</h:CN>"));
  }
  std::string addRule(int trigger, const std::string& servers, const std::string& extended = "") {
    return returnValue(invoke("AddRemoteAccessPolicyRule",
                              "<h:Trigger>" + std::to_string(trigger) + "</h:Trigger><h:TunnelLifeTime>300</h:TunnelLifeTime>" +
                                  (extended.empty() ? "" : "<h:ExtendedData>" + extended + "</h:ExtendedData>") + servers));
  }
  std::string enumerate(const std::string& cls) {
    // EnumerationMode EnumerateObjectAndEPR is not needed: the optimized enumeration returns the items at once.
    auto r = send(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", kAmt + cls,
                                      "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
                                      "<OptimizeEnumeration xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"/>"
                                      "<MaxElements xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">50</MaxElements>"
                                      "</Enumerate>"));
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    return r.body;
  }

  test::TempDir dir{"ras"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1900000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
};

TEST_F(RemoteAccessTest, AddMpServerKeepsItsCredentialWriteOnly) {
  EXPECT_EQ(addServer("mps.example.com"), "0");
  const auto& server = model->state().mpsServers.at(0);
  EXPECT_EQ(server.username, "mpsuser");
  EXPECT_EQ(server.password, "mpspass1");
  const std::string credentials = enumerate("AMT_MPSUsernamePassword");
  EXPECT_NE(credentials.find("mpsuser"), std::string::npos) << credentials;
  EXPECT_EQ(credentials.find("mpspass1"), std::string::npos) << "the secret is never shown";
  EXPECT_NE(enumerate("AMT_RemoteAccessCredentialContext").find("Intel(r) AMT:MPS Username Password 0"),
            std::string::npos);

  // Put changes the login; the next Get shows the new RemoteID.
  const std::string uri = kAmt + "AMT_MPSUsernamePassword";
  auto put = send(test::wsmanEnvelope(kTransfer + "Put", uri,
                                      "<h:AMT_MPSUsernamePassword xmlns:h=\"" + uri + "\"><h:InstanceID>Intel(r) AMT:MPS "
                                      "Username Password 0</h:InstanceID><h:RemoteID>other</h:RemoteID><h:Secret>"
                                      "newsecret</h:Secret></h:AMT_MPSUsernamePassword>",
                                      "1", sel("InstanceID", "Intel(r) AMT:MPS Username Password 0")));
  ASSERT_EQ(put.httpStatus, 200u) << put.body;
  EXPECT_EQ(model->state().mpsServers.at(0).username, "other");
  EXPECT_EQ(model->state().mpsServers.at(0).password, "newsecret");

  // Refused: username/password authentication without them, mutual TLS without a certificate, a bad port.
  EXPECT_EQ(addServer("a.example.com", "<h:AuthMethod>2</h:AuthMethod>"), "36");
  EXPECT_EQ(addServer("b.example.com", "<h:AuthMethod>1</h:AuthMethod>"), "36");
  EXPECT_EQ(addServer("mps.example.com"), std::to_string(cim::status::kDuplicate));
  EXPECT_EQ(model->state().mpsServers.size(), 1u);
}

TEST_F(RemoteAccessTest, PolicyRulesOrderTheirServersAndTheCiraViewFollows) {
  ASSERT_EQ(addServer("mps0.example.com"), "0");
  ASSERT_EQ(addServer("mps1.example.com"), "0");
  // Periodic every 25 s (kind 0, value 25), through server 0 from outside and server 1 from inside.
  ASSERT_EQ(addRule(2, "<h:MpServer>" + sapRef(kServer0) + "</h:MpServer><h:InternalMpServer>" + sapRef(kServer1) +
                           "</h:InternalMpServer>",
                    "AAAAAAAAABk="),
            "0");
  EXPECT_EQ(addRule(2, "<h:MpServer>" + sapRef(kServer0) + "</h:MpServer>", "AAE="), "36") << "ExtendedData is 8 or 12 bytes";
  EXPECT_EQ(addRule(0, "<h:MpServer>" + sapRef("Intel(r) AMT:Management Presence Server 7") + "</h:MpServer>"),
            std::to_string(cim::status::kNotFound));
  ASSERT_EQ(addRule(0, "<h:MpServer>" + sapRef(kServer1) + "</h:MpServer>"), "0");

  auto policies = platform::ciraPolicies(model->state());
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].trigger, platform::CiraTrigger::Periodic);
  ASSERT_TRUE(policies[0].periodic);
  EXPECT_EQ(policies[0].periodic->kind, platform::PeriodicSchedule::Kind::Interval);
  EXPECT_EQ(policies[0].periodic->intervalSeconds, 25u);
  EXPECT_EQ(policies[0].tunnelLifeTime, 300u);
  ASSERT_EQ(policies[0].servers.size(), 2u);
  EXPECT_EQ(policies[0].servers[0].server->accessInfo, "mps0.example.com");
  EXPECT_EQ(policies[0].servers[1].reach, platform::MpsReach::Internal);

  // Put OrderOfAccess 0 on server 1 of the periodic rule: it comes first.
  const std::string applies = kAmt + "AMT_RemoteAccessPolicyAppliesToMPS";
  const std::string keys = "<w:Selector Name=\"ManagedElement\"><a:EndpointReference>" + sapRef(kServer1) +
                           "</a:EndpointReference></w:Selector><w:Selector Name=\"PolicySet\"><a:EndpointReference>" +
                           ruleRef("Periodic") + "</a:EndpointReference></w:Selector>";
  auto put = send(test::wsmanEnvelope(kTransfer + "Put", applies,
                                      "<h:AMT_RemoteAccessPolicyAppliesToMPS xmlns:h=\"" + applies +
                                          "\"><h:OrderOfAccess>0</h:OrderOfAccess><h:MpsType>2</h:MpsType>"
                                          "</h:AMT_RemoteAccessPolicyAppliesToMPS>",
                                      "1", keys));
  ASSERT_EQ(put.httpStatus, 200u) << put.body;
  policies = platform::ciraPolicies(model->state());
  EXPECT_EQ(policies[0].servers[0].server->accessInfo, "mps1.example.com");
  EXPECT_EQ(policies[0].servers[0].reach, platform::MpsReach::Both);

  // Delete the association; then the server's rule use is down to the user-initiated rule.
  ASSERT_EQ(send(test::wsmanEnvelope(kTransfer + "Delete", applies, "", "1", keys)).httpStatus, 200u);
  EXPECT_EQ(platform::ciraPolicies(model->state())[0].servers.size(), 1u);
  // Create it again, last.
  auto created = send(test::wsmanEnvelope(kTransfer + "Create", applies,
                                          "<h:AMT_RemoteAccessPolicyAppliesToMPS xmlns:h=\"" + applies +
                                              "\"><h:ManagedElement>" + sapRef(kServer1) + "</h:ManagedElement><h:PolicySet>" +
                                              ruleRef("Periodic") + "</h:PolicySet><h:OrderOfAccess>5</h:OrderOfAccess>"
                                              "<h:MpsType>0</h:MpsType></h:AMT_RemoteAccessPolicyAppliesToMPS>"));
  ASSERT_EQ(created.httpStatus, 200u) << created.body;
  EXPECT_EQ(platform::ciraPolicies(model->state())[0].servers.at(1).server->accessInfo, "mps1.example.com");

  // A server a rule uses cannot be deleted (AMT refuses the same); the rule's Put changes its lifetime.
  const std::string sap = kAmt + "AMT_ManagementPresenceRemoteSAP";
  const std::string sapKeys = sel("CreationClassName", "AMT_ManagementPresenceRemoteSAP") + sel("Name", kServer1) +
                              sel("SystemCreationClassName", "CIM_ComputerSystem") + sel("SystemName", "Intel(r) AMT");
  EXPECT_NE(send(test::wsmanEnvelope(kTransfer + "Delete", sap, "", "1", sapKeys)).httpStatus, 200u);
  const std::string ruleUri = kAmt + "AMT_RemoteAccessPolicyRule";
  auto rulePut = send(test::wsmanEnvelope(kTransfer + "Put", ruleUri,
                                          "<h:AMT_RemoteAccessPolicyRule xmlns:h=\"" + ruleUri +
                                              "\"><h:TunnelLifeTime>60</h:TunnelLifeTime></h:AMT_RemoteAccessPolicyRule>",
                                          "1", ruleSelectors("Periodic")));
  ASSERT_EQ(rulePut.httpStatus, 200u) << rulePut.body;

  // All of it survives a restart.
  open();
  policies = platform::ciraPolicies(model->state());
  ASSERT_EQ(policies.size(), 2u);
  EXPECT_EQ(policies[0].tunnelLifeTime, 60u);
  EXPECT_EQ(policies[0].servers.size(), 2u);
  EXPECT_EQ(model->state().mpsServers.at(1).password, "mpspass1");
}

}  // namespace
}  // namespace mesim::wsman

namespace mesim::wsman {
namespace {

TEST_F(RemoteAccessTest, CapabilitiesAnnounceTheLimitsAddMpServerAndAddRemoteAccessPolicyRuleEnforce) {
  const std::string capabilities = enumerate("AMT_RemoteAccessCapabilities");
  EXPECT_NE(capabilities.find("MaxTotalMpServers>4<"), std::string::npos) << capabilities;
  EXPECT_NE(capabilities.find("MaxMpsPerPolicy>2<"), std::string::npos) << capabilities;
  EXPECT_NE(capabilities.find("MaxTotalPolicies>3<"), std::string::npos) << capabilities;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(addServer("mps" + std::to_string(i) + ".example.com"), "0");
  EXPECT_EQ(addServer("mps4.example.com"), std::to_string(cim::status::kMaxLimitReached)) << "a fifth server";
  const std::string three = "<h:MpServer>" + sapRef(kServer0) + "</h:MpServer><h:MpServer>" + sapRef(kServer1) +
                            "</h:MpServer><h:MpServer>" + sapRef("Intel(r) AMT:Management Presence Server 2") +
                            "</h:MpServer>";
  EXPECT_EQ(addRule(0, three), std::to_string(cim::status::kMaxLimitReached)) << "three servers for one reach";
  EXPECT_TRUE(model->state().remoteAccessPolicies.empty());

  // Every server is available to AMT, the first one by default.
  auto r = send(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
                                    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_RemoteAccessAvailableToElement",
                                    "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">"
                                    "<OptimizeEnumeration xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"/>"
                                    "<MaxElements xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">50</MaxElements>"
                                    "</Enumerate>"));
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  std::size_t instances = 0;
  for (auto at = r.body.find("OrderOfAccess>"); at != std::string::npos; at = r.body.find("OrderOfAccess>", at + 1)) ++instances;
  EXPECT_EQ(instances, 2u * 4) << "an opening and a closing tag per server: " << r.body;
  EXPECT_NE(r.body.find("IsDefault>true<"), std::string::npos);
  EXPECT_NE(r.body.find(kServer1), std::string::npos);
}

TEST_F(RemoteAccessTest, CloseRemoteAccessConnectionEndsTheTunnelAndTheUserRequest) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.remoteAccess.connectionStatus = 2;
    s.remoteAccess.mpsHostname = "mps.example.com";
    s.remoteAccess.userInitiatedConnectionRequested = true;
  }), platform::ChangeResult::Ok);
  EXPECT_EQ(returnValue(invoke("CloseRemoteAccessConnection", "")), "0");
  EXPECT_EQ(model->state().remoteAccess.connectionStatus, 0u);
  EXPECT_FALSE(model->state().remoteAccess.userInitiatedConnectionRequested);
  EXPECT_EQ(model->state().remoteAccess.mpsHostname, "");
  open();
  EXPECT_EQ(model->state().remoteAccess.connectionStatus, 0u) << "persisted";
  EXPECT_EQ(returnValue(invoke("CloseRemoteAccessConnection", "")), "0") << "nothing open: closing again is harmless";
}


// MeshCommander's "time of day" periodic rule: ExtendedData 1, hour, minute (12 bytes). Other kinds, sizes and
// times off the clock are refused.
TEST_F(RemoteAccessTest, ADailyPeriodicRuleIsReadAsATimeOfDay) {
  ASSERT_EQ(addServer("mps0.example.com"), "0");
  const std::string server = "<h:MpServer>" + sapRef(kServer0) + "</h:MpServer>";
  EXPECT_EQ(addRule(2, server, "AAAAAQAAABgAAAAA"), "36") << "hour 24";
  EXPECT_EQ(addRule(2, server, "AAAAAQAAABcAAAA8"), "36") << "minute 60";
  EXPECT_EQ(addRule(2, server, "AAAAAgAAAAU="), "36") << "kind 2";
  EXPECT_EQ(addRule(2, server, "AAAAAAAAAAAAAAAZ"), "36") << "an interval is 8 bytes";
  ASSERT_EQ(addRule(2, server, "AAAAAQAAAAkAAAAe"), "0");  // 09:30
  auto policies = platform::ciraPolicies(model->state());
  ASSERT_EQ(policies.size(), 1u);
  ASSERT_TRUE(policies[0].periodic);
  EXPECT_EQ(policies[0].periodic->kind, platform::PeriodicSchedule::Kind::Daily);
  EXPECT_EQ(policies[0].periodic->hour, 9u);
  EXPECT_EQ(policies[0].periodic->minute, 30u);
  // A Put can turn it into an interval, and refuses a malformed one with a message that says the forms.
  const std::string ruleUri = kAmt + "AMT_RemoteAccessPolicyRule";
  auto put = [&](const std::string& data) {
    return send(test::wsmanEnvelope(kTransfer + "Put", ruleUri,
                                    "<h:AMT_RemoteAccessPolicyRule xmlns:h=\"" + ruleUri + "\"><h:ExtendedData>" + data +
                                        "</h:ExtendedData></h:AMT_RemoteAccessPolicyRule>",
                                    "1", ruleSelectors("Periodic")));
  };
  auto bad = put("AAAAAQAAABgAAAAA");
  EXPECT_NE(bad.httpStatus, 200u);
  EXPECT_NE(bad.body.find("daily"), std::string::npos) << bad.body;
  ASSERT_EQ(put("AAAAAAAAABk=").httpStatus, 200u);
  EXPECT_EQ(platform::ciraPolicies(model->state())[0].periodic->intervalSeconds, 25u);
}

}  // namespace
}  // namespace mesim::wsman
