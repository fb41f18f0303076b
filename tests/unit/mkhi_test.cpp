// The MKHI client (and the kernel's MKHI-fix client) driven through ClientConnection: byte-exact against
// spec/mei.md §5 and what LMS's Configurator needs to start port forwarding (spec/apf.md §4).
#include <gtest/gtest.h>

#include <future>
#include <random>

#include "firmware/clients/client_guids.h"
#include "firmware/clients/mkhi_client.h"
#include "firmware/platform/host_power.h"
#include "tests/support/inprocess_platform.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::clients {
namespace {

using hbm::Bytes;

std::uint32_t le32(const Bytes& b, std::size_t at) {
  return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | std::uint32_t{b[at + 3]} << 24;
}
std::uint16_t le16(const Bytes& b, std::size_t at) { return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8); }

class MkhiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = platform::PlatformModel::open(dir.path(), {});
    ASSERT_TRUE(opened) << opened.error().message;
    model = std::move(*opened);
    client = std::make_unique<MkhiClient>(*model, kMkhiGuid);
    fix = std::make_unique<MkhiClient>(*model, kMkhiFixGuid);
  }

  std::vector<Bytes> send(MkhiClient& c, const Bytes& request) { return test::exchange(c, request); }
  Bytes call(const Bytes& request, MkhiClient* c = nullptr) {
    auto sent = send(c ? *c : *client, request);
    EXPECT_EQ(sent.size(), 1u);
    return sent.empty() ? Bytes{} : sent.front();
  }
  Bytes getRule(std::uint32_t rule) { return call(mkhi::makeRequest(0x03, mkhi::fwcaps::kGetRule, mkhi::encodeRuleId(rule))); }
  // LMS MKHIGetRuleCommandResponse: header 03 82 00 00, echoed rule id, length 4, u32 data.
  std::uint32_t ruleValue(std::uint32_t rule) {
    Bytes r = getRule(rule);
    EXPECT_EQ(r.size(), 13u);
    if (r.size() != 13) return 0;
    EXPECT_EQ(Bytes(r.begin(), r.begin() + 4), (Bytes{0x03, 0x82, 0x00, 0x00}));
    EXPECT_EQ(le32(r, 4), rule);
    EXPECT_EQ(r[8], 4);
    return le32(r, 9);
  }

  test::TempDir dir{"mkhi"};
  std::unique_ptr<platform::PlatformModel> model;
  std::unique_ptr<MkhiClient> client;
  std::unique_ptr<MkhiClient> fix;
};

TEST_F(MkhiTest, Properties) {
  auto props = client->properties();
  const Bytes mkhiGuid{0x15, 0x67, 0x6a, 0x8e, 0xbc, 0x9a, 0x43, 0x40, 0x88, 0xef, 0x9e, 0x39, 0xc6, 0xf6, 0x3e, 0x0f};
  EXPECT_EQ(Bytes(props.uuid.bytes.begin(), props.uuid.bytes.end()), mkhiGuid);
  EXPECT_EQ(props.protocolVersion, 1);
  EXPECT_EQ(props.maxMsgLength, 512u);
  EXPECT_EQ(props.maxConnections, 1);  // listed on the kernel's MEI bus
  EXPECT_STREQ(client->name(), "MKHI");

  auto fixProps = fix->properties();
  const Bytes fixGuid{0x84, 0x35, 0x21, 0x55, 0x29, 0x9a, 0x16, 0x49, 0xba, 0xdf, 0x0f, 0xb7, 0xed, 0x68, 0x2a, 0xeb};
  EXPECT_EQ(Bytes(fixProps.uuid.bytes.begin(), fixProps.uuid.bytes.end()), fixGuid);
  EXPECT_EQ(fixProps.maxConnections, 1);
  EXPECT_STREQ(fix->name(), "MKHI-fix");

  auto made = makeMkhiClient(*model, kMkhiFixGuid);
  EXPECT_EQ(made->properties().uuid, kMkhiFixGuid);
  EXPECT_STREQ(made->name(), "MKHI-fix");
}

TEST_F(MkhiTest, GetFwVersionOnBothClients) {
  for (MkhiClient* c : {client.get(), fix.get()}) {
    Bytes r = call(Bytes{0xFF, 0x02, 0x00, 0x00}, c);
    ASSERT_EQ(r.size(), 4u + 3 * 8) << c->name();  // header + code, recovery, FITC blocks
    EXPECT_EQ(Bytes(r.begin(), r.begin() + 4), (Bytes{0xFF, 0x82, 0x00, 0x00}));
    // Kernel mkhi_fw_ver_block {u16 minor, u8 major, u8 platform, u16 build, u16 hotfix}: sysfs "0:16.1.27.2225".
    EXPECT_EQ(le16(r, 4), 1);
    EXPECT_EQ(r[6], 16);
    EXPECT_EQ(r[7], 0);
    EXPECT_EQ(le16(r, 8), 2225);
    EXPECT_EQ(le16(r, 10), 27);
    // LMS reads the same bytes as u16 minor, major, build, hotfix (GetFWVersionCommand.h).
    EXPECT_EQ(le16(r, 6), 16);
    auto blocks = mkhi::decodeFwVersion(hbm::ByteView(r).subspan(4));
    ASSERT_TRUE(blocks);
    ASSERT_EQ(blocks->size(), 3u);
    EXPECT_EQ((*blocks)[1], (mkhi::FwVersionBlock{1, 16, 0, 2225, 27}));
  }
}

TEST_F(MkhiTest, FwVersionFollowsThePlatform) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.firmware.code = {18, 0, 5, 2026}; }),
            platform::ChangeResult::Ok);
  Bytes r = call(Bytes{0xFF, 0x02, 0x00, 0x00});
  ASSERT_EQ(r.size(), 28u);
  EXPECT_EQ(r[6], 18);
  EXPECT_EQ(le16(r, 4), 0);
  EXPECT_EQ(le16(r, 8), 2026);
  EXPECT_EQ(le16(r, 10), 5);
}

// The host model's bus fixup asks the fix client for the firmware version. whenFixupDone() fires once sysfs fw_ver
// is filled and the fixup's connection is closed, not at ENABLED itself, and at once afterwards.
TEST_F(MkhiTest, HostBusFixupReadsTheVersionAndSaysWhenItIsDone) {
  test::InProcessMachine machine;
  machine.engine.addClient(makeMkhiClient(*model, kMkhiFixGuid));
  auto done = std::make_shared<std::promise<std::pair<std::string, std::size_t>>>();
  bool doneAtEnabled = false;
  machine.host->onStateChange([&, done](host::DevState state) {
    if (state != host::DevState::Enabled) return;
    auto called = std::make_shared<bool>(false);
    machine.host->whenFixupDone([&machine, called, done] {
      *called = true;
      done->set_value({machine.host->sysfsFwVer(), machine.engine.stats().connections});
    });
    doneAtEnabled = *called;
  });
  ASSERT_TRUE(machine.start());
  auto settled = done->get_future();
  ASSERT_EQ(settled.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto [fwVer, connections] = settled.get();
  EXPECT_FALSE(doneAtEnabled);
  EXPECT_EQ(fwVer.rfind("0:16.1.", 0), 0u) << fwVer;
  EXPECT_EQ(connections, 0u) << "the fixup's connection is closed by then";
  EXPECT_TRUE(machine.run([&] {
    auto atOnce = std::make_shared<bool>(false);
    machine.host->whenFixupDone([atOnce] { *atOnce = true; });
    return *atOnce;
  }));
}

TEST_F(MkhiTest, GetMkhiVersion) {
  EXPECT_EQ(call(Bytes{0xFF, 0x01, 0x00, 0x00}), (Bytes{0xFF, 0x81, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00}));
}

// LMS's GetFWInfo on ME >= 16: End of POST and Core BIOS Done once the host runs (LMS then reports BIOS boot state 0).
TEST_F(MkhiTest, GetBootStateFollowsTheHostsPower) {
  EXPECT_EQ(call(Bytes{0xFF, 0x0A, 0x00, 0x00}), (Bytes{0xFF, 0x8A, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0}));
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.hostPower.powerState = platform::power::kOffSoft; }),
            platform::ChangeResult::Ok);
  EXPECT_EQ(call(Bytes{0xFF, 0x0A, 0x00, 0x00}), (Bytes{0xFF, 0x8A, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(call(Bytes{0xFF, 0x0A, 0x00, 0x00, 0x01}), (Bytes{0xFF, 0x8A, 0x00, 0x05}));  // SIZE_ERROR
}

TEST_F(MkhiTest, FwCapsRulesDescribeACorporateAmtPlatform) {
  const Bytes r = call(Bytes{0x03, 0x02, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00});  // GET_RULE FEATURE_ENABLE
  ASSERT_EQ(r.size(), 13u);
  EXPECT_EQ(Bytes(r.begin(), r.begin() + 9), (Bytes{0x03, 0x82, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x04}));
  const std::uint32_t enabled = ruleValue(mkhi::rule::kFeatureEnable);
  EXPECT_TRUE(enabled & (1u << 2));  // Amt
  const std::uint32_t platformType = ruleValue(mkhi::rule::kPlatformType);
  EXPECT_EQ((platformType >> 8) & 0xF, 4u);   // ImageType ME_FULL_8MB
  EXPECT_EQ((platformType >> 12) & 0xF, 1u);  // Brand AMT
  EXPECT_TRUE(ruleValue(mkhi::rule::kFwSku) & (1u << 2));
  EXPECT_TRUE(ruleValue(mkhi::rule::kAvailableBitmap) & (1u << 2));
  const std::uint32_t fwu = ruleValue(mkhi::rule::kFwUpdate);
  EXPECT_LE(fwu, 2u);  // LMS's test: FW_UPDATE_DISABLED..PASSWORD_PROTECTED
  EXPECT_EQ(ruleValue(mkhi::rule::kPlatformType), model->firmware().platformType);
}

TEST_F(MkhiTest, RuleValuesFollowThePlatform) {
  ASSERT_EQ(model->update([](platform::PlatformState& s) { s.firmware.featuresEnabled = 0; }),
            platform::ChangeResult::Ok);
  EXPECT_EQ(ruleValue(mkhi::rule::kFeatureEnable), 0u);  // "AMT disabled in MEBx"
}

TEST_F(MkhiTest, UnknownRulesAndCommandsFail) {
  EXPECT_EQ(getRule(99), (Bytes{0x03, 0x82, 0x00, 0x81}));                          // NOT_FOUND
  EXPECT_EQ(getRule(mkhi::makeRuleId(1, 32)), (Bytes{0x03, 0x82, 0x00, 0x81}));     // other feature id
  EXPECT_EQ(call(Bytes{0x03, 0x02, 0x00, 0x00, 0x20, 0x00, 0x00}), (Bytes{0x03, 0x82, 0x00, 0x05}));  // SIZE_ERROR
  EXPECT_EQ(call(Bytes{0xFF, 0x7F, 0x00, 0x00}), (Bytes{0xFF, 0xFF, 0x00, 0x8D}));  // INVALID_COMMAND
  EXPECT_EQ(call(Bytes{0x05, 0x01, 0x00, 0x00}), (Bytes{0x05, 0x81, 0x00, 0x8D}));  // unknown group
  EXPECT_EQ(call(Bytes{0x03, 0x09, 0x00, 0x00}), (Bytes{0x03, 0x89, 0x00, 0x8D}));
  EXPECT_EQ(call(Bytes{0xFF, 0x82, 0x00, 0x00}), (Bytes{0xFF, 0x82, 0x00, 0x8D}));  // a response is no request
  EXPECT_EQ(call(Bytes{0xFF, 0x02, 0x00, 0x00, 0x01}), (Bytes{0xFF, 0x82, 0x00, 0x05}));
}

TEST_F(MkhiTest, ShortMessagesGetAnErrorAnswer) {
  EXPECT_EQ(call(Bytes{0xFF, 0x02}), (Bytes{0xFF, 0x82, 0x00, 0x05}));
  EXPECT_EQ(call(Bytes{}), (Bytes{0x00, 0x80, 0x00, 0x05}));
}

TEST_F(MkhiTest, KernelOsVersionMessageGetsNoReply) {
  Bytes msg = mkhi::makeRequest(0x03, mkhi::fwcaps::kSetOsVersion, mkhi::encode(mkhi::OsVersion{0, 2, 6, 1}));
  // spec/mei.md §5: 03 06 00 00 + rule {0, 0x10} + len 8 + mei_os_ver.
  EXPECT_EQ(msg, (Bytes{0x03, 0x06, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x08, 0, 0, 0, 0, 0x02, 0x06, 0x01, 0x00}));
  EXPECT_TRUE(send(*fix, msg).empty());
  EXPECT_TRUE(send(*client, msg).empty());
  EXPECT_TRUE(send(*fix, Bytes{0x03, 0x06, 0x00, 0x00, 0x01}).empty());  // malformed: still no reply
  auto os = mkhi::decodeOsVersion(hbm::ByteView(msg).subspan(4));
  ASSERT_TRUE(os);
  EXPECT_EQ(os->osType, 2);
  EXPECT_EQ(os->major, 6);
}

TEST_F(MkhiTest, RandomBytesNeverCrash) {
  test::LogThreshold quiet(log::Level::Error);
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    Bytes msg(rng() % 24);
    for (auto& b : msg) b = static_cast<std::uint8_t>(rng());
    if (msg.size() >= 2 && i % 3 == 0) {
      msg[0] = i % 2 ? 0xFF : 0x03;
      msg[1] &= 0x07;
    }
    auto sent = send(*client, msg);
    ASSERT_LE(sent.size(), 1u);
    if (!sent.empty()) {
      ASSERT_GE(sent[0].size(), 4u);
      EXPECT_TRUE(sent[0][1] & 0x80);  // always a response
    }
  }
}

TEST(MkhiCodec, HeaderBits) {
  auto h = mkhi::readHeader(Bytes{0x03, 0x82, 0x00, 0x8D});
  ASSERT_TRUE(h);
  EXPECT_EQ(h->group, 3);
  EXPECT_EQ(h->command, 2);
  EXPECT_TRUE(h->isResponse);
  EXPECT_EQ(h->result, 0x8D);
  EXPECT_FALSE(mkhi::readHeader(Bytes{0x03, 0x82, 0x00}));
  EXPECT_FALSE(mkhi::decodeFwVersion(Bytes(7, 0)));
  EXPECT_FALSE(mkhi::decodeFwVersion(Bytes{}));
  EXPECT_FALSE(mkhi::decodeRuleResponse(Bytes{0x20, 0, 0, 0, 4, 1, 2, 3}));
  auto rule = mkhi::decodeRuleResponse(mkhi::encodeRuleResponse(32, Bytes{1, 2, 3, 4}));
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->ruleId, 32u);
  EXPECT_EQ(rule->data, (Bytes{1, 2, 3, 4}));
}

}  // namespace
}  // namespace mesim::clients
