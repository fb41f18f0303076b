// A WS-Eventing subscriber for tests: a tiny Beast HTTP(S) server on 127.0.0.1 that records each POST and answers
// as told (a wsman:Ack, plain 200, 500, or never), optionally demanding Digest credentials first. Threads of its
// own, so it works against the real daemon as well as an in-process io_context.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "wsman/eventing/alert_indication.h"
#include "wsman/http/digest_auth.h"
#include "wsman/http/tls_identity.h"

namespace mesim::test {

class EventSubscriber {
 public:
  enum class Answer { Ack, Ok, ServerError, Never };
  struct Options {
    std::uint16_t port = 0;  // 0 = any free port
    bool tls = false;
    Answer answer = Answer::Ack;
    std::string username;  // non-empty: Digest required
    std::string password;
  };
  struct Received {
    std::string body;
    std::string authorization;
    std::string messageId;
    std::chrono::steady_clock::time_point at;
  };

  static Options answering(Answer a) {
    Options o;
    o.answer = a;
    return o;
  }
  static Options onPort(std::uint16_t port) {
    Options o;
    o.port = port;
    return o;
  }
  static Options tlsWithDigest(std::string user, std::string password) {
    Options o;
    o.tls = true;
    o.username = std::move(user);
    o.password = std::move(password);
    return o;
  }

  EventSubscriber() : EventSubscriber(answering(Answer::Ack)) {}
  explicit EventSubscriber(Options o) : options_(std::move(o)) {
    namespace asio = boost::asio;
    using tcp = asio::ip::tcp;
    if (options_.tls) {
      wsman::http::TlsIdentitySource source;
      source.commonName = "subscriber.test";
      auto id = wsman::http::createSelfSignedIdentity(source);
      if (id) {
        if (auto context = wsman::http::makeTlsServerContext(*id)) tls_ = *context;
      }
    }
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), options_.port));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    acceptThread_ = std::thread([this] { acceptLoop(); });
  }
  ~EventSubscriber() { stop(); }

  void stop() {
    if (stopped_.exchange(true)) return;
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    // shutdown() ends the blocking accept; the acceptor object is closed only once its thread is gone (Asio
    // objects are not shared between threads).
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    if (acceptThread_.joinable()) acceptThread_.join();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/events") const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Received> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  std::size_t challenges() const { return challenges_; }
  bool waitFor(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  }

 private:
  void acceptLoop() {
    while (!stopped_) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec || stopped_) return;
      std::lock_guard lock(mutex_);
      fds_.push_back(socket.native_handle());
      threads_.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }

  void serve(boost::asio::ip::tcp::socket socket) {
    if (!options_.tls) return serveOn(socket);
    if (!tls_) return;
    boost::asio::ssl::stream<boost::asio::ip::tcp::socket> secure(std::move(socket), *tls_);
    boost::system::error_code ec;
    secure.handshake(boost::asio::ssl::stream_base::server, ec);
    if (!ec) serveOn(secure);
  }

  template <class Stream>
  void serveOn(Stream& stream) {
    namespace bhttp = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      boost::system::error_code ec;
      bhttp::read(stream, buffer, req, ec);
      if (ec) return;
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
      res.set(bhttp::field::content_type, "application/soap+xml; charset=UTF-8");
      std::string authorization(req[bhttp::field::authorization]);
      if (!options_.username.empty() && !authorized(authorization)) {
        ++challenges_;
        res.result(bhttp::status::unauthorized);
        res.set(bhttp::field::www_authenticate, "Digest realm=\"" + std::string(kRealm) + "\", nonce=\"" + kNonce +
                                                    "\", stale=\"false\", qop=\"auth\"");
      } else {
        Received r{req.body(), authorization, messageIdOf(req.body()), std::chrono::steady_clock::now()};
        {
          std::lock_guard lock(mutex_);
          received_.push_back(r);
        }
        cv_.notify_all();
        if (options_.answer == Answer::Never) {
          std::unique_lock lock(mutex_);
          cv_.wait(lock, [&] { return stopped_.load(); });
          return;
        }
        if (options_.answer == Answer::ServerError) res.result(bhttp::status::internal_server_error);
        if (options_.answer == Answer::Ack) res.body() = wsman::eventing::writeAck(r.messageId);
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      bhttp::write(stream, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  bool authorized(const std::string& header) const {
    auto c = wsman::http::parseDigestAuthorization(header);
    if (!c || c->username != options_.username || c->realm != kRealm || c->nonce != kNonce) return false;
    auto ha1 = wsman::http::md5Hex(options_.username + ":" + kRealm + ":" + options_.password);
    return c->response == wsman::http::digestResponse(ha1, c->nonce, c->nc, c->cnonce, c->qop, "POST", c->uri);
  }

  static std::string messageIdOf(const std::string& body) {
    static const std::regex id(R"(<b:MessageID>([^<]+)</b:MessageID>)");
    std::smatch m;
    return std::regex_search(body, m, id) ? m[1].str() : std::string();
  }

  static constexpr const char* kRealm = "subscriber";
  static constexpr const char* kNonce = "bm9uY2Utb2YtdGhlLXRlc3Q";
  Options options_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::shared_ptr<boost::asio::ssl::context> tls_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<std::size_t> challenges_{0};
  std::thread acceptThread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::vector<Received> received_;
};

}  // namespace mesim::test
