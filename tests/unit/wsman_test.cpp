// WsmanService driven with request envelopes as real clients write them (spec/wsman.md §1.2): the
// @device-management-toolkit/wsman-messages / MeshCentral style (default namespace + a:/w:) and the
// openwsman/wsl style (s:/wsa:/wsman:), checked against AMT's responses and faults (§1.3, §1.7).
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <boost/asio/io_context.hpp>

#include "firmware/clients/amthi_client.h"
#include "firmware/clients/amthi_codec.h"
#include "firmware/platform/credentials.h"
#include "firmware/platform/host_power.h"
#include "firmware/platform/platform_json.h"
#include "firmware/platform/user_consent.h"
#include "firmware/core/firmware_timer_queue.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/soap/envelope.h"
#include "wsman/soap/namespaces.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman {
namespace {

using ops::WsmanResult;
namespace ns = soap::ns;

const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kIps = "http://intel.com/wbem/wscim/1/ips-schema/1/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";

// What wsman-messages 5.x writes, with a numeric MessageID.
std::string amtRequest(const std::string& action, const std::string& uri, int messageId, const std::string& body,
                       const std::string& selectors = {}) {
  return test::wsmanEnvelope(action, uri, body, std::to_string(messageId), selectors);
}

std::string selector(const std::string& name, const std::string& value) {
  return "<w:Selector Name=\"" + name + "\">" + value + "</w:Selector>";
}

// openwsman / wsl (wsman-client.c) style.
std::string openwsmanRequest(const std::string& action, const std::string& uri, const std::string& body,
                             const std::string& extraHeaders = {}) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
         "xmlns:wsman=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "
         "xmlns:wsen=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\">\n  <s:Header>\n"
         "    <wsa:To s:mustUnderstand=\"true\">http://127.0.0.1:16992/wsman</wsa:To>\n"
         "    <wsman:ResourceURI s:mustUnderstand=\"true\">" +
         uri +
         "</wsman:ResourceURI>\n    <wsa:ReplyTo><wsa:Address "
         "s:mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></"
         "wsa:ReplyTo>\n    <wsa:Action s:mustUnderstand=\"true\">" +
         action +
         "</wsa:Action>\n    <wsman:MaxEnvelopeSize s:mustUnderstand=\"true\">153600</wsman:MaxEnvelopeSize>\n"
         "    <wsa:MessageID>uuid:2b9ae6b2-d0a2-10a2-8002-3d3a3d7e3a00</wsa:MessageID>\n"
         "    <wsman:Locale xml:lang=\"en-US\" s:mustUnderstand=\"false\"/>\n"
         "    <wsman:OperationTimeout>PT60.000S</wsman:OperationTimeout>\n" +
         extraHeaders + "  </s:Header>\n  <s:Body>" + body + "</s:Body>\n</s:Envelope>\n";
}

const std::string kManagedSystemEpr =
    "<Address xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">http://schemas.xmlsoap.org/ws/2004/08/"
    "addressing</Address><ReferenceParameters xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"><ResourceURI "
    "xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
    "CIM_ComputerSystem</ResourceURI><SelectorSet xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><Selector "
    "Name=\"CreationClassName\">CIM_ComputerSystem</Selector><Selector "
    "Name=\"Name\">ManagedSystem</Selector></SelectorSet></ReferenceParameters>";

std::string powerChange(int state, int messageId = 5) {
  const std::string uri = kCim + "CIM_PowerManagementService";
  return amtRequest(uri + "/RequestPowerStateChange", uri, messageId,
                    "<h:RequestPowerStateChange_INPUT xmlns:h=\"" + uri + "\"><h:PowerState>" + std::to_string(state) +
                        "</h:PowerState><h:ManagedElement>" + kManagedSystemEpr +
                        "</h:ManagedElement></h:RequestPowerStateChange_INPUT>");
}

struct Parsed {
  pugi::xml_document doc;
  pugi::xml_node env;
};

// Every element (any depth) with local name `local`, in document order.
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

class WsmanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    power->setHook([this](const platform::PowerChange& c) { changes.push_back(c); });
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
    consent = std::make_unique<platform::UserConsent>(*model, timers);
    service->setUserConsent(consent.get());
  }

  WsmanResult call(const std::string& body) { return service->handle(body, {"admin", false}); }

  // Calls and parses; expects a well-formed SOAP envelope back.
  std::unique_ptr<Parsed> parse(const WsmanResult& r) {
    auto p = std::make_unique<Parsed>();
    auto ok = p->doc.load_string(r.body.c_str());
    EXPECT_TRUE(ok) << r.body;
    p->env = p->doc.document_element();
    EXPECT_TRUE(soap::is(p->env, ns::kEnvelope, "Envelope")) << r.body;
    return p;
  }

  std::unique_ptr<Parsed> ok(const std::string& request) {
    auto r = call(request);
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    return parse(r);
  }

  // Expects a fault with `subcode` (local name) and `status`.
  void expectFault(const std::string& request, std::string_view subcode, unsigned status = 400,
                   std::string_view detail = {}) {
    auto r = call(request);
    EXPECT_EQ(r.httpStatus, status) << r.body;
    auto p = parse(r);
    auto values = all(p->env, "Value");
    ASSERT_FALSE(values.empty()) << r.body;
    std::string last = soap::text(values.back());
    EXPECT_EQ(last.substr(last.find(':') + 1), subcode) << r.body;
    if (!detail.empty()) {
      EXPECT_NE(first(p->env, "FaultDetail").find(detail), std::string::npos) << r.body;
    }
  }

  std::string enumerate(const std::string& uri, int id = 1) {
    auto p = ok(amtRequest(kEnum + "Enumerate", uri, id, "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />"));
    return first(p->env, "EnumerationContext");
  }

  std::string pullRequest(const std::string& uri, const std::string& context, int maxElements = 999,
                          int maxCharacters = 99999) {
    return amtRequest(kEnum + "Pull", uri, 2,
                      "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" + context +
                          "</EnumerationContext><MaxElements>" + std::to_string(maxElements) +
                          "</MaxElements><MaxCharacters>" + std::to_string(maxCharacters) + "</MaxCharacters></Pull>");
  }

  std::unique_ptr<Parsed> get(const std::string& uri, const std::string& selectors = {}) {
    return ok(amtRequest(kTransfer + "Get", uri, 0, "", selectors));
  }

  test::TempDir dir{"wsman"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  boost::asio::io_context io;
  core::FirmwareTimerQueue timers{io, clock};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<platform::UserConsent> consent;
  std::unique_ptr<ops::WsmanService> service;
  std::vector<platform::PowerChange> changes;
};

TEST_F(WsmanTest, GetGeneralSettingsInAmtStyle) {
  auto r = call(amtRequest(kTransfer + "Get", kAmt + "AMT_GeneralSettings", 0, ""));
  ASSERT_EQ(r.httpStatus, 200u);
  EXPECT_EQ(r.body.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?><a:Envelope xmlns:a=\"http://www.w3.org/2003/05/soap-envelope\" "
                         "xmlns:b=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:c=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "
                         "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/02/trust\" ",
                         0),
            0u)
      << r.body;
  EXPECT_NE(r.body.find("xmlns:g=\"" + kAmt + "AMT_GeneralSettings\""), std::string::npos);
  EXPECT_NE(r.body.find("<b:RelatesTo>0</b:RelatesTo><b:Action a:mustUnderstand=\"true\">" + kTransfer +
                        "GetResponse</b:Action><b:MessageID>uuid:00000000-8086-8086-8086-000000000001</b:MessageID>"),
            std::string::npos)
      << r.body;
  auto p = parse(r);
  EXPECT_EQ(first(p->env, "DigestRealm"), model->digestRealm());
  EXPECT_EQ(first(p->env, "HostName"), "mesim");
  EXPECT_EQ(first(p->env, "InstanceID"), "Intel(r) AMT: General Settings");
  // Properties A->Z.
  auto settings = all(p->env, "AMT_GeneralSettings").front();
  std::string previous;
  for (auto c : settings.children()) {
    std::string name(soap::localName(c));
    EXPECT_LT(previous, name);
    previous = name;
  }
  // The next response gets the next MessageID.
  auto r2 = call(amtRequest(kTransfer + "Get", kIps + "IPS_HostBasedSetupService", 1, ""));
  EXPECT_NE(r2.body.find("uuid:00000000-8086-8086-8086-000000000002"), std::string::npos);
  auto p2 = parse(r2);
  EXPECT_EQ(first(p2->env, "CurrentControlMode"), "2");
  EXPECT_EQ(all(p2->env, "AllowedControlModes").size(), 2u);
}

TEST_F(WsmanTest, EveryRegisteredClassServesDeclaredPropertiesOnly) {
  const auto& registry = service->registry();
  EXPECT_GE(registry.all().size(), 40u);
  for (const auto& cls : registry.all()) {
    if (!cls->enumerate) continue;
    std::string ctx = enumerate(cls->resourceUri());
    auto p = ok(pullRequest(cls->resourceUri(), ctx));
    auto items = all(p->env, "Items");
    ASSERT_EQ(items.size(), 1u) << cls->name;
    for (auto item : items.front().children()) {
      const auto* itemClass = registry.byName(soap::localName(item));
      ASSERT_NE(itemClass, nullptr) << soap::localName(item);
      EXPECT_EQ(soap::namespaceOf(item), itemClass->resourceUri());
      for (auto prop : item.children())
        EXPECT_NE(itemClass->property(soap::localName(prop)), nullptr) << cls->name << "." << soap::localName(prop);
      for (const auto& key : itemClass->keys) EXPECT_FALSE(all(item, key).empty()) << cls->name << " key " << key;
    }
  }
}

TEST_F(WsmanTest, EnumeratePullRelease) {
  const std::string uri = kCim + "CIM_SoftwareIdentity";
  std::string ctx = enumerate(uri);
  EXPECT_EQ(ctx, "01000000-0000-0000-0000-000000000000");
  EXPECT_EQ(service->openEnumerationContexts(), 1u);
  // MaxElements 2: two items and the context again.
  auto p = ok(pullRequest(uri, ctx, 2));
  EXPECT_EQ(all(p->env, "CIM_SoftwareIdentity").size(), 2u);
  EXPECT_EQ(first(p->env, "EnumerationContext"), ctx);
  EXPECT_TRUE(all(p->env, "EndOfSequence").empty());
  // The rest, then EndOfSequence and the context is gone.
  auto rest = ok(pullRequest(uri, ctx));
  EXPECT_EQ(all(rest->env, "CIM_SoftwareIdentity").size(), model->firmware().codeVersions.size() + 1 - 2);
  EXPECT_EQ(all(rest->env, "EndOfSequence").size(), 1u);
  EXPECT_EQ(service->openEnumerationContexts(), 0u);
  expectFault(pullRequest(uri, ctx), "InvalidEnumerationContext");

  // Release ends a context; a second Release faults.
  std::string ctx2 = enumerate(uri);
  const std::string release = amtRequest(kEnum + "Release", uri, 9,
                                         "<Release xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                                             ctx2 + "</EnumerationContext></Release>");
  auto rel = call(release);
  EXPECT_EQ(rel.httpStatus, 200u);
  EXPECT_NE(rel.body.find(kEnum + "ReleaseResponse"), std::string::npos);
  expectFault(release, "InvalidEnumerationContext");
  expectFault(pullRequest(uri, ctx2), "InvalidEnumerationContext");
}

// #10 item 10: a context belongs to who opened it; another user, or the same name on the other kind of channel,
// gets the fault of an unknown context, and the owner's context is untouched.
TEST_F(WsmanTest, EnumerationContextsBelongToTheirUser) {
  const std::string uri = kCim + "CIM_SoftwareIdentity";
  const std::string ctx = enumerate(uri);
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    platform::AclUser operatorUser;
    operatorUser.handle = 7;
    operatorUser.user = "operator";
    operatorUser.ha1 = std::string(32, '0');
    operatorUser.realms = {3};  // PT Administration: every realm, so only ownership can refuse
    s.aclUsers.push_back(operatorUser);
  }), platform::ChangeResult::Ok);
  for (const ops::WsmanCallContext& other : {ops::WsmanCallContext{"operator", false}, ops::WsmanCallContext{"admin", true}}) {
    auto r = service->handle(pullRequest(uri, ctx), other);
    EXPECT_EQ(r.httpStatus, 400u) << r.body;
    EXPECT_NE(r.body.find("InvalidEnumerationContext"), std::string::npos) << r.body;
  }
  EXPECT_EQ(service->openEnumerationContexts(), 1u);
  auto mine = ok(pullRequest(uri, ctx));
  EXPECT_FALSE(all(mine->env, "CIM_SoftwareIdentity").empty());
}

TEST_F(WsmanTest, PullNeverAnswersMoreThanMaxCharacters) {
  const std::string uri = kCim + "CIM_SoftwareIdentity";
  // The size of each item as Pull writes it, from an unlimited Pull.
  auto all999 = ok(pullRequest(uri, enumerate(uri), 999, 0));
  std::vector<std::size_t> sizes;
  for (auto item : all(all999->env, "CIM_SoftwareIdentity")) {
    std::ostringstream xml;
    item.print(xml, "", pugi::format_raw | pugi::format_no_empty_element_tags);
    sizes.push_back(xml.str().size());  // ASCII: bytes are characters
  }
  ASSERT_GE(sizes.size(), 3u);
  // Room for two items and a half: two come, the third stays for the next Pull.
  const std::string ctx = enumerate(uri, 3);
  const int limit = static_cast<int>(sizes[0] + sizes[1] + sizes[2] / 2);
  auto two = ok(pullRequest(uri, ctx, 999, limit));
  std::size_t got = 0;
  for (auto item : all(two->env, "CIM_SoftwareIdentity")) {
    std::ostringstream xml;
    item.print(xml, "", pugi::format_raw | pugi::format_no_empty_element_tags);
    got += xml.str().size();
  }
  EXPECT_EQ(all(two->env, "CIM_SoftwareIdentity").size(), 2u);
  EXPECT_LE(got, static_cast<std::size_t>(limit));
  // Not even the next item fits: a fault, and the item is still there for a Pull with room for it.
  expectFault(pullRequest(uri, ctx, 999, static_cast<int>(sizes[2]) - 1), "EncodingLimit");
  auto next = ok(pullRequest(uri, ctx, 1, static_cast<int>(sizes[2])));
  EXPECT_EQ(all(next->env, "CIM_SoftwareIdentity").size(), 1u);
}

TEST_F(WsmanTest, EnumerationContextsExpireAndAreCapped) {
  const std::string uri = kAmt + "AMT_GeneralSettings";
  std::string ctx = enumerate(uri);
  clock.advance(std::chrono::seconds(301));
  expectFault(pullRequest(uri, ctx), "InvalidEnumerationContext");
  for (int i = 0; i < 70; ++i) enumerate(uri);
  EXPECT_EQ(service->openEnumerationContexts(), 64u);
}

TEST_F(WsmanTest, PolymorphicEnumerateOfServiceAvailableToElement) {
  // MeshCentral's power polling (spec/wsman.md §3.3).
  const std::string uri = kCim + "CIM_ServiceAvailableToElement";
  auto raw = call(pullRequest(uri, enumerate(uri)));
  // AMT's prefixes: g enumeration, h the item class, i common (spec/wsman.md §1.3 capture).
  EXPECT_NE(raw.body.find("xmlns:g=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" xmlns:h=\"" + kCim +
                          "CIM_AssociatedPowerManagementService\" xmlns:i=\"http://schemas.dmtf.org/wbem/wscim/1/common\""),
            std::string::npos)
      << raw.body;
  auto p = parse(raw);
  auto items = all(p->env, "CIM_AssociatedPowerManagementService");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(soap::namespaceOf(items[0]), kCim + "CIM_AssociatedPowerManagementService");
  EXPECT_EQ(first(items[0], "PowerState"), "2");
  EXPECT_EQ(all(items[0], "AvailableRequestedPowerStates").size(), 8u);
  EXPECT_EQ(first(all(items[0], "ServiceProvided").front(), "ResourceURI"), kCim + "CIM_PowerManagementService");
  auto userOfService = all(items[0], "UserOfService").front();
  EXPECT_EQ(first(userOfService, "Address"), std::string(soap::kAnonymous));
  EXPECT_EQ(soap::text(all(userOfService, "Selector")[1]), "ManagedSystem");

  // CIM_PhysicalPackage answers with its Card, disk packages and Chassis; CIM_Chip includes CIM_PhysicalMemory.
  const std::string pkg = kCim + "CIM_PhysicalPackage";
  auto pp = ok(pullRequest(pkg, enumerate(pkg)));
  EXPECT_EQ(all(pp->env, "CIM_Chassis").size(), 1u);
  EXPECT_EQ(all(pp->env, "CIM_Card").size(), 1u);
  const std::string chip = kCim + "CIM_Chip";
  auto cp = ok(pullRequest(chip, enumerate(chip)));
  EXPECT_EQ(all(cp->env, "CIM_PhysicalMemory").size(), 1u);
}

TEST_F(WsmanTest, OpenwsmanStyleOptimizedEnumerateWithEprs) {
  const std::string uri = kCim + "CIM_SoftwareIdentity";
  auto p = ok(openwsmanRequest(kEnum + "Enumerate", uri,
                               "<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>3</wsman:MaxElements>"
                               "<wsman:EnumerationMode>EnumerateObjectAndEPR</wsman:EnumerationMode></wsen:Enumerate>"));
  EXPECT_EQ(first(p->env, "RelatesTo"), "uuid:2b9ae6b2-d0a2-10a2-8002-3d3a3d7e3a00");
  auto items = all(p->env, "Item");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(soap::namespaceOf(items[0]), ns::kWsman);
  EXPECT_EQ(all(items[0], "CIM_SoftwareIdentity").size(), 1u);
  auto epr = all(items[0], "EndpointReference");
  ASSERT_EQ(epr.size(), 1u);
  EXPECT_EQ(first(epr[0], "ResourceURI"), uri);
  EXPECT_EQ(first(epr[0], "Selector"), first(items[0], "InstanceID"));
  EXPECT_TRUE(all(p->env, "EndOfSequence").empty());
  // The rest through Pull, still with EPRs.
  auto rest = ok(pullRequest(uri, first(p->env, "EnumerationContext")));
  EXPECT_EQ(all(rest->env, "Item").size(), model->firmware().codeVersions.size() + 1 - 3);
  EXPECT_EQ(all(rest->env, "EndOfSequence").size(), 1u);

  // Everything fits: EndOfSequence in the EnumerateResponse.
  auto small = ok(openwsmanRequest(kEnum + "Enumerate", kAmt + "AMT_GeneralSettings",
                                   "<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>10</wsman:MaxElements></wsen:Enumerate>"));
  EXPECT_EQ(all(small->env, "AMT_GeneralSettings").size(), 1u);
  EXPECT_EQ(all(small->env, "EndOfSequence").size(), 1u);
}

TEST_F(WsmanTest, OpenwsmanGetWithSelectorsAndMustUnderstandHeaders) {
  auto p = ok(openwsmanRequest(kTransfer + "Get", kAmt + "AMT_EthernetPortSettings", "",
                               "<wsman:SelectorSet><wsman:Selector Name=\"InstanceID\">Intel(r) AMT Ethernet Port Settings "
                               "0</wsman:Selector></wsman:SelectorSet>\n"));
  EXPECT_EQ(first(p->env, "PhysicalConnectionType"), "0");
}

TEST_F(WsmanTest, SelectorsAndResourceFaults) {
  const std::string uri = kAmt + "AMT_EthernetPortSettings";
  // Two instances: selectors needed.
  expectFault(amtRequest(kTransfer + "Get", uri, 0, ""), "InvalidSelectors", 400, "InsufficientSelectors");
  expectFault(amtRequest(kTransfer + "Get", uri, 0, "", selector("Bogus", "1")), "InvalidSelectors", 400,
              "UnexpectedSelectors");
  expectFault(amtRequest(kTransfer + "Get", uri, 0, "", selector("InstanceID", "nope")), "InvalidSelectors", 400,
              "InvalidValue");
  expectFault(amtRequest(kTransfer + "Get", uri, 0, "",
                         selector("InstanceID", "Intel(r) AMT Ethernet Port Settings 0") +
                             selector("InstanceID", "Intel(r) AMT Ethernet Port Settings 0")),
              "InvalidSelectors", 400, "DuplicateSelectors");
  auto p = get(uri, selector("InstanceID", "Intel(r) AMT Ethernet Port Settings 1"));
  EXPECT_EQ(first(p->env, "PhysicalConnectionType"), "3");

  // Unknown class: AMT's DestinationUnreachable, HTTP 400, addressing fault action, its exact text.
  auto r = call(amtRequest(kTransfer + "Get", kAmt + "AMT_NoSuchClass", 7, ""));
  EXPECT_EQ(r.httpStatus, 400u);
  EXPECT_NE(r.body.find("<b:Action a:mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/08/addressing/fault</b:Action>"),
            std::string::npos);
  EXPECT_NE(r.body.find("<a:Value>a:Sender</a:Value><a:Subcode><a:Value>b:DestinationUnreachable</a:Value></a:Subcode>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("No route can be determined to reach the destination role defined by the WSAddressing To."),
            std::string::npos);
  EXPECT_NE(r.body.find("<b:RelatesTo>7</b:RelatesTo>"), std::string::npos);

  expectFault(amtRequest(kAmt + "AMT_GeneralSettings/NoSuchMethod", kAmt + "AMT_GeneralSettings", 0, ""),
              "ActionNotSupported");
  expectFault(amtRequest("http://example.com/Frobnicate", kAmt + "AMT_GeneralSettings", 0, ""), "ActionNotSupported");
  // Delete of a class without a remove provider.
  expectFault(amtRequest(kTransfer + "Delete", kAmt + "AMT_GeneralSettings", 0, ""), "ActionNotSupported");
}

TEST_F(WsmanTest, MalformedRequestsFault) {
  expectFault("<Envelope><Header>", "SchemaValidationError");
  expectFault("not xml at all", "SchemaValidationError");
  expectFault("<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaa\">]><Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\"/>",
              "SchemaValidationError");
  EXPECT_TRUE(soap::hasMarkupDeclaration("<!DOCTYPE x><a/>"));
  // A bare '&' (XML 1.0 §2.4), text or a second element after the root, text before it.
  auto withId = [&](const std::string& id) {
    return test::wsmanEnvelope(kTransfer + "Get", kAmt + "AMT_GeneralSettings", "", id);
  };
  const auto get = withId("0");
  ok(withId("a &amp; b &#38; &#x26; &lt;&gt;&quot;&apos;"));
  ok(withId("<![CDATA[a & b]]>"));
  expectFault(withId("a & b"), "SchemaValidationError");
  expectFault(withId("a &b c;"), "SchemaValidationError");
  expectFault(withId("a &#x; b"), "SchemaValidationError");
  expectFault(withId("a &unknown; b"), "SchemaValidationError");
  expectFault(get + "junk", "SchemaValidationError");
  expectFault(get + "<Envelope/>", "SchemaValidationError");
  expectFault(get + "<![CDATA[x]]>", "SchemaValidationError");
  expectFault("junk" + get.substr(get.find("<Envelope")), "SchemaValidationError");
  ok(get + "\r\n  <!-- a comment after the root --><?pi after?>\n");
  EXPECT_FALSE(soap::hasMarkupDeclaration("<a><!-- <!DOCTYPE --><![CDATA[<!ENTITY]]></a>"));
  // SOAP 1.1 envelope.
  expectFault("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>",
              "SchemaValidationError");
  // No Action / MessageID.
  expectFault("<Envelope xmlns=\"http://www.w3.org/2003/05/soap-envelope\"><Header/><Body/></Envelope>",
              "MessageInformationHeaderRequired");
  // MaxEnvelopeSize below AMT's minimum; OptionSet with mustUnderstand; an unknown mustUnderstand header.
  auto small = openwsmanRequest(kTransfer + "Get", kAmt + "AMT_GeneralSettings", "");
  small.replace(small.find("153600"), 6, "1024");
  expectFault(small, "EncodingLimit", 400, "MaxEnvelopeSize");
  expectFault(openwsmanRequest(kTransfer + "Get", kAmt + "AMT_GeneralSettings", "",
                               "<wsman:OptionSet s:mustUnderstand=\"true\"><wsman:Option Name=\"x\">1</wsman:Option></wsman:OptionSet>"),
              "MustUnderstand");
  expectFault(openwsmanRequest(kTransfer + "Get", kAmt + "AMT_GeneralSettings", "",
                               "<x:Custom xmlns:x=\"urn:x\" s:mustUnderstand=\"true\">1</x:Custom>"),
              "MustUnderstand");
  // Bad OperationTimeout.
  auto badTimeout = amtRequest(kTransfer + "Get", kAmt + "AMT_GeneralSettings", 0, "");
  badTimeout.replace(badTimeout.find("PT60S"), 5, "soon");
  expectFault(badTimeout, "InvalidMessageInformationHeader");
  EXPECT_EQ(soap::parseDuration("PT60S")->count(), 60000);
  EXPECT_EQ(soap::parseDuration("PT60.000S")->count(), 60000);
  EXPECT_EQ(soap::parseDuration("P1DT1M")->count(), 86460000);
  EXPECT_FALSE(soap::parseDuration("PT"));
}

TEST_F(WsmanTest, LinesNameThePlatformsDevice) {
  model->setLogContext(log::Context("dev-a"));
  auto request = amtRequest(kTransfer + "Get", kAmt + "AMT_GeneralSettings", 0, "");
  auto lines = test::capturedLog(log::Level::Debug, [&] { EXPECT_EQ(call(request).httpStatus, 200u); });
  EXPECT_NE(lines.find("[dev-a] "), std::string::npos) << lines;
  EXPECT_NE(lines.find("AMT_GeneralSettings -> 200"), std::string::npos) << lines;
}

TEST_F(WsmanTest, IdentifyNeedsNoActionAndIsRecognised) {
  const std::string identify =
      "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\"><s:Header/><s:Body><wsmid:Identify/>"
      "</s:Body></s:Envelope>";
  EXPECT_TRUE(ops::WsmanService::isIdentify(identify));
  EXPECT_FALSE(ops::WsmanService::isIdentify(amtRequest(kTransfer + "Get", kAmt + "AMT_GeneralSettings", 0, "")));
  EXPECT_FALSE(ops::WsmanService::isIdentify("<garbage"));
  auto r = service->handle(identify, {});
  ASSERT_EQ(r.httpStatus, 200u);
  auto p = parse(r);
  EXPECT_EQ(first(p->env, "ProductVersion"), "AMT 16.1");
  EXPECT_EQ(first(p->env, "ProtocolVersion"), "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd");
}

// The request counts behind mesim_wsman_requests_total: rows from bounded sets only (a made-up class is
// "unknown"), Pull counted on the enumerated class, a method by its declared name.
TEST_F(WsmanTest, RequestsAreCountedByActionClassMethodAndOutcome) {
  using ops::WsmanAction;
  using ops::WsmanRequestKey;
  auto count = [&](WsmanRequestKey key) {
    auto it = service->stats().requests.find(key);
    return it == service->stats().requests.end() ? 0u : it->second;
  };
  get(kAmt + "AMT_GeneralSettings");
  get(kAmt + "AMT_GeneralSettings");
  expectFault(amtRequest(kTransfer + "Get", kAmt + "AMT_MadeUp1", 1, ""), "DestinationUnreachable");
  expectFault(amtRequest(kTransfer + "Get", kAmt + "AMT_MadeUp2", 2, ""), "DestinationUnreachable");
  const std::string uri = kCim + "CIM_SoftwareIdentity";
  ok(pullRequest(uri, enumerate(uri)));
  ok(powerChange(8));
  expectFault("not xml at all", "SchemaValidationError");
  service->handle("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
                  "xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\"><s:Header/><s:Body>"
                  "<wsmid:Identify/></s:Body></s:Envelope>",
                  {});

  EXPECT_EQ(count({WsmanAction::Get, "AMT_GeneralSettings", {}, std::nullopt}), 2u);
  EXPECT_EQ(count({WsmanAction::Get, "unknown", {}, soap::FaultCode::DestinationUnreachable}), 2u);
  EXPECT_EQ(count({WsmanAction::Enumerate, "CIM_SoftwareIdentity", {}, std::nullopt}), 1u);
  EXPECT_EQ(count({WsmanAction::Pull, "CIM_SoftwareIdentity", {}, std::nullopt}), 1u);
  EXPECT_EQ(count({WsmanAction::Invoke, "CIM_PowerManagementService", "RequestPowerStateChange", std::nullopt}), 1u);
  EXPECT_EQ(count({WsmanAction::Identify, {}, {}, std::nullopt}), 1u);
  EXPECT_EQ(count({WsmanAction::Unknown, "unknown", {}, soap::FaultCode::SchemaValidationError}), 1u);
  std::uint64_t total = 0;
  for (const auto& [key, n] : service->stats().requests) total += n;
  EXPECT_EQ(total, 9u) << "every request is in exactly one row";
  EXPECT_EQ(service->stats().requests.size(), 7u);
  EXPECT_EQ(ops::actionName(WsmanAction::Invoke), "Invoke");
}

TEST_F(WsmanTest, PutGeneralSettingsAndBootSettingData) {
  const std::string uri = kAmt + "AMT_GeneralSettings";
  auto p = ok(amtRequest(kTransfer + "Put", uri, 3,
                         "<h:AMT_GeneralSettings xmlns:h=\"" + uri +
                             "\"><h:HostName>newhost</h:HostName><h:DomainName>lab.test</h:DomainName>"
                             "<h:PingResponseEnabled>false</h:PingResponseEnabled><h:DigestRealm>ignored</h:DigestRealm>"
                             "<h:InstanceID>Intel(r) AMT: General Settings</h:InstanceID></h:AMT_GeneralSettings>"));
  EXPECT_EQ(first(p->env, "HostName"), "newhost");
  EXPECT_EQ(first(p->env, "PingResponseEnabled"), "false");
  EXPECT_EQ(model->fqdn(), "newhost.lab.test");
  EXPECT_EQ(first(p->env, "DigestRealm"), model->digestRealm());  // read-only: ignored
  expectFault(amtRequest(kTransfer + "Put", uri, 3,
                         "<h:AMT_GeneralSettings xmlns:h=\"" + uri + "\"><h:PingResponseEnabled>maybe</h:PingResponseEnabled></h:AMT_GeneralSettings>"),
              "SchemaValidationError");

  const std::string boot = kAmt + "AMT_BootSettingData";
  auto b = ok(amtRequest(kTransfer + "Put", boot, 4,
                         "<h:AMT_BootSettingData xmlns:h=\"" + boot +
                             "\"><h:BIOSSetup>true</h:BIOSSetup><h:UseSOL>true</h:UseSOL><h:BootMediaIndex>0</h:BootMediaIndex></h:AMT_BootSettingData>"));
  EXPECT_EQ(first(b->env, "BIOSSetup"), "true");
  EXPECT_TRUE(model->state().boot.biosSetup);
  EXPECT_TRUE(model->state().boot.useSol);
}

TEST_F(WsmanTest, BootOrderAndConfigRoleWithEprArguments) {
  const std::string cfg = kCim + "CIM_BootConfigSetting";
  const std::string pxe =
      "<h:Source><Address xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">http://schemas.xmlsoap.org/ws/2004/08/"
      "addressing</Address><ReferenceParameters xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"><ResourceURI "
      "xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">" +
      kCim + "CIM_BootSourceSetting</ResourceURI><SelectorSet xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><Selector "
             "Name=\"InstanceID\">Intel(r) AMT: Force PXE Boot</Selector></SelectorSet></ReferenceParameters></h:Source>";
  auto p = ok(amtRequest(cfg + "/ChangeBootOrder", cfg, 6,
                         "<h:ChangeBootOrder_INPUT xmlns:h=\"" + cfg + "\">" + pxe + "</h:ChangeBootOrder_INPUT>",
                         selector("InstanceID", "Intel(r) AMT: Boot Configuration 0")));
  EXPECT_EQ(first(p->env, "ReturnValue"), "0");
  EXPECT_NE(std::string(p->doc.document_element().first_child().next_sibling().first_child().name()).find("ChangeBootOrder_OUTPUT"),
            std::string::npos);
  ASSERT_EQ(model->state().boot.bootOrder.size(), 1u);
  EXPECT_EQ(model->state().boot.bootOrder[0], "Intel(r) AMT: Force PXE Boot");

  const std::string svc = kCim + "CIM_BootService";
  auto role = ok(amtRequest(svc + "/SetBootConfigRole", svc, 7,
                            "<h:SetBootConfigRole_INPUT xmlns:h=\"" + svc +
                                "\"><h:BootConfigSetting><Address xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">"
                                "http://schemas.xmlsoap.org/ws/2004/08/addressing</Address><ReferenceParameters "
                                "xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"><ResourceURI "
                                "xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">" +
                                cfg + "</ResourceURI><SelectorSet xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><Selector "
                                      "Name=\"InstanceID\">Intel(r) AMT: Boot Configuration 0</Selector></SelectorSet>"
                                      "</ReferenceParameters></h:BootConfigSetting><h:Role>1</h:Role></h:SetBootConfigRole_INPUT>"));
  EXPECT_EQ(first(role->env, "ReturnValue"), "0");
  EXPECT_TRUE(model->state().boot.bootConfigActive);
}

TEST_F(WsmanTest, RequestPowerStateChangeTransitions) {
  auto rv = [&](int state) { return first(ok(powerChange(state))->env, "ReturnValue"); };
  EXPECT_EQ(rv(2), "2");  // already on
  EXPECT_EQ(rv(8), "0");  // off-soft
  EXPECT_EQ(model->state().hostPower.powerState, 8u);
  EXPECT_EQ(rv(8), "2");  // already off
  EXPECT_EQ(rv(10), "2"); // no reset while off
  EXPECT_EQ(rv(2), "0");
  EXPECT_EQ(rv(5), "0");  // power cycle: back on
  EXPECT_EQ(model->state().hostPower.powerState, 2u);
  EXPECT_EQ(model->state().lastHostResetReason, 0u);
  EXPECT_EQ(rv(4), "0");  // sleep
  EXPECT_EQ(rv(2), "0");  // wake
  EXPECT_EQ(rv(17), "1"); // not a power state code
  EXPECT_EQ(rv(7), "0");  // hibernate
  EXPECT_EQ(rv(13), "0"); // off-hard graceful from hibernate
  EXPECT_EQ(model->state().hostPower.powerState, 6u);
  ASSERT_EQ(changes.size(), 7u);
  EXPECT_EQ(changes[0].oldState, 2u);
  EXPECT_EQ(changes[0].newState, 8u);
  EXPECT_EQ(changes[2].requested, 5u);

  // Reported by the association and by IPS_PowerManagementService; MeshCentral's no-selector Get works.
  const std::string apms = kCim + "CIM_AssociatedPowerManagementService";
  auto p = ok(pullRequest(apms, enumerate(apms)));
  EXPECT_EQ(first(p->env, "PowerState"), "6");
  EXPECT_EQ(first(p->env, "RequestedPowerState"), "13");
  EXPECT_EQ(first(get(kIps + "IPS_PowerManagementService")->env, "OSPowerSavingState"), "2");

  // Each change is in the audit log (Remote Control app 17) and the message log.
  EXPECT_EQ(model->state().logs.auditLog.size(), 7u);
  EXPECT_EQ(model->state().logs.auditLog[0][1], 17);
  EXPECT_EQ(model->state().logs.messageLog.size(), 7u);
  // A wrong ManagedElement is a ReturnValue, not a fault.
  auto wrong = powerChange(2);
  wrong.replace(wrong.find("ManagedSystem"), 13, "Intel(r) AMT");
  EXPECT_EQ(first(ok(wrong)->env, "ReturnValue"), "36");
  // A non-numeric PowerState is an invalid parameter fault.
  auto bad = powerChange(2);
  bad.replace(bad.find("<h:PowerState>2"), 15, "<h:PowerState>x");
  expectFault(bad, "InvalidParameter");
}

TEST_F(WsmanTest, LogsReadBack) {
  ok(powerChange(8));
  ok(powerChange(2));
  const std::string audit = kAmt + "AMT_AuditLog";
  auto a = ok(amtRequest(audit + "/ReadRecords", audit, 1,
                         "<h:ReadRecords_INPUT xmlns:h=\"" + audit + "\"><h:StartIndex>1</h:StartIndex></h:ReadRecords_INPUT>"));
  EXPECT_EQ(first(a->env, "TotalRecordCount"), "2");
  EXPECT_EQ(all(a->env, "EventRecords").size(), 2u);
  // Outputs A->Z with ReturnValue among them.
  auto out = all(a->env, "ReadRecords_OUTPUT").front();
  std::vector<std::string> names;
  for (auto c : out.children()) names.emplace_back(soap::localName(c));
  EXPECT_EQ(names, (std::vector<std::string>{"EventRecords", "EventRecords", "RecordsReturned", "ReturnValue", "TotalRecordCount"}));

  const std::string msg = kAmt + "AMT_MessageLog";
  auto pos = ok(amtRequest(msg + "/PositionToFirstRecord", msg, 2,
                           "<h:PositionToFirstRecord_INPUT xmlns:h=\"" + msg + "\"></h:PositionToFirstRecord_INPUT>"));
  const std::string iter = first(pos->env, "IterationIdentifier");
  auto recs = ok(amtRequest(msg + "/GetRecords", msg, 3,
                            "<h:GetRecords_INPUT xmlns:h=\"" + msg + "\"><h:IterationIdentifier>" + iter +
                                "</h:IterationIdentifier><h:MaxReadRecords>390</h:MaxReadRecords></h:GetRecords_INPUT>"));
  EXPECT_EQ(first(recs->env, "NoMoreRecords"), "true");
  auto records = all(recs->env, "RecordArray");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(soap::text(records[0]).size(), 28u);  // 21 bytes in base64
}

TEST_F(WsmanTest, UnprovisionIsVisibleThroughAmthi) {
  const std::string uri = kAmt + "AMT_SetupAndConfigurationService";
  auto p = ok(amtRequest(uri + "/Unprovision", uri, 1,
                         "<h:Unprovision_INPUT xmlns:h=\"" + uri + "\"><h:ProvisioningMode>1</h:ProvisioningMode></h:Unprovision_INPUT>"));
  EXPECT_EQ(first(p->env, "ReturnValue"), "0");
  EXPECT_EQ(model->provisioningState(), platform::ProvisioningState::Pre);

  clients::AmthiClient amthi(*model);
  auto sent = test::exchange(amthi, clients::amthi::makeRequest(clients::amthi::code(clients::amthi::Command::GetProvisioningState)));
  ASSERT_EQ(sent.size(), 1u);
  auto response = clients::amthi::parseResponse(sent.front());
  ASSERT_TRUE(response);
  ASSERT_EQ(response->payload.size(), 4u);
  EXPECT_EQ(response->payload[0], 0u);  // pre-provisioning
  EXPECT_EQ(first(get(uri)->env, "ProvisioningState"), "0");
  EXPECT_EQ(first(get(kIps + "IPS_HostBasedSetupService")->env, "CurrentControlMode"), "0");

  // Host-based setup back to client control mode (rpc-go local activation).
  const std::string hbs = kIps + "IPS_HostBasedSetupService";
  const std::string ha1 = "0123456789abcdef0123456789abcdef";
  auto s = ok(amtRequest(hbs + "/Setup", hbs, 2,
                         "<h:Setup_INPUT xmlns:h=\"" + hbs +
                             "\"><h:NetAdminPassEncryptionType>2</h:NetAdminPassEncryptionType><h:NetworkAdminPassword>" + ha1 +
                             "</h:NetworkAdminPassword></h:Setup_INPUT>"));
  EXPECT_EQ(first(s->env, "ReturnValue"), "0");
  EXPECT_EQ(model->controlMode(), platform::ControlMode::Client);
  EXPECT_EQ(model->admin().ha1, ha1);
  // Setup again is an invalid state, reported as a ReturnValue.
  EXPECT_EQ(first(ok(amtRequest(hbs + "/Setup", hbs, 3,
                                "<h:Setup_INPUT xmlns:h=\"" + hbs +
                                    "\"><h:NetAdminPassEncryptionType>2</h:NetAdminPassEncryptionType><h:NetworkAdminPassword>" +
                                    ha1 + "</h:NetworkAdminPassword></h:Setup_INPUT>"))
                      ->env,
                  "ReturnValue"),
            "2");
}

TEST_F(WsmanTest, GetUuidMatchesAmthiByteOrder) {
  const std::string uri = kAmt + "AMT_SetupAndConfigurationService";
  auto p = ok(amtRequest(uri + "/GetUuid", uri, 1, "<h:GetUuid_INPUT xmlns:h=\"" + uri + "\"/>"));
  clients::AmthiClient amthi(*model);
  auto sent = test::exchange(amthi, clients::amthi::makeRequest(clients::amthi::code(clients::amthi::Command::GetUuid)));
  auto response = clients::amthi::parseResponse(sent.front());
  ASSERT_TRUE(response);
  std::vector<std::uint8_t> fromAmthi(response->payload.begin(), response->payload.end());
  std::vector<std::uint8_t> fromWsman;
  ASSERT_TRUE(cim::base64Decode(first(p->env, "UUID"), fromWsman));
  EXPECT_EQ(fromWsman, fromAmthi);
}

// A self-signed EC P-256 root, DER in base64 (openssl req -x509 -newkey ec -outform DER).
const std::string kTestRootCertificate =
    "MIIBiTCCAS+gAwIBAgIUHn7GaQEgdIcmii+lS4OKOekJIM4wCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwPbWVzaW0gdGVzdCByb290"
    "MB4XDTI2MTIwNjA1MDEzMloXDTM2MTIwMzA1MDEzMlowGjEYMBYGA1UEAwwPbWVzaW0gdGVzdCByb290MFkwEwYHKoZIzj0CAQYI"
    "KoZIzj0DAQcDQgAEOZTAZNNs1e8urdn6U6TY9FoXvI/yLKf+D531mAVlSC+0w4TA6uGskpqWo+2eyb/zt7UZ4Lf1qcODeJvnEp05"
    "8aNTMFEwHQYDVR0OBBYEFCvhNCY3t/AIZTBdDJLkHh66Ph43MB8GA1UdIwQYMBaAFCvhNCY3t/AIZTBdDJLkHh66Ph43MA8GA1Ud"
    "EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgGE9YmYbHEZDbq3k+FPPIVeNG5SNKRqHjMWZ3ZT19kNoCIQDMw3oJ1a8ch4fW"
    "UPG3vk3oFFZXAJiWX5j2S9weS6EwWw==";

TEST_F(WsmanTest, CreateDeleteCertificatesAndMethodReferencesOut) {
  const std::string pki = kAmt + "AMT_PublicKeyManagementService";
  auto p = ok(amtRequest(pki + "/AddTrustedRootCertificate", pki, 1,
                         "<h:AddTrustedRootCertificate_INPUT xmlns:h=\"" + pki + "\"><h:CertificateBlob>" +
                             kTestRootCertificate + "</h:CertificateBlob></h:AddTrustedRootCertificate_INPUT>"));
  EXPECT_EQ(first(p->env, "ReturnValue"), "0");
  auto created = all(p->env, "CreatedCertificate");
  ASSERT_EQ(created.size(), 1u);
  const std::string id = first(created[0], "Selector");
  EXPECT_EQ(id, "Intel(r) AMT Certificate: Handle: 0");
  const std::string cert = kAmt + "AMT_PublicKeyCertificate";
  EXPECT_EQ(first(get(cert, selector("InstanceID", id))->env, "TrustedRootCertficate"), "true");
  auto del = call(amtRequest(kTransfer + "Delete", cert, 2, "", selector("InstanceID", id)));
  EXPECT_EQ(del.httpStatus, 200u) << del.body;
  EXPECT_TRUE(model->state().certificates.empty());
  expectFault(amtRequest(kTransfer + "Delete", cert, 3, "", selector("InstanceID", id)), "InvalidSelectors");
}

// #10 item 4: certificates are parsed and size-limited as AMT limits them (X509Certificate MaxLen 4100): a blob
// that is not one DER certificate is INVALID_CERT, a larger one INVALID_PARAMETER, and neither is stored.
TEST_F(WsmanTest, CertificatesAreParsedAndSizeLimited) {
  const std::string pki = kAmt + "AMT_PublicKeyManagementService";
  auto add = [&](const std::string& blob) {
    return first(ok(amtRequest(pki + "/AddCertificate", pki, 1,
                               "<h:AddCertificate_INPUT xmlns:h=\"" + pki + "\"><h:CertificateBlob>" + blob +
                                   "</h:CertificateBlob></h:AddCertificate_INPUT>"))->env,
                 "ReturnValue");
  };
  std::vector<std::uint8_t> noise(190 * 1024, 0x41);
  EXPECT_EQ(add(cim::base64Encode(noise)), "36") << "190 KiB is over AMT's 4100 bytes";
  noise.resize(2000);
  EXPECT_EQ(add(cim::base64Encode(noise)), "2063") << "not a certificate";
  EXPECT_EQ(add(kTestRootCertificate.substr(0, 400)), "2063") << "cut short";
  EXPECT_EQ(add(kTestRootCertificate.substr(0, kTestRootCertificate.size() - 4) + "AAAAAAAA"), "2063")
      << "bytes after the certificate";
  EXPECT_TRUE(model->state().certificates.empty());
  EXPECT_EQ(add(kTestRootCertificate), "0");
  EXPECT_EQ(model->state().certificates.size(), 1u);
}

// AMT_ProvisioningCertificateHash is the same list AMTHI EnumerateHashHandles/GetCertHashEntry report: every
// default hash with the same bytes, algorithm, name and state, in AMT 16's instance shape; Put of Enabled, Create
// and Delete of user hashes change both views and persist; the factory defaults cannot be deleted.
TEST_F(WsmanTest, ProvisioningCertificateHashesAreAmthisHashList) {
  namespace amthi = clients::amthi;
  const std::string uri = kAmt + "AMT_ProvisioningCertificateHash";
  clients::AmthiClient amthiClient(*model);
  auto amthiCall = [&](amthi::Command c, const std::vector<std::uint8_t>& payload = {}) {
    auto sent = test::exchange(amthiClient, amthi::makeRequest(amthi::code(c), payload));
    EXPECT_EQ(sent.size(), 1u);
    auto response = amthi::parseResponse(sent.front());
    EXPECT_TRUE(response);
    EXPECT_EQ(response->status, amthi::Status::Success);
    return std::vector<std::uint8_t>(response->payload.begin(), response->payload.end());
  };
  struct AmthiHash {
    amthi::CertHashEntry entry;
    std::uint32_t handle;
  };
  auto amthiHashes = [&] {
    std::vector<AmthiHash> out;
    auto handles = amthi::decodeHashHandles(amthiCall(amthi::Command::EnumerateHashHandles));
    EXPECT_TRUE(handles);
    for (auto h : handles.value_or(std::vector<std::uint32_t>{})) {
      auto e = amthi::decodeCertHashEntry(amthiCall(amthi::Command::GetCertHashEntry, amthi::encodeU32(h)));
      EXPECT_TRUE(e);
      out.push_back({e.value_or(amthi::CertHashEntry{}), h});
    }
    return out;
  };
  auto wsmanHashes = [&] {
    auto p = ok(pullRequest(uri, enumerate(uri)));
    auto items = all(p->env, "Items");
    EXPECT_EQ(items.size(), 1u);
    std::vector<pugi::xml_node> out;
    for (auto item : items.front().children()) out.push_back(item);
    return std::make_pair(std::move(p), out);
  };
  auto hashLength = [](int type) { return type == 3 ? 48u : type == 2 ? 32u : type == 1 ? 20u : 16u; };
  auto expectSameLists = [&] {
    auto fromAmthi = amthiHashes();
    auto [doc, fromWsman] = wsmanHashes();
    ASSERT_EQ(fromWsman.size(), fromAmthi.size());
    for (std::size_t i = 0; i < fromAmthi.size(); ++i) {
      const auto& a = fromAmthi[i];
      auto w = fromWsman[i];
      EXPECT_EQ(soap::localName(w), "AMT_ProvisioningCertificateHash");
      EXPECT_EQ(first(w, "InstanceID"), "Intel(r) AMT Certificate Hash " + std::to_string(a.handle));
      EXPECT_EQ(first(w, "ElementName"), "Intel(r) AMT Certificate Hash");
      EXPECT_EQ(first(w, "Description"), a.entry.name);
      EXPECT_EQ(first(w, "HashType"), std::to_string(a.entry.algorithm));
      EXPECT_EQ(first(w, "IsDefault"), a.entry.isDefault ? "true" : "false");
      EXPECT_EQ(first(w, "Enabled"), a.entry.isActive ? "true" : "false");
      std::vector<std::uint8_t> data;
      ASSERT_TRUE(cim::base64Decode(first(w, "HashData"), data)) << first(w, "HashData");
      const auto n = hashLength(a.entry.algorithm);
      EXPECT_EQ(data, std::vector<std::uint8_t>(a.entry.hash.begin(), a.entry.hash.begin() + n));
      // Properties A->Z, as AMT writes them.
      std::string previous;
      for (auto c : w.children()) {
        EXPECT_LT(previous, std::string(soap::localName(c)));
        previous = soap::localName(c);
      }
    }
  };

  // The factory list, both ways.
  const auto defaults = amthiHashes();
  ASSERT_GE(defaults.size(), 7u);
  for (const auto& d : defaults) EXPECT_TRUE(d.entry.isDefault && d.entry.isActive);
  expectSameLists();
  const std::string firstId = "Intel(r) AMT Certificate Hash " + std::to_string(defaults[0].handle);
  auto one = get(uri, selector("InstanceID", firstId));
  EXPECT_EQ(first(one->env, "Description"), "DigiCert Global Root CA");
  EXPECT_EQ(first(one->env, "HashData"), "Q0ig6URMeMsmXgWNXolEtNhPlmK9Jtslf4k0pEPHAWE=");
  expectFault(amtRequest(kTransfer + "Get", uri, 1, "", selector("InstanceID", "Intel(r) AMT Certificate Hash 999")),
              "InvalidSelectors");

  // Put: Enabled is writable, the rest is ignored.
  auto put = ok(amtRequest(kTransfer + "Put", uri, 2,
                           "<h:AMT_ProvisioningCertificateHash xmlns:h=\"" + uri +
                               "\"><h:Enabled>false</h:Enabled><h:Description>renamed</h:Description><h:InstanceID>" +
                               firstId + "</h:InstanceID></h:AMT_ProvisioningCertificateHash>",
                           selector("InstanceID", firstId)));
  EXPECT_EQ(first(put->env, "Enabled"), "false");
  EXPECT_EQ(first(put->env, "Description"), "DigiCert Global Root CA");
  EXPECT_FALSE(model->findCertHash(defaults[0].handle)->isActive);
  expectSameLists();

  // Create a user hash (SHA-384), as a console adds its own root.
  std::vector<std::uint8_t> custom(48);
  for (std::size_t i = 0; i < custom.size(); ++i) custom[i] = static_cast<std::uint8_t>(0xA0 + i);
  auto createBody = [&](int type, const std::vector<std::uint8_t>& data, const std::string& name) {
    return amtRequest(kTransfer + "Create", uri, 3,
                      "<h:AMT_ProvisioningCertificateHash xmlns:h=\"" + uri + "\"><h:Description>" + name +
                          "</h:Description><h:Enabled>true</h:Enabled><h:HashData>" + cim::base64Encode(data) +
                          "</h:HashData><h:HashType>" + std::to_string(type) +
                          "</h:HashType><h:InstanceID>dummy</h:InstanceID><h:IsDefault>true</h:IsDefault>"
                          "</h:AMT_ProvisioningCertificateHash>");
  };
  auto created = ok(createBody(3, custom, "mesim test root"));
  const std::string createdId = first(all(created->env, "ResourceCreated").front(), "Selector");
  EXPECT_EQ(createdId, "Intel(r) AMT Certificate Hash " + std::to_string(defaults.back().handle + 1));
  auto afterCreate = amthiHashes();
  ASSERT_EQ(afterCreate.size(), defaults.size() + 1);
  EXPECT_FALSE(afterCreate.back().entry.isDefault);  // IsDefault in the body is not the client's to set
  EXPECT_TRUE(afterCreate.back().entry.isActive);
  EXPECT_EQ(afterCreate.back().entry.algorithm, 3);
  EXPECT_EQ(afterCreate.back().entry.name, "mesim test root");
  expectSameLists();

  // Refused: the same hash again, SHA-1 (ME 16 takes none), a length that does not fit the type, more than 3.
  expectFault(createBody(3, custom, "again"), "AlreadyExists");
  expectFault(createBody(1, std::vector<std::uint8_t>(20, 1), "sha1"), "InvalidParameter");
  expectFault(createBody(2, std::vector<std::uint8_t>(48, 1), "short"), "InvalidParameter");
  expectFault(createBody(2, std::vector<std::uint8_t>(32, 1), std::string(33, 'n')), "InvalidParameter");
  ok(createBody(2, std::vector<std::uint8_t>(32, 2), "second"));
  ok(createBody(2, std::vector<std::uint8_t>(32, 3), "third"));
  expectFault(createBody(2, std::vector<std::uint8_t>(32, 4), "fourth"), "InvalidParameter");
  EXPECT_EQ(model->certHashes().size(), defaults.size() + 3);

  // Delete: a user hash goes, a default one stays (disable it instead).
  auto del = call(amtRequest(kTransfer + "Delete", uri, 4, "", selector("InstanceID", createdId)));
  EXPECT_EQ(del.httpStatus, 200u) << del.body;
  EXPECT_EQ(model->certHashes().size(), defaults.size() + 2);
  expectFault(amtRequest(kTransfer + "Delete", uri, 5, "", selector("InstanceID", createdId)), "InvalidSelectors");
  expectFault(amtRequest(kTransfer + "Delete", uri, 6, "", selector("InstanceID", firstId)), "AccessDenied");
  EXPECT_NE(model->findCertHash(defaults[0].handle), nullptr);
  expectSameLists();

  // All of it is in platform.json.
  auto reopened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(reopened) << reopened.error().message;
  EXPECT_EQ((*reopened)->certHashes(), model->certHashes());
  EXPECT_FALSE((*reopened)->findCertHash(defaults[0].handle)->isActive);
}

TEST_F(WsmanTest, OptInFlow) {
  const std::string uri = kIps + "IPS_OptInService";
  auto call0 = [&](const std::string& method, const std::string& args = {}) {
    return first(ok(amtRequest(uri + "/" + method, uri, 1,
                               "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + args + "</h:" + method + "_INPUT>"))
                     ->env,
                 "ReturnValue");
  };
  EXPECT_EQ(call0("StartOptIn"), "0");
  ASSERT_EQ(service->optInCode().size(), 6u);
  EXPECT_EQ(first(get(uri)->env, "OptInState"), "2");
  std::string wrong = service->optInCode() == "000000" ? "1" : "0";
  EXPECT_EQ(call0("SendOptInCode", "<h:OptInCode>" + wrong + "</h:OptInCode>"), "2066");
  EXPECT_EQ(call0("SendOptInCode", "<h:OptInCode>" + std::to_string(std::stoul(service->optInCode())) + "</h:OptInCode>"), "0");
  EXPECT_EQ(first(get(uri)->env, "OptInState"), "3");
  EXPECT_EQ(call0("CancelOptIn"), "0");
  EXPECT_EQ(first(get(uri)->env, "OptInState"), "0");
  EXPECT_EQ(call0("SendOptInCode", "<h:OptInCode>1</h:OptInCode>"), "2");  // invalid state: nothing shown

  // Three wrong codes end the attempt (state 0), and a fourth call finds nothing to answer (2).
  EXPECT_EQ(call0("StartOptIn"), "0");
  EXPECT_EQ(call0("StartOptIn"), "2");  // one at a time
  const std::string wrongCode = std::to_string((std::stoul(service->optInCode()) + 1) % 1000000);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call0("SendOptInCode", "<h:OptInCode>" + wrongCode + "</h:OptInCode>"), "2066");
  EXPECT_EQ(first(get(uri)->env, "OptInState"), "0");
  EXPECT_EQ(service->optInCode(), "");
  EXPECT_EQ(call0("SendOptInCode", "<h:OptInCode>" + wrongCode + "</h:OptInCode>"), "2");

  // The shown code goes away after OptInDisplayTimeout (firmware time).
  EXPECT_EQ(call0("StartOptIn"), "0");
  clock.advance(std::chrono::seconds(299));
  EXPECT_EQ(first(get(uri)->env, "OptInState"), "2");
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(first(get(uri)->env, "OptInState"), "0");

  // Audited: the right code (3001, 0), three wrong ones (3001, 1).
  std::vector<std::pair<std::uint16_t, std::uint8_t>> events;
  for (const auto& raw : model->state().logs.auditLog)
    if (auto r = platform::decodeAuditRecord(raw); r && r->app == platform::audit::kUserOptIn)
      events.emplace_back(r->event, r->extendedData.at(0));
  EXPECT_EQ(events, (std::vector<std::pair<std::uint16_t, std::uint8_t>>{{1, 0}, {1, 1}}));
}

TEST_F(WsmanTest, OptInPolicyPutIsValidatedAndAudited) {
  const std::string uri = kIps + "IPS_OptInService";
  auto put = [&](const std::string& required, const std::string& codeTimeout) {
    return call(amtRequest(kTransfer + "Put", uri, 1,
                           "<h:IPS_OptInService xmlns:h=\"" + uri + "\"><h:OptInCodeTimeout>" + codeTimeout +
                               "</h:OptInCodeTimeout><h:OptInRequired>" + required +
                               "</h:OptInRequired></h:IPS_OptInService>"));
  };
  EXPECT_EQ(put("4294967295", "30").httpStatus, 400u);  // OptInCodeTimeout is 1..15 minutes
  EXPECT_EQ(put("2", "120").httpStatus, 400u);
  auto r = put("4294967295", "900");
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  EXPECT_EQ(model->state().optIn.optInRequired, platform::kOptInRequiredAll);
  EXPECT_EQ(model->state().optIn.optInCodeTimeout, 900u);
  ASSERT_FALSE(model->state().logs.auditLog.empty());
  auto record = platform::decodeAuditRecord(model->state().logs.auditLog.back());
  ASSERT_TRUE(record);
  EXPECT_EQ(record->app, platform::audit::kUserOptIn);
  EXPECT_EQ(record->event, platform::audit::kOptInPolicyChange);
  EXPECT_EQ(record->extendedData, (std::vector<std::uint8_t>{0x00, 0xFF}));  // from none to all
  EXPECT_EQ(platform::auditEventName(30, 0), "Opt-In Policy Change");
}

TEST_F(WsmanTest, ABootWithOptionsNeedsConsentWhenThePolicyAsksForIt) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) {
    s.optIn.optInRequired = platform::kOptInRequiredAll;
    s.boot.useIder = true;
    s.boot.bootConfigActive = true;  // SetBootConfigRole(IsNext) done
  }), platform::ChangeResult::Ok);
  const std::string pms = kCim + "CIM_PowerManagementService";
  auto requestPower = [&](int code) {
    return first(ok(amtRequest(pms + "/RequestPowerStateChange", pms, 2,
                               "<h:RequestPowerStateChange_INPUT xmlns:h=\"" + pms + "\"><h:PowerState>" +
                                   std::to_string(code) + "</h:PowerState></h:RequestPowerStateChange_INPUT>"))
                     ->env,
                 "ReturnValue");
  };
  const auto before = changes.size();
  EXPECT_EQ(requestPower(10), std::to_string(platform::kUserConsentRequired));  // 2081: a reset into IDE-R
  EXPECT_EQ(changes.size(), before);
  EXPECT_EQ(requestPower(8), "0");  // off boots nothing: no consent asked
  ASSERT_EQ(consent->start({"admin", false, {}}), platform::ConsentResult::Ok);
  ASSERT_EQ(consent->sendCode(std::stoul(*consent->code()), {"admin", false, {}}), platform::ConsentResult::Ok);
  EXPECT_EQ(requestPower(2), "0");
  EXPECT_EQ(consent->state(), platform::ConsentState::Received);  // a boot holds no session
}

TEST_F(WsmanTest, AclUsersAreManagedThroughTheAuthorizationService) {
  const std::string uri = kAmt + "AMT_AuthorizationService";
  auto invoke = [&](const std::string& method, const std::string& args = {}) {
    return ok(amtRequest(uri + "/" + method, uri, 1,
                         "<h:" + method + "_INPUT xmlns:h=\"" + uri + "\">" + args + "</h:" + method + "_INPUT>"));
  };
  // MD5("operator:<realm>:Secret1!") base64, as consoles send it
  const std::string ha1 = platform::digestHa1("operator", model->digestRealm(), "Secret1!");
  std::vector<std::uint8_t> raw;
  for (std::size_t i = 0; i < ha1.size(); i += 2) raw.push_back(static_cast<std::uint8_t>(std::stoul(ha1.substr(i, 2), nullptr, 16)));
  const std::string digest = cim::base64Encode(raw);
  auto add = invoke("AddUserAclEntryEx", "<h:DigestUsername>operator</h:DigestUsername><h:DigestPassword>" + digest +
                                             "</h:DigestPassword><h:AccessPermission>2</h:AccessPermission>"
                                             "<h:Realms>3</h:Realms><h:Realms>5</h:Realms>");
  ASSERT_EQ(first(add->env, "ReturnValue"), "0");
  const std::string handle = first(add->env, "Handle");
  ASSERT_EQ(model->state().aclUsers.size(), 1u);
  EXPECT_EQ(model->state().aclUsers[0].ha1, ha1) << "only the digest hash is stored";
  // the same name again is a duplicate; the admin's name too
  EXPECT_EQ(first(invoke("AddUserAclEntryEx", "<h:DigestUsername>operator</h:DigestUsername><h:DigestPassword>" + digest +
                                                  "</h:DigestPassword>")->env, "ReturnValue"), "2058");
  EXPECT_EQ(first(invoke("AddUserAclEntryEx", "<h:DigestUsername>admin</h:DigestUsername><h:DigestPassword>" + digest +
                                                  "</h:DigestPassword>")->env, "ReturnValue"), "2058");
  auto listed = invoke("EnumerateUserAclEntries", "<h:StartIndex>1</h:StartIndex>");
  EXPECT_EQ(first(listed->env, "TotalCount"), "1");
  EXPECT_EQ(first(listed->env, "Handles"), handle);
  auto got = invoke("GetUserAclEntryEx", "<h:Handle>" + handle + "</h:Handle>");
  EXPECT_EQ(first(got->env, "DigestUsername"), "operator");
  EXPECT_EQ(all(got->env, "Realms").size(), 2u);
  EXPECT_EQ(first(invoke("SetAclEnabledState", "<h:Handle>" + handle + "</h:Handle><h:Enabled>false</h:Enabled>")->env,
                  "ReturnValue"), "0");
  EXPECT_FALSE(model->state().aclUsers[0].enabled);
  EXPECT_EQ(first(invoke("UpdateUserAclEntryEx", "<h:Handle>" + handle + "</h:Handle><h:DigestUsername>operator2</h:DigestUsername>"
                                                 "<h:DigestPassword>" + digest + "</h:DigestPassword>")->env, "ReturnValue"), "0");
  EXPECT_EQ(model->state().aclUsers[0].user, "operator2");
  EXPECT_EQ(first(invoke("GetUserAclEntryEx", "<h:Handle>999</h:Handle>")->env, "ReturnValue"), "2053");
  EXPECT_EQ(first(invoke("RemoveUserAclEntry", "<h:Handle>" + handle + "</h:Handle>")->env, "ReturnValue"), "0");
  EXPECT_TRUE(model->state().aclUsers.empty());
}

// #10 item 1: text that cannot be stored as JSON or sent back as XML is refused at the boundary, raw or as a
// character reference, and nothing is stored; the state dir opens again afterwards.
TEST_F(WsmanTest, TextXmlCannotCarryIsRefusedBeforeAnythingIsStored) {
  const std::string uri = kAmt + "AMT_AuthorizationService";
  auto add = [&](const std::string& user) {
    return amtRequest(uri + "/AddUserAclEntryEx", uri, 1,
                      "<h:AddUserAclEntryEx_INPUT xmlns:h=\"" + uri + "\"><h:DigestUsername>" + user +
                          "</h:DigestUsername><h:DigestPassword>AAAAAAAAAAAAAAAAAAAAAA==</h:DigestPassword>"
                          "<h:Realms>3</h:Realms></h:AddUserAclEntryEx_INPUT>");
  };
  for (const std::string user : {"op\xFF\xFE", "op\x01", "op&#1;", "op&#x1B;[2J", "op&#xFFFE;", "op&#xD800;"})
    expectFault(add(user), "SchemaValidationError");
  EXPECT_TRUE(model->state().aclUsers.empty());
  auto reopened = platform::PlatformModel::open(dir.path(), {});
  EXPECT_TRUE(reopened) << reopened.error().message;
  // Characters XML can carry still pass: tab and non-ASCII letters.
  auto fine = call(add("op\tgr\xC3\xBC\xC3\x9F"));
  EXPECT_EQ(fine.httpStatus, 200u) << fine.body;
}

TEST_F(WsmanTest, MaxEnvelopeSizeLimitsTheResponse) {
  auto req = openwsmanRequest(kEnum + "Enumerate", kCim + "CIM_SoftwareIdentity",
                              "<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>100</wsman:MaxElements></wsen:Enumerate>");
  req.replace(req.find("153600"), 6, "50000");
  EXPECT_EQ(call(req).httpStatus, 200u);  // fits
}

TEST_F(WsmanTest, OlderPlatformFilesLoadWithDefaults) {
  // A state written before the WS-Man fields existed: drop them and reload.
  std::string text = platform::serializeState(model->state()).value();
  for (const char* key : {"hostPower", "boot", "optIn", "redirection", "generalSettings", "tls", "certificates",
                          "remoteAccessConfig", "httpProxies", "time"}) {
    auto at = text.find(std::string("\"") + key + "\":");
    ASSERT_NE(at, std::string::npos) << key;
  }
  // Keep only the schema-1 sections.
  auto cut = text.find(",\n  \"hostPower\"");
  ASSERT_NE(cut, std::string::npos);
  std::string old = text.substr(0, cut) + "\n}\n";
  auto parsed = platform::parseState(old, model->state());
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed->defaulted);
  EXPECT_EQ(parsed->state.hostPower.powerState, 2u);
}


// Intel LMS's PowerOperationsService at start, as $$OsAdmin through the LMS path: Get the capabilities, then Put
// PowerStatesSupported with the graceful states added and those its OS cannot do (here sleep, hibernate) removed.
TEST_F(WsmanTest, OsAgentRegistersItsPowerStatesInThePowerManagementCapabilities) {
  const std::string uri = kCim + "CIM_PowerManagementCapabilities";
  auto list = [&](pugi::xml_node root, std::string_view name) {
    std::vector<std::string> v;
    for (auto n : all(root, name)) v.push_back(soap::text(n));
    return v;
  };
  auto g = get(uri);
  EXPECT_EQ(first(g->env, "InstanceID"), "Intel(r) AMT:PowerManagementCapabilities 0");
  EXPECT_EQ(first(g->env, "ElementName"), "Power Management Capabilities");
  EXPECT_EQ(list(g->env, "PowerChangeCapabilities"), (std::vector<std::string>{"2", "3", "4", "7", "8"}));
  EXPECT_EQ(list(g->env, "PowerStatesSupported"),
            (std::vector<std::string>{"5", "8", "2", "10", "11", "4", "7", "12", "14"}));
  EXPECT_EQ(list(g->env, "RequestedPowerStatesSupported"), list(g->env, "PowerStatesSupported"));

  auto put = [&](const std::string& states) {
    std::string body = "<h:CIM_PowerManagementCapabilities xmlns:h=\"" + uri +
                       "\"><h:ElementName>Power Management Capabilities</h:ElementName><h:InstanceID>Intel(r) "
                       "AMT:PowerManagementCapabilities 0</h:InstanceID>";
    for (std::size_t at = 0; at < states.size();) {
      auto comma = states.find(',', at);
      if (comma == std::string::npos) comma = states.size();
      body += "<h:PowerStatesSupported>" + states.substr(at, comma - at) + "</h:PowerStatesSupported>";
      at = comma + 1;
    }
    body += "<h:PowerChangeCapabilities>9</h:PowerChangeCapabilities></h:CIM_PowerManagementCapabilities>";
    return amtRequest(kTransfer + "Put", uri, 9, body, selector("InstanceID", "Intel(r) AMT:PowerManagementCapabilities 0"));
  };
  const std::string osAdmin = model->localSystemAccount().user;
  auto r = service->handle(put("5,8,2,10,11,12,14"), {osAdmin, true});
  ASSERT_EQ(r.httpStatus, 200u) << r.body;
  auto p = parse(r);
  EXPECT_EQ(list(p->env, "PowerStatesSupported"), (std::vector<std::string>{"5", "8", "2", "10", "11", "12", "14"}));
  EXPECT_EQ(list(p->env, "RequestedPowerStatesSupported"), list(p->env, "PowerStatesSupported"));
  EXPECT_EQ(list(p->env, "PowerChangeCapabilities").size(), 5u);  // read-only: ignored
  EXPECT_EQ(model->state().hostPower.powerStatesSupported, (std::vector<std::uint32_t>{5, 8, 2, 10, 11, 12, 14}));
  // Persisted.
  auto reopened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->state().hostPower.powerStatesSupported, model->state().hostPower.powerStatesSupported);

  // What a console may request now follows: no sleep (4) or hibernate (7) while on.
  const std::string apms = kCim + "CIM_AssociatedPowerManagementService";
  EXPECT_EQ(list(ok(pullRequest(apms, enumerate(apms)))->env, "AvailableRequestedPowerStates"),
            (std::vector<std::string>{"10", "8", "5", "11", "14", "12"}));
  // Without the graceful ones, neither are those offered; the firmware's own (reset, off, cycle, NMI) stay.
  ASSERT_EQ(service->handle(put("5,8,2,10,11"), {osAdmin, true}).httpStatus, 200u);
  EXPECT_EQ(list(ok(pullRequest(apms, enumerate(apms)))->env, "AvailableRequestedPowerStates"),
            (std::vector<std::string>{"10", "8", "5", "11"}));

  // Not a power state: refused, nothing changed. Not from the network with the OS account.
  expectFault(put("5,8,17"), "InvalidParameter");
  EXPECT_EQ(model->state().hostPower.powerStatesSupported, (std::vector<std::uint32_t>{5, 8, 2, 10, 11}));
  EXPECT_NE(service->handle(put("5,8,2,10,11,4"), {osAdmin, false}).httpStatus, 200u);
  EXPECT_EQ(model->state().hostPower.powerStatesSupported.size(), 5u);
}

// IPS_HostBootReason follows the host's boots: remote-control power up, reset and power cycle with the operation and
// the S-state before; the host's own power-on is "Other"; a wake from sleep is no boot.
TEST_F(WsmanTest, HostBootReasonRecordsEachBoot) {
  const std::string uri = kIps + "IPS_HostBootReason";
  struct Boot {
    std::string reason, details, previous;
  };
  auto boot = [&] {
    auto p = ok(pullRequest(uri, enumerate(uri)));
    EXPECT_EQ(all(p->env, "IPS_HostBootReason").size(), 1u);
    EXPECT_EQ(first(p->env, "InstanceID"), "Intel(r) AMT:Host Boot Reason");
    EXPECT_EQ(first(p->env, "ElementName"), "Intel(r) AMT:Host Boot Reason");
    return Boot{first(p->env, "Reason"), first(p->env, "ReasonDetails"), first(p->env, "PreviousSxState")};
  };
  auto expectBoot = [&](const Boot& b, const char* reason, const char* details, const char* previous) {
    EXPECT_EQ(b.reason, reason);
    EXPECT_EQ(b.details, details);
    EXPECT_EQ(b.previous, previous);
  };
  // A fresh platform, as a real AMT 16 answers after an ordinary boot.
  expectBoot(boot(), "1", "", "0");
  auto rv = [&](int state) { return first(ok(powerChange(state))->env, "ReturnValue"); };
  ASSERT_EQ(rv(10), "0");
  expectBoot(boot(), "2", "Reset", "2");
  ASSERT_EQ(rv(5), "0");
  expectBoot(boot(), "2", "Power Cycle", "7");
  ASSERT_EQ(rv(8), "0");
  expectBoot(boot(), "2", "Power Cycle", "7");  // going off is no boot
  ASSERT_EQ(rv(2), "0");
  expectBoot(boot(), "2", "Power Up", "7");
  ASSERT_EQ(rv(7), "0");
  ASSERT_EQ(rv(2), "0");
  expectBoot(boot(), "2", "Power Up", "6");  // from hibernate (S4)
  ASSERT_EQ(rv(4), "0");
  ASSERT_EQ(rv(2), "0");
  expectBoot(boot(), "2", "Power Up", "6");  // a wake from S3 is no boot
  ASSERT_EQ(power->hostChange(platform::power::kOffSoft), platform::PowerChangeStatus::Completed);
  ASSERT_EQ(power->hostChange(platform::power::kOn), platform::PowerChangeStatus::Completed);
  expectBoot(boot(), "1", "", "7");  // its own power button
  auto reopened = platform::PlatformModel::open(dir.path(), {});
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->state().hostPower.bootReason, 1u);
  EXPECT_EQ((*reopened)->state().hostPower.bootPreviousSxState, 7u);
  // Read by the OS account through LMS (General Info).
  const std::string osAdmin = model->localSystemAccount().user;
  EXPECT_EQ(service->handle(amtRequest(kTransfer + "Get", uri, 3, ""), {osAdmin, true}).httpStatus, 200u);
}

}  // namespace
}  // namespace mesim::wsman
