// The legacy EOI SOAP services (issue 13 item 6, wsman/eoi): requests as Debian's amttool (SOAP::Lite) writes them,
// answers as it reads them, over the same power state machine, boot settings and network settings WS-Man shows;
// realms, PT status codes, and SOAP Faults for what is not a call.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include "firmware/platform/credentials.h"
#include "firmware/platform/host_power.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/boot_sources.h"
#include "wsman/eoi/eoi_service.h"
#include "wsman/eoi/eoi_soap.h"
#include "wsman/ops/wsman_service.h"

namespace mesim::wsman::eoi {
namespace {

const std::string kSchemaBase = "http://schemas.intel.com/platform/client/";

// A call as SOAP::Lite 1.27 sends it (amttool with AMT_DEBUG=1): default namespace on the method element, no
// namespace declared on the parameters, which inherit it.
std::string soapLiteCall(const std::string& service, const std::string& method, const std::string& params = {}) {
  const std::string ns = kSchemaBase + service + "/2004/01";
  std::string call = params.empty() ? "<" + method + " xmlns=\"" + ns + "\" xsi:nil=\"true\" />"
                                    : "<" + method + " xmlns=\"" + ns + "\">" + params + "</" + method + ">";
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope "
         "xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "xmlns:soapenc=\"http://schemas.xmlsoap.org/soap/encoding/\" "
         "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
         "soap:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><soap:Body>" +
         call + "</soap:Body></soap:Envelope>";
}

// The response element's children in order, name -> text (structures as their name with empty text).
std::vector<std::pair<std::string, std::string>> outputs(const std::string& body, std::string* responseName = nullptr) {
  pugi::xml_document doc;
  EXPECT_TRUE(doc.load_string(body.c_str())) << body;
  auto response = doc.document_element().first_child().first_child();
  if (responseName) *responseName = response.name();
  std::vector<std::pair<std::string, std::string>> out;
  for (auto n : response.children()) {
    std::string name = n.name();
    out.emplace_back(name.substr(name.find(':') + 1), n.first_child().type() == pugi::node_element ? "" : n.text().get());
  }
  return out;
}

std::uint32_t statusOf(const EoiAnswer& a) {
  const auto out = outputs(a.body);
  return out.empty() ? 0xFFFFFFFFu : static_cast<std::uint32_t>(std::stoul(out[0].second));
}

class EoiDevice {
 public:
  EoiDevice() {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    EXPECT_TRUE(opened) << opened.error().message;
    if (opened) model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    service = std::make_unique<LegacySoapService>(*model, clock, *power);
    wsman = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }
  EoiAnswer call(const std::string& path, const std::string& body, const std::string& user = "admin") {
    return service->handle(path, body, {user, false, "192.0.2.7"});
  }
  EoiAnswer remoteControl(const std::string& params, const std::string& user = "admin") {
    return call("/RemoteControlService", soapLiteCall("RemoteControl", "RemoteControl", params), user);
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

  test::TempDir dir{"eoi"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<LegacySoapService> service;
  std::unique_ptr<ops::WsmanService> wsman;
};

TEST(EoiSoap, ServicesAreFoundByPath) {
  ASSERT_EQ(eoiServices().size(), 6u);
  for (const auto& s : eoiServices()) {
    ASSERT_EQ(serviceAtPath(s.path), &s);
    EXPECT_EQ(s.ns, kSchemaBase + std::string(s.name) + "/2004/01");
  }
  EXPECT_EQ(serviceAtPath("/wsman"), nullptr);
  EXPECT_EQ(serviceAtPath("/remotecontrolservice"), nullptr);
}

TEST(EoiSoap, ReadsSoapLiteCallsWhateverThePrefixes) {
  const auto* rc = serviceAtPath("/RemoteControlService");
  auto parsed = parseEoiRequest(
      soapLiteCall("RemoteControl", "RemoteControl", "<Command>18</Command><IanaOemNumber>343</IanaOemNumber>"), *rc);
  ASSERT_TRUE(parsed.request);
  EXPECT_EQ(parsed.request->operation, "RemoteControl");
  bool valid = true;
  EXPECT_EQ(parsed.request->number("Command", valid), 18u);
  EXPECT_EQ(parsed.request->number("IanaOemNumber", valid), 343u);
  EXPECT_FALSE(parsed.request->number("SpecialCommand", valid));
  EXPECT_TRUE(valid);

  const std::string prefixed =
      "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body><r:RemoteControl "
      "xmlns:r=\"" + std::string(rc->ns) + "\"><r:Command>x</r:Command></r:RemoteControl></e:Body></e:Envelope>";
  parsed = parseEoiRequest(prefixed, *rc);
  ASSERT_TRUE(parsed.request);
  EXPECT_FALSE(parsed.request->number("Command", valid));
  EXPECT_FALSE(valid) << "x is not a number";
}

TEST(EoiSoap, RefusesWhatIsNotACallOfTheService) {
  const auto* rc = serviceAtPath("/RemoteControlService");
  struct Case {
    std::string body;
    FaultKind kind;
  } cases[] = {
      {"<not xml", FaultKind::Client},
      {"<a>&bare</a>", FaultKind::Client},
      {"<!DOCTYPE x [<!ENTITY e \"e\">]><x/>", FaultKind::Client},
      {"<x/>", FaultKind::Client},
      {test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                           "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings"),
       FaultKind::VersionMismatch},
      {"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"/>", FaultKind::Client},
      {"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>", FaultKind::Client},
      {"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header><h s:mustUnderstand=\"1\"/>"
       "</s:Header><s:Body><GetSystemPowerState xmlns=\"" + std::string(rc->ns) + "\"/></s:Body></s:Envelope>",
       FaultKind::MustUnderstand},
      {soapLiteCall("NetworkAdministration", "GetSystemPowerState"), FaultKind::Client},  // wrong namespace
  };
  for (const auto& c : cases) {
    auto parsed = parseEoiRequest(c.body, *rc);
    ASSERT_FALSE(parsed.request) << c.body;
    EXPECT_EQ(parsed.fault->kind, c.kind) << c.body << ": " << parsed.fault->reason;
    EXPECT_FALSE(parsed.fault->reason.empty());
  }
}

TEST(EoiSoap, AnswersAndFaultsAreSoap11) {
  const auto* rc = serviceAtPath("/RemoteControlService");
  const auto body = writeEoiResponse(*rc, "GetSystemPowerState", {EoiValue::of("Status", std::uint64_t{0}),
                                                                  EoiValue::of("SystemPowerState", "5")});
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(body.c_str()));
  auto env = doc.document_element();
  EXPECT_STREQ(env.attribute("xmlns:SOAP-ENV").value(), "http://schemas.xmlsoap.org/soap/envelope/");
  EXPECT_STREQ(env.attribute("xmlns:rci").value(), std::string(rc->ns).c_str());
  std::string name;
  const auto out = outputs(body, &name);
  EXPECT_EQ(name, "rci:GetSystemPowerStateResponse");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1], (std::pair<std::string, std::string>{"SystemPowerState", "5"}));

  const auto fault = writeEoiFault({FaultKind::Client, "bad <input> & more"});
  ASSERT_TRUE(doc.load_string(fault.c_str())) << fault;
  auto f = doc.document_element().first_child().first_child();
  EXPECT_STREQ(f.name(), "SOAP-ENV:Fault");
  EXPECT_STREQ(f.child("faultcode").text().get(), "SOAP-ENV:Client");
  EXPECT_STREQ(f.child("faultstring").text().get(), "bad <input> & more");
}

TEST(EoiService, InfoAsAmttoolReadsIt) {
  EoiDevice d;
  ASSERT_EQ(d.model->update([](platform::PlatformState& s) {
    s.hostName = "qa-host";
    s.domainName = "example.test";
    s.firmware.code = {11, 8, 55, 3510};
  }), platform::ChangeResult::Ok);
  auto version = d.call("/SecurityAdministrationService", soapLiteCall("SecurityAdministration", "GetCoreVersion"));
  EXPECT_EQ(version.httpStatus, 200u);
  EXPECT_EQ(outputs(version.body), (std::vector<std::pair<std::string, std::string>>{{"StatusCode", "0"},
                                                                                     {"Version", "11.8.55"}}));
  auto host = d.call("/NetworkAdministrationService", soapLiteCall("NetworkAdministration", "GetHostName"));
  EXPECT_EQ(outputs(host.body).at(1).second, "qa-host");
  auto domain = d.call("/NetworkAdministrationService", soapLiteCall("NetworkAdministration", "GetDomainName"));
  EXPECT_EQ(outputs(domain.body).at(1).second, "example.test");
  auto power = d.call("/RemoteControlService", soapLiteCall("RemoteControl", "GetSystemPowerState"));
  EXPECT_EQ(outputs(power.body).at(1), (std::pair<std::string, std::string>{"SystemPowerState", "0"}));
  auto caps = outputs(d.call("/RemoteControlService", soapLiteCall("RemoteControl", "GetRemoteControlCapabilities")).body);
  ASSERT_EQ(caps.size(), 6u);
  EXPECT_EQ(caps[1].second, "343");
  EXPECT_EQ(std::stoul(caps[2].second) & 0x03, 0x03u) << "IDE-R and SOL are enabled";
  EXPECT_EQ(std::stoul(caps[3].second), 0x1300u) << "PXE, HD, CD";
  EXPECT_EQ(std::stoul(caps[4].second), 0x07u);
  auto codes = outputs(d.call("/GeneralInfoService", soapLiteCall("GeneralInfo", "GetCodeVersions")).body);
  EXPECT_EQ(codes.at(0).second, "0");
  EXPECT_EQ(codes.at(1).first, "BiosVersion");
  auto log = outputs(d.call("/EventManagerService", soapLiteCall("EventManager", "GetEventLogStatus")).body);
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(std::stoul(log[1].second) + std::stoul(log[2].second), 390u);
  EXPECT_EQ(log[3].second, "1700000000");
}

// The same state machine as WS-Man: what RemoteControl does, CIM_AssociatedPowerManagementService shows, and the
// audit log holds the caller.
TEST(EoiService, RemoteControlDrivesTheHostPowerStateMachine) {
  EoiDevice d;
  auto down = d.remoteControl("<Command>18</Command><IanaOemNumber>343</IanaOemNumber>");
  EXPECT_EQ(statusOf(down), pt_status::kSuccess) << down.body;
  EXPECT_EQ(d.power->state(), platform::power::kOffSoft);
  const auto apms = d.wsman->handle(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
                                                        "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_AssociatedPowerManagementService",
                                                        "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationMode xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">EnumerateObjectAndEPR</EnumerationMode><OptimizeEnumeration xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"/></Enumerate>"),
                                    {"admin", false});
  EXPECT_NE(apms.body.find("PowerState>8<"), std::string::npos) << apms.body;
  auto state = d.call("/RemoteControlService", soapLiteCall("RemoteControl", "GetSystemPowerState"));
  EXPECT_EQ(outputs(state.body).at(1).second, "5") << "S5";
  EXPECT_EQ(statusOf(d.remoteControl("<Command>18</Command><IanaOemNumber>343</IanaOemNumber>")),
            pt_status::kNotPermitted)
      << "already off";
  EXPECT_EQ(statusOf(d.remoteControl("<Command>16</Command><IanaOemNumber>343</IanaOemNumber>")),
            pt_status::kNotPermitted)
      << "no reset while off";
  EXPECT_EQ(statusOf(d.remoteControl("<Command>17</Command><IanaOemNumber>343</IanaOemNumber>")), pt_status::kSuccess);
  EXPECT_EQ(d.power->state(), platform::power::kOn);
  EXPECT_EQ(statusOf(d.remoteControl("<Command>19</Command><IanaOemNumber>343</IanaOemNumber>")), pt_status::kSuccess);
  EXPECT_EQ(d.model->state().hostPower.bootReasonDetails, "Power Cycle");
  EXPECT_EQ(statusOf(d.remoteControl("<Command>16</Command><IanaOemNumber>343</IanaOemNumber>")), pt_status::kSuccess);
  EXPECT_EQ(d.model->state().hostPower.bootReasonDetails, "Reset");
  EXPECT_EQ(d.model->state().hostPower.requestedPowerState, platform::power::kMasterBusReset);
  EXPECT_EQ(d.service->stats().remoteControls, 4u);
  // Audit: Remote Control (app 17) events 1701 down, 1700 up, 1702 cycle, 1703 reset, initiated by admin.
  const auto& audit = d.model->state().logs.auditLog;
  ASSERT_GE(audit.size(), 4u);
  std::vector<int> events;
  for (auto it = audit.end() - 4; it != audit.end(); ++it) events.push_back(((*it)[0] << 8 | (*it)[1]) * 100 + ((*it)[2] << 8 | (*it)[3]));
  EXPECT_EQ(events, (std::vector<int>{1701, 1700, 1702, 1703}));
}

TEST(EoiService, RemoteControlStatusCodes) {
  EoiDevice d;
  struct Case {
    std::string params;
    std::uint32_t status;
  } cases[] = {
      {"<Command>20</Command><IanaOemNumber>343</IanaOemNumber>", pt_status::kInvalidCommand},
      {"<Command>16</Command><IanaOemNumber>1</IanaOemNumber>", pt_status::kUnsupportedOemNumber},
      {"<Command>16</Command><IanaOemNumber>4542</IanaOemNumber><SpecialCommand>193</SpecialCommand>",
       pt_status::kUnsupportedOemNumber},
      {"<Command>16</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>4</SpecialCommand>",
       pt_status::kUnsupportedBootOption},
      {"<Command>16</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>3</SpecialCommand>",
       pt_status::kUnsupportedBootOption},
      {"<Command>16</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>9</SpecialCommand>",
       pt_status::kInvalidSpecialCommand},
      {"<Command>16</Command>", pt_status::kInvalidParameter},
      {"<Command>-1</Command><IanaOemNumber>343</IanaOemNumber>", pt_status::kInvalidParameter},
      {"<Command>16</Command><IanaOemNumber>343</IanaOemNumber><OEMparameters>x</OEMparameters>",
       pt_status::kInvalidParameter},
  };
  for (const auto& c : cases) EXPECT_EQ(statusOf(d.remoteControl(c.params)), c.status) << c.params;
  EXPECT_EQ(d.power->state(), platform::power::kOn) << "nothing was done";
  EXPECT_TRUE(d.model->state().boot.bootOrder.empty());
}

// A special command sets the next boot as WS-Man's ChangeBootOrder + SetBootConfigRole would: the boot it starts
// sees them (the power hook), and uses them up (docs/alarm-clock-and-boot.md).
TEST(EoiService, SpecialCommandsSetTheNextBoot) {
  EoiDevice d;
  std::vector<platform::BootSettings> booted;  // the boot settings as each power change's host side saw them
  d.power->setHook([&](const platform::PowerChange&) { booted.push_back(d.model->state().boot); });
  ASSERT_EQ(statusOf(d.remoteControl("<Command>16</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>1"
                                     "</SpecialCommand>")),
            pt_status::kSuccess);
  ASSERT_EQ(booted.size(), 1u);
  EXPECT_EQ(booted.back().bootOrder, std::vector<std::string>{cim::kForcePxeBootId});
  EXPECT_TRUE(booted.back().bootConfigActive);
  EXPECT_FALSE(d.model->state().boot.bootConfigActive) << "used up by the reset";
  EXPECT_TRUE(d.model->state().boot.bootOrder.empty());
  ASSERT_EQ(statusOf(d.remoteControl("<Command>19</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>5"
                                     "</SpecialCommand>")),
            pt_status::kSuccess);
  EXPECT_EQ(booted.back().bootOrder, std::vector<std::string>{cim::kForceCdDvdBootId});
  ASSERT_EQ(statusOf(d.remoteControl("<Command>18</Command><IanaOemNumber>343</IanaOemNumber>")), pt_status::kSuccess);
  // amttool's `powerup bios`: SpecialCommand 0xC1 with OEMparameters 1 (SOL).
  ASSERT_EQ(statusOf(d.remoteControl("<Command>17</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>193"
                                     "</SpecialCommand><OEMparameters>1</OEMparameters>")),
            pt_status::kSuccess);
  const auto& boot = booted.back();
  EXPECT_TRUE(boot.biosSetup);
  EXPECT_TRUE(boot.useSol);
  EXPECT_TRUE(boot.bootOrder.empty());
  const auto settings = d.wsman->handle(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                                                            "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_BootSettingData"),
                                        {"admin", false});
  EXPECT_NE(settings.body.find("BIOSSetup>false<"), std::string::npos) << settings.body;
  EXPECT_NE(settings.body.find("OptionsCleared>true<"), std::string::npos) << settings.body;
}

TEST(EoiService, ConsentIsAskedBeforeACommandRuns) {
  EoiDevice d;
  std::vector<std::uint32_t> asked;
  d.service->setRemoteControlConsent([&](const RemoteControlCommand& c) {
    asked.push_back(c.command);
    return c.specialCommand == remote_control::kNop ? pt_status::kSuccess : pt_status::kNotPermitted;
  });
  EXPECT_EQ(statusOf(d.remoteControl("<Command>16</Command><IanaOemNumber>343</IanaOemNumber><SpecialCommand>1"
                                     "</SpecialCommand>")),
            pt_status::kNotPermitted);
  EXPECT_TRUE(d.model->state().boot.bootOrder.empty()) << "refused before the boot settings changed";
  EXPECT_EQ(statusOf(d.remoteControl("<Command>18</Command><IanaOemNumber>343</IanaOemNumber>")), pt_status::kSuccess);
  EXPECT_EQ(asked, (std::vector<std::uint32_t>{16, 18}));
}

TEST(EoiService, NetworkSettingsAreTheEthernetPortSettings) {
  EoiDevice d;
  const auto handles = outputs(d.call("/NetworkAdministrationService", soapLiteCall("NetworkAdministration", "EnumerateInterfaces")).body);
  ASSERT_GE(handles.size(), 2u);
  EXPECT_EQ(handles[1], (std::pair<std::string, std::string>{"InterfaceHandles", "0"}));

  auto get = [&](const std::string& handle) {
    return d.call("/NetworkAdministrationService",
                  soapLiteCall("NetworkAdministration", "GetInterfaceSettings", "<InterfaceHandle>" + handle + "</InterfaceHandle>"));
  };
  auto before = get("0");
  EXPECT_EQ(statusOf(before), 0u);
  EXPECT_NE(before.body.find("<net:InterfaceMode>SHARED_MAC_ADDRESS<"), std::string::npos) << before.body;
  EXPECT_NE(before.body.find("<net:LocalAddress>3232235876<"), std::string::npos) << "192.168.1.100";
  EXPECT_EQ(statusOf(get("7")), pt_status::kInvalidHandle);

  auto set = [&](const std::string& descriptor) {
    return statusOf(d.call("/NetworkAdministrationService",
                           soapLiteCall("NetworkAdministration", "SetInterfaceSettings",
                                        "<InterfaceHandle>0</InterfaceHandle><InterfaceDescriptor>" + descriptor +
                                            "</InterfaceDescriptor>")));
  };
  auto ipv4 = [](std::uint32_t a, std::uint32_t m, std::uint32_t g) {
    return "<IPv4Parameters><LocalAddress>" + std::to_string(a) + "</LocalAddress><SubnetMask>" + std::to_string(m) +
           "</SubnetMask><DefaultGatewayAddress>" + std::to_string(g) +
           "</DefaultGatewayAddress><PrimaryDnsAddress>" + std::to_string(g) +
           "</PrimaryDnsAddress><SecondaryDnsAddress>0</SecondaryDnsAddress></IPv4Parameters>";
  };
  const std::string separate = "<InterfaceMode>SEPARATE_MAC_ADDRESS</InterfaceMode><LinkPolicy>1</LinkPolicy>";
  EXPECT_EQ(set(separate), pt_status::kInvalidParameter) << "static without addresses";
  EXPECT_EQ(set(separate + ipv4(0x0A000032, 0xFF00FF00, 0x0A000001)), pt_status::kInvalidNetmask);
  EXPECT_EQ(set(separate + ipv4(0, 0xFF000000, 0x0A000001)), pt_status::kInvalidIpAddress);
  EXPECT_EQ(set("<InterfaceMode>OTHER</InterfaceMode><LinkPolicy>1</LinkPolicy>"), pt_status::kInvalidParameter);
  EXPECT_TRUE(d.model->wired().dhcpEnabled) << "nothing changed yet";

  ASSERT_EQ(set(separate + ipv4(0x0A000032, 0xFF000000, 0x0A000001)), pt_status::kSuccess);
  const auto& lan = d.model->wired();
  EXPECT_FALSE(lan.dhcpEnabled);
  EXPECT_EQ(lan.ipv4, 0x0A000032u);
  EXPECT_EQ(lan.effectiveSubnetMask(), 0xFF000000u);
  EXPECT_EQ(lan.linkPolicy, 1);
  const auto ports = d.wsman->handle(test::wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                                                         "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_EthernetPortSettings",
                                                         "", "1", "<w:Selector Name=\"InstanceID\">Intel(r) AMT Ethernet Port Settings 0</w:Selector>"),
                                     {"admin", false});
  for (const char* shown : {"IPAddress>10.0.0.50<", "SubnetMask>255.0.0.0<", "DefaultGateway>10.0.0.1<",
                            "DHCPEnabled>false<", "LinkPolicy>1<"})
    EXPECT_NE(ports.body.find(shown), std::string::npos) << shown << " in " << ports.body;

  // Persisted: a new model over the same state dir reads it back.
  d.service.reset();
  d.wsman.reset();
  d.power.reset();
  d.model.reset();
  auto reopened = platform::PlatformModel::open(d.dir.path(), {});
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->wired().ipv4, 0x0A000032u);
  EXPECT_EQ((*reopened)->wired().gateway, 0x0A000001u);
  EXPECT_FALSE((*reopened)->wired().dhcpEnabled);
}

TEST(EoiService, RealmsDecideAndNoCallerIsLeftWithout) {
  EoiDevice d;
  d.addUser("operator", {5});   // Remote Control
  d.addUser("reader", {13});    // General Info
  const auto rcBody = soapLiteCall("RemoteControl", "RemoteControl",
                                   "<Command>18</Command><IanaOemNumber>343</IanaOemNumber>");
  EXPECT_EQ(statusOf(d.call("/RemoteControlService", rcBody, "reader")), pt_status::kNotPermitted);
  EXPECT_EQ(d.power->state(), platform::power::kOn);
  EXPECT_EQ(statusOf(d.call("/NetworkAdministrationService",
                            soapLiteCall("NetworkAdministration", "EnumerateInterfaces"), "operator")),
            pt_status::kNotPermitted);
  EXPECT_EQ(statusOf(d.call("/SecurityAdministrationService",
                            soapLiteCall("SecurityAdministration", "GetCoreVersion"), "operator")),
            pt_status::kSuccess)
      << "any realm reads the version amttool asks first";
  EXPECT_EQ(statusOf(d.call("/RemoteControlService", rcBody, "operator")), pt_status::kSuccess);
  EXPECT_EQ(d.power->state(), platform::power::kOffSoft);
  EXPECT_EQ(statusOf(d.call("/SecurityAdministrationService",
                            soapLiteCall("SecurityAdministration", "GetCoreVersion"), "nobody")),
            pt_status::kNotPermitted);
  EXPECT_EQ(d.service->stats().notPermitted, 3u);
}

TEST(EoiService, UnknownOperationsAndBadXmlAreFaults) {
  EoiDevice d;
  auto unknown = d.call("/RemoteControlService", soapLiteCall("RemoteControl", "SelfDestruct"));
  EXPECT_EQ(unknown.httpStatus, 500u);
  EXPECT_NE(unknown.body.find("SOAP-ENV:Client"), std::string::npos);
  EXPECT_NE(unknown.body.find("SelfDestruct is not served by RemoteControlService"), std::string::npos) << unknown.body;
  EXPECT_EQ(d.call("/RemoteControlService", "<<<").httpStatus, 500u);
  EXPECT_EQ(d.call("/Elsewhere", soapLiteCall("RemoteControl", "GetSystemPowerState")).httpStatus, 500u);
  EXPECT_EQ(d.service->stats().faults, 3u);
  EXPECT_EQ(d.service->stats().calls, 0u);
}

}  // namespace
}  // namespace mesim::wsman::eoi
