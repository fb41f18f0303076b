// One WS-Man HTTP connection (bmcweb/Beast style): read header -> read body -> authenticate -> handler ->
// write -> read again, with a deadline on each network step. Templated on the stream, so the same code runs
// over a TCP socket, a TLS stream and, in tests and the fuzzer, Beast's in-memory test stream or a future
// local (APF) channel. Timeouts cancel the pending operation through a per-operation cancellation slot; a
// stream that ignores cancellation (Beast's test stream) simply never times out.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "common/log.h"
#include "wsman/http/http_responses.h"
#include "wsman/http/server_core.h"
#include "wsman/http/websocket_session.h"

namespace mesim::wsman::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

template <class T>
struct IsSslStream : std::false_type {};
template <class Next>
struct IsSslStream<boost::asio::ssl::stream<Next>> : std::true_type {};

// The request-target in origin form: "http://host:16992/wsman" -> "/wsman" (RFC 9112 §3.2.2).
inline std::string_view originForm(std::string_view target) {
  for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
    if (target.substr(0, scheme.size()) == scheme) {
      auto slash = target.find('/', scheme.size());
      return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  return target;
}

// "/ws-redirection?x=1" -> "/ws-redirection": WebSocket paths are matched without their query.
inline std::string_view pathOnly(std::string_view target) { return target.substr(0, target.find('?')); }

inline bool isHttpParseError(const boost::beast::error_code& ec) {
  return &ec.category() == &boost::beast::http::make_error_code(boost::beast::http::error::bad_target).category();
}

// What is wrong with a request header before its body is read (RFC 9112), or status 0. A transfer coding that does
// not end in chunked leaves the body's length unknown (§6.3: 400, then close; Beast would read no body and take
// the body for the next request: request smuggling), as do Transfer-Encoding and Content-Length together; a coding
// other than chunked cannot be decoded (§6.1: 501); an HTTP/1.1 request needs exactly one Host (§3.2: 400).
struct HeaderProblem {
  unsigned status = 0;
  std::string_view reason;
  std::string detail;
};

template <class Fields>
HeaderProblem headerProblem(const boost::beast::http::request_header<Fields>& req) {
  namespace bhttp = boost::beast::http;
  std::vector<std::string> codings;
  for (auto [field, end] = req.equal_range(bhttp::field::transfer_encoding); field != end; ++field) {
    std::string_view value = field->value();
    while (!value.empty()) {
      const auto comma = value.find(',');
      std::string_view item = value.substr(0, comma);
      item = item.substr(0, item.find(';'));  // parameters
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      if (!item.empty()) {
        std::string coding(item);
        for (auto& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        codings.push_back(std::move(coding));
      }
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  if (!codings.empty()) {
    if (codings.back() != "chunked")
      return {400, "Bad Request", "Transfer-Encoding does not end in chunked: the body's length is unknown."};
    if (req.count(bhttp::field::content_length) != 0)
      return {400, "Bad Request", "Transfer-Encoding and Content-Length together: the body's length is ambiguous."};
    if (std::find(codings.begin(), codings.end() - 1, "chunked") != codings.end() - 1)
      return {400, "Bad Request", "Chunked may be applied only once (RFC 9112 §7.1)."};
    if (codings.size() > 1)
      return {501, "Not Implemented", "Transfer coding " + codings.front() + " is not supported; send chunked only."};
  }
  if (req.version() == 11 && req.count(bhttp::field::host) != 1)
    return {400, "Bad Request", "An HTTP/1.1 request needs exactly one Host header."};
  return {};
}

// The first bytes of a connection to a TLS port, when they are a plain HTTP request line ("GET ", "POST "...)
// rather than a TLS record (which starts with 0x16).
inline bool looksLikePlainHttp(std::string_view first) {
  std::size_t letters = 0;
  while (letters < first.size() && first[letters] >= 'A' && first[letters] <= 'Z') ++letters;
  return letters > 0 && letters <= 16 && letters < first.size() && first[letters] == ' ';
}

template <class Stream>
class HttpSession final : public SessionBase, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<ServerCore> core, Stream stream, ConnectionInfo info, Admission admission)
      : core_(std::move(core)),
        stream_(std::move(stream)),
        info_(std::move(info)),
        admission_(admission),
        timer_(stream_.get_executor()) {
    // Beast reads at most the buffer's free capacity (512 bytes at first): with room for a whole typical
    // request (1-3 KiB of SOAP), one read takes a request instead of several.
    buffer_.reserve(kReadBufferBytes);
  }

  ~HttpSession() override { core_->detach(id_); }

  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void start() {
    id_ = core_->attach(this->weak_from_this(), info_, admission_);
    if constexpr (IsSslStream<Stream>::value) {
      handshake();
    } else {
      readHeader();
    }
  }

  void abort() override {
    aborted_ = true;
    if (handedOver_) return;
    disarm();
    closeSocket();
  }

  bool waitingForRequest() const override {
    return !aborted_ && !closed_ && (phase_ == Phase::Handshake || phase_ == Phase::Header);
  }
  std::chrono::steady_clock::time_point waitingSince() const override { return waitingSince_; }

  const log::Context& logContext() const { return core_->platform.logContext(); }

 private:
  using tcp = boost::asio::ip::tcp;
  using Clock = std::chrono::steady_clock;

  enum class Phase { Handshake, Header, Body, Write, Linger, Shutdown };
  enum class After { Read, Close, Linger };

  std::shared_ptr<HttpSession> self() { return this->shared_from_this(); }

  // Completion handlers are bound to our cancellation slot, so a deadline can cancel the pending operation.
  template <class Handler>
  auto cancellable(Handler&& handler) {
    return asio::bind_cancellation_slot(cancel_.slot(), std::forward<Handler>(handler));
  }

  // ---- deadlines (real time)
  void arm(std::chrono::milliseconds timeout, Phase phase) {
    auto waiting = [](Phase p) { return p == Phase::Handshake || p == Phase::Header; };
    if (waiting(phase) && !waiting(phase_)) waitingSince_ = Clock::now();
    phase_ = phase;
    timedOut_ = false;
    const auto generation = ++timerGeneration_;
    timer_.expires_after(timeout);
    timer_.async_wait([weak = this->weak_from_this(), generation](const beast::error_code& ec) {
      auto s = weak.lock();
      if (!s || ec || generation != s->timerGeneration_) return;
      s->timedOut_ = true;
      s->cancel_.emit(asio::cancellation_type::terminal);
    });
  }

  void disarm() {
    ++timerGeneration_;
    timer_.cancel();
  }

  // ---- TLS
  // The first bytes decide: a TLS record goes to the handshake (which is given them), a plain HTTP request is told
  // in plain HTTP that this port speaks TLS (docs/architecture.md, "WS-Management"), anything else fails the
  // handshake as before.
  void handshake() {
    arm(core_->options.headerTimeout, Phase::Handshake);
    stream_.next_layer().async_read_some(
        asio::buffer(firstBytes_),
        cancellable([s = self()](const beast::error_code& ec, std::size_t n) { s->onFirstBytes(ec, n); }));
  }

  void onFirstBytes(const beast::error_code& ec, std::size_t n) {
    if (ec || timedOut_) {
      disarm();
      if (timedOut_) ++core_->stats.timeouts;
      return closeSocket();
    }
    const std::string_view first(firstBytes_.data(), n);
    if (looksLikePlainHttp(first)) {
      disarm();
      ++core_->stats.badRequests;
      MESIM_LOG(Debug, "wsman-http", "plain HTTP from " << info_.peerAddress << " on the TLS port");
      return answerPlainHttpOnTls();
    }
    stream_.async_handshake(asio::ssl::stream_base::server, asio::buffer(firstBytes_.data(), n),
                            cancellable([s = self()](const beast::error_code& hec, std::size_t) { s->onHandshake(hec); }));
  }

  void answerPlainHttpOnTls() {
    auto wire = std::make_shared<std::string>();
    const std::string page = errorPage(400, "Bad Request", "This port speaks TLS: use https:// to reach it.");
    *wire = "HTTP/1.1 400 Bad Request\r\nServer: " + core_->serverHeader() +
            "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(page.size()) +
            "\r\nConnection: close\r\n\r\n" + page;
    arm(core_->options.writeTimeout, Phase::Write);
    asio::async_write(stream_.next_layer(), asio::buffer(*wire),
                      cancellable([s = self(), wire](const beast::error_code& ec, std::size_t) {
                        s->disarm();
                        if (ec || s->timedOut_) return s->closeSocket();
                        s->lingerPlain();
                      }));
  }

  // As linger(), below the TLS layer: the client's request is read and dropped until it closes or time is up.
  void lingerPlain() {
    if constexpr (std::is_same_v<std::decay_t<decltype(beast::get_lowest_layer(stream_))>, tcp::socket>) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
    }
    arm(core_->options.lingerTimeout, Phase::Linger);
    drainPlain();
  }

  void drainPlain() {
    stream_.next_layer().async_read_some(asio::buffer(drainBuffer_),
                                         cancellable([s = self()](const beast::error_code& ec, std::size_t n) {
                                           s->lingerBytes_ += n;
                                           if (ec || s->timedOut_ || s->lingerBytes_ > kMaxLingerBytes) {
                                             s->disarm();
                                             return s->closeSocket();
                                           }
                                           s->drainPlain();
                                         }));
  }

  void onHandshake(const beast::error_code& ec) {
    disarm();
    if (timedOut_) ++core_->stats.timeouts;
    if (ec || timedOut_) {
      MESIM_LOG(Debug, "wsman-http", "TLS handshake with " << info_.peerAddress << " failed: " << ec.message());
      return closeSocket();
    }
    readHeader();
  }

  // ---- reading
  void readHeader() {
    if (aborted_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_->headerLimit()));
    parser_->body_limit(core_->options.maxRequestBytes);
    arm(core_->options.headerTimeout, Phase::Header);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             cancellable([s = self()](const beast::error_code& ec, std::size_t) { s->onHeader(ec); }));
  }

  void onHeader(const beast::error_code& ec) {
    disarm();
    if (timedOut_) {
      // Nothing of a next request yet: an idle keep-alive connection, closed quietly.
      if (buffer_.size() == 0 && !parser_->got_some()) return closeSocket();
      return answerTimeout();
    }
    if (ec) return onReadError(ec);
    ++core_->stats.requests;
    if (auto problem = headerProblem(parser_->get()); problem.status != 0) {
      ++core_->stats.badRequests;
      return sendError(problem.status, problem.reason, problem.detail, After::Linger);
    }
    if (admission_ == Admission::RejectBusy)
      return sendError(503, "Service Unavailable", "Too many connections; try again later.", After::Linger);
    const auto& req = parser_->get();
    if (req.version() == 11 && beast::iequals(req[bhttp::field::expect], "100-continue")) {
      if (!core_->serves(originForm(req.target())) || req.method() != bhttp::verb::post) {
        // Answer now instead of inviting a body we would not use.
        keepAlive_ = false;
        return answerRouting(After::Linger);
      }
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      arm(core_->options.writeTimeout, Phase::Write);
      return asio::async_write(stream_, asio::buffer(kContinue),
                               cancellable([s = self()](const beast::error_code& wec, std::size_t) {
                                 s->disarm();
                                 if (wec || s->timedOut_) return s->closeSocket();
                                 s->readBody();
                               }));
    }
    readBody();
  }

  void readBody() {
    arm(core_->options.bodyTimeout, Phase::Body);
    bhttp::async_read(stream_, buffer_, *parser_,
                      cancellable([s = self()](const beast::error_code& ec, std::size_t) { s->onBody(ec); }));
  }

  void onBody(const beast::error_code& ec) {
    disarm();
    if (timedOut_) return answerTimeout();
    if (ec) return onReadError(ec);
    onRequest();
  }

  void onReadError(const beast::error_code& ec) {
    if (aborted_ || ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
      return closeSocket();  // the client went away
    if (ec == bhttp::error::body_limit) {
      ++core_->stats.tooLarge;
      return sendError(413, "Request Entity Too Large",
                       "The request body exceeds " + std::to_string(core_->options.maxRequestBytes) + " bytes.",
                       After::Linger);
    }
    if (ec == bhttp::error::header_limit) {
      ++core_->stats.tooLarge;
      return sendError(431, "Request Header Fields Too Large",
                       "The request header exceeds " + std::to_string(core_->headerLimit()) + " bytes.", After::Linger);
    }
    if (isHttpParseError(ec)) {
      ++core_->stats.badRequests;
      return sendError(400, "Bad Request", "The request is not valid HTTP/1.1.", After::Linger);
    }
    MESIM_LOG(Debug, "wsman-http", "connection from " << info_.peerAddress << " ended: " << ec.message());
    closeSocket();
  }

  void answerTimeout() {
    ++core_->stats.timeouts;
    MESIM_LOG(Info, "wsman-http", "request from " << info_.peerAddress << " timed out while reading its "
                                                  << (phase_ == Phase::Header ? "header" : "body"));
    sendError(408, "Request Timeout", "The request did not arrive in time.", After::Linger);
  }

  // ---- the request
  void onRequest() {
    auto& req = parser_->get();
    keepAlive_ = req.keep_alive() && req.version() == 11;
    const auto path = originForm(req.target());
    if (const auto* webSocket = core_->webSocketAt(pathOnly(path))) return onWebSocketRequest(*webSocket);
    if (!core_->serves(path) && core_->web.handle) return onWebRequest();
    if (!core_->serves(path) || req.method() != bhttp::verb::post)
      return answerRouting(keepAlive_ ? After::Read : After::Close);

    const AuthResult auth = authenticate(req);
    if (auth.status == AuthStatus::Ok) return dispatch(auth.user);
    if (path == "/wsman" && core_->allowsAnonymous && core_->allowsAnonymous(req.body())) return dispatch({});
    refuse(auth);
  }

  // Digest for the request in hand, the same on every path (WS-Man, web pages, WebSocket upgrades).
  template <class Request>
  AuthResult authenticate(const Request& req) {
    AuthAttempt attempt;
    attempt.method = req.method_string();
    attempt.uri = req.target();
    attempt.authorization = req[bhttp::field::authorization];
    attempt.local = info_.local;
    attempt.peerAddress = info_.peerAddress;
    return core_->auth.authenticate(attempt);
  }

  void refuse(const AuthResult& auth) {
    sendUnauthorized(auth.status == AuthStatus::Stale || auth.status == AuthStatus::Replay);
  }

  // Any other path, when a web service is set (web_service.h): public paths as they are, the rest after Digest.
  void onWebRequest() {
    if (core_->stopped) return closeSocket();  // the service may be gone with the server's owner
    auto& req = parser_->get();
    const auto target = originForm(req.target());
    const auto path = pathOnly(target);
    WebRequest request;
    request.method = std::string(req.method_string());
    if (!core_->web.isPublic || !core_->web.isPublic(request.method, path)) {
      const AuthResult auth = authenticate(req);
      if (auth.status != AuthStatus::Ok) return refuse(auth);
      request.user = auth.user;
    }
    request.target = std::string(target);
    request.path = std::string(path);
    if (const auto mark = target.find('?'); mark != std::string_view::npos) request.query = std::string(target.substr(mark + 1));
    request.contentType = std::string(req[bhttp::field::content_type]);
    request.body = std::move(req.body());
    request.local = info_.local;
    request.tls = info_.tls;
    request.peerAddress = info_.peerAddress;
    ++core_->stats.webRequests;
    WebResponse response;
    try {
      response = core_->web.handle(request);
    } catch (const std::exception& e) {
      MESIM_LOG(Error, "wsman-http", "web service threw on " << request.path << ": " << e.what());
      response = WebResponse{500, {{"Content-Type", "text/html"}}, errorPage(500, "Internal Server Error", "")};
    }
    sendWebResponse(std::move(response), req.method() == bhttp::verb::head);
  }

  void sendWebResponse(WebResponse response, bool head) {
    if (aborted_) return;
    if (response.status < 200 || response.status > 599) response.status = 500;
    bhttp::response_header<> h;
    h.version(11);
    h.result(response.status);
    h.set(bhttp::field::date, httpDate(core_->clock.now()));
    h.set(bhttp::field::server, core_->serverHeader());
    for (auto& [name, value] : response.headers) h.insert(name, value);
    h.set(bhttp::field::content_length, std::to_string(response.body.size()));
    if (!keepAlive_) h.set(bhttp::field::connection, "close");
    write(serialize(h, head ? std::string_view() : std::string_view(response.body)), keepAlive_ ? After::Read : After::Close);
  }

  // GET on a WebSocket path (/ws-redirection): Digest first, as for every path (401 without it), then the upgrade,
  // unless the service refuses it with an HTTP answer of its own.
  void onWebSocketRequest(const WebSocketService& service) {
    if (core_->stopped) return closeSocket();  // the service may be gone with the server's owner
    auto& req = parser_->get();
    if (req.method() != bhttp::verb::get)
      return sendError(405, "Method Not Allowed", "Only a WebSocket upgrade (GET) is served here.",
                       keepAlive_ ? After::Read : After::Close, "GET");
    const AuthResult auth = authenticate(req);
    if (auth.status != AuthStatus::Ok) return refuse(auth);
    if (!beast::websocket::is_upgrade(req)) {
      ++core_->stats.badRequests;
      return sendError(400, "Bad Request", "This path serves a WebSocket: send a WebSocket upgrade.",
                       keepAlive_ ? After::Read : After::Close);
    }
    WebSocketRequest request;
    request.path = std::string(pathOnly(originForm(req.target())));
    request.user = auth.user;
    request.local = info_.local;
    request.tls = info_.tls;
    request.peerAddress = info_.peerAddress;
    if (service.admit) {
      if (auto refusal = service.admit(request)) {
        ++core_->stats.webSocketsRefused;
        MESIM_LOG(Info, "wsman-http", "WebSocket " << request.path << " refused to " << info_.peerAddress << ": "
                                                   << refusal->detail);
        return sendError(refusal->status, refusal->reason, refusal->detail, After::Close);
      }
    }
    // The stream goes to a WebSocket session; this one is done with it (and uncounted: the new one counts).
    handedOver_ = true;
    core_->detach(id_);
    auto session = std::make_shared<WebSocketSession<Stream>>(core_, std::move(stream_), info_, service,
                                                              std::move(request));
    session->start(parser_->release());
  }

  // Anything but a POST to a served path: GET / -> 303 /logon.htm (spec §2.1), POST elsewhere -> 404, a served path -> 405.
  void answerRouting(After after) {
    const auto& req = parser_->get();
    const auto target = originForm(req.target());
    if (core_->serves(target))
      return sendError(405, "Method Not Allowed", "Only POST is allowed here.", after, "POST");
    if (target == "/" && (req.method() == bhttp::verb::get || req.method() == bhttp::verb::head)) {
      bhttp::response_header<> h;
      h.result(bhttp::status::see_other);
      h.version(11);
      h.set(bhttp::field::location, "/logon.htm");
      h.set(bhttp::field::content_length, "0");
      h.set(bhttp::field::server, core_->serverHeader());
      if (after != After::Read) h.set(bhttp::field::connection, "close");
      return write(serialize(h), after);
    }
    sendError(404, "Not Found", "There is nothing here.", after);
  }

  void dispatch(std::string user) {
    auto& req = parser_->get();
    WsmanRequest request;
    request.path = std::string(originForm(req.target()));
    request.body = std::move(req.body());
    request.user = std::move(user);
    request.local = info_.local;
    request.tls = info_.tls;
    request.peerAddress = info_.peerAddress;
    ++core_->stats.handled;
    if (!core_->handler) {
      return sendHandlerResponse({500, "No WS-Man handler is installed.", "text/plain; charset=UTF-8"});
    }
    // AsyncResp: whichever copy of `reply` dies last answers 500 if nobody answered.
    struct PendingReply {
      std::shared_ptr<HttpSession> session;
      bool answered = false;
      void deliver(WsmanResponse response) {
        answered = true;
        auto s = std::move(session);
        if (!s || s->core_->stopped) return;
        auto executor = s->stream_.get_executor();
        asio::post(executor, [s, r = std::move(response)]() mutable { s->sendHandlerResponse(std::move(r)); });
      }
      ~PendingReply() {
        if (!answered) deliver({500, "The WS-Man handler dropped the request.", "text/plain; charset=UTF-8"});
      }
    };
    auto pending = std::make_shared<PendingReply>();
    pending->session = self();
    WsmanReply reply = [pending, device = logContext()](WsmanResponse response) {
      auto logContext = [&device] { return device; };  // MESIM_LOG names the device; the session may be gone
      if (pending->answered) {
        MESIM_LOG(Warn, "wsman-http", "WS-Man handler answered a request twice; the second answer is dropped");
        return;
      }
      pending->deliver(std::move(response));
    };
    try {
      core_->handler(std::move(request), std::move(reply));
    } catch (const std::exception& e) {
      MESIM_LOG(Error, "wsman-http", "WS-Man handler threw: " << e.what());  // the reply answers 500
    }
  }

  // ---- writing
  // The same bytes as `std::ostream << h` (Beast's own header writer), then the body (as chunks when
  // `chunk`), built in one string.
  std::shared_ptr<std::string> serialize(const bhttp::response_header<>& h, std::string_view body = {},
                                         bool chunk = false) {
    bhttp::fields::writer headerWriter(h, h.version(), h.result_int());
    const auto buffers = headerWriter.get();
    const std::size_t headerSize = asio::buffer_size(buffers);
    auto wire = std::make_shared<std::string>();
    wire->reserve(headerSize + body.size() + (chunk ? chunkedOverhead(body.size()) : 0));
    wire->resize(headerSize);
    asio::buffer_copy(asio::buffer(wire->data(), wire->size()), buffers);
    if (chunk)
      appendChunked(*wire, body);
    else
      wire->append(body);
    return wire;
  }

  void sendHandlerResponse(WsmanResponse response) {
    if (aborted_) return;
    if (response.status < 200 || response.status > 599) response.status = 500;
    bhttp::response_header<> h;
    h.version(11);
    h.result(response.status);
    h.set(bhttp::field::date, httpDate(core_->clock.now()));
    h.set(bhttp::field::server, core_->serverHeader());
    h.set("X-Frame-Options", "DENY");
    h.set(bhttp::field::content_type, response.contentType);
    // Chunked like AMT: MeshCentral drops the body of a close-delimited response (spec §2.1). HTTP/1.0 cannot
    // read chunks, so it gets Content-Length.
    const bool http11 = parser_->get().version() == 11;
    if (http11)
      h.set(bhttp::field::transfer_encoding, "chunked");
    else
      h.set(bhttp::field::content_length, std::to_string(response.body.size()));
    if (!keepAlive_) h.set(bhttp::field::connection, "close");
    write(serialize(h, response.body, http11), keepAlive_ ? After::Read : After::Close);
  }

  // AMT's 401, header for header (spec §2.1); then the connection closes, as on AMT.
  void sendUnauthorized(bool stale) {
    ++core_->stats.unauthorized;
    bhttp::response_header<> h;
    h.version(11);
    h.result(bhttp::status::unauthorized);
    h.set(bhttp::field::www_authenticate, core_->auth.challenge(stale, info_.peerAddress));
    h.set(bhttp::field::content_type, "text/html");
    h.set(bhttp::field::server, core_->serverHeader());
    h.set(bhttp::field::content_length, std::to_string(unauthorizedPage().size()));
    h.set(bhttp::field::connection, "close");
    write(serialize(h, unauthorizedPage()), After::Close);
  }

  void sendError(unsigned status, std::string_view reason, const std::string& detail, After after,
                 std::string_view allow = {}) {
    const std::string page = errorPage(status, reason, detail);
    bhttp::response_header<> h;
    h.version(11);
    h.result(status);
    h.set(bhttp::field::server, core_->serverHeader());
    h.set(bhttp::field::content_type, "text/html");
    h.set(bhttp::field::content_length, std::to_string(page.size()));
    if (!allow.empty()) h.set(bhttp::field::allow, allow);
    if (after != After::Read) h.set(bhttp::field::connection, "close");
    write(serialize(h, page), after);
  }

  void write(std::shared_ptr<std::string> wire, After after) {
    if (aborted_) return;
    arm(core_->options.writeTimeout, Phase::Write);
    asio::async_write(stream_, asio::buffer(*wire),
                      cancellable([s = self(), wire, after](const beast::error_code& ec, std::size_t) {
                        s->disarm();
                        if (s->timedOut_) ++s->core_->stats.timeouts;
                        if (ec || s->timedOut_ || s->aborted_) return s->closeSocket();
                        switch (after) {
                          case After::Read: return s->readHeader();
                          case After::Close: return s->shutdown();
                          case After::Linger: return s->linger();
                        }
                      }));
  }

  // ---- closing
  // After an answer that ends the connection with the request fully read: TLS close_notify (bounded wait).
  void shutdown() {
    if constexpr (IsSslStream<Stream>::value) {
      arm(core_->options.lingerTimeout, Phase::Shutdown);
      stream_.async_shutdown(cancellable([s = self()](const beast::error_code&) {
        s->disarm();
        s->closeSocket();
      }));
    } else {
      closeSocket();
    }
  }

  // After an early answer (413, 408, 503...) the client may still be sending: half-close, then read and drop
  // what comes for a while, so closing does not reset the connection before the client has read our answer.
  void linger() {
    if constexpr (std::is_same_v<std::decay_t<decltype(beast::get_lowest_layer(stream_))>, tcp::socket>) {
      beast::error_code ignored;
      beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_send, ignored);
    }
    lingerUntil_ = Clock::now() + core_->options.lingerTimeout;
    lingerBytes_ = 0;
    drain();
  }

  void drain() {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(lingerUntil_ - Clock::now());
    if (aborted_ || left.count() <= 0 || lingerBytes_ > kMaxLingerBytes) return closeSocket();
    arm(left, Phase::Linger);
    stream_.async_read_some(asio::buffer(drainBuffer_),
                            cancellable([s = self()](const beast::error_code& ec, std::size_t n) {
                              s->disarm();
                              s->lingerBytes_ += n;
                              if (ec || s->timedOut_) return s->closeSocket();
                              s->drain();
                            }));
  }

  void closeSocket() {
    if (closed_ || handedOver_) return;
    closed_ = true;
    beast::error_code ignored;
    if constexpr (std::is_same_v<std::decay_t<decltype(beast::get_lowest_layer(stream_))>, tcp::socket>)
      beast::get_lowest_layer(stream_).shutdown(tcp::socket::shutdown_both, ignored);
    beast::close_socket(beast::get_lowest_layer(stream_));
  }

  static constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
  static constexpr std::size_t kReadBufferBytes = 8 * 1024;

  std::shared_ptr<ServerCore> core_;
  Stream stream_;
  ConnectionInfo info_;
  Admission admission_;
  std::uint64_t id_ = 0;

  asio::steady_timer timer_;
  asio::cancellation_signal cancel_;
  std::uint64_t timerGeneration_ = 0;
  Phase phase_ = Phase::Shutdown;  // none yet
  Clock::time_point waitingSince_ = Clock::now();
  bool timedOut_ = false;
  bool aborted_ = false;
  bool closed_ = false;
  bool keepAlive_ = false;
  bool handedOver_ = false;  // the stream went to a WebSocketSession

  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Clock::time_point lingerUntil_{};
  std::size_t lingerBytes_ = 0;
  std::array<char, 4096> drainBuffer_{};
  std::array<char, 1024> firstBytes_{};  // of a TLS connection, before the handshake
};

}  // namespace mesim::wsman::http::detail
