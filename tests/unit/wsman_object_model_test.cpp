// The object model as a whole (docs/object-model.md): the class hierarchy and polymorphic Enumerate, the logs'
// methods, the audit policy, the provisioning record log, and the services that hold a few settings each.
#include <gtest/gtest.h>

#include <map>

#include <boost/asio/io_context.hpp>

#include <fstream>
#include <regex>
#include <set>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/host_power.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_hierarchy.h"
#include "wsman/cim/cim_util.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::wsman {
namespace {

const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kIps = "http://intel.com/wbem/wscim/1/ips-schema/1/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";

std::string uriOf(const std::string& cls) {
  return (cls.starts_with("AMT_") ? kAmt : cls.starts_with("IPS_") ? kIps : kCim) + cls;
}

class ObjectModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }

  std::string call(const std::string& body, unsigned expectStatus = 200) {
    auto r = service->handle(body, {"admin", false});
    EXPECT_EQ(r.httpStatus, expectStatus) << r.body;
    return r.body;
  }

  // Enumerate + Pull of everything; the answer's body.
  std::string enumerate(const std::string& cls) {
    const std::string uri = uriOf(cls);
    std::string e = call(test::wsmanEnvelope(kEnum + "Enumerate", uri,
                                             "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"/>"));
    std::smatch m;
    if (!std::regex_search(e, m, std::regex("EnumerationContext>([^<]+)<"))) return "no context: " + e;
    return call(test::wsmanEnvelope(kEnum + "Pull", uri,
                                    "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                                        std::string(m[1]) + "</EnumerationContext><MaxElements>999</MaxElements></Pull>"));
  }

  std::string invoke(const std::string& cls, const std::string& method, const std::string& args = {},
                     const std::string& selectors = {}) {
    const std::string uri = uriOf(cls);
    return call(test::wsmanEnvelope(uri + "/" + method, uri,
                                    "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + args + "</h:" + method + "_INPUT>",
                                    "1", selectors));
  }

  static std::string returnValue(const std::string& body) {
    std::smatch m;
    return std::regex_search(body, m, std::regex("ReturnValue>(\\d+)<")) ? std::string(m[1]) : "none";
  }

  static int count(const std::string& body, const std::string& needle) {
    int n = 0;
    for (auto at = body.find(needle); at != std::string::npos; at = body.find(needle, at + 1)) ++n;
    return n;
  }

  void addMessageRecord(std::uint8_t sensorType) {
    platform::MessageLogEvent e;
    e.sensorType = sensorType;
    ASSERT_EQ(model->update([&](platform::PlatformState& s) {
      platform::appendMessageLogRecord(s, platform::makeMessageLogRecord(e, 1700000000));
    }), platform::ChangeResult::Ok);
  }

  test::TempDir dir{"object-model"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
};

TEST(ClassHierarchy, TableIsSortedAndEveryChainEndsAtARoot) {
  ASSERT_TRUE(cim::hierarchyIsSorted());
  for (auto cls : cim::knownClasses()) {
    int depth = 0;
    for (auto up = cim::superclassOf(cls); up && !up->empty(); up = cim::superclassOf(*up)) {
      ASSERT_LT(++depth, 16) << cls << ": a cycle";
      ASSERT_TRUE(cim::superclassOf(*up).has_value()) << cls << "'s ancestor " << *up << " is not in the table";
    }
  }
}

// Every class of a console's full-state save (spec/amt-classes.md) is in the table, so polymorphic operations
// know where it sits.
TEST(ClassHierarchy, KnowsEverySaveStateClass) {
  std::ifstream in(std::string(MESIM_SOURCE_DIR) + "/tests/data/amt-save-state-classes.txt");
  ASSERT_TRUE(in);
  auto known = cim::knownClasses();
  std::set<std::string_view> table(known.begin(), known.end());
  int classes = 0;
  for (std::string name; std::getline(in, name);) {
    if (name.empty()) continue;
    ++classes;
    EXPECT_TRUE(table.count(name)) << name;
  }
  EXPECT_EQ(classes, 248);
}

TEST(ClassHierarchy, FamilyPassesThroughUnregisteredAncestors) {
  auto registry = cim::makeAmtClassRegistry();
  const auto* logical = registry.byName("CIM_LogicalDevice");
  ASSERT_NE(logical, nullptr);
  std::set<std::string> names;
  for (const auto* c : registry.family(*logical)) names.insert(c->name);
  EXPECT_TRUE(names.count("CIM_Processor"));
  EXPECT_TRUE(names.count("CIM_MediaAccessDevice"));
  EXPECT_FALSE(names.count("CIM_Chassis"));  // a physical element, not a logical device
  const auto* physical = registry.byName("CIM_PhysicalElement");
  ASSERT_NE(physical, nullptr);
  names.clear();
  for (const auto* c : registry.family(*physical)) names.insert(c->name);
  EXPECT_TRUE(names.count("CIM_Chassis"));  // through CIM_PhysicalFrame and CIM_PhysicalPackage
  EXPECT_TRUE(names.count("CIM_PhysicalMemory"));
}

// The families makeAmtClassRegistry() works out up front are the ones the walk over the hierarchy finds.
TEST(ClassHierarchy, PrecomputedFamiliesAreTheWalkedOnes) {
  auto registry = cim::makeAmtClassRegistry();
  std::map<const cim::ClassDef*, std::vector<const cim::ClassDef*>> precomputed;
  for (const auto& c : registry.all()) precomputed[c.get()] = registry.family(*c);
  registry.add(cim::ClassDef{.name = "MESIM_TestOnly", .schema = cim::Schema::Cim});  // forgets the precomputation
  std::size_t polymorphic = 0;
  for (const auto& c : registry.all()) {
    if (c->name == "MESIM_TestOnly") continue;
    EXPECT_EQ(precomputed[c.get()], registry.family(*c)) << c->name;
    if (precomputed[c.get()].size() > 1) ++polymorphic;
  }
  EXPECT_GT(polymorphic, 50u);
  EXPECT_GT(precomputed[registry.byName("CIM_ManagedElement")].size(), 100u);
}

TEST_F(ObjectModelTest, AbstractClassEnumeratesItsSubclasses) {
  auto body = enumerate("CIM_Service");
  EXPECT_NE(body.find("AMT_RedirectionService"), std::string::npos) << body;
  EXPECT_NE(body.find("CIM_PowerManagementService"), std::string::npos) << body;
  EXPECT_NE(body.find("AMT_WebUIService"), std::string::npos) << body;
  body = enumerate("CIM_ManagedElement");
  EXPECT_NE(body.find("AMT_GeneralSettings"), std::string::npos);
  EXPECT_NE(body.find("CIM_Chassis"), std::string::npos);
}

TEST_F(ObjectModelTest, MessageLogClearAndFreeze) {
  addMessageRecord(0x0F);
  addMessageRecord(0x05);
  EXPECT_EQ(model->state().logs.messageLog.size(), 2u);
  EXPECT_EQ(count(enumerate("AMT_EventLogEntry"), "<h:InstanceID>"), 2);
  EXPECT_EQ(count(enumerate("CIM_LogManagesRecord"), "AMT_EventLogEntry"), 2);

  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "FreezeLog", "<h:Freeze>true</h:Freeze>")), "0");
  EXPECT_NE(enumerate("AMT_MessageLog").find("<h:IsFrozen>true</h:IsFrozen>"), std::string::npos);
  addMessageRecord(0x07);
  EXPECT_EQ(model->state().logs.messageLog.size(), 2u) << "a frozen log takes no record";
  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "FreezeLog", "<h:Freeze>false</h:Freeze>")), "0");
  addMessageRecord(0x07);
  EXPECT_EQ(model->state().logs.messageLog.size(), 3u);

  // An iteration: the newest record first, one at a time; PositionAtRecord moves it; CancelIteration ends it.
  auto first = invoke("AMT_MessageLog", "PositionToFirstRecord");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(first, m, std::regex("IterationIdentifier>(\\d+)<")));
  const std::string it = "<h:IterationIdentifier>" + std::string(m[1]) + "</h:IterationIdentifier>";
  auto rec = invoke("AMT_MessageLog", "GetRecord", it);
  EXPECT_EQ(returnValue(rec), "0");
  std::vector<std::uint8_t> newest;
  ASSERT_TRUE(std::regex_search(rec, m, std::regex("RecordData>([^<]+)<")));
  ASSERT_TRUE(cim::base64Decode(std::string(m[1]), newest));
  EXPECT_EQ(newest, model->state().logs.messageLog.back());
  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "PositionAtRecord",
                               it + "<h:MoveAbsolute>true</h:MoveAbsolute><h:RecordNumber>3</h:RecordNumber>")), "0");
  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "GetRecord", it)), "1") << "past the last record";
  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "CancelIteration", it)), "0");
  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "GetRecord", it)), "2") << "the iteration is gone";

  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "ClearLog")), "0");
  EXPECT_TRUE(model->state().logs.messageLog.empty());
  // Clearing and freezing are audited as the Event Manager's events 2402 and 2403.
  int cleared = 0, frozen = 0;
  for (const auto& r : model->state().logs.auditLog)
    if (auto a = platform::decodeAuditRecord(r); a && a->app == 24) {
      cleared += a->event == 2;
      frozen += a->event == 3;
    }
  EXPECT_EQ(cleared, 1);
  EXPECT_EQ(frozen, 1);

  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "RequestStateChange", "<h:RequestedState>3</h:RequestedState>")), "0");
  addMessageRecord(0x07);
  EXPECT_TRUE(model->state().logs.messageLog.empty()) << "a disabled log takes no record";
  EXPECT_EQ(returnValue(invoke("AMT_MessageLog", "RequestStateChange", "<h:RequestedState>7</h:RequestedState>")), "5");
}

TEST_F(ObjectModelTest, AuditLogClearAndPolicy) {
  const auto audit = [&](std::uint16_t app, std::uint16_t event) {
    ASSERT_EQ(model->update([&](platform::PlatformState& s) {
      platform::appendAuditRecord(s, platform::makeAuditRecord(app, event, {"admin", false, {}}, 1700000000));
    }), platform::ChangeResult::Ok);
  };
  auto policy = enumerate("AMT_AuditPolicyRule");
  const std::string powerUp = std::to_string(17u << 16 | 0u);  // 1700 Performed Power Up
  EXPECT_NE(policy.find("<h:AuditApplicationEventID>" + powerUp + "<"), std::string::npos) << policy;

  // Taking 1700 out of the audit: the next power-up leaves no record; Security Admin's events cannot be taken out.
  EXPECT_EQ(returnValue(invoke("AMT_AuditPolicyRule", "SetAuditPolicy",
                               "<h:Enable>false</h:Enable><h:AuditedAppID>17</h:AuditedAppID><h:EventID>0</h:EventID>"
                               "<h:PolicyType>1</h:PolicyType>")), "0");
  EXPECT_EQ(enumerate("AMT_AuditPolicyRule").find("<h:AuditApplicationEventID>" + powerUp + "<"), std::string::npos);
  const auto before = model->state().logs.auditLog.size();
  audit(17, 0);
  EXPECT_EQ(model->state().logs.auditLog.size(), before);
  audit(17, 1);
  EXPECT_EQ(model->state().logs.auditLog.size(), before + 1);
  EXPECT_EQ(returnValue(invoke("AMT_AuditPolicyRule", "SetAuditPolicy",
                               "<h:Enable>false</h:Enable><h:AuditedAppID>16</h:AuditedAppID><h:EventID>1</h:EventID>")),
            "16");
  EXPECT_EQ(returnValue(invoke("AMT_AuditPolicyRule", "SetAuditPolicy",
                               "<h:Enable>true</h:Enable><h:AuditedAppID>99</h:AuditedAppID><h:EventID>0</h:EventID>")),
            "36") << "an event AMT does not know";
  // Bulk: all or nothing.
  EXPECT_EQ(returnValue(invoke("AMT_AuditPolicyRule", "SetAuditPolicyBulk",
                               "<h:Enable>true</h:Enable><h:Enable>false</h:Enable><h:AuditedAppID>17</h:AuditedAppID>"
                               "<h:AuditedAppID>99</h:AuditedAppID><h:EventID>0</h:EventID><h:EventID>0</h:EventID>")), "36");
  EXPECT_EQ(enumerate("AMT_AuditPolicyRule").find("<h:AuditApplicationEventID>" + powerUp + "<"), std::string::npos);
  EXPECT_EQ(returnValue(invoke("AMT_AuditPolicyRule", "SetAuditPolicyBulk",
                               "<h:Enable>true</h:Enable><h:AuditedAppID>17</h:AuditedAppID><h:EventID>0</h:EventID>"
                               "<h:PolicyType>0</h:PolicyType>")), "0");
  EXPECT_NE(enumerate("AMT_AuditPolicyRule").find("<h:AuditApplicationEventID>" + powerUp + "<"), std::string::npos);

  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "ClearLog")), "0");
  EXPECT_TRUE(model->state().logs.auditLog.empty());
  EXPECT_EQ(returnValue(invoke("AMT_AuditLog", "RequestStateChange", "<h:RequestedState>3</h:RequestedState>")), "0");
  audit(17, 1);
  EXPECT_TRUE(model->state().logs.auditLog.empty()) << "a disabled audit log takes no record";

  // Persisted: a reopened model has the same policy.
  model.reset();
  service.reset();
  power.reset();
  auto reopened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(reopened);
  EXPECT_FALSE((*reopened)->state().services.auditLogEnabled);
  EXPECT_TRUE((*reopened)->state().services.auditCriticalEvents == std::vector<std::uint32_t>{17u << 16});
}

TEST_F(ObjectModelTest, ProvisioningRecordLog) {
  // A console's host-based setup leaves "Provisioning Completed" in the audit log; the record follows it.
  EXPECT_EQ(count(enumerate("IPS_AdminProvisioningRecord"), "<h:InstanceID>"), 0);
  ASSERT_EQ(model->update([&](platform::PlatformState& s) {
    platform::appendAuditRecord(s, platform::makeAuditRecord(platform::audit::kSecurityAdmin,
                                                             platform::audit::kProvisioningCompleted,
                                                             {"admin", false, {}}, 1700000000));
  }), platform::ChangeResult::Ok);
  auto records = enumerate("IPS_ProvisioningAuditRecord");
  EXPECT_EQ(count(records, "IPS_AdminProvisioningRecord 1"), 1) << records;
  EXPECT_NE(enumerate("IPS_ProvisioningRecordLog").find("<h:CurrentNumberOfRecords>1<"), std::string::npos);
  clock.advance(std::chrono::seconds(5));
  EXPECT_EQ(returnValue(invoke("IPS_ProvisioningRecordLog", "ClearLog")), "0");
  EXPECT_EQ(count(enumerate("IPS_ProvisioningAuditRecord"), "<h:InstanceID>"), 0);
}

TEST_F(ObjectModelTest, SmallServices) {
  // The web UI switch is the platform's, which the web UI reads.
  EXPECT_EQ(returnValue(invoke("AMT_WebUIService", "RequestStateChange", "<h:RequestedState>3</h:RequestedState>")), "0");
  EXPECT_FALSE(model->state().features.webUiEnabled);
  EXPECT_NE(enumerate("AMT_WebUIService").find("<h:EnabledState>3<"), std::string::npos);
  EXPECT_EQ(returnValue(invoke("AMT_WebUIService", "RequestStateChange", "<h:RequestedState>9</h:RequestedState>")), "5");

  EXPECT_EQ(returnValue(invoke("AMT_KerberosSettingData", "SetCredentialCacheState", "<h:Enable>true</h:Enable>")), "0");
  EXPECT_NE(invoke("AMT_KerberosSettingData", "GetCredentialCacheState").find("Enabled>true<"), std::string::npos);
  EXPECT_EQ(returnValue(invoke("AMT_KerberosSettingData", "SetCredentialCacheState")), "36");

  // The power scheme a console picks is the policy AMTHI GetCurrentPowerPolicy reports.
  const std::string sel = "<w:Selector Name=\"InstanceID\">Intel(r) AMT:Power Scheme 0</w:Selector>";
  EXPECT_EQ(returnValue(invoke("AMT_SystemPowerScheme", "SetPowerScheme", "", sel)), "0");
  EXPECT_EQ(model->state().powerPolicy, "Desktop: ON in S0");

  EXPECT_EQ(returnValue(invoke("IPS_SecIOService", "RequestStateChange", "<h:RequestedState>2</h:RequestedState>")), "0");
  EXPECT_TRUE(model->state().services.secureIoEnabled);

  EXPECT_EQ(returnValue(invoke("CIM_RedirectionService", "RequestStateChange", "<h:RequestedState>3</h:RequestedState>")), "0");
  EXPECT_FALSE(model->state().features.kvmEnabled);
  EXPECT_NE(enumerate("CIM_KVMRedirectionSAP").find("<h:EnabledState>3<"), std::string::npos);

  // Endpoint access control is gone from AMT 16: answered, disabled, its methods unsupported.
  EXPECT_NE(enumerate("AMT_EndpointAccessControlService").find("<h:EnabledState>3<"), std::string::npos);
  EXPECT_EQ(returnValue(invoke("AMT_EndpointAccessControlService", "GetEacOptions")), std::to_string(0x812));
}

TEST_F(ObjectModelTest, SessionsUsingPorts) {
  EXPECT_EQ(count(enumerate("IPS_SessionUsingPort"), "<h:Antecedent>"), 0);
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.features.solSessionOpen = true; }), platform::ChangeResult::Ok);
  auto body = enumerate("IPS_SessionUsingPort");
  EXPECT_NE(body.find("IPS_SolSessionUsingPort"), std::string::npos) << body;
  EXPECT_NE(body.find("AMT_RedirectionService"), std::string::npos) << body;
}

}  // namespace
}  // namespace mesim::wsman
