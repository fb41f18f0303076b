// Finding 3 (log injection): text from clients reaches log lines, and an APF service name holding a newline forged a
// second line. Every line passes log::printable(): control characters, C1 controls, bytes that are not UTF-8 and
// backslashes become \xNN; printable UTF-8 stays as it is.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/log.h"
#include "firmware/lme/apf_codec.h"
#include "firmware/lme/apf_session.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim {
namespace {

std::size_t lineCount(const std::string& captured) { return std::count(captured.begin(), captured.end(), '\n'); }

TEST(LogInjection, PrintableEscapesControlsAndBrokenUtf8AndKeepsUtf8) {
  EXPECT_EQ(log::printable("plain text: 1 + 1 = 2"), "plain text: 1 + 1 = 2");
  EXPECT_EQ(log::printable("a\nb\rc\td"), "a\\x0Ab\\x0Dc\\x09d");
  EXPECT_EQ(log::printable(std::string("nul\0!", 5)), "nul\\x00!");
  EXPECT_EQ(log::printable("\x1b[31mred\x7f"), "\\x1B[31mred\\x7F") << "terminal escapes and DEL";
  EXPECT_EQ(log::printable("csi\xc2\x9b" "2J"), "csi\\xC2\\x9B2J") << "C1 controls, though valid UTF-8";
  EXPECT_EQ(log::printable("\xff\xfe" "x\xc3"), "\\xFF\\xFEx\\xC3") << "bytes that are not UTF-8";
  EXPECT_EQ(log::printable("\xed\xa0\x80"), "\\xED\\xA0\\x80") << "a surrogate";
  EXPECT_EQ(log::printable("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0")
      << "UTF-8 text (é, €, an emoji, a no-break space) is kept";
  EXPECT_EQ(log::printable("C:\\x0A"), "C:\\x5Cx0A") << "a literal backslash cannot pose as an escape";
}

TEST(LogInjection, AForgedLineStaysOnTheLineItCameIn) {
  const std::string forged = "name\n2026-01-01T00:00:00.000Z error mesim: admin password reset";
  auto captured = test::capturedLog(log::Level::Info, [&] { MESIM_LOG(Info, "test", "client said " << forged); });
  EXPECT_EQ(lineCount(captured), 1u) << captured;
  EXPECT_NE(captured.find("client said name\\x0A2026-01-01T00:00:00.000Z error mesim"), std::string::npos) << captured;
}

TEST(LogInjection, DeviceNameAndComponentAreEscapedToo) {
  auto captured = test::capturedLog(log::Level::Info, [] {
    log::write(log::Context("dev\nice"), log::Level::Info, "comp\r", "message");
  });
  EXPECT_EQ(lineCount(captured), 1u) << captured;
  EXPECT_NE(captured.find("[dev\\x0Aice] comp\\x0D: message"), std::string::npos) << captured;
}

// The probe's case: LMS-side bytes in an APF SERVICE_ACCEPT the ME does not expect end up in a warning.
TEST(LogInjection, AnApfServiceNameCannotForgeALogLine) {
  auto connection = std::make_shared<test::RecordingConnection>();
  lme::ApfSessionOptions options;
  auto session = std::make_shared<lme::ApfSession>(connection, options,
                                                   [](std::uint32_t) -> std::shared_ptr<lme::ChannelPeer> { return nullptr; });
  session->start();
  session->onHostMessage(lme::apf::encode(lme::apf::ProtocolVersion{1, 0, 254, {}}));
  const std::string forged = "pfwd@amt.intel.com\n2026-01-01T00:00:00.000Z info  lme: connection 1: APF session established";
  auto captured = test::capturedLog(log::Level::Warn, [&] {
    session->onHostMessage(lme::apf::encode(lme::apf::ServiceAccept{forged}));
  });
  EXPECT_EQ(lineCount(captured), 1u) << captured;
  EXPECT_NE(captured.find("unexpected SERVICE_ACCEPT \"pfwd@amt.intel.com\\x0A2026"), std::string::npos) << captured;
  EXPECT_EQ(session->state(), lme::ApfSession::State::Closed) << "and the session ends as before";
}

}  // namespace
}  // namespace mesim
