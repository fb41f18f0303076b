// The KVM screen from an upstream VNC server (wsman/redirection: rfb_client, upstream_vnc_screen) and DesktopSize in
// the RFB session: the client's handshakes (3.8 None, 3.3 VNC auth, refusals), RAW and ZRLE (every subencoding)
// into the framebuffer, updates asked for only while watched; then over a real Unix socket with a fake upstream:
// a KVMR viewer (RGB565) sees the upstream's 32 bpp picture converted, keys reach the upstream, the upstream's
// DesktopSize reaches a viewer that takes it and closes one that does not, and mesim reconnects when it comes back.
#include <gtest/gtest.h>
#include <zlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/rfb_test_client.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/redirection/rfb_client.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/rfb_session.h"
#include "wsman/redirection/upstream_vnc_screen.h"
#include "wsman/redirection/vnc_auth.h"

namespace mesim::wsman::redirection {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;
using boost::asio::local::stream_protocol;

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }
void put32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(v >> s));
}
Bytes serverInit(unsigned w, unsigned h, const std::string& name,
                 const rfb::PixelFormat& format = {32, 24, false, true, 255, 255, 255, 0, 8, 16}) {
  return rfb::encodeServerInit(std::uint16_t(w), std::uint16_t(h), format, name);
}
// A FramebufferUpdate of one RAW rectangle in RGB888 LE (the format the client asks for).
Bytes rawUpdate(const ScreenRect& r, const std::vector<std::uint32_t>& picture, unsigned stride) {
  Bytes out;
  rfb::encodeUpdateHeader(out, 1);
  rfb::encodeRectHeader(out, r, rfb::kEncodingRaw);
  rfb::encodeRaw(out, picture, stride, r, rfb::PixelFormat::rgb888());
  return out;
}
Bytes desktopSize(unsigned w, unsigned h) {
  Bytes out;
  rfb::encodeUpdateHeader(out, 1);
  rfb::encodeRectHeader(out, {0, 0, w, h}, rfb::kEncodingDesktopSize);
  return out;
}
std::vector<std::uint32_t> pattern(unsigned w, unsigned h, std::uint32_t seed = 0) {
  std::vector<std::uint32_t> p(std::size_t(w) * h);
  for (unsigned y = 0; y < h; ++y)
    for (unsigned x = 0; x < w; ++x) p[std::size_t(y) * w + x] = ((x * 37 + seed) & 0xFF) << 16 | ((y * 11) & 0xFF) << 8 | ((x ^ y) & 0xFF);
  return p;
}

// An RfbClient with what it writes and tells collected.
struct ClientProbe {
  explicit ClientProbe(RfbClientOptions options = {})
      : client(std::move(options), {[this](Bytes b) { out.insert(out.end(), b.begin(), b.end()); }, [this] { ++ready; },
                                    [this] { ++resized; }, [this](const ScreenRect& r) { changes.push_back(r); }}) {}
  Result<> feed(const Bytes& b) { return client.receive(b); }
  Bytes take() { return std::exchange(out, {}); }
  // Up to ServerInit, 3.8 with None.
  void handshake(unsigned w = 4, unsigned h = 2) {
    ASSERT_TRUE(feed(text("RFB 003.008\n")));
    ASSERT_EQ(take(), text("RFB 003.008\n"));
    ASSERT_TRUE(feed({2, 2, 1}));
    ASSERT_EQ(take(), (Bytes{1})) << "None chosen";
    ASSERT_TRUE(feed({0, 0, 0, 0}));
    ASSERT_EQ(take(), (Bytes{1})) << "ClientInit, shared";
    ASSERT_TRUE(feed(serverInit(w, h, "vm")));
    Bytes expected = rfb::encodeClientMessage(rfb::SetPixelFormat{rfb::PixelFormat::rgb888()});
    const Bytes encodings = rfb::encodeClientMessage(
        rfb::SetEncodings{{rfb::kEncodingZrle, rfb::kEncodingRaw, rfb::kEncodingDesktopSize}});
    expected.insert(expected.end(), encodings.begin(), encodings.end());
    ASSERT_EQ(take(), expected);
  }
  Bytes out;
  int ready = 0, resized = 0;
  std::vector<ScreenRect> changes;
  RfbClient client;
};

Bytes request(bool incremental, unsigned w, unsigned h) {
  return rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{incremental, 0, 0, std::uint16_t(w), std::uint16_t(h)});
}

TEST(RfbClient, Handshake38NoneThenRawUpdatesOnlyWhileWatched) {
  ClientProbe p;
  p.handshake(4, 2);
  EXPECT_EQ(p.ready, 1);
  EXPECT_EQ(p.client.desktopName(), "vm");
  EXPECT_EQ(p.client.width(), 4u);
  EXPECT_TRUE(p.take().empty()) << "no one watches: nothing asked";
  p.client.setWatching(true);
  EXPECT_EQ(p.take(), request(false, 4, 2)) << "a whole picture when watching starts";
  p.client.setWatching(true);
  EXPECT_TRUE(p.take().empty()) << "one request at a time";
  const auto picture = pattern(4, 2);
  const Bytes update = rawUpdate({0, 0, 4, 2}, picture, 4);
  // A byte at a time: the parser waits for whole rectangles.
  for (std::size_t i = 0; i + 1 < update.size(); ++i) ASSERT_TRUE(p.feed({update[i]}));
  EXPECT_TRUE(p.changes.empty());
  ASSERT_TRUE(p.feed({update.back()}));
  EXPECT_EQ(p.client.pixels(), picture);
  ASSERT_EQ(p.changes.size(), 1u);
  EXPECT_EQ(p.changes[0], (ScreenRect{0, 0, 4, 2}));
  EXPECT_EQ(p.take(), request(true, 4, 2)) << "then incremental, one per update";
  // Bell, a colour map and a long cut text in pieces are skipped.
  Bytes other{2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 5};
  ASSERT_TRUE(p.feed(other));
  ASSERT_TRUE(p.feed(text("abc")));
  ASSERT_TRUE(p.feed(text("de")));
  p.client.setWatching(false);
  ASSERT_TRUE(p.feed(rawUpdate({1, 1, 2, 1}, std::vector<std::uint32_t>(8, 0x123456), 4)));
  EXPECT_EQ(p.client.pixels()[5], 0x123456u);
  EXPECT_TRUE(p.take().empty()) << "no one watches: no further request";
  p.client.keyEvent(true, 'a');
  p.client.pointerEvent(1, 100, 100);
  Bytes events = rfb::encodeClientMessage(rfb::KeyEvent{true, 'a'});
  const Bytes pointer = rfb::encodeClientMessage(rfb::PointerEvent{1, 3, 1});
  events.insert(events.end(), pointer.begin(), pointer.end());
  EXPECT_EQ(p.take(), events) << "the pointer kept inside the screen";
  // DesktopSize: a new, black framebuffer.
  ASSERT_TRUE(p.feed(desktopSize(8, 3)));
  EXPECT_EQ(p.resized, 1);
  EXPECT_EQ(p.client.width(), 8u);
  EXPECT_EQ(p.client.pixels(), std::vector<std::uint32_t>(24, 0));
  // A rectangle outside the screen ends it.
  auto bad = p.feed(rawUpdate({6, 0, 4, 1}, std::vector<std::uint32_t>(10, 0), 10));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("outside"), std::string::npos) << bad.error().message;
  EXPECT_EQ(p.client.state(), RfbClient::State::Failed);
}

TEST(RfbClient, Handshake33WithVncAuthAndTheRefusalsSayWhy) {
  {
    ClientProbe p;
    ASSERT_TRUE(p.feed(text("RFB 003.003\n")));
    EXPECT_EQ(p.take(), text("RFB 003.003\n"));
    auto r = p.feed({0, 0, 0, 2});
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("--kvm-host-password"), std::string::npos) << r.error().message;
  }
  {
    ClientProbe p(RfbClientOptions{.password = "Vm-Pa55w", .maxWidth = 4096, .maxHeight = 4096, .zrle = true});
    ASSERT_TRUE(p.feed(text("RFB 003.003\n")));
    p.take();
    ASSERT_TRUE(p.feed({0, 0, 0, 2}));
    VncChallenge challenge;
    for (std::size_t i = 0; i < 16; ++i) challenge[i] = std::uint8_t(i * 7);
    ASSERT_TRUE(p.feed(Bytes(challenge.begin(), challenge.end())));
    auto response = vncAuthResponse(challenge, "Vm-Pa55w");
    EXPECT_EQ(p.take(), Bytes(response->begin(), response->end()));
    ASSERT_TRUE(p.feed({0, 0, 0, 0}));
    EXPECT_EQ(p.take(), (Bytes{1}));
    ASSERT_TRUE(p.feed(serverInit(2, 2, "")));
    EXPECT_TRUE(p.client.ready());
    EXPECT_EQ(p.client.version(), 3u);
  }
  {
    ClientProbe p;
    ASSERT_TRUE(p.feed(text("RFB 003.008\n")));
    Bytes refusal{0};
    put32(refusal, 9);
    const Bytes why = text("too many!");
    refusal.insert(refusal.end(), why.begin(), why.end());
    auto r = p.feed(refusal);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("too many!"), std::string::npos) << r.error().message;
  }
  {
    ClientProbe p(RfbClientOptions{.password = "wrong", .maxWidth = 4096, .maxHeight = 4096, .zrle = true});
    ASSERT_TRUE(p.feed(text("RFB 003.008\n")));
    ASSERT_TRUE(p.feed({1, 2}));
    EXPECT_EQ(p.take().back(), 2) << "VNC auth chosen";
    ASSERT_TRUE(p.feed(Bytes(16, 1)));
    Bytes result;
    put32(result, 1);
    put32(result, 3);
    result.insert(result.end(), {'b', 'a', 'd'});
    auto r = p.feed(result);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("refused the login: bad"), std::string::npos) << r.error().message;
  }
  {
    ClientProbe p;
    ASSERT_TRUE(p.feed(text("RFB 003.008\n")));
    auto r = p.feed({1, 16});
    ASSERT_FALSE(r) << "no type we speak";
    RfbClientOptions narrow;
    narrow.maxWidth = 100;
    ClientProbe big(narrow);
    big.feed(text("RFB 003.007\n"));
    big.feed({1, 1});
    EXPECT_EQ(big.take().back(), 1);
    auto tooWide = big.feed(serverInit(101, 10, "x"));
    ASSERT_FALSE(tooWide) << "3.7 None: no SecurityResult, ServerInit next";
    EXPECT_NE(tooWide.error().message.find("101x10"), std::string::npos) << tooWide.error().message;
  }
}

// Deflates `data` onto one zlib stream per connection, as a ZRLE server does.
class Deflater {
 public:
  Deflater() { deflateInit(&z_, Z_DEFAULT_COMPRESSION); }
  ~Deflater() { deflateEnd(&z_); }
  Bytes operator()(Bytes data) {
    Bytes out(data.size() * 2 + 64);
    z_.next_in = data.data();
    z_.avail_in = uInt(data.size());
    z_.next_out = out.data();
    z_.avail_out = uInt(out.size());
    deflate(&z_, Z_SYNC_FLUSH);
    out.resize(out.size() - z_.avail_out);
    return out;
  }

 private:
  z_stream z_{};
};

Bytes zrleUpdate(const ScreenRect& r, const Bytes& zlibData) {
  Bytes out;
  rfb::encodeUpdateHeader(out, 1);
  rfb::encodeRectHeader(out, r, rfb::kEncodingZrle);
  put32(out, std::uint32_t(zlibData.size()));
  out.insert(out.end(), zlibData.begin(), zlibData.end());
  return out;
}

TEST(RfbClient, DecodesEveryZrleSubencoding) {
  ClientProbe p;
  p.handshake(70, 3);
  // Our own encoder's output (solid, packed palette, raw) over a picture wider than one tile.
  auto picture = pattern(70, 3);
  for (unsigned x = 0; x < 64; ++x) picture[x] = picture[70 + x] = picture[140 + x] = x < 30 ? 0x112233 : 0x445566;
  rfb::ZrleEncoder encoder;
  Bytes update;
  rfb::encodeUpdateHeader(update, 1);
  rfb::encodeRectHeader(update, {0, 0, 70, 3}, rfb::kEncodingZrle);
  ASSERT_TRUE(encoder.encode(update, picture, 70, {0, 0, 70, 3}, rfb::PixelFormat::rgb888()));
  ASSERT_TRUE(p.feed(update));
  EXPECT_EQ(p.client.pixels(), picture);

  // Plain RLE (128) and palette RLE (130+) tiles, which QEMU sends, by hand on a fresh connection.
  ClientProbe q;
  q.handshake(4, 2);
  Deflater deflater;
  // Plain RLE over 4x2: 3 pixels of A (run byte 2), 5 of B (run byte 4). CPIXEL: 3 bytes, little-endian.
  Bytes plain{128, 0x33, 0x22, 0x11, 2, 0x66, 0x55, 0x44, 4};
  ASSERT_TRUE(q.feed(zrleUpdate({0, 0, 4, 2}, deflater(plain))));
  EXPECT_EQ(q.client.pixels(), (std::vector<std::uint32_t>{0x112233, 0x112233, 0x112233, 0x445566, 0x445566,
                                                            0x445566, 0x445566, 0x445566}));
  // Palette RLE with 2 colours: index 1 alone, then index 0 with a run of 7 (128|0, run byte 6).
  Bytes paletteRle{130, 0x01, 0x02, 0x03, 0x0A, 0x0B, 0x0C, 1, 128, 6};
  ASSERT_TRUE(q.feed(zrleUpdate({0, 0, 4, 2}, deflater(paletteRle))));
  EXPECT_EQ(q.client.pixels()[0], 0x0C0B0Au);
  for (unsigned i = 1; i < 8; ++i) EXPECT_EQ(q.client.pixels()[i], 0x030201u) << i;
  // A run longer than the tile is refused.
  auto r = q.feed(zrleUpdate({0, 0, 4, 2}, deflater({128, 0, 0, 0, 9})));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("beyond its tile"), std::string::npos) << r.error().message;
}

// ------------------------------------------------------------------------------------------------
// Over a Unix socket, with the KVM service in front
// ------------------------------------------------------------------------------------------------

// A VNC server of our own on a Unix socket: one connection, bytes by hand.
class FakeUpstream {
 public:
  FakeUpstream(boost::asio::io_context& io, std::string path) : io_(io), path_(std::move(path)), peer_(io) {}
  void listen() {
    acceptor_ = std::make_unique<stream_protocol::acceptor>(io_, stream_protocol::endpoint(path_));
    acceptor_->async_accept([this](boost::system::error_code ec, stream_protocol::socket s) {
      if (ec) return;
      peer_ = std::move(s);
      ++accepted;
      read();
    });
  }
  void stop() {
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
    acceptor_.reset();
    peer_.close(ignored);
    ::unlink(path_.c_str());
  }
  void send(const Bytes& b) { boost::asio::write(peer_, boost::asio::buffer(b)); }
  Bytes take(std::size_t n) {
    n = std::min(n, received.size());
    Bytes out(received.begin(), received.begin() + std::ptrdiff_t(n));
    received.erase(received.begin(), received.begin() + std::ptrdiff_t(n));
    return out;
  }
  // 3.8, None, ServerInit w x h; what the client sends after (SetPixelFormat, SetEncodings) is taken.
  template <typename Run>
  void greet(Run&& runUntil, unsigned w, unsigned h) {
    send(text("RFB 003.008\n"));
    ASSERT_TRUE(runUntil([&] { return received.size() >= 12; }));
    EXPECT_EQ(take(12), text("RFB 003.008\n"));
    send({1, 1});
    ASSERT_TRUE(runUntil([&] { return received.size() >= 1; }));
    EXPECT_EQ(take(1), Bytes{1});
    send({0, 0, 0, 0});
    ASSERT_TRUE(runUntil([&] { return received.size() >= 1; }));
    EXPECT_EQ(take(1), Bytes{1}) << "shared";
    send(serverInit(w, h, "fake-vm"));
    ASSERT_TRUE(runUntil([&] { return received.size() >= 20 + 16; }));
    EXPECT_EQ(take(20), rfb::encodeClientMessage(rfb::SetPixelFormat{rfb::PixelFormat::rgb888()}));
    take(16);
  }
  Bytes received;
  int accepted = 0;

 private:
  void read() {
    peer_.async_read_some(boost::asio::buffer(buffer_), [this](boost::system::error_code ec, std::size_t n) {
      if (ec) return;
      received.insert(received.end(), buffer_, buffer_ + n);
      read();
    });
  }
  boost::asio::io_context& io_;
  std::string path_;
  std::unique_ptr<stream_protocol::acceptor> acceptor_;
  stream_protocol::socket peer_;
  std::uint8_t buffer_[65536];
};

struct Viewer {
  Bytes received;
  bool closed = false;
  std::unique_ptr<RfbSession> session;
  void send(const Bytes& b) { session->receive(b); }
  void send(const rfb::ClientMessage& m) { send(rfb::encodeClientMessage(m)); }
  Bytes take(std::size_t n) {
    n = std::min(n, received.size());
    Bytes out(received.begin(), received.begin() + std::ptrdiff_t(n));
    received.erase(received.begin(), received.begin() + std::ptrdiff_t(n));
    return out;
  }
};

class UpstreamVncTest : public ::testing::Test {
 protected:
  UpstreamVncTest()
      : quiet_(log::Level::Error), clock_(core::FirmwareClock::time_point(std::chrono::seconds(1'800'000'000))),
        timers_(io_, clock_), path_((dir_.path() / "vnc.sock").string()), upstream_(io_, path_) {
    auto opened = platform::PlatformModel::open(dir_.path() / "state", platform::PlatformDefaults{});
    EXPECT_TRUE(opened) << opened.error().message;
    platform_ = std::move(*opened);
    service_ = std::make_unique<KvmService>(*platform_, timers_);
  }
  ~UpstreamVncTest() override {
    service_.reset();
    screen_.reset();
    upstream_.stop();
  }

  void openScreen() {
    UpstreamVncOptions options;
    options.path = path_;
    options.reconnectEvery = 20ms;
    auto screen = UpstreamVncScreen::open(io_, options, PsfFont::fallback());
    ASSERT_TRUE(screen) << screen.error().message;
    screen_ = std::move(*screen);
    service_->setScreen(screen_.get());
  }
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_one_for(10ms);
    }
    return true;
  }
  // KVMR's RFB (None, RGB565) up to ServerInit; the size it announced.
  std::unique_ptr<Viewer> viewer(std::vector<std::int32_t> encodings, unsigned& w, unsigned& h) {
    auto v = std::make_unique<Viewer>();
    auto* raw = v.get();
    v->session = service_->open(RfbSession::Mode::Redirection,
                                {[raw](Bytes b) { raw->received.insert(raw->received.end(), b.begin(), b.end()); },
                                 [raw] { raw->closed = true; }},
                                "192.0.2.9", "admin");
    v->session->start();
    v->take(12);
    v->send(text("RFB 003.008\n"));
    v->take(2);
    v->send(Bytes{1});
    v->take(4);
    v->send(Bytes{1});
    auto init = v->take(24);
    v->take(std::size_t(init[20]) << 24 | init[21] << 16 | init[22] << 8 | init[23]);
    w = unsigned(init[0]) << 8 | init[1];
    h = unsigned(init[2]) << 8 | init[3];
    v->send(rfb::SetEncodings{std::move(encodings)});
    return v;
  }
  bool update(Viewer& v, test::RfbPicture& picture) {
    std::optional<std::size_t> used;
    if (!runUntil([&] { return (used = picture.applyUpdate(v.received)).has_value(); })) return false;
    v.take(*used);
    return true;
  }
  // What an RGB565 viewer shows for a 0x00RRGGBB picture.
  static std::vector<std::uint32_t> asRgb565(const std::vector<std::uint32_t>& p) {
    std::vector<std::uint32_t> out;
    for (auto c : p) out.push_back(rfb::unpackPixel(rfb::PixelFormat::rgb565(), rfb::packPixel(rfb::PixelFormat::rgb565(), c)));
    return out;
  }

  test::LogThreshold quiet_;
  test::TempDir dir_{"vncup"};
  boost::asio::io_context io_;
  core::ManualFirmwareClock clock_;
  core::FirmwareTimerQueue timers_;
  std::string path_;
  FakeUpstream upstream_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<KvmService> service_;
  std::unique_ptr<UpstreamVncScreen> screen_;
};

TEST_F(UpstreamVncTest, AViewerSeesTheUpstreamConvertedFollowsItsResizesAndTypesIntoIt) {
  upstream_.listen();
  openScreen();
  ASSERT_TRUE(runUntil([&] { return upstream_.accepted == 1; }));
  upstream_.greet([&](auto f) { return runUntil(f); }, 100, 60);
  ASSERT_TRUE(runUntil([&] { return screen_->connected(); }));
  EXPECT_EQ(screen_->describe(), "upstream VNC unix:" + path_ + " (100x60, \"fake-vm\")");
  EXPECT_TRUE(upstream_.received.empty()) << "no viewer: no request";

  unsigned w = 0, h = 0;
  auto v = viewer({rfb::kEncodingRaw, rfb::kEncodingDesktopSize}, w, h);
  EXPECT_EQ(w, 100u);
  EXPECT_EQ(h, 60u);
  ASSERT_TRUE(runUntil([&] { return upstream_.received.size() >= 10; }));
  EXPECT_EQ(upstream_.take(10), request(false, 100, 60)) << "a viewer watches: the whole picture is asked for";
  const auto picture = pattern(100, 60);
  upstream_.send(rawUpdate({0, 0, 100, 60}, picture, 100));
  ASSERT_TRUE(runUntil([&] { return upstream_.received.size() >= 10; }));
  EXPECT_EQ(upstream_.take(10), request(true, 100, 60));
  v->send(rfb::FramebufferUpdateRequest{false, 0, 0, 100, 60});
  test::RfbPicture seen(100, 60, rfb::PixelFormat::rgb565());
  ASSERT_TRUE(update(*v, seen));
  EXPECT_EQ(seen.pixels(), asRgb565(picture)) << "32 bpp upstream, RGB565 viewer";

  // Keys and the pointer go upstream.
  v->send(rfb::KeyEvent{true, 0xFF0D});
  v->send(rfb::PointerEvent{1, 10, 20});
  ASSERT_TRUE(runUntil([&] { return upstream_.received.size() >= 14; }));
  EXPECT_EQ(upstream_.take(8), rfb::encodeClientMessage(rfb::KeyEvent{true, 0xFF0D}));
  EXPECT_EQ(upstream_.take(6), rfb::encodeClientMessage(rfb::PointerEvent{1, 10, 20}));

  // The upstream changes size: DesktopSize then the whole new picture.
  v->send(rfb::FramebufferUpdateRequest{true, 0, 0, 100, 60});
  const auto bigger = pattern(120, 80, 5);
  Bytes resize = desktopSize(120, 80);
  resize[3] = 2;  // two rectangles: DesktopSize and the picture
  rfb::encodeRectHeader(resize, {0, 0, 120, 80}, rfb::kEncodingRaw);
  rfb::encodeRaw(resize, bigger, 120, {0, 0, 120, 80}, rfb::PixelFormat::rgb888());
  upstream_.send(resize);
  ASSERT_TRUE(update(*v, seen));
  EXPECT_EQ(seen.resizes, 1u);
  EXPECT_EQ(seen.width(), 120u);
  EXPECT_EQ(seen.pixels(), asRgb565(bigger)) << "DesktopSize and the new picture in one update";
  EXPECT_EQ(service_->stats().desktopResizes, 1u);

  // The upstream goes: the viewer is told the notice's size and sees it.
  v->send(rfb::FramebufferUpdateRequest{true, 0, 0, 120, 80});
  upstream_.stop();
  ASSERT_TRUE(update(*v, seen));
  EXPECT_FALSE(screen_->connected());
  EXPECT_EQ(seen.width(), 640u);
  EXPECT_EQ(seen.pixels(), asRgb565(screen_->pixels()));
  EXPECT_NE(screen_->describe().find("not connected"), std::string::npos) << screen_->describe();
  EXPECT_FALSE(v->closed);
  EXPECT_EQ(screen_->stats().disconnects, 1u);
}

TEST_F(UpstreamVncTest, AViewerWithoutDesktopSizeIsClosedWhenTheSizeChanges) {
  upstream_.listen();
  openScreen();
  ASSERT_TRUE(runUntil([&] { return upstream_.accepted == 1; }));
  upstream_.greet([&](auto f) { return runUntil(f); }, 100, 60);
  ASSERT_TRUE(runUntil([&] { return screen_->connected(); }));
  unsigned w = 0, h = 0;
  auto v = viewer({rfb::kEncodingRaw}, w, h);
  ASSERT_TRUE(runUntil([&] { return upstream_.received.size() >= 10; }));
  upstream_.send(desktopSize(100, 60));
  ASSERT_TRUE(runUntil([&] { return upstream_.received.size() >= 20; }));
  EXPECT_FALSE(v->closed) << "the same size: nothing to follow";
  upstream_.send(desktopSize(50, 60));
  ASSERT_TRUE(runUntil([&] { return v->closed; }));
  EXPECT_EQ(service_->stats().resizeClosed, 1u);
  EXPECT_FALSE(service_->busy());
}

TEST_F(UpstreamVncTest, TheOverlayIsDrawnOverTheVmsPictureAndGoesAgain) {
  upstream_.listen();
  openScreen();
  ASSERT_TRUE(runUntil([&] { return upstream_.accepted == 1; }));
  upstream_.greet([&](auto f) { return runUntil(f); }, 100, 60);
  ASSERT_TRUE(runUntil([&] { return screen_->connected(); }));
  std::vector<ScreenRect> changes;
  screen_->setChangeListener([&](const ScreenRect& r) { changes.push_back(r); });
  ASSERT_TRUE(runUntil([&] { return upstream_.received.size() >= 10; }));
  const auto picture = pattern(100, 60);
  upstream_.send(rawUpdate({0, 0, 100, 60}, picture, 100));
  ASSERT_TRUE(runUntil([&] { return !changes.empty(); }));
  EXPECT_EQ(screen_->pixels(), picture);
  screen_->setOverlay("42");  // two 8x16 cells (the fallback font: boxes) at the top right
  EXPECT_EQ(changes.back(), (ScreenRect{0, 0, 100, 16}));
  const auto& shown = screen_->pixels();
  unsigned inside = 0, outside = 0;
  for (unsigned y = 0; y < 60; ++y)
    for (unsigned x = 0; x < 100; ++x) {
      const std::size_t i = std::size_t(y) * 100 + x;
      const bool overlay = y < 16 && x >= 84;
      if (overlay) inside += shown[i] == 0xFFFFFF || shown[i] == 0x000000;
      else outside += shown[i] != picture[i];
    }
  EXPECT_EQ(inside, 16u * 16u) << "black on white";
  EXPECT_EQ(outside, 0u);
  // The VM draws under it: still on top.
  upstream_.send(rawUpdate({80, 0, 20, 20}, std::vector<std::uint32_t>(100 * 60, 0x00FF00), 100));
  ASSERT_TRUE(runUntil([&] { return changes.size() >= 3; }));
  EXPECT_EQ(screen_->pixels()[90], 0xFFFFFFu) << "the overlay's white";
  EXPECT_EQ(screen_->pixels()[19 * 100 + 90], 0x00FF00u);
  screen_->setOverlay("");
  EXPECT_EQ(screen_->pixels()[90], 0x00FF00u);
}

TEST_F(UpstreamVncTest, ShowsANoticeWhileNoServerListensAndConnectsWhenOneComes) {
  openScreen();
  EXPECT_FALSE(screen_->connected());
  EXPECT_EQ(screen_->width(), 640u);
  EXPECT_EQ(screen_->height(), 400u);
  ASSERT_TRUE(runUntil([&] { return screen_->stats().failedAttempts >= 2; })) << "tries again and again";
  screen_->keyEvent(true, 'x');  // nowhere to go: dropped
  for (int round = 1; round <= 2; ++round) {
    upstream_.listen();
    ASSERT_TRUE(runUntil([&] { return upstream_.accepted == round; })) << round;
    upstream_.greet([&](auto f) { return runUntil(f); }, 32, 16);
    ASSERT_TRUE(runUntil([&] { return screen_->connected(); }));
    EXPECT_EQ(screen_->width(), 32u);
    upstream_.stop();
    ASSERT_TRUE(runUntil([&] { return !screen_->connected(); }));
    EXPECT_EQ(screen_->width(), 640u);
  }
  EXPECT_EQ(screen_->stats().connections, 2u);
  EXPECT_EQ(screen_->stats().disconnects, 2u);
  EXPECT_EQ(screen_->clientStats().keyEvents, 0u);
}

}  // namespace
}  // namespace mesim::wsman::redirection
