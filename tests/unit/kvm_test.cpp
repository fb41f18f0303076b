// KVM (wsman/redirection): the PSF font, the console's cell grid and its rendering, the RFB codec (messages, pixel
// formats, RAW, ZRLE decoded with zlib by tests/support/rfb_test_client.h), VNC authentication's DES against known
// vectors, and the RFB session on a manual firmware clock: 5900 with VNC auth, KVMR with None and RGB565.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/rfb_test_client.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/redirection/console_screen.h"
#include "wsman/redirection/kvm_redirection.h"
#include "wsman/redirection/psf_font.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/rfb_session.h"
#include "wsman/redirection/vnc_auth.h"

namespace mesim::wsman::redirection {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
constexpr char kFontPath[] = "/usr/share/consolefonts/Lat15-Fixed16.psf.gz";
constexpr char kRfbPassword[] = "Kvm-Pa55";

PsfFont consoleFont() {
  auto font = PsfFont::load(kFontPath);
  EXPECT_TRUE(font) << font.error().message << " (Debian's console-setup-linux ships it)";
  return font ? std::move(*font) : PsfFont::fallback();
}

std::string hex(std::span<const std::uint8_t> b) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Font, grid, rendering
// ------------------------------------------------------------------------------------------------

TEST(PsfFont, ReadsDebiansGzippedConsoleFont) {
  auto font = consoleFont();
  EXPECT_EQ(font.width(), 8u);
  EXPECT_EQ(font.height(), 16u);
  EXPECT_GE(font.glyphCount(), 256u);
  unsigned setA = 0, setSpace = 0;
  for (unsigned y = 0; y < 16; ++y)
    for (unsigned x = 0; x < 8; ++x) {
      setA += font.pixel('A', x, y);
      setSpace += font.pixel(' ', x, y);
    }
  EXPECT_GT(setA, 10u);
  EXPECT_EQ(setSpace, 0u);
}

TEST(PsfFont, RejectsWhatIsNotAFontWithAClearError) {
  EXPECT_NE(errorOf(PsfFont::parse(Bytes{1, 2, 3, 4, 5})).find("not a PSF font"), std::string::npos);
  EXPECT_NE(errorOf(PsfFont::parse(Bytes{0x36, 0x04, 0x00, 16, 0xFF})).find("truncated"), std::string::npos);
  Bytes psf2(32, 0);
  psf2[0] = 0x72, psf2[1] = 0xb5, psf2[2] = 0x4a, psf2[3] = 0x86;
  psf2[8] = 32, psf2[16] = 1, psf2[20] = 16, psf2[24] = 200, psf2[28] = 8;  // 200 px high
  EXPECT_NE(errorOf(PsfFont::parse(psf2)).find("not supported"), std::string::npos);
  EXPECT_NE(errorOf(PsfFont::load("/nonexistent/font.psf.gz")).find("cannot open font"), std::string::npos);
  // A PSF2 font of our own: 2 glyphs 8x2.
  Bytes own(32, 0);
  own[0] = 0x72, own[1] = 0xb5, own[2] = 0x4a, own[3] = 0x86;
  own[8] = 32, own[16] = 2, own[20] = 2, own[24] = 2, own[28] = 8;
  own.insert(own.end(), {0x80, 0x00, 0x01, 0xFF});
  auto font = PsfFont::parse(own);
  ASSERT_TRUE(font) << font.error().message;
  EXPECT_TRUE(font->pixel(0, 0, 0));
  EXPECT_FALSE(font->pixel(0, 1, 0));
  EXPECT_TRUE(font->pixel(1, 7, 0));
  EXPECT_TRUE(font->pixel(1, 3, 1));
}

TEST(TerminalGrid, FollowsCrLfBackspaceTabWrapAndScroll) {
  TerminalGrid grid(10, 3);
  grid.write("login: ab\b \b");
  EXPECT_EQ(grid.rowText(0), "login: a");
  EXPECT_EQ(grid.cursorColumn(), 8u);
  grid.write("\r\nx\ty\x1b[1;31mz");
  EXPECT_EQ(grid.rowText(1), "x       yz") << "a tab to column 8; the escape sequence drew nothing";
  grid.write("W");  // past column 10: wraps to the next row
  EXPECT_EQ(grid.rowText(2), "W");
  auto [first, count] = grid.write("\r\nlast");  // scrolls
  EXPECT_EQ(first, 0u);
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(grid.rowText(0), "x       yz");
  EXPECT_EQ(grid.rowText(1), "W");
  EXPECT_EQ(grid.rowText(2), "last");
}

TEST(ConsoleScreen, DrawsWhatTheConsoleWritesAndTellsTheViewerWhatChanged) {
  std::string typed;
  ConsoleScreen screen(consoleFont(), {}, [&](std::string_view b) { typed += b; });
  EXPECT_EQ(screen.width(), 640u);
  EXPECT_EQ(screen.height(), 400u);
  std::vector<ScreenRect> changes;
  screen.setChangeListener([&](const ScreenRect& r) { changes.push_back(r); });
  screen.write("\r\n\r\nmesim-host login: ");
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back(), (ScreenRect{0, 0, 640, 48})) << "rows 0 (the old cursor) to 2";
  // Pixels are the font's glyphs: 'm' at row 2, column 0.
  const auto& font = screen.font();
  for (unsigned y = 0; y < 16; ++y)
    for (unsigned x = 0; x < 8; ++x)
      EXPECT_EQ(screen.pixels()[(32 + y) * 640 + x], font.pixel('m', x, y) ? 0xAAAAAAu : 0u) << x << "," << y;
  EXPECT_EQ(screen.pixels(), renderText(screen.grid(), font, {}));
  // Keys become what a terminal sends.
  screen.keyEvent(true, 'r');
  screen.keyEvent(false, 'r');
  screen.keyEvent(true, 0xFF0D);
  screen.keyEvent(true, 0xFFE3);  // Control
  screen.keyEvent(true, 'c');
  screen.keyEvent(false, 0xFFE3);
  screen.keyEvent(true, 0xFF08);
  EXPECT_EQ(typed, std::string("r\r\x03\x7F"));
  screen.setOverlay("123456");
  EXPECT_EQ(changes.back(), (ScreenRect{0, 0, 640, 16}));
  EXPECT_EQ(screen.pixels()[640 - 8 * 6 - 1], 0u) << "left of the overlay: background";
  EXPECT_EQ(screen.pixels()[640 - 1], 0xFFFFFFu) << "the overlay is inverse";
}

// ------------------------------------------------------------------------------------------------
// RFB codec
// ------------------------------------------------------------------------------------------------

TEST(RfbCodec, DecodesTheClientMessagesAndWaitsForWholeOnes) {
  const rfb::PixelFormat bgr{32, 24, false, true, 255, 255, 255, 0, 8, 16};  // vncsnapshot's
  const std::vector<rfb::ClientMessage> messages = {
      rfb::SetPixelFormat{bgr},
      rfb::SetEncodings{{16, 0, 1092, -223}},
      rfb::FramebufferUpdateRequest{true, 1, 2, 300, 400},
      rfb::KeyEvent{true, 0xFF0D},
      rfb::PointerEvent{1, 10, 20},
      rfb::ClientCutText{std::string("\0KvmDataChannel\0", 16)},
  };
  for (const auto& message : messages) {
    const Bytes bytes = rfb::encodeClientMessage(message);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      auto partial = rfb::decodeClientMessage(std::span(bytes).first(cut));
      ASSERT_TRUE(partial) << partial.error().message;
      EXPECT_FALSE(*partial) << "type " << int(bytes[0]) << " cut at " << cut;
    }
    auto whole = rfb::decodeClientMessage(bytes);
    ASSERT_TRUE(whole && *whole) << "type " << int(bytes[0]);
    EXPECT_EQ((*whole)->length, bytes.size());
    EXPECT_EQ(rfb::encodeClientMessage((*whole)->message), bytes);
  }
  EXPECT_EQ(std::get<rfb::SetPixelFormat>((*rfb::decodeClientMessage(rfb::encodeClientMessage(messages[0])))->message).format, bgr);
}

TEST(RfbCodec, RefusesGarbageWithAReason) {
  EXPECT_NE(errorOf(rfb::decodeClientMessage(Bytes{9, 0, 0})).find("unknown RFB client message type 9"), std::string::npos);
  rfb::PixelFormat colourMap = rfb::PixelFormat::rgb888();
  colourMap.trueColour = false;
  EXPECT_NE(errorOf(rfb::decodeClientMessage(rfb::encodeClientMessage(rfb::SetPixelFormat{colourMap}))).find("colour-map"),
            std::string::npos);
  rfb::PixelFormat odd = rfb::PixelFormat::rgb888();
  odd.bitsPerPixel = 24;
  EXPECT_FALSE(rfb::decodeClientMessage(rfb::encodeClientMessage(rfb::SetPixelFormat{odd})));
  EXPECT_FALSE(rfb::decodeClientMessage(Bytes{6, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF})) << "a 2 GB cut text";
  EXPECT_FALSE(rfb::decodeClientMessage(Bytes{2, 0, 0xFF, 0xFF})) << "65535 encodings";
  const std::string v38 = "RFB 003.008\n", v33 = "RFB 003.003\n", v37 = "RFB 003.007\n", v5 = "RFB 003.005\n";
  auto version = [](const std::string& s) {
    return rfb::parseVersion(std::span<const std::uint8_t, 12>(reinterpret_cast<const std::uint8_t*>(s.data()), 12));
  };
  EXPECT_EQ(*version(v38), 8u);
  EXPECT_EQ(*version(v37), 7u);
  EXPECT_EQ(*version(v33), 3u);
  EXPECT_EQ(*version(v5), 3u);
  EXPECT_FALSE(version("GET / HTTP/1"));
}

TEST(RfbCodec, PacksPixelsIn565And888) {
  const auto f565 = rfb::PixelFormat::rgb565();
  EXPECT_EQ(rfb::packPixel(f565, 0xFFFFFF), 0xFFFFu);
  EXPECT_EQ(rfb::packPixel(f565, 0xFF0000), 0xF800u);
  EXPECT_EQ(rfb::packPixel(f565, 0x00FF00), 0x07E0u);
  EXPECT_EQ(rfb::packPixel(f565, 0xAAAAAA), (21u << 11) | (42u << 5) | 21u);
  Bytes out;
  rfb::putPixel(out, f565, 0xF800);
  EXPECT_EQ(out, (Bytes{0x00, 0xF8})) << "little-endian, as AMT's ServerInit says";
  const auto f888 = rfb::PixelFormat::rgb888();
  EXPECT_EQ(rfb::unpackPixel(f888, rfb::packPixel(f888, 0x123456)), 0x123456u);
  Bytes init = rfb::encodeServerInit(640, 400, f565, "mesim");
  EXPECT_EQ(Bytes(init.begin(), init.begin() + 20),
            (Bytes{0x02, 0x80, 0x01, 0x90, 16, 16, 0, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0}));
}

class RfbEncodingTest : public ::testing::TestWithParam<rfb::PixelFormat> {};

TEST_P(RfbEncodingTest, RawAndZrleDecodeToTheScreenInTilesOf64) {
  const auto format = GetParam();
  ConsoleScreen screen(consoleFont(), {}, {});
  screen.write("BIOS\r\nmesim-host login: root\r\n# uname -a\r\nLinux");
  // A patch of many colours, so ZRLE's raw tiles are exercised next to its palettes.
  auto pixels = screen.pixels();
  for (unsigned y = 300; y < 380; ++y)
    for (unsigned x = 500; x < 600; ++x) pixels[y * 640 + x] = (x * 2654435761u ^ y * 40503u) & 0xFFFFFF;
  const ScreenRect all{0, 0, 640, 400};
  auto expected = [&](unsigned x, unsigned y) { return rfb::unpackPixel(format, rfb::packPixel(format, pixels[y * 640 + x])); };

  for (bool zrle : {false, true}) {
    Bytes update;
    const auto rects = rfb::tiles(all);
    rfb::encodeUpdateHeader(update, static_cast<std::uint16_t>(rects.size()));
    rfb::ZrleEncoder encoder;
    for (const auto& r : rects) {
      rfb::encodeRectHeader(update, r, zrle ? rfb::kEncodingZrle : rfb::kEncodingRaw);
      if (zrle)
        ASSERT_TRUE(encoder.encode(update, pixels, 640, r, format));
      else
        rfb::encodeRaw(update, pixels, 640, r, format);
    }
    test::RfbPicture picture(640, 400, format);
    auto used = picture.applyUpdate(update);
    ASSERT_TRUE(used);
    EXPECT_EQ(*used, update.size());
    EXPECT_LE(picture.maxRectSide, 64u);
    unsigned wrong = 0;
    for (unsigned y = 0; y < 400; ++y)
      for (unsigned x = 0; x < 640; ++x) wrong += picture.rgb(x, y) != expected(x, y);
    EXPECT_EQ(wrong, 0u) << (zrle ? "ZRLE" : "RAW") << " at " << int(format.bitsPerPixel) << " bpp";
    if (zrle) {
      EXPECT_LT(update.size(), 640u * 400u * format.bytesPerPixel() / 4) << "text compresses";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, RfbEncodingTest,
                         ::testing::Values(rfb::PixelFormat::rgb888(), rfb::PixelFormat::rgb565(),
                                           rfb::PixelFormat{32, 24, false, true, 255, 255, 255, 0, 8, 16},
                                           rfb::PixelFormat{32, 24, true, true, 255, 255, 255, 16, 8, 0},
                                           rfb::PixelFormat{8, 8, false, true, 7, 7, 3, 0, 3, 6}));

// ------------------------------------------------------------------------------------------------
// VNC authentication
// ------------------------------------------------------------------------------------------------

TEST(VncAuth, MatchesKnownDesVectors) {
  // `vncpasswd` stores "password" as dbd83cfd727a1458: the well-known value (VNC's fixed key, bit-reversed).
  auto stored = vncPasswordFile("password");
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(hex(*stored), "dbd83cfd727a1458");
  // Challenge 01..10 under "P@ssw0rd": made with `openssl enc -des-ecb -nopad -K 0a02ceceee0c4e26` (the password's
  // bytes bit-reversed), independent of this code.
  VncChallenge challenge;
  for (std::size_t i = 0; i < 16; ++i) challenge[i] = static_cast<std::uint8_t>(i + 1);
  auto response = vncAuthResponse(challenge, "P@ssw0rd");
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(hex(*response), "24d63234ac7e1d6a9d18bc871bad95be");
  EXPECT_TRUE(vncAuthMatches(challenge, *response, "P@ssw0rd"));
  EXPECT_TRUE(vncAuthMatches(challenge, *response, "P@ssw0rdAndMore")) << "VNC uses the first 8 characters";
  EXPECT_FALSE(vncAuthMatches(challenge, *response, "P@ssw0rD"));
  EXPECT_NE(vncNewChallenge(), vncNewChallenge());
}

// ------------------------------------------------------------------------------------------------
// Sessions
// ------------------------------------------------------------------------------------------------

struct Viewer {
  Bytes received;
  bool closed = false;
  std::unique_ptr<RfbSession> session;
  void send(const Bytes& b) { session->receive(b); }
  void send(const std::string& s) { session->receive(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())); }
  void send(const rfb::ClientMessage& m) { send(rfb::encodeClientMessage(m)); }
  Bytes take(std::size_t n) {
    EXPECT_GE(received.size(), n);
    n = std::min(n, received.size());
    Bytes out(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(n));
    received.erase(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
  std::string takeText(std::size_t n) {
    auto b = take(n);
    return std::string(b.begin(), b.end());
  }
};

class RfbSessionTest : public ::testing::Test {
 protected:
  RfbSessionTest()
      : quiet_(log::Level::Error), clock_(core::FirmwareClock::time_point(std::chrono::seconds(1'800'000'000))),
        timers_(io_, clock_), screen_(consoleFont(), {}, [this](std::string_view b) { typed_ += b; }) {
    auto opened = platform::PlatformModel::open(dir_.path(), platform::PlatformDefaults{});
    EXPECT_TRUE(opened) << opened.error().message;
    platform_ = std::move(*opened);
    service_ = std::make_unique<KvmService>(*platform_, timers_);
    service_->setScreen(&screen_);
    screen_.write("mesim-host login: ");
  }

  void enable5900(const std::string& password = kRfbPassword) {
    ASSERT_EQ(platform_->update([&](platform::PlatformState& s) {
      s.redirection.is5900PortEnabled = true;
      s.redirection.rfbPassword = password;
    }),
              platform::ChangeResult::Ok);
  }

  std::unique_ptr<Viewer> connect(RfbSession::Mode mode = RfbSession::Mode::Standard) {
    auto v = std::make_unique<Viewer>();
    auto* raw = v.get();
    v->session = service_->open(mode, {[raw](Bytes b) { raw->received.insert(raw->received.end(), b.begin(), b.end()); },
                                       [raw] { raw->closed = true; }},
                                "192.0.2.9", mode == RfbSession::Mode::Standard ? "" : "admin");
    v->session->start();
    EXPECT_EQ(v->takeText(12), "RFB 003.008\n");
    return v;
  }

  // 3.8 with VNC authentication up to ServerInit; returns the ServerInit's pixel format.
  rfb::PixelFormat login(Viewer& v, const std::string& password = kRfbPassword) {
    v.send("RFB 003.008\n");
    EXPECT_EQ(v.take(2), (Bytes{1, 2}));
    v.send(Bytes{2});
    auto challengeBytes = v.take(16);
    VncChallenge challenge;
    std::copy(challengeBytes.begin(), challengeBytes.end(), challenge.begin());
    auto response = vncAuthResponse(challenge, password);
    v.send(Bytes(response->begin(), response->end()));
    EXPECT_EQ(v.take(4), (Bytes{0, 0, 0, 0}));
    v.send(Bytes{1});
    auto init = v.take(24 + 5);
    EXPECT_EQ(init[0] << 8 | init[1], 640);
    EXPECT_EQ(init[2] << 8 | init[3], 400);
    return rfb::decodePixelFormat(std::span<const std::uint8_t, 16>(init.data() + 4, 16));
  }

  test::LogThreshold quiet_;
  test::TempDir dir_{"kvm"};
  boost::asio::io_context io_;
  core::ManualFirmwareClock clock_;
  core::FirmwareTimerQueue timers_;
  std::string typed_;
  ConsoleScreen screen_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<KvmService> service_;
};

TEST_F(RfbSessionTest, Port5900RefusesUntilEnabledAndWithoutAPassword) {
  auto v = connect();
  v->send("RFB 003.008\n");
  EXPECT_EQ(v->take(1), Bytes{0}) << "no security types: a reason follows";
  EXPECT_NE(std::string(v->received.begin(), v->received.end()).find("disabled"), std::string::npos);
  EXPECT_TRUE(v->closed);
  enable5900("");
  auto v33 = connect();
  v33->send("RFB 003.003\n");
  EXPECT_EQ(v33->take(4), (Bytes{0, 0, 0, 0})) << "3.3: security type 0 and a reason";
  EXPECT_NE(std::string(v33->received.begin(), v33->received.end()).find("RFBPassword"), std::string::npos);
  EXPECT_EQ(service_->stats().refused, 2u);
}

TEST_F(RfbSessionTest, Port5900AuthenticatesServesUpdatesAndTakesKeys) {
  enable5900();
  auto v = connect();
  auto format = login(*v);
  EXPECT_EQ(format, rfb::PixelFormat::rgb888());
  EXPECT_TRUE(platform_->state().features.kvmSessionActive);
  // vncsnapshot's way: its own format, then a whole-screen request.
  const rfb::PixelFormat bgr{32, 24, false, true, 255, 255, 255, 0, 8, 16};
  v->send(rfb::SetPixelFormat{bgr});
  v->send(rfb::SetEncodings{{rfb::kEncodingZrle, rfb::kEncodingRaw}});
  v->send(rfb::FramebufferUpdateRequest{false, 0, 0, 640, 400});
  test::RfbPicture picture(640, 400, bgr);
  auto used = picture.applyUpdate(v->received);
  ASSERT_TRUE(used);
  v->take(*used);
  EXPECT_EQ(picture.pixels(), screen_.pixels());
  EXPECT_LE(picture.maxRectSide, 64u);
  // An incremental request waits for a change; a key typed changes the screen through the console.
  v->send(rfb::FramebufferUpdateRequest{true, 0, 0, 640, 400});
  EXPECT_TRUE(v->received.empty());
  v->send(rfb::KeyEvent{true, 'r'});
  v->send(rfb::KeyEvent{false, 'r'});
  EXPECT_EQ(typed_, "r");
  screen_.write("r");  // the console's echo
  used = picture.applyUpdate(v->received);
  ASSERT_TRUE(used);
  v->take(*used);
  EXPECT_EQ(picture.pixels(), screen_.pixels());
  v->send(rfb::PointerEvent{1, 5, 5});
  v->send(rfb::ClientCutText{"ignored"});
  EXPECT_EQ(service_->stats().keyEvents, 2u);
  EXPECT_EQ(service_->stats().pointerEvents, 1u);
  // One viewer at a time.
  auto second = connect();
  second->send("RFB 003.007\n");
  EXPECT_EQ(second->take(1), Bytes{0});
  EXPECT_TRUE(second->closed);
  EXPECT_EQ(service_->stats().busy, 1u);
  v->session->end("bye");
  EXPECT_FALSE(platform_->state().features.kvmSessionActive);
  EXPECT_FALSE(service_->busy());
}

TEST_F(RfbSessionTest, WrongPasswordFailsWithAReasonIn38AndCloses) {
  enable5900();
  auto v = connect();
  v->send("RFB 003.008\n");
  v->take(2);
  v->send(Bytes{2});
  v->take(16);
  v->send(Bytes(16, 0x55));
  EXPECT_EQ(v->take(4), (Bytes{0, 0, 0, 1}));
  EXPECT_EQ(v->take(4), (Bytes{0, 0, 0, 21}));
  EXPECT_EQ(v->takeText(21), "authentication failed");
  EXPECT_TRUE(v->closed);
  EXPECT_EQ(service_->stats().authFailures, 1u);
  EXPECT_FALSE(service_->busy());
}

TEST_F(RfbSessionTest, Version33GetsVncAuthChosenByTheServer) {
  enable5900();
  auto v = connect();
  v->send("RFB 003.003\n");
  EXPECT_EQ(v->take(4), (Bytes{0, 0, 0, 2}));
  auto challengeBytes = v->take(16);
  VncChallenge challenge;
  std::copy(challengeBytes.begin(), challengeBytes.end(), challenge.begin());
  auto response = vncAuthResponse(challenge, kRfbPassword);
  v->send(Bytes(response->begin(), response->end()));
  EXPECT_EQ(v->take(4), (Bytes{0, 0, 0, 0}));
  v->send(Bytes{0});
  EXPECT_EQ(v->session->state(), RfbSession::State::Normal);
}

TEST_F(RfbSessionTest, KvmrSpeaksNoneAndRgb565AfterThe40Exchange) {
  Bytes wire;
  bool closed = false;
  KvmRedirection kvmr(*service_, {[&](Bytes b) { wire.insert(wire.end(), b.begin(), b.end()); }, [&] { closed = true; }},
                      "192.0.2.9", "admin");
  kvmr.receive(Bytes{0x40, 0, 0, 0});
  EXPECT_TRUE(wire.empty());
  kvmr.receive(Bytes{0, 0, 0, 0});
  ASSERT_GE(wire.size(), 20u);
  EXPECT_EQ(Bytes(wire.begin(), wire.begin() + 8), (Bytes{0x41, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(std::string(wire.begin() + 8, wire.begin() + 20), "RFB 003.008\n");
  wire.clear();
  // MeshCentral: its version, skips the type list, answers 1, reads a u32 0, shared = 1: all in one write here.
  const std::string hello = "RFB 003.008\n";
  Bytes reply(hello.begin(), hello.end());
  reply.push_back(1);
  reply.push_back(1);
  kvmr.receive(reply);
  ASSERT_GE(wire.size(), 2u + 4u + 24u);
  EXPECT_EQ(Bytes(wire.begin(), wire.begin() + 6), (Bytes{1, 1, 0, 0, 0, 0}));
  const auto format = rfb::decodePixelFormat(std::span<const std::uint8_t, 16>(wire.data() + 6 + 4, 16));
  EXPECT_EQ(format, rfb::PixelFormat::rgb565());
  wire.erase(wire.begin(), wire.begin() + 6 + 24 + static_cast<std::ptrdiff_t>(service_->options().desktopName.size()));
  kvmr.receive(rfb::encodeClientMessage(rfb::SetEncodings{{16, 0, 1092, -223}}));
  // amt-desktop's first request is already incremental: it must still get the whole screen.
  kvmr.receive(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, 640, 400}));
  test::RfbPicture picture(640, 400, format);
  auto used = picture.applyUpdate(wire);
  ASSERT_TRUE(used);
  EXPECT_EQ(*used, wire.size());
  EXPECT_LE(picture.maxRectSide, 64u);
  for (unsigned i = 0; i < 640 * 400; ++i)
    ASSERT_EQ(picture.pixels()[i], rfb::unpackPixel(format, rfb::packPixel(format, screen_.pixels()[i]))) << i;
  // Garbage ends the session cleanly.
  kvmr.receive(Bytes{0x77});
  EXPECT_TRUE(closed);
  EXPECT_EQ(service_->stats().protocolErrors, 1u);
  EXPECT_FALSE(service_->busy());
}

TEST_F(RfbSessionTest, AViewerThatStallsInTheHandshakeIsClosedOnTheFirmwareClock) {
  enable5900();
  auto v = connect();
  v->send("RFB 003.008\n");
  clock_.advance(29s);
  timers_.runDue();
  EXPECT_FALSE(v->closed);
  clock_.advance(2s);
  timers_.runDue();
  EXPECT_TRUE(v->closed);
}

TEST_F(RfbSessionTest, TruncatedAndGarbageInputNeverCrashes) {
  enable5900();
  // Every prefix of a valid exchange, then random bytes: the session answers or closes, never crashes.
  std::uint32_t seed = 12345;
  for (int round = 0; round < 200; ++round) {
    auto v = connect();
    Bytes junk;
    const int n = round % 64;
    for (int i = 0; i < n; ++i) {
      seed = seed * 1103515245 + 12345;
      junk.push_back(static_cast<std::uint8_t>(seed >> 16));
    }
    if (round % 2) {
      const std::string hello = "RFB 003.008\n";
      v->send(hello);
    }
    v->send(junk);
    v->session->end("done");
  }
  EXPECT_FALSE(service_->busy());
}

}  // namespace
}  // namespace mesim::wsman::redirection
