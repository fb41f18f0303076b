// The third-party data storage in the real daemon (issue 14 item 3, docs/3pds.md), over WS-Man with the test's own
// Digest SOAP client: an administrator adds the enterprise; an application registers, allocates a block, writes two
// MTU-sized pieces and reads them back; the daemon restarts; the session is gone (the ME keeps sessions in RAM) but
// the application, its block and its bytes are there for the next registration. A session left idle past
// GetTimeoutValues' RegistrationTimeout on the manual firmware clock is closed.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "common/text_codecs.h"
#include "tests/support/daemon_process.h"
#include "tests/support/wsman_digest_client.h"
#include "tests/support/wsman_messages.h"

namespace mesim::test {
namespace {

constexpr char kPassword[] = "P@ssw0rd";
const std::string kStorage = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_ThirdPartyDataStorageService";
const std::string kAdmin = "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_ThirdPartyDataStorageAdministrationService";
const std::string kUuid = "4C4C4544004D3510804CB7C04F4E3732";

std::string between(const std::string& text, const std::string& open, const std::string& close) {
  const auto at = text.find(open);
  if (at == std::string::npos) return "<none>";
  const auto end = text.find(close, at + open.size());
  return text.substr(at + open.size(), end - at - open.size());
}

class ThirdPartyStorageDaemonTest : public ::testing::Test {
 protected:
  void start() {
    ASSERT_TRUE(daemon.start({"--clock", "manual", "--host-os", "none", "--fuse", "off", "--preload", "off"}))
        << daemon.log();
    ASSERT_NE(daemon.httpPort(), 0) << daemon.log();
    wsman.emplace(daemon.httpPort(), "admin", kPassword);
  }
  void SetUp() override { start(); }

  // Invokes `method` of the service at `uri` with `params` (<p:Name>value</p:Name>...); the answer's body.
  std::string invoke(const std::string& uri, const std::string& method, const std::string& params = "") {
    const std::string body =
        "<p:" + method + "_INPUT xmlns:p=\"" + uri + "\">" + params + "</p:" + method + "_INPUT>";
    auto answer = wsman->post(wsmanEnvelope(uri + "/" + method, uri, body));
    EXPECT_EQ(answer.status, 200u) << method << ": " << answer.body;
    return answer.body;
  }
  static std::string p(const std::string& name, const std::string& value) {
    return "<p:" + name + ">" + value + "</p:" + name + ">";
  }
  static std::string rv(const std::string& answer) { return between(answer, "ReturnValue>", "</"); }
  static std::string out(const std::string& answer, const std::string& name) { return between(answer, name + ">", "</"); }

  std::string registerApplication() {
    const auto answer = invoke(kStorage, "RegisterApplication",
                               p("CallerUUID", kUuid) + p("VendorName", "Contoso") + p("ApplicationName", "Inventory") +
                                   p("EnterpriseName", "Contoso Corp"));
    EXPECT_EQ(rv(answer), "0") << answer;
    return out(answer, "SessionHandle");
  }

  DaemonProcess daemon;
  std::optional<WsmanDigestClient> wsman;
};

TEST_F(ThirdPartyStorageDaemonTest, RegisterAllocateWriteReadRestartRead) {
  ASSERT_EQ(daemon.post("/clock/set?time=2030-01-01T00:00:00Z").substr(0, 3), "200");
  EXPECT_EQ(out(invoke(kStorage, "GetMTU"), "Mtu"), "4096");
  const auto timeouts = invoke(kStorage, "GetTimeoutValues");
  const int registrationTimeout = std::stoi(out(timeouts, "RegistrationTimeout"));
  EXPECT_GT(registrationTimeout, 0) << timeouts;

  // No enterprise yet: registration is refused (PT_STATUS_INVALID_REGISTRATION_DATA).
  auto refused = invoke(kStorage, "RegisterApplication",
                        p("CallerUUID", kUuid) + p("VendorName", "Contoso") + p("ApplicationName", "Inventory") +
                            p("EnterpriseName", "Contoso Corp"));
  EXPECT_EQ(rv(refused), "9") << refused;
  const auto enterprise = invoke(kAdmin, "AddStorageEaclEntry", p("EnterpriseName", "Contoso Corp"));
  ASSERT_EQ(rv(enterprise), "0") << enterprise;

  const std::string session = registerApplication();
  ASSERT_EQ(session.size(), 32u) << session;
  const auto app = out(invoke(kStorage, "GetCurrentApplicationHandle", p("SessionHandle", session)), "ApplicationHandle");
  const auto allocated = invoke(kStorage, "AllocateBlock",
                                p("SessionHandle", session) + p("BytesRequested", "8192") + p("BlockHidden", "false") +
                                    p("BlockName", "assets"));
  ASSERT_EQ(rv(allocated), "0") << allocated;
  const std::string block = out(allocated, "BlockHandle");

  // Two MTU-sized writes fill the block; one byte more than the MTU is refused (PT_STATUS_INVALID_BYTE_COUNT).
  std::vector<std::uint8_t> first(4096), second(4096);
  for (std::size_t i = 0; i < first.size(); ++i) {
    first[i] = static_cast<std::uint8_t>(i * 7);
    second[i] = static_cast<std::uint8_t>(255 - i % 251);
  }
  for (const auto& [offset, bytes] : {std::pair{"0", &first}, std::pair{"4096", &second}}) {
    const auto written = invoke(kStorage, "WriteBlock",
                                p("SessionHandle", session) + p("BlockHandle", block) + p("ByteOffset", offset) +
                                    p("Data", text::base64Encode(*bytes)));
    ASSERT_EQ(rv(written), "0") << written;
    EXPECT_EQ(out(written, "BytesWritten"), "4096");
  }
  const auto tooBig = invoke(kStorage, "WriteBlock",
                             p("SessionHandle", session) + p("BlockHandle", block) + p("ByteOffset", "0") +
                                 p("Data", text::base64Encode(std::vector<std::uint8_t>(4097, 1))));
  EXPECT_EQ(rv(tooBig), "15") << tooBig;
  auto read = [&](const std::string& s, const std::string& offset) {
    const auto answer = invoke(kStorage, "ReadBlock",
                               p("SessionHandle", s) + p("BlockHandle", block) + p("ByteOffset", offset) +
                                   p("ByteCount", "4096"));
    EXPECT_EQ(rv(answer), "0") << answer;
    return text::base64Decode(out(answer, "Data")).value_or(std::vector<std::uint8_t>{});
  };
  EXPECT_EQ(read(session, "0"), first);
  EXPECT_EQ(read(session, "4096"), second);
  // The administrator's changes and the write are Storage Administration events in the audit log.
  const auto set = invoke(kAdmin, "SetGlobalStorageAttributes", p("MaxNonPartnerTotalAllocationSize", "65536"));
  EXPECT_EQ(rv(set), "0") << set;
  const auto audit = daemon.get("/logs/audit");
  for (const char* event : {"Storage EACL Modified", "Storage Write Operation", "Global Storage Attributes Set"})
    EXPECT_NE(audit.find(event), std::string::npos) << event << ": " << audit;
  EXPECT_NE(audit.find("\"extended_data\":\"0001800000010000\""), std::string::npos) << audit;  // 98304, 65536 BE
  const auto global = invoke(kAdmin, "GetGlobalStorageAttributes");
  EXPECT_EQ(out(global, "MaxNonPartnerTotalAllocationSize"), "65536") << global;
  EXPECT_EQ(out(global, "TotalAllocatedStorage"), "8192") << global;
  EXPECT_EQ(out(global, "MaxFpaclEntries"), "24") << global;

  // Restart: the session is gone, the application and its bytes are not.
  ASSERT_EQ(daemon.stop(), 0) << daemon.log();
  start();
  ASSERT_EQ(daemon.post("/clock/set?time=2030-01-01T00:00:10Z").substr(0, 3), "200");
  EXPECT_EQ(rv(invoke(kStorage, "GetBytesAvailable", p("SessionHandle", session))), "8");
  const auto apps = invoke(kAdmin, "AdminGetRegisteredApplications");
  EXPECT_EQ(out(apps, "ApplicationHandles"), app) << apps;
  const std::string again = registerApplication();
  EXPECT_EQ(out(invoke(kStorage, "GetCurrentApplicationHandle", p("SessionHandle", again)), "ApplicationHandle"), app);
  const auto blocks = invoke(kStorage, "GetAllocatedBlocks", p("SessionHandle", again) + p("BlockOwnerApplication", app));
  EXPECT_EQ(out(blocks, "BlockHandles"), block) << blocks;
  const auto attributes = invoke(kStorage, "GetBlockAttributes", p("SessionHandle", again) + p("BlockHandle", block));
  EXPECT_EQ(out(attributes, "BlockSize"), "8192") << attributes;
  EXPECT_EQ(out(attributes, "BlockName"), "assets") << attributes;
  EXPECT_EQ(read(again, "0"), first);
  EXPECT_EQ(read(again, "4096"), second);

  // Idle past the registration timeout on the firmware clock: the session is closed (PT_STATUS_APPLICATION_NOT_REGISTERED).
  ASSERT_EQ(daemon.post("/clock/advance?seconds=" + std::to_string(registrationTimeout + 1)).substr(0, 3), "200")
      << daemon.post("/clock/advance?seconds=1");
  EXPECT_EQ(rv(invoke(kStorage, "GetBytesAvailable", p("SessionHandle", again))), "8");
  const auto attributesAfter = invoke(kAdmin, "AdminGetApplicationAttributes", p("Handle", app));
  EXPECT_EQ(out(attributesAfter, "ActiveSession"), "false") << attributesAfter;
  EXPECT_EQ(out(attributesAfter, "CurrentAllocationSize"), "8192") << attributesAfter;
}

}  // namespace
}  // namespace mesim::test
