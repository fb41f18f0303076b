// System Defense (docs/system-defense.md): the WS-Man classes over WsmanService (CRUD, limits, validation, the
// InstanceID a client sends overridden, persistence), which policy is in force (precedence, Timeouts on a manual
// firmware clock), the engine's records, alerts and host-network rulesets with a fake host network, and the nft
// translation fed hostile values.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <cctype>
#include <cstring>
#include <regex>

#include <boost/json.hpp>

#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/system_defense_json.h"
#include "firmware/sysdef/nft_ruleset.h"
#include "firmware/sysdef/system_defense_engine.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::wsman {
namespace {

using namespace std::chrono_literals;
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";

std::string selector(const std::string& name, const std::string& value) {
  return "<w:Selector Name=\"" + name + "\">" + value + "</w:Selector>";
}

std::string epr(const std::string& uri, const std::string& selectors) {
  return "<a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address><a:ReferenceParameters>"
         "<w:ResourceURI>" + uri + "</w:ResourceURI><w:SelectorSet>" + selectors + "</w:SelectorSet></a:ReferenceParameters>";
}

std::string portEpr(int nic) {
  return epr(kCim + "CIM_EthernetPort",
             selector("CreationClassName", "CIM_EthernetPort") +
                 selector("DeviceID", "Intel(r) AMT Ethernet Port " + std::to_string(nic)) +
                 selector("SystemCreationClassName", "CIM_ComputerSystem") + selector("SystemName", "ManagedSystem"));
}

std::string policyEpr(const std::string& id) { return epr(kAmt + "AMT_SystemDefensePolicy", selector("InstanceID", id)); }

// <h:Name>value</h:Name>... for a Create body.
std::string props(const std::vector<std::pair<std::string, std::string>>& values) {
  std::string out;
  for (const auto& [k, v] : values) out += "<h:" + k + ">" + v + "</h:" + k + ">";
  return out;
}

std::string createRequest(const std::string& cls, const std::string& body, const std::string& uriBase = kAmt) {
  return test::wsmanEnvelope(kTransfer + "Create", uriBase + cls,
                             "<h:" + cls + " xmlns:h=\"" + uriBase + cls + "\">" + body + "</h:" + cls + ">");
}

std::string selectorValue(const std::string& body, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex("Selector Name=\"" + name + "\">([^<]*)<"))) return "<none>";
  return m[1];
}

class SystemDefenseTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open() {
    service.reset();
    engine.reset();
    power.reset();
    model.reset();
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
    engine = std::make_unique<sysdef::SystemDefenseEngine>(io, timers, *model, &alerts, &host);
    service->setSystemDefense(engine.get());
    alerts.subscribe([this](const events::Alert& a) { raised.push_back(a); });
  }

  ops::WsmanResult call(const std::string& body) { return service->handle(body, {"admin", false}); }

  // Creates and returns the new InstanceID ("" on failure, with the answer in `lastBody`).
  std::string create(const std::string& cls, const std::vector<std::pair<std::string, std::string>>& values) {
    auto r = call(createRequest(cls, props(values)));
    lastBody = r.body;
    return r.httpStatus == 200 ? selectorValue(r.body, "InstanceID") : std::string();
  }
  std::string ipFilter(const std::string& name, const std::string& profile = "4", const std::string& direction = "0") {
    return create("AMT_IPHeadersFilter", {{"InstanceID", "999"}, {"Name", name}, {"CreationClassName", "x"},
                                          {"SystemName", "x"}, {"SystemCreationClassName", "x"},
                                          {"FilterDirection", direction}, {"FilterProfile", profile},
                                          {"HdrIPVersion", "4"}, {"HdrDestAddress", "10.251.0.1"},
                                          {"ActionEventOnMatch", "true"}});
  }
  std::string policy(const std::string& name, const std::vector<std::string>& filters, const std::string& precedence = "0") {
    std::string handles;
    for (const auto& f : filters) handles += "<h:FilterCreationHandles>" + f + "</h:FilterCreationHandles>";
    auto r = call(createRequest("AMT_SystemDefensePolicy",
                                props({{"InstanceID", "999"}, {"PolicyName", name}, {"PolicyPrecedence", precedence}}) +
                                    handles + props({{"TxDefaultDrop", "false"}, {"RxDefaultDrop", "false"}})));
    lastBody = r.body;
    return r.httpStatus == 200 ? selectorValue(r.body, "InstanceID") : std::string();
  }
  bool activate(const std::string& policyId, int nic = 0) {
    auto r = call(createRequest("AMT_NetworkPortSystemDefensePolicy",
                                "<h:Antecedent>" + portEpr(nic) + "</h:Antecedent><h:Dependent>" + policyEpr(policyId) +
                                    "</h:Dependent>"));
    lastBody = r.body;
    return r.httpStatus == 200;
  }
  std::string invoke(const std::string& method, const std::string& policyId, const std::string& input) {
    const std::string uri = kAmt + "AMT_SystemDefensePolicy";
    auto r = call(test::wsmanEnvelope(uri + "/" + method, uri,
                                      "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + input + "</h:" + method + "_INPUT>",
                                      "1", selector("InstanceID", policyId)));
    return r.body;
  }
  std::string enumerateAll(const std::string& uri) {
    auto r = call(test::wsmanEnvelope(kEnum + "Enumerate", uri,
                                      "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />"));
    std::smatch m;
    std::regex_search(r.body, m, std::regex("EnumerationContext>([^<]*)<"));
    return call(test::wsmanEnvelope(kEnum + "Pull", uri,
                                    "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                                        std::string(m[1]) + "</EnumerationContext><MaxElements>999</MaxElements></Pull>"))
        .body;
  }
  // Runs what the engine posted (record flushes, host-network answers).
  void settle() {
    io.restart();
    io.poll();
  }
  std::optional<platform::SdActive> active(int nic = 0) {
    const auto& s = model->state();
    return platform::sdActivePolicy(s.systemDefense, static_cast<std::size_t>(nic), core::unixSeconds(clock.now()), s.domainName);
  }
  std::vector<platform::MessageLogRecord> records(std::uint8_t sensorType) {
    std::vector<platform::MessageLogRecord> out;
    for (const auto& raw : model->state().logs.messageLog)
      if (auto r = platform::decodeMessageLogRecord(raw); r && r->event.sensorType == sensorType) out.push_back(*r);
    return out;
  }

  // Remembers each ruleset; counters are what the test sets.
  struct FakeHost : sysdef::HostNetwork {
    std::vector<std::string> rulesets;
    Counters counters;
    int reads = 0;
    void apply(std::string ruleset, std::function<void(Result<>)> done) override {
      rulesets.push_back(std::move(ruleset));
      done(Result<>{});
    }
    void readCounters(std::function<void(Result<Counters>)> done) override {
      ++reads;
      done(counters);
    }
  };

  test::TempDir dir{"sysdef"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  boost::asio::io_context io;
  core::FirmwareTimerQueue timers{io, clock};
  events::AlertBus alerts;
  std::vector<events::Alert> raised;
  FakeHost host;
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<sysdef::SystemDefenseEngine> engine;
  std::unique_ptr<ops::WsmanService> service;
  std::string lastBody;
};

TEST_F(SystemDefenseTest, CreateOverridesTheInstanceIdAndTheNextGetShowsWhatWasStored) {
  const std::string filter = ipFilter("web");
  ASSERT_FALSE(filter.empty()) << lastBody;
  EXPECT_NE(filter, "999");
  auto r = call(test::wsmanEnvelope(kTransfer + "Get", kAmt + "AMT_IPHeadersFilter", "", "1", selector("InstanceID", filter)));
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  EXPECT_NE(r.body.find("HdrDestAddress>0AFB0001<"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Name>web<"), std::string::npos);
  EXPECT_NE(r.body.find("SystemName>Intel(r) AMT<"), std::string::npos) << "the dummy keys are replaced";

  const std::string p = policy("isolate", {filter});
  ASSERT_FALSE(p.empty()) << lastBody;
  EXPECT_NE(p, "999");
  r = call(test::wsmanEnvelope(kTransfer + "Get", kAmt + "AMT_SystemDefensePolicy", "", "1", selector("InstanceID", p)));
  EXPECT_NE(r.body.find("FilterCreationHandles>" + filter + "<"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("PolicyName>isolate<"), std::string::npos);

  // The filter as a member of the policy: AMT_NetworkFilter, OwnerID the policy's handle.
  const std::string members = enumerateAll(kAmt + "AMT_NetworkFilter");
  EXPECT_NE(members.find("OwnerID>" + p + "<"), std::string::npos) << members;
  EXPECT_NE(members.find("Name>web<"), std::string::npos) << members;

  // Persisted: a new model over the same state dir has them.
  open();
  EXPECT_EQ(model->state().systemDefense.policies.size(), 1u);
  ASSERT_EQ(model->state().systemDefense.filters.size(), 1u);
  EXPECT_EQ(model->state().systemDefense.filters[0].destAddress, (std::vector<std::uint8_t>{10, 251, 0, 1}));
}

TEST_F(SystemDefenseTest, FiltersEnumeratePolymorphically) {
  ASSERT_FALSE(ipFilter("ip").empty());
  ASSERT_FALSE(create("AMT_Hdr8021Filter", {{"Name", "arp"}, {"FilterDirection", "1"}, {"FilterProfile", "3"},
                                            {"HdrProtocolID8021", "2054"}})
                   .empty())
      << lastBody;
  const std::string all = enumerateAll(kAmt + "AMT_FilterEntryBase");
  EXPECT_NE(all.find("AMT_IPHeadersFilter"), std::string::npos) << all;
  EXPECT_NE(all.find("AMT_Hdr8021Filter"), std::string::npos) << all;
  EXPECT_NE(all.find("HdrProtocolID8021>2054<"), std::string::npos) << all;
}

TEST_F(SystemDefenseTest, InvalidInputIsRefusedWithAReason) {
  EXPECT_TRUE(ipFilter("a name longer than sixteen").empty());
  EXPECT_NE(lastBody.find("Name must have 1 to 16"), std::string::npos) << lastBody;
  EXPECT_TRUE(create("AMT_IPHeadersFilter", {{"Name", "v6"}, {"FilterDirection", "0"}, {"FilterProfile", "4"},
                                             {"HdrIPVersion", "4"}, {"HdrSrcAddress", "fe80::1"}})
                  .empty());
  EXPECT_NE(lastBody.find("HdrSrcAddress"), std::string::npos) << lastBody;
  EXPECT_TRUE(create("AMT_IPHeadersFilter", {{"Name", "rate"}, {"FilterDirection", "0"}, {"FilterProfile", "2"},
                                             {"HdrIPVersion", "4"}})
                  .empty());
  EXPECT_TRUE(create("AMT_IPHeadersFilter", {{"Name", "ports"}, {"FilterDirection", "0"}, {"FilterProfile", "4"},
                                             {"HdrIPVersion", "4"}, {"HdrProtocolID", "6"}, {"HdrDestPortStart", "90"},
                                             {"HdrDestPortEnd", "80"}})
                  .empty());
  EXPECT_TRUE(policy("nofilter", {"12345"}).empty());
  EXPECT_NE(lastBody.find("names no filter"), std::string::npos) << lastBody;
  // A filter in a policy cannot be deleted until it is taken out.
  const std::string f = ipFilter("used");
  ASSERT_FALSE(policy("p", {f}).empty());
  auto r = call(test::wsmanEnvelope(kTransfer + "Delete", kAmt + "AMT_IPHeadersFilter", "", "1", selector("InstanceID", f)));
  EXPECT_EQ(r.httpStatus, 400u) << r.body;
  EXPECT_EQ(model->state().systemDefense.filters.size(), 1u);
}

TEST_F(SystemDefenseTest, LimitsAreEightPoliciesAndEightyFilters) {
  for (int i = 0; i < 80; ++i) ASSERT_FALSE(ipFilter("f" + std::to_string(i)).empty()) << i << lastBody;
  EXPECT_TRUE(ipFilter("one too many").empty());
  EXPECT_NE(lastBody.find("MAX_LIMIT_REACHED"), std::string::npos) << lastBody;
  for (int i = 0; i < 8; ++i) ASSERT_FALSE(policy("p" + std::to_string(i), {}).empty()) << lastBody;
  EXPECT_TRUE(policy("p8", {}).empty());
  EXPECT_NE(lastBody.find("MAX_LIMIT_REACHED"), std::string::npos) << lastBody;
  const std::string caps = enumerateAll(kAmt + "AMT_GeneralSystemDefenseCapabilities");
  EXPECT_NE(caps.find("GlobalMaxSupportedFilters>80<"), std::string::npos) << caps;
  EXPECT_NE(caps.find("GlobalMaxSupportedPolicies>8<"), std::string::npos) << caps;
}

TEST_F(SystemDefenseTest, ActivationAppliesTheRulesetUntilTheTimeoutThenTheNextPolicyTakesOver) {
  const std::string drop = ipFilter("drop");
  const std::string high = policy("high", {drop}, "10");
  const std::string low = policy("low", {}, "1");
  ASSERT_FALSE(high.empty());
  ASSERT_FALSE(low.empty());
  // The default policy (low) is in force until System Defense enables a higher one.
  ASSERT_EQ(call(createRequest("AMT_NetworkPortDefaultSystemDefensePolicy", "<h:Antecedent>" + portEpr(0) +
                                                                                 "</h:Antecedent><h:Dependent>" +
                                                                                 policyEpr(low) + "</h:Dependent>"))
                .httpStatus,
            200u);
  settle();
  ASSERT_TRUE(active());
  EXPECT_EQ(std::to_string(active()->policy), low);
  EXPECT_NE(invoke("SetTimeout", high, "<h:Timeout>2</h:Timeout>").find("ReturnValue>0<"), std::string::npos);
  EXPECT_NE(invoke("GetTimeout", high, "").find("Timeout>2<"), std::string::npos) << invoke("GetTimeout", high, "");
  ASSERT_TRUE(activate(high)) << lastBody;
  settle();
  EXPECT_EQ(std::to_string(engine->active(0)->policy), high);
  EXPECT_EQ(engine->active(0)->source, platform::SdSource::SystemDefense);
  ASSERT_FALSE(host.rulesets.empty());
  EXPECT_NE(host.rulesets.back().find("ip daddr 10.251.0.1 counter drop comment \"f" + drop + "\""), std::string::npos)
      << host.rulesets.back();
  EXPECT_TRUE(model->state().features.systemDefenseActive);
  ASSERT_FALSE(records(0xC0).empty()) << "the 0xC0 policy-invoked record";
  EXPECT_EQ(records(0xC0).back().event.eventData[0], 0xAA);

  // Two minutes of firmware time later the Timeout is over: the default policy is back, the association gone.
  clock.advance(119s);
  settle();
  EXPECT_EQ(std::to_string(engine->active(0)->policy), high);
  clock.advance(1s);
  settle();
  ASSERT_TRUE(engine->active(0));
  EXPECT_EQ(std::to_string(engine->active(0)->policy), low);
  EXPECT_EQ(host.rulesets.back().find("f" + drop), std::string::npos) << host.rulesets.back();
  EXPECT_EQ(enumerateAll(kAmt + "AMT_NetworkPortSystemDefensePolicy").find("Antecedent"), std::string::npos);
  EXPECT_FALSE(model->state().systemDefense.nics[0].slot(platform::SdSource::SystemDefense).enabled);
  // A Timeout set to 0 afterwards does not bring the expired activation back.
  invoke("SetTimeout", high, "<h:Timeout>0</h:Timeout>");
  settle();
  EXPECT_EQ(std::to_string(engine->active(0)->policy), low);
}

TEST_F(SystemDefenseTest, DeletingTheAssociationOrThePolicyRestoresTraffic) {
  const std::string p = policy("p", {ipFilter("f")});
  ASSERT_TRUE(activate(p));
  settle();
  ASSERT_TRUE(engine->active(0));
  const std::string assoc = enumerateAll(kAmt + "AMT_NetworkPortSystemDefensePolicy");
  EXPECT_NE(assoc.find("Intel(r) AMT Ethernet Port 0"), std::string::npos) << assoc;
  auto r = call(test::wsmanEnvelope(kTransfer + "Delete", kAmt + "AMT_NetworkPortSystemDefensePolicy", "", "1",
                                    "<w:Selector Name=\"Antecedent\"><a:EndpointReference>" + portEpr(0) +
                                        "</a:EndpointReference></w:Selector><w:Selector Name=\"Dependent\"><a:EndpointReference>" +
                                        policyEpr(p) + "</a:EndpointReference></w:Selector>"));
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  settle();
  EXPECT_FALSE(engine->active(0));
  EXPECT_EQ(host.rulesets.back(), sysdef::nftClear());
  EXPECT_FALSE(model->state().features.systemDefenseActive);

  ASSERT_TRUE(activate(p));
  settle();
  ASSERT_TRUE(engine->active(0));
  r = call(test::wsmanEnvelope(kTransfer + "Delete", kAmt + "AMT_SystemDefensePolicy", "", "1", selector("InstanceID", p)));
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  settle();
  EXPECT_FALSE(engine->active(0));
  EXPECT_EQ(host.rulesets.back(), sysdef::nftClear());
}

TEST_F(SystemDefenseTest, CountersGiveStatisticsAndOneMatchEventUntilRead) {
  const std::string f = ipFilter("count", "1");
  const std::string p = policy("p", {f});
  ASSERT_TRUE(activate(p));
  settle();
  const auto handle = static_cast<std::uint32_t>(std::stoul(f));
  host.counters[handle] = {3, 252};
  // The engine polls on real time; drive one poll by hand through the timer.
  io.restart();
  io.run_for(sysdef::SystemDefenseEngine::kCounterPoll + 200ms);
  ASSERT_GT(host.reads, 0);
  auto stats = engine->statistics(0);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].matched, 3u);
  settle();
  ASSERT_EQ(records(0x24).size(), 1u);
  EXPECT_EQ(records(0x24)[0].event.eventData[4], static_cast<std::uint8_t>(handle));
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(raised[0].messageId, "iAMT0001");

  // More matches: no second event until the statistics are read.
  host.counters[handle] = {5, 420};
  io.restart();
  io.run_for(sysdef::SystemDefenseEngine::kCounterPoll + 200ms);
  settle();
  EXPECT_EQ(records(0x24).size(), 1u);
  const std::string body = invoke("UpdateStatistics", p,
                                  "<h:NetworkInterface>" + portEpr(0) + "</h:NetworkInterface><h:ResetOnRead>true</h:ResetOnRead>");
  EXPECT_NE(body.find("ReturnValue>0<"), std::string::npos) << body;
  EXPECT_EQ(engine->statistics(0)[0].matched, 0u) << "ResetOnRead";
  EXPECT_EQ(engine->statistics(0)[0].readCount, 1u);
  host.counters[handle] = {6, 500};
  io.restart();
  io.run_for(sysdef::SystemDefenseEngine::kCounterPoll + 200ms);
  settle();
  EXPECT_EQ(records(0x24).size(), 2u);
  const std::string st = enumerateAll(kAmt + "AMT_ActiveFilterStatistics");
  EXPECT_NE(st.find("FilterMatched>1<"), std::string::npos) << st;
  // UpdateStatistics on a policy not in force there: NOT_FOUND.
  EXPECT_NE(invoke("UpdateStatistics", p, "<h:NetworkInterface>" + portEpr(1) + "</h:NetworkInterface>").find("ReturnValue>2068<"),
            std::string::npos);
}

TEST_F(SystemDefenseTest, AgentPresenceAndEnvironmentDetectionPoliciesCompeteByPrecedence) {
  const std::string ap = policy("agent", {}, "5");
  const std::string env = policy("outside", {}, "7");
  const std::string sd = policy("sd", {}, "3");
  auto link = [&](const char* cls, const std::string& p) {
    return call(createRequest(cls, "<h:Antecedent>" + portEpr(0) + "</h:Antecedent><h:Dependent>" + policyEpr(p) + "</h:Dependent>"))
        .httpStatus;
  };
  ASSERT_EQ(link("AMT_AgentPresenceInterfacePolicy", ap), 200u);
  ASSERT_TRUE(activate(sd));
  settle();
  EXPECT_EQ(std::to_string(engine->active(0)->policy), sd) << "the agent-presence policy waits for a watchdog action";
  // What a watchdog's ActionSd does (watchdog_fw): the agent-presence slot in force.
  ASSERT_EQ(model->update([&](platform::PlatformState& s) {
    auto& slot = s.systemDefense.nics[0].slot(platform::SdSource::AgentPresence);
    slot.enabled = true;
    slot.since = core::unixSeconds(clock.now());
  }), platform::ChangeResult::Ok);
  settle();
  EXPECT_EQ(std::to_string(engine->active(0)->policy), ap);
  EXPECT_NE(enumerateAll(kAmt + "AMT_InterfacePolicy").find("Enabled>true<"), std::string::npos);

  // Environment detection: in force only outside the enterprise (AMT's domain is example.com).
  const std::string uri = kAmt + "AMT_EnvironmentDetectionSettingData";
  auto r = call(test::wsmanEnvelope(uri + "/SetSystemDefensePolicy", uri,
                                    "<h:SetSystemDefensePolicy_INPUT xmlns:h=\"" + uri + "\"><h:Policy>" + policyEpr(env) +
                                        "</h:Policy></h:SetSystemDefensePolicy_INPUT>"));
  EXPECT_NE(r.body.find("ReturnValue>0<"), std::string::npos) << r.body;
  r = call(test::wsmanEnvelope(kTransfer + "Put", uri,
                               "<h:AMT_EnvironmentDetectionSettingData xmlns:h=\"" + uri +
                                   "\"><h:DetectionStrings>example.com</h:DetectionStrings></h:AMT_EnvironmentDetectionSettingData>"));
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  settle();
  EXPECT_EQ(std::to_string(engine->active(0)->policy), ap) << "inside the enterprise";
  r = call(test::wsmanEnvelope(kTransfer + "Put", uri,
                               "<h:AMT_EnvironmentDetectionSettingData xmlns:h=\"" + uri +
                                   "\"><h:DetectionStrings>corp.example.net</h:DetectionStrings></h:AMT_EnvironmentDetectionSettingData>"));
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  settle();
  EXPECT_EQ(std::to_string(engine->active(0)->policy), env) << "outside: the highest precedence wins";
}

TEST_F(SystemDefenseTest, EnableVpnRoutingIsStoredAndKept) {
  const std::string uri = kAmt + "AMT_EnvironmentDetectionSettingData";
  auto enable = [&](const std::string& input) {
    return call(test::wsmanEnvelope(uri + "/EnableVpnRouting", uri,
                                    "<h:EnableVpnRouting_INPUT xmlns:h=\"" + uri + "\">" + input + "</h:EnableVpnRouting_INPUT>"))
        .body;
  };
  EXPECT_FALSE(model->state().systemDefense.environment.vpnRoutingEnabled);
  EXPECT_NE(enable("").find("ReturnValue>36<"), std::string::npos) << "Enable is required";
  EXPECT_NE(enable("<h:Enable>true</h:Enable>").find("ReturnValue>0<"), std::string::npos);
  EXPECT_TRUE(model->state().systemDefense.environment.vpnRoutingEnabled);
  open();
  EXPECT_TRUE(model->state().systemDefense.environment.vpnRoutingEnabled) << "persisted";
  EXPECT_NE(enable("<h:Enable>false</h:Enable>").find("ReturnValue>0<"), std::string::npos);
  EXPECT_FALSE(model->state().systemDefense.environment.vpnRoutingEnabled);
}

TEST_F(SystemDefenseTest, AnUnprovisionForgetsThePolicies) {
  ASSERT_TRUE(activate(policy("p", {ipFilter("f")})));
  settle();
  ASSERT_EQ(model->unprovision(platform::UnprovisionScope::Full), platform::ChangeResult::Ok);
  settle();
  EXPECT_TRUE(model->state().systemDefense.policies.empty());
  EXPECT_FALSE(engine->active(0));
}

TEST_F(SystemDefenseTest, AStateFileWithoutSystemDefenseLoadsAndABadOneNamesTheField) {
  platform::SystemDefenseState s;
  EXPECT_TRUE(platform::systemDefenseFromJson(boost::json::parse("{}"), s));
  auto bad = platform::systemDefenseFromJson(boost::json::parse(R"({"nextHandle":1,"policies":[{"handle":"x"}]})"), s);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("systemDefense.policies[0].handle"), std::string::npos) << bad.error().message;
  bad = platform::systemDefenseFromJson(boost::json::parse(R"({"nextHandle":2,"policies":[{"handle":5}]})"), s);
  EXPECT_FALSE(bad);
}

// ---- the nft translation

platform::SdFilter hostileFilter() {
  platform::SdFilter f;
  f.handle = 7;
  f.name = "x\"; flush ruleset; add table ip evil {";  // never reaches the ruleset
  f.kind = platform::SdFilterKind::IpHeaders;
  f.ipVersion = 6;
  f.srcAddress = std::vector<std::uint8_t>(16, 0xFF);
  f.srcMask = std::vector<std::uint8_t>(16, 0xF0);
  f.protocol = 6;
  f.destPortStart = 65535;
  f.destPortEnd = 65535;
  f.tcpFlagsOn = 0xFF;
  f.profile = platform::sd_profile::kRateLimit;
  f.profileData = 0xFFFFFFFF;
  f.negated = true;
  return f;
}

TEST(NftRuleset, HostileValuesNeverBecomeNftSyntax) {
  platform::SystemDefenseState s;
  s.filters.push_back(hostileFilter());
  platform::SdPolicy p;
  p.handle = 8;
  p.name = "}\n flush ruleset";
  p.filters = {7};
  p.txDefaultDrop = true;
  p.antiSpoofing = 1;
  const std::string text = sysdef::nftRuleset(s, p);
  EXPECT_EQ(text.find("evil"), std::string::npos) << text;
  EXPECT_EQ(text.find("flush"), std::string::npos) << text;
  EXPECT_NE(text.find("ip6 saddr & f0f0:f0f0:f0f0:f0f0:f0f0:f0f0:f0f0:f0f0 == f0f0:f0f0:f0f0:f0f0:f0f0:f0f0:f0f0:f0f0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("chain n7 {"), std::string::npos) << "a negated filter gets its own chain:\n" << text;
  EXPECT_NE(text.find("limit rate 4294967295/second accept"), std::string::npos) << text;
  EXPECT_NE(text.find("counter drop comment \"d4294967292\""), std::string::npos) << "the Tx default drop:\n" << text;
  // Only the characters the translator itself writes appear in it.
  for (char c : text) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || std::strchr(" \n\"{};:.&=-/!_,", c)) << c;
}

TEST(NftRuleset, CountersComeFromTheJsonOfMesimsTablesOnly) {
  const std::string json = R"({"nftables":[{"metainfo":{"json_schema_version":1}},
    {"rule":{"family":"inet","table":"mesim_sd","chain":"tx","handle":4,"comment":"f12",
             "expr":[{"match":{}},{"counter":{"packets":3,"bytes":252}},{"drop":null}]}},
    {"rule":{"family":"inet","table":"mesim_sd","chain":"n12","handle":9,"comment":"f12",
             "expr":[{"counter":{"packets":2,"bytes":100}}]}},
    {"rule":{"family":"inet","table":"mesim_sd","chain":"tx","handle":5,"comment":"d4294967292",
             "expr":[{"counter":{"packets":1,"bytes":60}}]}},
    {"rule":{"family":"inet","table":"other","chain":"x","handle":5,"comment":"f12",
             "expr":[{"counter":{"packets":100,"bytes":1}}]}},
    {"rule":{"family":"inet","table":"mesim_sd","chain":"tx","handle":6,"comment":"f99999999999",
             "expr":[{"counter":{"packets":1,"bytes":1}}]}}]})";
  auto counters = sysdef::parseNftCounters(json);
  ASSERT_TRUE(counters) << counters.error().message;
  EXPECT_EQ(counters->size(), 2u);
  EXPECT_EQ((*counters)[12], (sysdef::NftCounter{5, 352}));
  EXPECT_EQ((*counters)[sysdef::kDefaultTxHandle].packets, 1u);
  EXPECT_FALSE(sysdef::parseNftCounters("not json"));
  EXPECT_FALSE(sysdef::parseNftCounters(R"({"x":1})"));
}

}  // namespace
}  // namespace mesim::wsman
