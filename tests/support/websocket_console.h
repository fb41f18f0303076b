// A WebSocket client for tests of AMT's /ws-redirection (docs/redirection.md, "The web variant"): Beast over TCP or
// TLS to 127.0.0.1, the upgrade first without credentials and, given a user, again on a new connection with the
// Digest answer to the 401's challenge (as a browser does); then binary messages out and frames in, each wait bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "wsman/eventing/http_client.h"

namespace mesim::test {

template <class Stream>
class WebSocketConsoleOf {
 public:
  using Bytes = std::vector<std::uint8_t>;

  // With `io`, the client runs on it (a test whose server runs on the same loop); else on a loop of its own.
  explicit WebSocketConsoleOf(boost::asio::io_context* io = nullptr)
      : ownIo_(io ? nullptr : std::make_unique<boost::asio::io_context>()),
        io_(io ? *io : *ownIo_),
        tls_(boost::asio::ssl::context::tls_client) {
    tls_.set_verify_mode(boost::asio::ssl::verify_none);  // the device's self-made certificate
  }

  // Opens ws(s)://127.0.0.1:port`target`; returns the status of the last answer: 101 once open, else what refused
  // it (401 without credentials or with wrong ones, 503...), 0 when no HTTP answer came. The last answer's
  // WWW-Authenticate and body stay readable.
  unsigned open(std::uint16_t port, const std::string& target, std::optional<std::string> user = std::nullopt,
                const std::string& password = {}) {
    unsigned status = attempt(port, target, "");
    if (status != 401 || !user) return status;
    const std::string authorization = wsman::eventing::digestAuthorization(
        lastResponse_[boost::beast::http::field::www_authenticate], "GET", target, *user, password, "0a4f113b");
    if (authorization.empty()) return status;
    return attempt(port, target, authorization);
  }

  const boost::beast::websocket::response_type& lastResponse() const { return lastResponse_; }

  // One binary message.
  bool send(const Bytes& message) {
    bool done = false;
    boost::system::error_code result;
    ws_->async_write(boost::asio::buffer(message), [&](boost::system::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    return runUntil(done, std::chrono::seconds(5)) && !result;
  }

  // The next frame's payload; nothing when the connection closed or `timeout` passed (a read left pending then is
  // taken up by the next call).
  std::optional<Bytes> next(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    if (closed_) return std::nullopt;
    if (!reading_) {
      reading_ = true;
      readDone_ = false;
      ws_->async_read(readBuffer_, [this](boost::system::error_code ec, std::size_t) {
        readError_ = ec;
        readDone_ = true;
        reading_ = false;
      });
    }
    if (!runUntil(readDone_, timeout)) return std::nullopt;
    if (readError_) {
      closed_ = true;
      return std::nullopt;
    }
    const auto data = readBuffer_.cdata();
    const auto* begin = static_cast<const std::uint8_t*>(data.data());
    Bytes frame(begin, begin + data.size());
    readBuffer_.consume(readBuffer_.size());
    return frame;
  }

  // Reads until the server closes (true) or `timeout` passes.
  bool closedByPeer(std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_ && std::chrono::steady_clock::now() < deadline)
      next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    return closed_;
  }
  // Why the last read failed ("The WebSocket stream was gracefully closed..." after a close frame).
  std::string readError() const { return readError_.message(); }
  // The close frame's code once closed (1000 normal, 1009 too big), or 0.
  unsigned closeCode() const { return ws_ ? ws_->reason().code : 0; }

 private:
  unsigned attempt(std::uint16_t port, const std::string& target, const std::string& authorization) {
    namespace websocket = boost::beast::websocket;
    closed_ = reading_ = false;
    io_.restart();
    if constexpr (std::is_same_v<Stream, boost::asio::ip::tcp::socket>)
      ws_.emplace(io_);
    else
      ws_.emplace(io_, tls_);
    boost::system::error_code ec;
    boost::beast::get_lowest_layer(*ws_).connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) return 0;
    if constexpr (!std::is_same_v<Stream, boost::asio::ip::tcp::socket>) {
      ws_->next_layer().handshake(boost::asio::ssl::stream_base::client, ec);
      if (ec) return 0;
    }
    ws_->set_option(websocket::stream_base::decorator([authorization](websocket::request_type& request) {
      if (!authorization.empty()) request.set(boost::beast::http::field::authorization, authorization);
    }));
    ws_->binary(true);
    lastResponse_ = {};
    bool done = false;
    ws_->async_handshake(lastResponse_, "127.0.0.1:" + std::to_string(port), target,
                         [&](boost::system::error_code) { done = true; });
    if (!runUntil(done, std::chrono::seconds(5))) return 0;
    return lastResponse_.result_int();
  }

  bool runUntil(const bool& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    io_.restart();
    while (!done && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
    return done;
  }

  std::unique_ptr<boost::asio::io_context> ownIo_;
  boost::asio::io_context& io_;
  boost::asio::ssl::context tls_;
  std::optional<boost::beast::websocket::stream<Stream>> ws_;
  boost::beast::websocket::response_type lastResponse_;
  boost::beast::flat_buffer readBuffer_;
  boost::system::error_code readError_;
  bool reading_ = false;
  bool readDone_ = false;
  bool closed_ = false;
};

using WebSocketConsole = WebSocketConsoleOf<boost::asio::ip::tcp::socket>;
using TlsWebSocketConsole = WebSocketConsoleOf<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

}  // namespace mesim::test
