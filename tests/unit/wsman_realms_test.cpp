// Realms (issue 10 item 2): every class and operation the WS-Man service serves has a row in the realm table
// (wsman/ops/realm_table.cpp), and the service lets exactly the callers that hold one of a row's realms through,
// for every realm; the rows that encode what AMT documents are checked by name.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "firmware/platform/credentials.h"
#include "firmware/platform/host_power.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/realms.h"
#include "wsman/ops/realm_table.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::wsman {
namespace {

using cim::Realm;
using cim::RealmSet;
using ops::Operation;

const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";
const std::string kEventing = "http://schemas.xmlsoap.org/ws/2004/08/eventing/";

// One operation the service serves: a class, what is asked of it, and the method for Invoke.
struct Served {
  std::string className;
  Operation op;
  std::string method;
  bool operator<(const Served& o) const {
    return std::tie(className, op, method) < std::tie(o.className, o.op, o.method);
  }
};

// Everything the registry serves. WS-Eventing is not declared by classes: the service serves Subscribe on
// CIM_FilterCollection and Unsubscribe/Renew on CIM_FilterCollectionSubscription (wsman_service.cpp).
std::set<Served> servedOperations(const cim::ClassRegistry& registry) {
  std::set<Served> out;
  for (const auto& cls : registry.all()) {
    if (cls->enumerate) out.insert({cls->name, Operation::Read, {}});  // abstract: readRealms, no row
    if (cls->put) out.insert({cls->name, Operation::Put, {}});
    if (cls->create) out.insert({cls->name, Operation::Create, {}});
    if (cls->remove) out.insert({cls->name, Operation::Delete, {}});
    for (const auto& m : cls->methods) out.insert({cls->name, Operation::Invoke, m.name});
    if (cls->name == "CIM_FilterCollection") out.insert({cls->name, Operation::Subscribe, {}});
    if (cls->name == "CIM_FilterCollectionSubscription") {
      out.insert({cls->name, Operation::Unsubscribe, {}});
      out.insert({cls->name, Operation::Renew, {}});
    }
  }
  return out;
}

std::string describe(const Served& s) {
  return s.className + " " + std::string(ops::operationName(s.op)) + (s.method.empty() ? "" : " " + s.method);
}

bool accessDenied(const ops::WsmanResult& r) {
  return r.httpStatus == 400 && r.body.find("AccessDenied") != std::string::npos;
}

std::string enumerationContextOf(const std::string& body) {
  auto at = body.find("EnumerationContext>");
  if (at == std::string::npos) return {};
  at += std::string_view("EnumerationContext>").size();
  return body.substr(at, body.find('<', at) - at);
}

// A device with one caller besides the admin: an ACL entry holding `realms` (none: no entry).
class RealmDevice {
 public:
  explicit RealmDevice(std::vector<std::uint32_t> realms = {}, bool withEntry = false) {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    EXPECT_TRUE(opened) << opened.error().message;
    if (opened) model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
    if (withEntry) addUser("caller", std::move(realms));
  }

  void addUser(const std::string& name, std::vector<std::uint32_t> realms) {
    auto result = model->update([&](platform::PlatformState& s) {
      platform::AclUser u;
      u.handle = static_cast<std::uint32_t>(s.aclUsers.size() + 1);
      u.user = name;
      u.ha1 = platform::digestHa1(name, s.digestRealm, "Secret1!");
      u.realms = std::move(realms);
      s.aclUsers.push_back(u);
    });
    EXPECT_EQ(result, platform::ChangeResult::Ok);
  }

  const cim::ClassDef& classNamed(const std::string& name) const {
    const cim::ClassDef* cls = service->registry().byName(name);
    EXPECT_TRUE(cls) << name;
    return *cls;
  }

  ops::WsmanResult call(const std::string& body, const std::string& user, bool local = false) {
    return service->handle(body, {user, local});
  }

  // Requests that perform `s` (all of them, for Read: Get, Enumerate, and Pull and Release of an enumeration
  // the admin opened). Returns how many were denied and how many were sent.
  std::pair<int, int> attempt(const Served& s, const std::string& user, bool local = false) {
    const std::string uri = classNamed(s.className).resourceUri();
    std::vector<std::string> requests;
    switch (s.op) {
      case Operation::Read: {
        requests.push_back(test::wsmanEnvelope(kTransfer + "Get", uri));
        requests.push_back(test::wsmanEnvelope(kEnum + "Enumerate", uri, "<Enumerate xmlns=\"" + kEnumNs + "\"/>"));
        for (const char* step : {"Pull", "Release"}) {
          // Opened by the caller when it may, else by the admin (who may not read an auditor's log).
          const std::string enumerate =
              test::wsmanEnvelope(kEnum + "Enumerate", uri, "<Enumerate xmlns=\"" + kEnumNs + "\"/>");
          std::string context = enumerationContextOf(call(enumerate, user, local).body);
          if (context.empty()) context = enumerationContextOf(call(enumerate, "admin").body);
          EXPECT_FALSE(context.empty()) << s.className;
          requests.push_back(test::wsmanEnvelope(kEnum + step, uri,
                                                 "<" + std::string(step) + " xmlns=\"" + kEnumNs +
                                                     "\"><EnumerationContext>" + context + "</EnumerationContext></" +
                                                     step + ">"));
        }
        break;
      }
      case Operation::Put:
        requests.push_back(
            test::wsmanEnvelope(kTransfer + "Put", uri, "<h:" + s.className + " xmlns:h=\"" + uri + "\"/>"));
        break;
      case Operation::Create:
        requests.push_back(
            test::wsmanEnvelope(kTransfer + "Create", uri, "<h:" + s.className + " xmlns:h=\"" + uri + "\"/>"));
        break;
      case Operation::Delete: requests.push_back(test::wsmanEnvelope(kTransfer + "Delete", uri)); break;
      case Operation::Subscribe:
        requests.push_back(test::wsmanEnvelope(kEventing + "Subscribe", uri, "<Subscribe/>"));
        break;
      case Operation::Unsubscribe:
        requests.push_back(test::wsmanEnvelope(kEventing + "Unsubscribe", uri, "<Unsubscribe/>"));
        break;
      case Operation::Renew: requests.push_back(test::wsmanEnvelope(kEventing + "Renew", uri, "<Renew/>")); break;
      case Operation::Invoke:
        requests.push_back(
            test::wsmanEnvelope(uri + "/" + s.method, uri, "<h:" + s.method + "_INPUT xmlns:h=\"" + uri + "\"/>"));
        break;
    }
    int denied = 0;
    for (const auto& r : requests) denied += accessDenied(call(r, user, local)) ? 1 : 0;
    return {denied, static_cast<int>(requests.size())};
  }

  static inline const std::string kEnumNs = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
  test::LogThreshold quiet{log::Level::Warn};
  test::TempDir dir{"realms"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
};

// Drives every served operation as `user` and expects it let through exactly when `holds` meets the row.
void expectEnforced(RealmDevice& device, const std::string& user, bool local, RealmSet holds, const std::string& who) {
  for (const auto& s : servedOperations(device.service->registry())) {
    const bool permitted = ops::requiredRealms(s.className, s.op, s.method).intersects(holds);  // Read: concrete
    const platform::PlatformState before = device.model->state();
    auto [denied, sent] = device.attempt(s, user, local);
    // An unprovision clears the ACL users, the caller among them: provisioned again for the next operation.
    if (device.model->provisioningState() != before.provisioningState) {
      ASSERT_EQ(device.model->update([&](platform::PlatformState& state) { state = before; }), platform::ChangeResult::Ok);
    }
    EXPECT_EQ(denied, permitted ? 0 : sent)
        << who << ": " << describe(s) << (permitted ? " must pass" : " must be denied");
  }
}

TEST(WsmanRealms, EveryServedClassAndMethodHasARowAndEveryRowIsServed) {
  const auto served = servedOperations(cim::makeAmtClassRegistry());
  for (const auto& s : served)
    EXPECT_NE(ops::findRealmRule(s.className, s.op, s.method), nullptr)
        << describe(s) << " has no row in wsman/ops/realm_table.cpp: decide which realms may do it";
  std::set<Served> rows;
  for (const auto& rule : ops::realmRules()) {
    Served s{std::string(rule.className), rule.operation, std::string(rule.method)};
    EXPECT_TRUE(served.count(s)) << describe(s) << " is in the realm table but not served";
    EXPECT_TRUE(rows.insert(s).second) << describe(s) << " has two rows";
    EXPECT_FALSE(rule.realms.empty()) << describe(s) << " would be denied to everyone, the admin too";
  }
}

TEST(WsmanRealms, AnUnlistedOperationIsTheAdministratorsAlone) {
  EXPECT_EQ(ops::findRealmRule("AMT_SomeFutureClass", Operation::Read), nullptr);
  EXPECT_EQ(ops::requiredRealms("AMT_SomeFutureClass", Operation::Read), ops::kUnlistedRealms);
  EXPECT_EQ(ops::requiredRealms("AMT_RedirectionService", Operation::Invoke, "SomeFutureMethod"), ops::kUnlistedRealms);
  EXPECT_EQ(ops::kUnlistedRealms, RealmSet{Realm::PtAdministration});
}

// An abstract class is readable with any realm that reads one of its subclasses; an Enumerate through any base
// answers only the instances of the subclasses the caller may read.
TEST(WsmanRealms, APolymorphicEnumerationAnswersOnlyWhatTheCallerMayRead) {
  auto registry = cim::makeAmtClassRegistry();
  const auto* service = registry.byName("CIM_Service");
  ASSERT_NE(service, nullptr);
  ASSERT_FALSE(service->enumerate);
  EXPECT_TRUE(ops::readRealms(registry, *service).has(Realm::RemoteControl));   // CIM_PowerManagementService
  EXPECT_TRUE(ops::readRealms(registry, *service).has(Realm::GeneralInfo));        // AMT_AuthorizationService

  RealmDevice device({static_cast<std::uint32_t>(Realm::RemoteControl)}, /*withEntry=*/true);
  const std::string uri = cim::resourceUri(cim::Schema::Cim, "CIM_Service");
  auto e = device.call(test::wsmanEnvelope(RealmDevice::kEnumNs + "/Enumerate", uri,
                                           "<Enumerate xmlns=\"" + RealmDevice::kEnumNs + "\"/>"), "caller", false);
  ASSERT_EQ(e.httpStatus, 200u) << e.body;
  auto p = device.call(test::wsmanEnvelope(RealmDevice::kEnumNs + "/Pull", uri,
                                           "<Pull xmlns=\"" + RealmDevice::kEnumNs + "\"><EnumerationContext>" +
                                               enumerationContextOf(e.body) + "</EnumerationContext><MaxElements>999</MaxElements></Pull>"),
                       "caller", false);
  ASSERT_EQ(p.httpStatus, 200u) << p.body;
  EXPECT_NE(p.body.find("CIM_PowerManagementService"), std::string::npos) << p.body;
  EXPECT_EQ(p.body.find("AMT_AuthorizationService"), std::string::npos) << "General Info's, not Remote Control's";
  // A realm that reads nothing below CIM_Service is refused the Enumerate itself.
  RealmDevice none({}, /*withEntry=*/true);
  EXPECT_TRUE(accessDenied(none.call(test::wsmanEnvelope(RealmDevice::kEnumNs + "/Enumerate", uri,
                                                         "<Enumerate xmlns=\"" + RealmDevice::kEnumNs + "\"/>"), "caller", false)));
}

TEST(WsmanRealms, EachSingleRealmUserIsHeldToTheTable) {
  for (Realm realm : cim::kAllRealms) {
    SCOPED_TRACE(std::string(cim::realmName(realm)));
    RealmDevice device({static_cast<std::uint32_t>(realm)}, /*withEntry=*/true);
    // PT Administration is the administrator's realm: it holds all the others.
    const RealmSet holds = realm == Realm::PtAdministration ? RealmSet::all() : RealmSet{realm};
    expectEnforced(device, "caller", false, holds, std::string(cim::realmName(realm)));
  }
}

TEST(WsmanRealms, TheAdminMayDoEverything) {
  RealmDevice device;
  expectEnforced(device, "admin", false, RealmSet::all(), "admin");
}

TEST(WsmanRealms, AUserWithoutRealmsAndAnUnknownUserMayDoNothing) {
  RealmDevice device({}, /*withEntry=*/true);
  expectEnforced(device, "caller", false, {}, "no realms");
  expectEnforced(device, "nobody", false, {}, "unknown user");
}

TEST(WsmanRealms, TheOsAdminHasTheLocalSystemRealmsOnLocalRequestsOnly) {
  RealmDevice device;
  const std::string osAdmin = device.model->localSystemAccount().user;
  // AMT SDK "Predefined Local System Users" ($$OsAdmin); provisioned, so no Storage Admin.
  const RealmSet expected{Realm::GeneralInfo, Realm::LocalSystem,   Realm::LocalApps,     Realm::EndpointAccessControl,
                          Realm::Storage,     Realm::HardwareAsset, Realm::EventLogReader};
  EXPECT_EQ(cim::callerRealms(*device.model, osAdmin, true), expected);
  expectEnforced(device, osAdmin, true, expected, "OS admin, local");
  expectEnforced(device, osAdmin, false, {}, "OS admin, network");
  // Before provisioning (or after unprovisioning) it may administer storage as well.
  auto unprovisioned = device.model->update([](platform::PlatformState& s) {
    s.provisioningState = platform::ProvisioningState::Pre;
    s.controlMode = platform::ControlMode::None;
  });
  ASSERT_EQ(unprovisioned, platform::ChangeResult::Ok);
  EXPECT_TRUE(cim::callerRealms(*device.model, osAdmin, true).has(Realm::StorageAdmin));
}

TEST(WsmanRealms, TheAuditorOwnsTheAuditLog) {
  RealmDevice device;
  device.addUser("root", {static_cast<std::uint32_t>(Realm::PtAdministration)});
  EXPECT_TRUE(cim::callerRealms(*device.model, "admin", false).has(Realm::AuditLog));
  EXPECT_TRUE(cim::callerRealms(*device.model, "root", false).has(Realm::AuditLog));
  const Served readRecords{"AMT_AuditLog", Operation::Invoke, "ReadRecords"};
  EXPECT_EQ(device.attempt(readRecords, "admin").first, 0);
  // AMT SDK "Administrative Users": once an ACL entry holds Audit Log, the administrators do not.
  device.addUser("auditor", {static_cast<std::uint32_t>(Realm::AuditLog)});
  EXPECT_FALSE(cim::callerRealms(*device.model, "admin", false).has(Realm::AuditLog));
  EXPECT_FALSE(cim::callerRealms(*device.model, "root", false).has(Realm::AuditLog));
  EXPECT_TRUE(cim::callerRealms(*device.model, "root", false).has(Realm::Redirection));
  EXPECT_EQ(device.attempt(readRecords, "admin").first, 1);
  EXPECT_EQ(device.attempt(readRecords, "auditor").first, 0);
}

TEST(WsmanRealms, StoredRealmsNoAclEntryCanHoldAreIgnored) {
  RealmDevice device({0, 1, 14, 22, 99, static_cast<std::uint32_t>(Realm::Redirection)}, /*withEntry=*/true);
  EXPECT_EQ(cim::callerRealms(*device.model, "caller", false), RealmSet{Realm::Redirection});
}

// The rows that say what the AMT SDK says, by name.
TEST(WsmanRealms, TheTableFollowsTheSdk) {
  auto needs = [](const char* cls, Operation op, const char* method = "") {
    return ops::requiredRealms(cls, op, method);
  };
  const RealmSet redirectionOnly{Realm::Redirection};
  // Redirection: enabling redirection and its settings; nothing of the ACL or of the admin's account.
  EXPECT_TRUE(needs("AMT_RedirectionService", Operation::Invoke, "RequestStateChange").intersects(redirectionOnly));
  EXPECT_TRUE(needs("AMT_RedirectionService", Operation::Put).intersects(redirectionOnly));
  EXPECT_TRUE(needs("IPS_KVMRedirectionSettingData", Operation::Put).intersects(redirectionOnly));
  for (const auto& rule : ops::realmRules()) {
    if (rule.className == "AMT_AuthorizationService" && rule.operation == Operation::Invoke) {
      EXPECT_EQ(rule.realms, RealmSet{Realm::PtAdministration}) << rule.method;
    }
  }
  // Security administration: provisioning, TLS, general settings.
  EXPECT_EQ(needs("AMT_SetupAndConfigurationService", Operation::Invoke, "Unprovision"),
            RealmSet{Realm::PtAdministration});
  EXPECT_EQ(needs("AMT_TLSSettingData", Operation::Put), RealmSet{Realm::PtAdministration});
  EXPECT_EQ(needs("AMT_GeneralSettings", Operation::Put), RealmSet{Realm::PtAdministration});
  EXPECT_TRUE(needs("AMT_GeneralSettings", Operation::Read).has(Realm::GeneralInfo));
  // Remote Control: power and boot. Hardware Asset: inventory. Event Manager: subscriptions.
  EXPECT_EQ(needs("CIM_PowerManagementService", Operation::Invoke, "RequestPowerStateChange"),
            RealmSet{Realm::RemoteControl});
  EXPECT_EQ(needs("AMT_BootSettingData", Operation::Put), RealmSet{Realm::RemoteControl});
  // The OS agent (LMS as $$OsAdmin) registers the power states its OS carries out, and reads the boot reason.
  EXPECT_EQ(needs("CIM_PowerManagementCapabilities", Operation::Put), RealmSet{Realm::LocalSystem});
  EXPECT_TRUE(needs("IPS_HostBootReason", Operation::Read).has(Realm::GeneralInfo));
  EXPECT_EQ(needs("CIM_Processor", Operation::Read), RealmSet{Realm::HardwareAsset});
  EXPECT_EQ(needs("CIM_FilterCollection", Operation::Subscribe), RealmSet{Realm::EventManager});
  // Host-based setup is the OS admin's (Local System); the agent's heartbeats are Agent Presence Local's.
  EXPECT_EQ(needs("IPS_HostBasedSetupService", Operation::Invoke, "Setup"), RealmSet{Realm::LocalSystem});
  EXPECT_EQ(needs("AMT_AgentPresenceWatchdog", Operation::Invoke, "AssertPresence"),
            RealmSet{Realm::AgentPresenceLocal});
  EXPECT_EQ(needs("AMT_AgentPresenceWatchdog", Operation::Create), RealmSet{Realm::AgentPresenceRemote});
  EXPECT_EQ(needs("AMT_AuditLog", Operation::Invoke, "ReadRecords"), RealmSet{Realm::AuditLog});
  EXPECT_EQ(needs("AMT_MessageLog", Operation::Invoke, "GetRecords"), RealmSet{Realm::EventLogReader});
}

TEST(WsmanRealms, AclEntriesTakeOnlyRealmsAnEntryCanHold) {
  RealmDevice device;
  const std::string uri = device.classNamed("AMT_AuthorizationService").resourceUri();
  const std::string ha1 = platform::digestHa1("operator", device.model->digestRealm(), "Secret1!");
  std::vector<std::uint8_t> raw;
  for (std::size_t i = 0; i < ha1.size(); i += 2)
    raw.push_back(static_cast<std::uint8_t>(std::stoul(ha1.substr(i, 2), nullptr, 16)));
  auto add = [&](const std::string& name, const std::string& realms) {
    auto r =
        device.call(test::wsmanEnvelope(uri + "/AddUserAclEntryEx", uri,
                                        "<h:AddUserAclEntryEx_INPUT xmlns:h=\"" + uri + "\"><h:DigestUsername>" + name +
                                            "</h:DigestUsername><h:DigestPassword>" + cim::base64Encode(raw) +
                                            "</h:DigestPassword><h:AccessPermission>2</h:AccessPermission>" + realms +
                                            "</h:AddUserAclEntryEx_INPUT>"),
                    "admin");
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    auto at = r.body.find("ReturnValue>");
    return at == std::string::npos ? std::string() : r.body.substr(at + 12, r.body.find('<', at) - at - 12);
  };
  for (const char* invalid : {"0", "1", "14", "15", "16", "22", "23", "25", "4294967295"})
    EXPECT_EQ(add("operator", std::string("<h:Realms>2</h:Realms><h:Realms>") + invalid + "</h:Realms>"), "2055")
        << invalid;
  EXPECT_TRUE(device.model->state().aclUsers.empty());
  // $$ names are AMT's own local accounts.
  EXPECT_EQ(add("$$OsAdmin", "<h:Realms>2</h:Realms>"), "36");
  EXPECT_EQ(add("operator", "<h:Realms>2</h:Realms><h:Realms>24</h:Realms><h:Realms>21</h:Realms>"), "0");
  ASSERT_EQ(device.model->state().aclUsers.size(), 1u);
  EXPECT_EQ(device.model->state().aclUsers[0].realms, (std::vector<std::uint32_t>{2, 24, 21}));
}

TEST(WsmanRealms, ARedirectionUserCannotTakeOverTheAdminAccount) {
  RealmDevice device({static_cast<std::uint32_t>(Realm::Redirection)}, /*withEntry=*/true);
  const std::string uri = device.classNamed("AMT_AuthorizationService").resourceUri();
  const std::string adminHa1 = device.model->admin().ha1;
  auto set =
      device.call(test::wsmanEnvelope(uri + "/SetAdminAclEntryEx", uri,
                                      "<h:SetAdminAclEntryEx_INPUT xmlns:h=\"" + uri +
                                          "\"><h:Username>admin</h:Username><h:DigestPassword>"
                                          "AAAAAAAAAAAAAAAAAAAAAA==</h:DigestPassword></h:SetAdminAclEntryEx_INPUT>"),
                  "caller");
  EXPECT_EQ(set.httpStatus, 400u);
  EXPECT_NE(set.body.find(":AccessDenied</a:Value></a:Subcode>"), std::string::npos) << set.body;
  EXPECT_EQ(device.model->admin().ha1, adminHa1);
  // What the realm is for still works.
  const std::string redirection = device.classNamed("AMT_RedirectionService").resourceUri();
  auto enable =
      device.call(test::wsmanEnvelope(redirection + "/RequestStateChange", redirection,
                                      "<h:RequestStateChange_INPUT xmlns:h=\"" + redirection +
                                          "\"><h:RequestedState>32771</h:RequestedState></h:RequestStateChange_INPUT>"),
                  "caller");
  EXPECT_EQ(enable.httpStatus, 200u) << enable.body;
}

}  // namespace
}  // namespace mesim::wsman
