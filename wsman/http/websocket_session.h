// One WebSocket connection on the WS-Man ports (websocket_service.h): HttpSession hands it the stream and the
// authenticated upgrade request; it does the handshake (Beast), then feeds the service's endpoint each message and
// writes the endpoint's messages one binary frame each, in order. Network limits are real time: the handshake and
// the closing handshake take at most the header timeout, a write at most the write timeout; when to give up on a
// silent client is the service's business (the redirection session's limits run on the firmware clock).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "common/log.h"
#include "wsman/http/server_core.h"
#include "wsman/http/websocket_service.h"

namespace mesim::wsman::http::detail {

template <class Stream>
class WebSocketSession final : public SessionBase, public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(std::shared_ptr<ServerCore> core, Stream stream, ConnectionInfo info, WebSocketService service,
                   WebSocketRequest request)
      : core_(std::move(core)),
        ws_(std::move(stream)),
        info_(std::move(info)),
        service_(std::move(service)),
        request_(std::move(request)),
        writeTimer_(ws_.get_executor()) {}

  ~WebSocketSession() override {
    if (endpoint_) endpoint_->end("the WebSocket closed");
    core_->detach(id_);
  }

  WebSocketSession(const WebSocketSession&) = delete;
  WebSocketSession& operator=(const WebSocketSession&) = delete;

  // Takes over from the HTTP session that read `upgrade` (counted as one connection all along).
  void start(boost::beast::http::request<boost::beast::http::string_body> upgrade) {
    namespace websocket = boost::beast::websocket;
    id_ = core_->attach(this->weak_from_this(), info_, Admission::Serve);
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = core_->options.headerTimeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [server = core_->serverHeader()](websocket::response_type& response) {
          response.set(boost::beast::http::field::server, server);
        }));
    ws_.read_message_max(service_.maxMessageBytes);
    ws_.binary(true);
    ws_.auto_fragment(false);  // one message, one frame: a console may read a frame as a message
    ws_.async_accept(upgrade, [s = self()](const boost::beast::error_code& ec) { s->onAccept(ec); });
  }

  void abort() override {
    aborted_ = true;
    if (endpoint_) endpoint_->end("the WS-Man server stops");
    closeSocket();
  }
  bool waitingForRequest() const override { return false; }  // an open session: never closed to make room
  std::chrono::steady_clock::time_point waitingSince() const override { return std::chrono::steady_clock::now(); }

  const log::Context& logContext() const { return core_->platform.logContext(); }

 private:
  std::shared_ptr<WebSocketSession> self() { return this->shared_from_this(); }

  void onAccept(const boost::beast::error_code& ec) {
    if (ec || aborted_ || core_->stopped) {
      MESIM_LOG(Debug, "wsman-http", "WebSocket handshake with " << info_.peerAddress << " failed: " << ec.message());
      return closeSocket();
    }
    ++core_->stats.webSockets;
    MESIM_LOG(Info, "wsman-http", "WebSocket " << request_.path << " open for '" << request_.user << "' from "
                                               << info_.peerAddress);
    std::weak_ptr<WebSocketSession> weak = self();
    WebSocketTransport transport;
    transport.write = [weak](std::vector<std::uint8_t> message) {
      if (auto s = weak.lock()) s->queue(std::move(message));
    };
    transport.close = [weak] {
      // Posted: the endpoint may close from inside receive(), with our read handler still on the stack.
      if (auto s = weak.lock()) boost::asio::post(s->ws_.get_executor(), [s] { s->closeAfterWrites(); });
    };
    if (service_.open) endpoint_ = service_.open(request_, std::move(transport));
    if (!endpoint_) return closeAfterWrites();
    read();
  }

  void read() {
    if (closing_ || aborted_) return;
    ws_.async_read(readBuffer_, [s = self()](const boost::beast::error_code& ec, std::size_t) { s->onRead(ec); });
  }

  void onRead(const boost::beast::error_code& ec) {
    if (ec) {
      const std::string why = ec == boost::beast::websocket::error::closed ? "the client closed the WebSocket"
                                                                            : "the WebSocket failed: " + ec.message();
      MESIM_LOG(Debug, "wsman-http", "WebSocket from " << info_.peerAddress << ": " << why);
      if (endpoint_) endpoint_->end(why);
      return closeSocket();
    }
    const auto data = readBuffer_.cdata();
    if (endpoint_)
      endpoint_->receive(std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data.data()), data.size()));
    readBuffer_.consume(readBuffer_.size());
    read();
  }

  void queue(std::vector<std::uint8_t> message) {
    if (closing_ || aborted_) return;
    writes_.push_back(std::move(message));
    if (!writing_) writeNext();
  }

  void writeNext() {
    if (writes_.empty()) {
      writing_ = false;
      if (closeWhenWritten_) closeAfterWrites();
      return;
    }
    writing_ = true;
    const auto generation = ++writeGeneration_;
    writeTimer_.expires_after(core_->options.writeTimeout);
    writeTimer_.async_wait([weak = this->weak_from_this(), generation](const boost::beast::error_code& ec) {
      auto s = weak.lock();
      if (!s || ec || generation != s->writeGeneration_) return;
      ++s->core_->stats.timeouts;  // a client that reads nothing
      s->closeSocket();
    });
    ws_.async_write(boost::asio::buffer(writes_.front()),
                    [s = self()](const boost::beast::error_code& ec, std::size_t) {
                      ++s->writeGeneration_;
                      s->writeTimer_.cancel();
                      s->writes_.pop_front();
                      if (ec) {
                        s->writes_.clear();
                        if (s->endpoint_) s->endpoint_->end("writing to the WebSocket failed: " + ec.message());
                        return s->closeSocket();
                      }
                      s->writeNext();
                    });
  }

  void closeAfterWrites() {
    closeWhenWritten_ = true;
    if (writing_ || closing_ || closed_) return;
    closing_ = true;
    if (endpoint_) endpoint_->end("the service closed the WebSocket");
    ws_.async_close(boost::beast::websocket::close_code::normal,
                    [s = self()](const boost::beast::error_code&) { s->closeSocket(); });
  }

  void closeSocket() {
    if (closed_) return;
    closed_ = true;
    ++writeGeneration_;
    writeTimer_.cancel();
    boost::beast::close_socket(boost::beast::get_lowest_layer(ws_));
  }

  std::shared_ptr<ServerCore> core_;
  boost::beast::websocket::stream<Stream> ws_;
  ConnectionInfo info_;
  WebSocketService service_;
  WebSocketRequest request_;
  std::uint64_t id_ = 0;
  std::unique_ptr<WebSocketEndpoint> endpoint_;
  boost::beast::flat_buffer readBuffer_;
  std::deque<std::vector<std::uint8_t>> writes_;
  boost::asio::steady_timer writeTimer_;
  std::uint64_t writeGeneration_ = 0;
  bool writing_ = false;
  bool closeWhenWritten_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool aborted_ = false;
};

}  // namespace mesim::wsman::http::detail
