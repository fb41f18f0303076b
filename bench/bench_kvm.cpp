// KVM full-screen updates per second at 1024x768, next to encoding the same frames in memory (rfb_codec) as the
// reference, measured in the same run.
// The screen is synthetic and changes every frame as a busy text console does: text in 8x16 cells (the console
// font, or boxes without one) in a few colours on a dark background, scrolled by one line per frame, under a title
// bar whose colour gradient moves (many colours: ZRLE's raw tiles). Served by the real KvmService and RfbServer
// (port 5900's path, VNC authentication) on a loop thread of its own, over loopback TCP, to a viewer of the bench
// that sets the pixel format and encoding, then per frame: asks the loop to draw the next frame, sends an
// incremental FramebufferUpdateRequest, reads the whole update and decodes it (tests/support/rfb_test_client.h:
// RAW and ZRLE with its own inflate). Every 50th decoded frame is compared with the screen.
// Reference: the same frames encoded in memory with rfb::encodeRaw / rfb::ZrleEncoder (one zlib stream, as a
// session has) in 64x64 tiles, no socket and no decoding.
// Target (issue 13): >= 30 full-screen ZRLE updates/s. Run by hand: build/bin/bench_kvm [seconds per row]
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "firmware/core/firmware_clock.h"
#include "firmware/core/firmware_timer_queue.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/daemon_process.h"
#include "tests/support/rfb_test_client.h"
#include "wsman/redirection/psf_font.h"
#include "wsman/redirection/rfb_codec.h"
#include "wsman/redirection/rfb_server.h"
#include "wsman/redirection/rfb_session.h"
#include "wsman/redirection/vnc_auth.h"

namespace {

using namespace mesim;
using namespace wsman::redirection;
using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::uint8_t>;
constexpr unsigned kWidth = 1024, kHeight = 768;
constexpr char kRfbPassword[] = "Vnc!2345";

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

PsfFont consoleFont() {
  for (const auto& path : defaultConsoleFontPaths())
    if (std::filesystem::exists(path))
      if (auto font = PsfFont::load(path)) return std::move(*font);
  return PsfFont::fallback();
}

// The synthetic screen. Frames are windows into a pre-drawn text strip (a memcpy each), so drawing costs little
// next to encoding.
class SyntheticScreen final : public KvmScreenSource {
 public:
  explicit SyntheticScreen(const PsfFont& font) : pixels_(std::size_t(kWidth) * kHeight) {
    const unsigned cellW = font.width(), cellH = font.height();
    const unsigned columns = kWidth / cellW;
    strip_.assign(std::size_t(kWidth) * kLines * cellH, kBackground);
    lineHeight_ = cellH;
    std::uint32_t seed = 12345;
    auto next = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7FFF; };
    static const char* const kWords[] = {"usb", "1-1:", "new", "high-speed", "device", "number", "using",
                                         "xhci_hcd", "EXT4-fs", "(sda1):", "mounted", "filesystem", "with",
                                         "ordered", "data", "mode.", "systemd[1]:", "Started", "Journal",
                                         "Service.", "e1000e", "0000:00:19.0", "eth0:", "NIC", "Link", "is", "Up"};
    for (unsigned line = 0; line < kLines; ++line) {
      char stamp[32];
      std::snprintf(stamp, sizeof stamp, "[%5u.%06u] ", line * 7, next() * 31 % 1000000);
      std::string text = stamp;
      const unsigned words = 4 + next() % 12;
      for (unsigned w = 0; w < words && text.size() < columns; ++w) text += std::string(kWords[next() % 27]) + " ";
      text.resize(std::min<std::size_t>(text.size(), columns));
      const std::uint32_t colour = line % 9 == 0 ? 0x55FF55 : line % 13 == 0 ? 0xFFFF55 : 0xAAAAAA;
      for (unsigned c = 0; c < text.size(); ++c) {
        const auto glyph = static_cast<unsigned char>(text[c]);
        for (unsigned y = 0; y < cellH; ++y)
          for (unsigned x = 0; x < cellW; ++x)
            if (font.pixel(glyph, x, y))
              strip_[(std::size_t(line) * cellH + y) * kWidth + c * cellW + x] = c < 15 ? 0x55FFFF : colour;
      }
    }
    draw();
  }

  unsigned width() const override { return kWidth; }
  unsigned height() const override { return kHeight; }
  const std::vector<std::uint32_t>& pixels() const override { return pixels_; }
  void setChangeListener(ChangeListener listener) override { listener_ = std::move(listener); }
  void keyEvent(bool, std::uint32_t) override {}
  void pointerEvent(std::uint8_t, std::uint16_t, std::uint16_t) override {}
  std::string describe() const override { return "synthetic 1024x768"; }

  // The next frame: one line scrolled, the title bar's gradient moved; the whole screen changed.
  void advance() {
    ++frame_;
    draw();
    if (listener_) listener_({0, 0, kWidth, kHeight});
  }

 private:
  static constexpr unsigned kLines = 120;
  static constexpr unsigned kTitle = 24;
  static constexpr std::uint32_t kBackground = 0x000018;

  void draw() {
    for (unsigned y = 0; y < kTitle; ++y)
      for (unsigned x = 0; x < kWidth; ++x) {
        const unsigned t = (x + frame_ * 8) % 512;
        const unsigned ramp = t < 256 ? t : 511 - t;
        pixels_[std::size_t(y) * kWidth + x] = (ramp << 16) | ((255 - ramp) << 8) | (y * 8);
      }
    const unsigned stripRows = kLines * lineHeight_;
    for (unsigned y = kTitle; y < kHeight; ++y) {
      const unsigned from = (y - kTitle + frame_ * lineHeight_) % stripRows;
      std::memcpy(&pixels_[std::size_t(y) * kWidth], &strip_[std::size_t(from) * kWidth], kWidth * sizeof(std::uint32_t));
    }
  }

  std::vector<std::uint32_t> pixels_;
  std::vector<std::uint32_t> strip_;
  unsigned lineHeight_ = 16;
  unsigned frame_ = 0;
  ChangeListener listener_;
};

struct Row {
  double framesPerSecond = 0;
  double mbPerSecond = 0;  // RFB bytes on the wire (or encoded), 10^6 bytes
  double bytesPerFrame = 0;
};

// The reference: the same frames encoded in memory.
Row encodeInMemory(SyntheticScreen& screen, const rfb::PixelFormat& format, bool zrle, double seconds) {
  rfb::ZrleEncoder encoder;
  const auto rects = rfb::tiles({0, 0, kWidth, kHeight});
  Bytes out;
  std::size_t frames = 0, bytes = 0;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    screen.advance();
    out.clear();
    rfb::encodeUpdateHeader(out, static_cast<std::uint16_t>(rects.size()));
    for (const auto& rect : rects) {
      rfb::encodeRectHeader(out, rect, zrle ? rfb::kEncodingZrle : rfb::kEncodingRaw);
      if (!zrle) {
        rfb::encodeRaw(out, screen.pixels(), kWidth, rect, format);
      } else if (auto r = encoder.encode(out, screen.pixels(), kWidth, rect, format); !r) {
        throw Failure(r.error().message);
      }
    }
    bytes += out.size();
    ++frames;
  }
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  return {frames / s, bytes / 1e6 / s, double(bytes) / double(frames)};
}

// The bench's viewer on a real socket.
class Viewer {
 public:
  explicit Viewer(std::uint16_t port) {
    fd_ = test::connectLoopback(port);
    if (fd_ < 0) throw Failure("cannot connect to the RFB port");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Viewer() { ::close(fd_); }

  // RFB 3.8, VNC authentication, shared; the ServerInit's size is checked.
  void login() {
    if (take(12) != Bytes{'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n'}) throw Failure("not RFB 3.8");
    send(Bytes{'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n'});
    const auto types = take(1);
    take(types[0]);
    send(Bytes{2});
    const auto challengeBytes = take(16);
    VncChallenge challenge;
    std::copy(challengeBytes.begin(), challengeBytes.end(), challenge.begin());
    auto response = vncAuthResponse(challenge, kRfbPassword);
    if (!response) throw Failure(response.error().message);
    send(Bytes(response->begin(), response->end()));
    if (take(4) != Bytes{0, 0, 0, 0}) throw Failure("VNC authentication failed");
    send(Bytes{1});
    const auto init = take(24);
    if ((init[0] << 8 | init[1]) != int(kWidth) || (init[2] << 8 | init[3]) != int(kHeight))
      throw Failure("the screen is not 1024x768");
    take(std::size_t(init[20]) << 24 | std::size_t(init[21]) << 16 | std::size_t(init[22]) << 8 | init[23]);
  }

  // Frames for `seconds`: each time the loop draws the next frame, then the viewer asks, reads and decodes.
  Row run(boost::asio::io_context& io, SyntheticScreen& screen, const rfb::PixelFormat& format, bool zrle,
          double seconds) {
    test::RfbPicture picture(kWidth, kHeight, format);
    send(rfb::encodeClientMessage(rfb::SetPixelFormat{format}));
    send(rfb::encodeClientMessage(
        rfb::SetEncodings{zrle ? std::vector<std::int32_t>{rfb::kEncodingZrle, rfb::kEncodingRaw}
                               : std::vector<std::int32_t>{rfb::kEncodingRaw}}));
    // The first update is the whole screen (non-incremental), not timed.
    send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{false, 0, 0, kWidth, kHeight}));
    bytes_ = 0;
    readUpdate(picture, format.bytesPerPixel());
    std::size_t frames = 0;
    bytes_ = 0;
    const auto start = Clock::now();
    const auto until = start + std::chrono::duration<double>(seconds);
    while (Clock::now() < until) {
      boost::asio::post(io, [&screen] { screen.advance(); });
      send(rfb::encodeClientMessage(rfb::FramebufferUpdateRequest{true, 0, 0, kWidth, kHeight}));
      readUpdate(picture, format.bytesPerPixel());
      if (++frames % 50 == 0) check(io, screen, picture, format);
    }
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    return {frames / s, bytes_ / 1e6 / s, double(bytes_) / double(frames)};
  }

 private:
  // One whole FramebufferUpdate covering the screen (ZRLE may send it as one message of 192 tiles).
  void readUpdate(test::RfbPicture& picture, unsigned bytesPerPixel) {
    std::optional<std::size_t> length;
    while (!(length = updateLength(bytesPerPixel)) || buffer_.size() < *length) fill();
    const auto used = picture.applyUpdate(buffer_);
    if (!used || *used != *length) throw Failure("the update did not decode as framed");
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(*used));
  }
  // The length of the FramebufferUpdate at the front of the buffer, from its rectangle headers, once they are all
  // here (the picture decodes it only when whole: no parsing of a 3 MB RAW update again for every read).
  std::optional<std::size_t> updateLength(unsigned bytesPerPixel) const {
    auto be = [&](std::size_t at, int n) {
      std::size_t v = 0;
      for (int i = 0; i < n; ++i) v = v << 8 | buffer_[at + i];
      return v;
    };
    if (buffer_.size() < 4) return std::nullopt;
    const std::size_t count = be(2, 2);
    std::size_t at = 4;
    for (std::size_t r = 0; r < count; ++r) {
      if (buffer_.size() < at + 12) return std::nullopt;
      const std::size_t w = be(at + 4, 2), h = be(at + 6, 2);
      const auto encoding = static_cast<std::int32_t>(be(at + 8, 4));
      at += 12;
      if (encoding == rfb::kEncodingRaw) {
        at += w * h * bytesPerPixel;
      } else {
        if (buffer_.size() < at + 4) return std::nullopt;
        at += 4 + be(at, 4);
      }
    }
    return at;
  }
  // The decoded picture against the screen, converted to the viewer's format and back.
  void check(boost::asio::io_context& io, SyntheticScreen& screen, const test::RfbPicture& picture,
             const rfb::PixelFormat& format) {
    std::promise<std::vector<std::uint32_t>> shown;
    boost::asio::post(io, [&] { shown.set_value(screen.pixels()); });
    const auto pixels = shown.get_future().get();
    for (std::size_t i = 0; i < pixels.size(); i += 97)
      if (rfb::unpackPixel(format, rfb::packPixel(format, pixels[i])) != picture.pixels()[i])
        throw Failure("the decoded picture differs from the screen at pixel " + std::to_string(i));
  }
  void fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) throw Failure("no update in 10 s");
    const std::size_t at = buffer_.size();
    buffer_.resize(at + (1 << 18));
    const auto n = ::read(fd_, buffer_.data() + at, 1 << 18);
    buffer_.resize(at + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n <= 0) throw Failure("the server closed the connection");
    bytes_ += static_cast<std::size_t>(n);
  }
  Bytes take(std::size_t n) {
    while (buffer_.size() < n) fill();
    Bytes out(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
  void send(const Bytes& bytes) {
    std::size_t at = 0;
    while (at < bytes.size()) {
      const auto n = ::write(fd_, bytes.data() + at, bytes.size() - at);
      if (n <= 0) throw Failure("write failed");
      at += static_cast<std::size_t>(n);
    }
  }

  int fd_ = -1;
  Bytes buffer_;
  std::size_t bytes_ = 0;
};

void print(const char* name, const Row& r, const Row& ref) {
  std::printf("| %-48s | %8.1f | %7.3fx | %8.1f | %10.0f |\n", name, r.framesPerSecond,
              r.framesPerSecond / ref.framesPerSecond, r.mbPerSecond, r.bytesPerFrame / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  try {
    const auto dir = test::makeTempDir("bench-kvm");
    boost::asio::io_context io;
    core::SystemFirmwareClock clock;
    core::FirmwareTimerQueue timers(io, clock);
    auto opened = platform::PlatformModel::open(dir, platform::PlatformDefaults{});
    if (!opened) throw Failure(opened.error().message);
    auto platform = std::move(*opened);
    if (platform->update([](platform::PlatformState& s) {
          s.redirection.is5900PortEnabled = true;
          s.redirection.rfbPassword = kRfbPassword;
        }) != platform::ChangeResult::Ok)
      throw Failure("cannot enable port 5900");
    const PsfFont font = consoleFont();
    SyntheticScreen screen(font);
    KvmService service(*platform, timers);
    service.setScreen(&screen);
    RfbServerOptions options;
    options.port = 0;
    RfbServer server(io, service, options);
    if (auto r = server.start(); !r) throw Failure(r.error().message);
    auto work = boost::asio::make_work_guard(io);
    std::thread loop([&] { io.run(); });

    struct Case {
      const char* name;
      rfb::PixelFormat format;
      bool zrle;
    };
    const Case cases[] = {{"RAW 32 bpp", rfb::PixelFormat::rgb888(), false},
                          {"RAW 16 bpp (RGB565)", rfb::PixelFormat::rgb565(), false},
                          {"ZRLE 32 bpp", rfb::PixelFormat::rgb888(), true},
                          {"ZRLE 16 bpp (RGB565)", rfb::PixelFormat::rgb565(), true}};
    std::vector<std::pair<Row, Row>> rows;
    for (const auto& c : cases) {
      // The reference runs while the loop idles; the screen is the loop's, so it is drawn there.
      std::promise<Row> reference;
      boost::asio::post(io, [&] { reference.set_value(encodeInMemory(screen, c.format, c.zrle, seconds)); });
      const Row inMemory = reference.get_future().get();
      Viewer viewer(server.port());
      viewer.login();
      const Row served = viewer.run(io, screen, c.format, c.zrle, seconds);
      rows.emplace_back(inMemory, served);
    }
    work.reset();
    boost::asio::post(io, [&] { server.stop(); service.endAll("the bench ends"); });
    loop.join();
    std::filesystem::remove_all(dir);

    std::printf("KVM full-screen updates at %ux%u, %.1f s per row, font %ux%u (ratios: against encoding the same"
                " frames in memory)\n\n", kWidth, kHeight, seconds, font.width(), font.height());
    std::printf("| %-48s | frames/s | x ref    | MB/s     | KiB/frame  |\n", "path");
    std::printf("|--------------------------------------------------|----------|----------|----------|------------|\n");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string name = cases[i].name;
      print((name + ", in memory (reference)").c_str(), rows[i].first, rows[i].first);
      print((name + ", RFB over TCP").c_str(), rows[i].second, rows[i].first);
    }
    std::printf("\nTarget (issue 13): >= 30 full-screen ZRLE updates/s. The viewer decodes every update on its own"
                " thread.\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_kvm: %s\n", e.what());
    return 1;
  }
  return 0;
}
