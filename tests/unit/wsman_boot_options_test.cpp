// One-time boot options and One Click Recovery settings (features.md §7, docs/alarm-clock-and-boot.md): the MeshCentral
// flow Put AMT_BootSettingData (with UefiBootParametersArray), ChangeBootOrder, SetBootConfigRole(1), then a
// reset uses the options up (OptionsCleared, order and role back); the TLV parser and its refusals; the OCR boot
// sources and capabilities.
#include <gtest/gtest.h>

#include <pugixml.hpp>

#include <map>

#include "firmware/platform/host_power.h"
#include "firmware/platform/ocr_boot.h"
#include "firmware/platform/uefi_boot_params.h"
#include "tests/support/wsman_messages.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/cim/cim_util.h"
#include "wsman/ops/wsman_service.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman {
namespace {

using Bytes = std::vector<std::uint8_t>;
const std::string kAmt = "http://intel.com/wbem/wscim/1/amt-schema/1/";
const std::string kCim = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
const std::string kTransfer = "http://schemas.xmlsoap.org/ws/2004/09/transfer/";
const std::string kEnum = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/";

Bytes tlv(std::uint16_t type, const Bytes& value, std::uint16_t vendor = 0x8086) {
  Bytes out{static_cast<std::uint8_t>(vendor), static_cast<std::uint8_t>(vendor >> 8), static_cast<std::uint8_t>(type),
            static_cast<std::uint8_t>(type >> 8)};
  const auto n = static_cast<std::uint32_t>(value.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), value.begin(), value.end());
  return out;
}
Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
// What MeshCentral's amtmanager sends: {1 URI, 20 sync root CA = 1, 30 timeout = 0}.
Bytes meshCentralParams(const std::string& uri) { return cat({tlv(1, text(uri)), tlv(20, {1}), tlv(30, {0, 0})}); }

std::string ref(const std::string& uri, const std::string& instanceId) {
  return "<Address xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">http://schemas.xmlsoap.org/ws/2004/08/"
         "addressing</Address><ReferenceParameters xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"><ResourceURI "
         "xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">" +
         uri + "</ResourceURI><SelectorSet xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\"><Selector "
               "Name=\"InstanceID\">" +
         instanceId + "</Selector></SelectorSet></ReferenceParameters>";
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

class BootOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    power = std::make_unique<platform::HostPowerStateMachine>(*model, clock);
    power->setHook([this](const platform::PowerChange&) { bootSeenByHook.push_back(model->state().boot); });
    service = std::make_unique<ops::WsmanService>(*model, clock, *power);
  }

  ops::WsmanResult call(const std::string& request) { return service->handle(request, {"admin", false}); }
  pugi::xml_document& ok(const std::string& request) {
    auto r = call(request);
    EXPECT_EQ(r.httpStatus, 200u) << r.body;
    docs.emplace_back(std::make_unique<pugi::xml_document>());
    EXPECT_TRUE(docs.back()->load_string(r.body.c_str())) << r.body;
    return *docs.back();
  }

  // Put AMT_BootSettingData as MeshCentral's One Click Recovery does (after Get, read-only fields included).
  ops::WsmanResult putSettings(const std::string& extra) {
    const std::string uri = kAmt + "AMT_BootSettingData";
    return call(test::wsmanEnvelope(kTransfer + "Put", uri,
                                    "<h:AMT_BootSettingData xmlns:h=\"" + uri +
                                        "\"><h:BIOSPause>false</h:BIOSPause><h:BIOSSetup>true</h:BIOSSetup>"
                                        "<h:BootMediaIndex>0</h:BootMediaIndex><h:ElementName>Intel(r) AMT Boot "
                                        "Configuration Settings</h:ElementName><h:EnforceSecureBoot>false</h:EnforceSecureBoot>"
                                        "<h:InstanceID>Intel(r) AMT:BootSettingData 0</h:InstanceID><h:OptionsCleared>true"
                                        "</h:OptionsCleared><h:UseSOL>true</h:UseSOL>" +
                                        extra + "</h:AMT_BootSettingData>"));
  }
  std::string changeBootOrder(const std::string& source) {
    const std::string cfg = kCim + "CIM_BootConfigSetting";
    const std::string arg = source.empty() ? "" : "<h:Source>" + ref(kCim + "CIM_BootSourceSetting", source) + "</h:Source>";
    return first(ok(test::wsmanEnvelope(cfg + "/ChangeBootOrder", cfg,
                                        "<h:ChangeBootOrder_INPUT xmlns:h=\"" + cfg + "\">" + arg + "</h:ChangeBootOrder_INPUT>"))
                     .document_element(),
                 "ReturnValue");
  }
  std::string setRole(int role) {
    const std::string svc = kCim + "CIM_BootService";
    return first(ok(test::wsmanEnvelope(svc + "/SetBootConfigRole", svc,
                                        "<h:SetBootConfigRole_INPUT xmlns:h=\"" + svc + "\"><h:BootConfigSetting>" +
                                            ref(kCim + "CIM_BootConfigSetting", "Intel(r) AMT: Boot Configuration 0") +
                                            "</h:BootConfigSetting><h:Role>" + std::to_string(role) +
                                            "</h:Role></h:SetBootConfigRole_INPUT>"))
                     .document_element(),
                 "ReturnValue");
  }
  std::string settingsField(const std::string& name) {
    return first(ok(test::wsmanEnvelope(kTransfer + "Get", kAmt + "AMT_BootSettingData")).document_element(), name);
  }

  test::TempDir dir{"boot"};
  core::ManualFirmwareClock clock{core::FirmwareClock::time_point{std::chrono::seconds(1700000000)}};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<platform::HostPowerStateMachine> power;
  std::unique_ptr<ops::WsmanService> service;
  std::vector<platform::BootSettings> bootSeenByHook;
  std::vector<std::unique_ptr<pugi::xml_document>> docs;
};

TEST(UefiBootParams, ParsesWhatConsolesSendAndRefusesTheRest) {
  const auto good = meshCentralParams("https://mps.example.com:4433/c/abc.efi");
  auto params = platform::parseUefiBootParameters(good);
  ASSERT_TRUE(params) << params.error().message;
  ASSERT_EQ(params->size(), 3u);
  EXPECT_EQ((*params)[0].type, 1);
  EXPECT_EQ(platform::uefiBootUri(*params), "https://mps.example.com:4433/c/abc.efi");
  EXPECT_EQ(platform::encodeUefiBootParameters(*params), good);

  const auto winre = cat({tlv(2, text("PciRoot(0x0)/Pci(0x1D,0x0)")), tlv(3, {26, 0}), tlv(10, {1, 2, 3})});
  EXPECT_TRUE(platform::parseUefiBootParameters(winre));

  struct Bad {
    Bytes bytes;
    const char* says;
  };
  const Bad bad[] = {
      {{}, "no boot parameters"},
      {tlv(1, text("https://x/"), 0x8087), "vendor is not 0x8086"},
      {tlv(7, {0}), "unknown type 7"},
      {Bytes{0x86, 0x80, 1, 0, 10, 0, 0, 0, 'h'}, "runs past the end"},
      {Bytes{0x86, 0x80, 1, 0}, "header needs 8 bytes"},
      {tlv(30, {0}), "2-byte number"},
      {tlv(20, {2}), "one byte, 0 or 1"},
      {tlv(1, text("http://plain.example/boot.efi")), "not an https:// address"},
      {tlv(1, text("https://")), "not an https:// address"},
      {tlv(1, text("https://a b/")), "spaces or control characters"},
      {cat({meshCentralParams("https://x/"), tlv(10, Bytes(1024, 0))}), "more than 1024"},
  };
  for (const auto& b : bad) {
    auto r = platform::parseUefiBootParameters(b.bytes);
    ASSERT_FALSE(r) << b.says;
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
  }
  // Exactly 1024 bytes is allowed.
  const auto head = meshCentralParams("https://x/");
  EXPECT_TRUE(platform::parseUefiBootParameters(cat({head, tlv(10, Bytes(1024 - head.size() - 8, 0))})));
}

TEST_F(BootOptionsTest, OptionsAreUsedUpByTheNextBoot) {
  EXPECT_EQ(settingsField("OptionsCleared"), "true");
  const auto params = meshCentralParams("https://127.0.0.1:8443/boot.efi");
  auto put = putSettings("<h:UefiBootParametersArray>" + cim::base64Encode(params) +
                         "</h:UefiBootParametersArray><h:UefiBootNumberOfParams>3</h:UefiBootNumberOfParams>");
  ASSERT_EQ(put.httpStatus, 200u) << put.body;
  EXPECT_EQ(settingsField("OptionsCleared"), "false");
  EXPECT_EQ(settingsField("UefiBootNumberOfParams"), "3");
  EXPECT_EQ(settingsField("UefiBootParametersArray"), cim::base64Encode(params));
  EXPECT_EQ(changeBootOrder(""), "0");
  EXPECT_EQ(changeBootOrder("Intel(r) AMT: Force OCR UEFI HTTPS Boot"), "0");

  // Not armed yet: a boot leaves them alone.
  ASSERT_EQ(power->request(platform::power::kMasterBusReset, {"admin", false, {}}), platform::PowerChangeStatus::Completed);
  EXPECT_TRUE(model->state().boot.biosSetup);
  EXPECT_EQ(settingsField("OptionsCleared"), "false");

  EXPECT_EQ(setRole(1), "0");
  EXPECT_EQ(first(ok(test::wsmanEnvelope(kTransfer + "Get", kCim + "CIM_BootService")).document_element(), "EnabledState"),
            "32769");
  bootSeenByHook.clear();
  ASSERT_EQ(power->request(platform::power::kMasterBusReset, {"admin", false, {}}), platform::PowerChangeStatus::Completed);
  // The host side saw the options at the boot ...
  ASSERT_EQ(bootSeenByHook.size(), 1u);
  EXPECT_TRUE(bootSeenByHook[0].biosSetup);
  EXPECT_TRUE(bootSeenByHook[0].useSol);
  EXPECT_EQ(bootSeenByHook[0].bootOrder, std::vector<std::string>{"Intel(r) AMT: Force OCR UEFI HTTPS Boot"});
  // ... and afterwards they are gone.
  const auto& boot = model->state().boot;
  EXPECT_FALSE(boot.biosSetup);
  EXPECT_FALSE(boot.useSol);
  EXPECT_TRUE(boot.bootOrder.empty());
  EXPECT_FALSE(boot.bootConfigActive);
  EXPECT_TRUE(boot.uefiBootParameters.empty());
  EXPECT_EQ(settingsField("OptionsCleared"), "true");
  EXPECT_EQ(settingsField("BIOSSetup"), "false");
  EXPECT_EQ(settingsField("UefiBootNumberOfParams"), "0");
  EXPECT_EQ(first(ok(test::wsmanEnvelope(kTransfer + "Get", kCim + "CIM_BootService")).document_element(), "EnabledState"),
            "32768");
}

TEST_F(BootOptionsTest, EveryKindOfBootUsesThemUpButNotAWakeOrAnNmi) {
  auto arm = [&] {
    ASSERT_EQ(putSettings("").httpStatus, 200u);
    ASSERT_EQ(setRole(1), "0");
  };
  arm();
  ASSERT_EQ(power->request(platform::power::kNmi, {"admin", false, {}}), platform::PowerChangeStatus::Completed);
  EXPECT_TRUE(model->state().boot.bootConfigActive) << "an NMI is no boot";
  ASSERT_EQ(power->request(platform::power::kOffSoft, {"admin", false, {}}), platform::PowerChangeStatus::Completed);
  EXPECT_TRUE(model->state().boot.bootConfigActive);
  ASSERT_EQ(power->request(platform::power::kOn, {"admin", false, {}}), platform::PowerChangeStatus::Completed);
  EXPECT_FALSE(model->state().boot.bootConfigActive) << "power-up from S5";

  arm();
  ASSERT_EQ(power->hostChange(platform::power::kOffSoft), platform::PowerChangeStatus::Completed);
  ASSERT_EQ(power->hostChange(platform::power::kOn), platform::PowerChangeStatus::Completed);
  EXPECT_FALSE(model->state().boot.bootConfigActive) << "the host's own power button";

  arm();
  ASSERT_EQ(power->request(platform::power::kPowerCycleSoft, {"admin", false, {}}), platform::PowerChangeStatus::Completed);
  EXPECT_FALSE(model->state().boot.bootConfigActive) << "power cycle";
}

TEST_F(BootOptionsTest, InvalidBootParametersAreRefusedAndChangeNothing) {
  auto refused = [&](const Bytes& params, int count, const std::string& says) {
    auto r = putSettings("<h:UefiBootParametersArray>" + cim::base64Encode(params) +
                         "</h:UefiBootParametersArray><h:UefiBootNumberOfParams>" + std::to_string(count) +
                         "</h:UefiBootNumberOfParams>");
    EXPECT_EQ(r.httpStatus, 400u) << r.body;
    EXPECT_NE(r.body.find("InvalidParameter"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
  };
  refused(tlv(1, text("https://x/"), 0x1234), 1, "vendor is not 0x8086");
  refused(meshCentralParams("https://x/"), 2, "UefiBootNumberOfParams is 2 but UefiBootParametersArray holds 3");
  refused(tlv(1, text("ftp://x/")), 1, "not an https:// address");
  refused(cat({meshCentralParams("https://x/"), tlv(10, Bytes(1100, 0))}), 4, "more than 1024");
  EXPECT_FALSE(model->state().boot.biosSetup) << "nothing of a refused Put is kept";
  EXPECT_EQ(settingsField("OptionsCleared"), "true");

  // MeshCentral clears them again with UefiBootNumberOfParams 0 and no array.
  ASSERT_EQ(putSettings("<h:UefiBootParametersArray>" + cim::base64Encode(meshCentralParams("https://x/")) +
                        "</h:UefiBootParametersArray><h:UefiBootNumberOfParams>3</h:UefiBootNumberOfParams>")
                .httpStatus,
            200u);
  ASSERT_EQ(putSettings("<h:UefiBootNumberOfParams>0</h:UefiBootNumberOfParams>").httpStatus, 200u);
  EXPECT_TRUE(model->state().boot.uefiBootParameters.empty());
}

TEST_F(BootOptionsTest, OneClickRecoverySourcesAndCapabilities) {
  auto& caps = ok(test::wsmanEnvelope(kTransfer + "Get", kAmt + "AMT_BootCapabilities"));
  for (const char* flag : {"ForceUEFIHTTPSBoot", "ForceUEFIPBABoot", "ForceWinREBoot"})
    EXPECT_EQ(first(caps.document_element(), flag), "true") << flag;
  EXPECT_EQ(settingsField("UEFIHTTPSBootEnabled"), "true");
  EXPECT_EQ(settingsField("WinREBootEnabled"), "true");
  EXPECT_EQ(settingsField("UEFILocalPBABootEnabled"), "true");

  const std::string uri = kCim + "CIM_BootSourceSetting";
  auto& e = ok(test::wsmanEnvelope(kEnum + "Enumerate", uri, "<Enumerate xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" />"));
  auto& p = ok(test::wsmanEnvelope(kEnum + "Pull", uri,
                                   "<Pull xmlns=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"><EnumerationContext>" +
                                       first(e.document_element(), "EnumerationContext") +
                                       "</EnumerationContext><MaxElements>999</MaxElements></Pull>"));
  std::map<std::string, std::string> biosBootString;
  for (auto i : all(p.document_element(), "CIM_BootSourceSetting")) biosBootString[first(i, "InstanceID")] = first(i, "BIOSBootString");
  ASSERT_TRUE(biosBootString.count("Intel(r) AMT: Force OCR UEFI HTTPS Boot"));
  EXPECT_NE(biosBootString["Intel(r) AMT: Force OCR UEFI Boot Option 1"].find("WinRe"), std::string::npos);
  EXPECT_NE(biosBootString["Intel(r) AMT: Force OCR UEFI Boot Option 2"].find("PBA"), std::string::npos);
  EXPECT_TRUE(biosBootString.count("Intel(r) AMT: Force PXE Boot"));
  EXPECT_EQ(changeBootOrder("Intel(r) AMT: Force OCR UEFI Boot Option 1"), "0");
  EXPECT_EQ(changeBootOrder("Intel(r) AMT: Force OCR UEFI Boot Option 9"), "36");
}

TEST_F(BootOptionsTest, AnArmedOcrHttpsBootIsWhatTheBiosDownloads) {
  const std::string sha256Of_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  Bytes hash;
  for (std::size_t i = 0; i < sha256Of_abc.size(); i += 2)
    hash.push_back(static_cast<std::uint8_t>(std::stoi(sha256Of_abc.substr(i, 2), nullptr, 16)));
  const auto params = cat({meshCentralParams("https://boot.example.com/r.img"), tlv(40, text("user")),
                           tlv(41, text("secret")), tlv(5, hash)});
  ASSERT_EQ(putSettings("<h:UefiBootParametersArray>" + cim::base64Encode(params) +
                        "</h:UefiBootParametersArray><h:UefiBootNumberOfParams>6</h:UefiBootNumberOfParams>")
                .httpStatus, 200u);
  ASSERT_EQ(changeBootOrder("Intel(r) AMT: Force OCR UEFI HTTPS Boot"), "0");
  EXPECT_FALSE(platform::armedOcrHttpsBoot(model->state())) << "not armed yet";
  ASSERT_EQ(setRole(1), "0");
  auto plan = platform::armedOcrHttpsBoot(model->state());
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->uri, "https://boot.example.com/r.img");
  EXPECT_TRUE(plan->syncRootCa);
  EXPECT_EQ(plan->timeoutSeconds, 0u);
  EXPECT_EQ(plan->username, "user");
  EXPECT_EQ(plan->password, "secret");
  EXPECT_FALSE(platform::checkOcrImage(plan->imageHash, "abc")) << "SHA-256 of abc matches";
  EXPECT_EQ(platform::checkOcrImage(plan->imageHash, "abd"), platform::OcrError::VerifiedBoot);
  EXPECT_EQ(platform::checkOcrImage(Bytes(7, 0), "abc"), platform::OcrError::VerifiedBoot) << "no hash is 7 bytes";

  // Another first source is not an HTTPS boot.
  ASSERT_EQ(changeBootOrder("Intel(r) AMT: Force PXE Boot"), "0");
  EXPECT_FALSE(platform::armedOcrHttpsBoot(model->state()));

  // The records, byte for byte as MeshCentral decodes them.
  const auto added = platform::ocrProgressEvent(platform::OcrProgress::OptionAdded);
  EXPECT_EQ(added.sensorType, 0x0F);
  EXPECT_EQ(added.offset, 5);
  EXPECT_EQ((Bytes{added.eventData, added.eventData + 4}), (Bytes{0xAA, 0x30, 1, 2}));
  const auto tls = platform::ocrErrorEvent(platform::OcrError::TlsAuthentication);
  EXPECT_EQ(tls.offset, 3);
  EXPECT_EQ((Bytes{tls.eventData, tls.eventData + 3}), (Bytes{0xAA, 0x30, 5}));
  EXPECT_EQ(platform::describeMessageLogEvent(tls), "One Click Recovery: HTTPS TLS Auth failed");

  const auto id = platform::ocrImageIdentity("name: Rescue Linux\r\nversion:  12.4 \nother: x\n");
  EXPECT_EQ(id.name, "Rescue Linux");
  EXPECT_EQ(id.version, "12.4");
  EXPECT_EQ(platform::ocrImageIdentity("\x7f" "ELF binary").name, "");
}

}  // namespace
}  // namespace mesim::wsman
