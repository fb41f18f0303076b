#include "wsman/redirection/upstream_vnc_screen.h"

#include <sys/un.h>

#include <algorithm>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include "wsman/redirection/console_screen.h"

namespace mesim::wsman::redirection {

namespace {
constexpr const char* kLog = "kvm-upstream";
constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
// Key and pointer events the server has not read, at most: beyond, it is stuck and they are dropped.
constexpr std::size_t kMaxPendingBytes = 1 << 20;
constexpr std::size_t kReadSize = 256 * 1024;
using boost::asio::local::stream_protocol;

RfbClientStats& operator+=(RfbClientStats& a, const RfbClientStats& b) {
  a.updates += b.updates;
  a.rectangles += b.rectangles;
  a.zrleRectangles += b.zrleRectangles;
  a.resizes += b.resizes;
  a.bytesIn += b.bytesIn;
  a.requests += b.requests;
  a.keyEvents += b.keyEvents;
  a.pointerEvents += b.pointerEvents;
  return a;
}
}  // namespace

Result<std::unique_ptr<UpstreamVncScreen>> UpstreamVncScreen::open(boost::asio::io_context& io,
                                                                  UpstreamVncOptions options, PsfFont font,
                                                                  log::Context log) {
  if (options.path.empty()) return fail("the upstream VNC server's socket path is empty");
  if (options.path.size() > kMaxPath)
    return fail("the Unix socket path " + options.path + " is longer than " + std::to_string(kMaxPath) + " bytes");
  std::unique_ptr<UpstreamVncScreen> screen(
      new UpstreamVncScreen(io, std::move(options), std::move(font), std::move(log)));
  screen->drawNotice("waiting for it to listen");
  screen->connect();
  return screen;
}

UpstreamVncScreen::UpstreamVncScreen(boost::asio::io_context& io, UpstreamVncOptions options, PsfFont font,
                                     log::Context log)
    : options_(std::move(options)),
      font_(std::move(font)),
      log_(std::move(log)),
      socket_(io),
      retry_(io),
      handshake_(io),
      readBuffer_(kReadSize) {
  noticeWidth_ = 80 * font_.width();
  noticeHeight_ = 25 * font_.height();
}

UpstreamVncScreen::~UpstreamVncScreen() {
  *alive_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  retry_.cancel();
  handshake_.cancel();
}

unsigned UpstreamVncScreen::width() const { return connected() ? client_->width() : noticeWidth_; }
unsigned UpstreamVncScreen::height() const { return connected() ? client_->height() : noticeHeight_; }
const std::vector<std::uint32_t>& UpstreamVncScreen::pixels() const {
  const auto& shown = connected() ? client_->pixels() : notice_;
  if (overlay_.empty()) return shown;
  if (!composedValid_) {
    // A copy per change while the overlay is up (user consent's minutes), none otherwise.
    composed_ = shown;
    const unsigned w = width(), h = height(), cw = font_.width(), ch = font_.height();
    const unsigned columns = std::min<unsigned>(static_cast<unsigned>(overlay_.size()), w / cw);
    const unsigned left = w - columns * cw;
    for (unsigned i = 0; i < columns; ++i) {
      const auto glyph = static_cast<std::uint8_t>(overlay_[overlay_.size() - columns + i]);
      for (unsigned y = 0; y < std::min(ch, h); ++y)
        for (unsigned x = 0; x < cw; ++x)
          composed_[std::size_t(y) * w + left + i * cw + x] = font_.pixel(glyph, x, y) ? 0x000000 : 0xFFFFFF;
    }
    composedValid_ = true;
  }
  return composed_;
}

void UpstreamVncScreen::setOverlay(std::string text) {
  if (text == overlay_) return;
  overlay_ = std::move(text);
  composedValid_ = false;
  if (overlay_.empty()) composed_ = {};
  tellChanged({0, 0, width(), std::min(height(), font_.height())});  // the top band: old and new overlay
}

const std::string& UpstreamVncScreen::desktopName() const {
  static const std::string none;
  return connected() ? client_->desktopName() : none;
}

RfbClientStats UpstreamVncScreen::clientStats() const {
  RfbClientStats sum = pastStats_;
  if (client_) sum += client_->stats();
  return sum;
}

std::string UpstreamVncScreen::describe() const {
  std::string out = "upstream VNC unix:" + options_.path;
  if (connected())
    return out + " (" + std::to_string(width()) + "x" + std::to_string(height()) + ", \"" + desktopName() + "\")";
  return out + " (not connected" + (lastError_.empty() ? "" : ": " + lastError_) + ")";
}

void UpstreamVncScreen::setChangeListener(ChangeListener listener) {
  changeListener_ = std::move(listener);
  if (client_) client_->setWatching(static_cast<bool>(changeListener_));
}

void UpstreamVncScreen::keyEvent(bool down, std::uint32_t keysym) {
  if (connected()) client_->keyEvent(down, keysym);
}

void UpstreamVncScreen::pointerEvent(std::uint8_t buttons, std::uint16_t x, std::uint16_t y) {
  if (connected()) client_->pointerEvent(buttons, x, y);
}

void UpstreamVncScreen::connect() {
  socket_.async_connect(stream_protocol::endpoint(options_.path), [this, alive = alive_](boost::system::error_code ec) {
    if (!*alive || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      ++stats_.failedAttempts;
      if (lastError_ != ec.message())
        MESIM_LOG(Info, kLog, "no VNC server on " << options_.path << " (" << ec.message() << "); trying every second");
      lastError_ = ec.message();
      boost::system::error_code ignored;
      socket_.close(ignored);
      retryLater();
      return;
    }
    attached();
  });
}

void UpstreamVncScreen::retryLater() {
  retry_.expires_after(options_.reconnectEvery);
  retry_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (!*alive || ec) return;
    connect();
  });
}

void UpstreamVncScreen::attached() {
  RfbClientOptions clientOptions;
  clientOptions.password = options_.password;
  clientOptions.maxWidth = options_.maxWidth;
  clientOptions.maxHeight = options_.maxHeight;
  RfbClient::Callbacks callbacks;
  callbacks.write = [this](std::vector<std::uint8_t> bytes) { write(std::move(bytes)); };
  callbacks.ready = [this] {
    handshake_.cancel();
    ++stats_.connections;
    lastError_.clear();
    MESIM_LOG(Info, kLog, "KVM screen: VNC server on " << options_.path << ", " << client_->width() << "x"
                                                        << client_->height() << " \"" << client_->desktopName()
                                                        << "\", RFB 3." << client_->version());
    sizeMayHaveChanged(noticeWidth_, noticeHeight_);
    tellChanged({0, 0, width(), height()});
  };
  callbacks.resized = [this] {
    composedValid_ = false;
    MESIM_LOG(Debug, kLog, "the VNC server's screen is now " << client_->width() << "x" << client_->height());
    auto listener = resizeListener_;  // the listener may let go of itself (a viewer closed)
    if (listener) listener();
  };
  callbacks.changed = [this](const ScreenRect& rect) { tellChanged(rect); };
  client_ = std::make_unique<RfbClient>(clientOptions, std::move(callbacks));
  client_->setWatching(static_cast<bool>(changeListener_));
  handshake_.expires_after(options_.handshakeTimeout);
  handshake_.async_wait([this, alive = alive_](boost::system::error_code ec) {
    if (!*alive || ec) return;
    if (client_ && !client_->ready()) drop("no RFB handshake within " + std::to_string(options_.handshakeTimeout.count()) + " ms");
  });
  read();
}

void UpstreamVncScreen::drop(const std::string& why) {
  const bool wasShown = connected();
  const unsigned oldWidth = width(), oldHeight = height();
  ++(wasShown ? stats_.disconnects : stats_.failedAttempts);
  if (lastError_ != why || wasShown) MESIM_LOG(Info, kLog, "VNC server on " << options_.path << ": " << why);
  lastError_ = why;
  handshake_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
  pending_.clear();
  pendingBytes_ = 0;
  writing_ = false;
  ++generation_;
  if (client_) pastStats_ += client_->stats();
  client_.reset();
  drawNotice(why);
  if (wasShown) sizeMayHaveChanged(oldWidth, oldHeight);
  tellChanged({0, 0, width(), height()});
  retryLater();
}

void UpstreamVncScreen::read() {
  socket_.async_read_some(boost::asio::buffer(readBuffer_), [this, alive = alive_, generation = generation_](
                                                                boost::system::error_code ec, std::size_t n) {
    if (!*alive || ec == boost::asio::error::operation_aborted || generation != generation_) return;
    if (ec) return drop(ec == boost::asio::error::eof ? "the server closed the connection" : ec.message());
    if (!client_) return;
    if (auto r = client_->receive(std::span(readBuffer_.data(), n)); !r) return drop("RFB: " + r.error().message);
    read();
  });
}

void UpstreamVncScreen::write(std::vector<std::uint8_t> bytes) {
  if (!socket_.is_open() || bytes.empty()) return;
  if (pendingBytes_ + bytes.size() > kMaxPendingBytes) {
    ++stats_.droppedEvents;
    return;
  }
  pendingBytes_ += bytes.size();
  pending_.push_back(std::move(bytes));
  if (!writing_) writeNext();
}

void UpstreamVncScreen::writeNext() {
  if (pending_.empty() || !socket_.is_open()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(pending_.front()),
                           [this, alive = alive_, generation = generation_](boost::system::error_code ec, std::size_t) {
                             if (!*alive || ec == boost::asio::error::operation_aborted || generation != generation_)
                               return;
                             if (ec) return drop("writing: " + ec.message());
                             pendingBytes_ -= pending_.front().size();
                             pending_.pop_front();
                             writeNext();
                           });
}

void UpstreamVncScreen::drawNotice(const std::string& why) {
  std::string text = "\r\n  mesim KVM: the screen comes from the VNC server on\r\n    unix:" + options_.path +
                     "\r\n\r\n  not connected: " + why + "\r\n  trying again every " +
                     std::to_string(options_.reconnectEvery.count()) + " ms";
  if (text == noticeText_ && !notice_.empty()) return;
  noticeText_ = std::move(text);
  TerminalGrid grid(80, 25);
  grid.write(noticeText_);
  notice_ = renderText(grid, font_, {}, {}, false);
}

void UpstreamVncScreen::sizeMayHaveChanged(unsigned oldWidth, unsigned oldHeight) {
  composedValid_ = false;
  if (width() == oldWidth && height() == oldHeight) return;
  auto listener = resizeListener_;  // the listener may let go of itself (a viewer closed)
  if (listener) listener();
}

void UpstreamVncScreen::tellChanged(const ScreenRect& rect) {
  composedValid_ = false;
  auto listener = changeListener_;
  if (listener) listener(rect);
}

}  // namespace mesim::wsman::redirection
