#include "wsman/eventing/http_client.h"

#include <optional>
#include <random>

#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "wsman/eventing/subscribe_request.h"
#include "wsman/http/digest_auth.h"

namespace mesim::wsman::eventing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

struct Exchange {
  HttpPostResult result;
  std::string challenge;  // WWW-Authenticate of a 401
};

Exchange failed(std::string what, const boost::system::error_code& ec, HttpPostResult::Stage stage) {
  Exchange e;
  e.result.error = what + ": " + (ec == beast::error::timeout ? std::string("timed out") : ec.message());
  e.result.failedAt = stage;
  return e;
}

std::string hostHeader(const Url& url) {
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  bool defaultPort = url.port == (url.tls ? "443" : "80");
  return defaultPort ? host : host + ":" + url.port;
}

template <class Stream>
asio::awaitable<Exchange> roundTrip(Stream& stream, const Url& url, const HttpPostRequest& r,
                                    const std::string& authorization, std::chrono::steady_clock::time_point deadline) {
  const bool get = r.method == "GET";
  bhttp::request<bhttp::string_body> req{get ? bhttp::verb::get : bhttp::verb::post, url.target, 11};
  req.set(bhttp::field::host, hostHeader(url));
  if (!get) req.set(bhttp::field::content_type, r.contentType);
  req.set(bhttp::field::connection, "close");
  if (!authorization.empty()) req.set(bhttp::field::authorization, authorization);
  if (!get) {
    req.body() = r.body;
    req.prepare_payload();
  }
  beast::get_lowest_layer(stream).expires_at(deadline);
  if (auto [ec, n] = co_await bhttp::async_write(stream, req, kAwait); ec)
    co_return failed("write", ec, HttpPostResult::Stage::Exchange);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(r.maxBody);
  beast::get_lowest_layer(stream).expires_at(deadline);
  if (auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAwait); ec)
    co_return failed("read", ec, HttpPostResult::Stage::Exchange);
  Exchange e;
  auto& res = parser.get();
  e.result.status = res.result_int();
  e.result.body = std::move(res.body());
  if (res.result() == bhttp::status::unauthorized) e.challenge = std::string(res[bhttp::field::www_authenticate]);
  co_return e;
}

// The endpoints of url's host, waiting for them until `deadline` at the latest; the lookup itself may go on
// (on its own thread, see name_resolver.h), unheard.
asio::awaitable<Result<Endpoints>> resolveBefore(NameResolver& resolver, const Url& url,
                                                 std::chrono::steady_clock::time_point deadline) {
  struct Wait {
    std::optional<Result<Endpoints>> answer;
    asio::steady_timer* timer = nullptr;  // while this coroutine waits on it
  };
  auto wait = std::make_shared<Wait>();
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  struct Leave {  // however this frame ends (even destroyed unresumed), the answer no longer reaches its timer
    Wait& wait;
    ~Leave() { wait.timer = nullptr; }
  } leave{*wait};
  wait->timer = &timer;
  resolver.resolve(url.host, url.port, [wait](Result<Endpoints> answer) {
    wait->answer = std::move(answer);
    if (wait->timer) wait->timer->cancel();
  });
  if (!wait->answer) co_await timer.async_wait(kAwait);
  if (!wait->answer) co_return fail("timed out");
  co_return std::move(*wait->answer);
}

asio::awaitable<Exchange> once(const Url& url, const Endpoints& endpoints, const HttpPostRequest& r,
                               std::string authorization, std::shared_ptr<asio::ssl::context> tls,
                               std::chrono::steady_clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  stream.expires_at(deadline);
  if (auto [ec, ep] = co_await stream.async_connect(endpoints, kAwait); ec)
    co_return failed("connect", ec, HttpPostResult::Stage::Connect);
  stream.socket().set_option(tcp::no_delay(true));
  if (!url.tls) co_return co_await roundTrip(stream, url, r, authorization, deadline);
  beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
  boost::system::error_code ignored;
  asio::ip::make_address(url.host, ignored);
  if (ignored) SSL_set_tlsext_host_name(secure.native_handle(), url.host.c_str());  // SNI for names only
  if (r.verifyHostName) {
    X509_VERIFY_PARAM* param = SSL_get0_param(secure.native_handle());
    if (ignored)
      X509_VERIFY_PARAM_set1_host(param, url.host.c_str(), 0);
    else
      X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
  }
  beast::get_lowest_layer(secure).expires_at(deadline);
  if (auto [ec] = co_await secure.async_handshake(asio::ssl::stream_base::client, kAwait); ec)
    co_return failed("TLS handshake", ec, HttpPostResult::Stage::Tls);
  co_return co_await roundTrip(secure, url, r, authorization, deadline);
}

std::string randomHex(std::size_t bytes) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    auto b = static_cast<unsigned>(rng() & 0xFF);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

asio::awaitable<HttpPostResult> post(HttpPostRequest r, std::shared_ptr<asio::ssl::context> tls,
                                     std::shared_ptr<NameResolver> resolver) {
  auto url = parseUrl(r.url);
  if (!url) co_return HttpPostResult{"not an http or https URL: " + r.url, 0, {}, HttpPostResult::Stage::Url};
  // One deadline for everything: name lookup, connect, TLS handshake, request, answer (and the same again after
  // a Digest challenge).
  const auto deadline = std::chrono::steady_clock::now() + r.timeout;
  auto endpoints = co_await resolveBefore(*resolver, *url, deadline);
  if (!endpoints)
    co_return HttpPostResult{"resolve " + url->host + ": " + endpoints.error().message, 0, {}, HttpPostResult::Stage::Resolve};
  auto first = co_await once(*url, *endpoints, r, "", tls, deadline);
  if (!first.result.error.empty() || first.result.status != 401 || r.username.empty()) co_return std::move(first.result);
  auto authorization = digestAuthorization(first.challenge, r.method, url->target, r.username, r.password, randomHex(16));
  if (authorization.empty()) co_return std::move(first.result);
  auto second = co_await once(*url, *endpoints, r, authorization, tls, deadline);
  co_return std::move(second.result);
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::shared_ptr<asio::ssl::context> makeTlsClientContext() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_verify_mode(asio::ssl::verify_none);
  return ctx;
}

std::string pemOfBase64Der(const std::string& base64Der) {
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  for (std::size_t at = 0; at < base64Der.size(); at += 64) pem += base64Der.substr(at, 64) + "\n";
  return pem + "-----END CERTIFICATE-----\n";
}

Result<std::shared_ptr<asio::ssl::context>> makeVerifyingTlsClientContext(const std::vector<std::string>& rootsPem,
                                                                         bool systemStore) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  boost::system::error_code ec;
  if (systemStore) {
    ctx->set_default_verify_paths(ec);
    if (ec) return fail("cannot load the default trust store: " + ec.message());
  }
  for (const auto& pem : rootsPem) {
    ctx->add_certificate_authority(asio::buffer(pem), ec);
    if (ec) return fail("cannot trust a root certificate: " + ec.message());
  }
  ctx->set_verify_mode(asio::ssl::verify_peer, ec);
  if (ec) return fail("cannot verify servers: " + ec.message());
  return ctx;
}

std::string digestAuthorization(std::string_view wwwAuthenticate, std::string_view method, std::string_view uri,
                                std::string_view username, std::string_view password, std::string_view cnonce) {
  // A challenge has the same auth-param syntax as the credentials the server side parses.
  auto c = http::parseDigestAuthorization(wwwAuthenticate);
  if (!c || c->nonce.empty() || (!c->algorithm.empty() && c->algorithm != "MD5")) return "";
  bool qopAuth = false;
  for (std::size_t start = 0; start <= c->qop.size();) {
    auto end = c->qop.find(',', start);
    if (end == std::string::npos) end = c->qop.size();
    auto token = std::string_view(c->qop).substr(start, end - start);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token == "auth") qopAuth = true;
    start = end + 1;
  }
  const std::string ha1 = http::md5Hex(std::string(username) + ":" + c->realm + ":" + std::string(password));
  const std::string nc = "00000001";
  std::string response =
      qopAuth ? http::digestResponse(ha1, c->nonce, nc, cnonce, "auth", method, uri)
              : http::md5Hex(ha1 + ":" + c->nonce + ":" + http::md5Hex(std::string(method) + ":" + std::string(uri)));
  std::string out = "Digest username=" + quote(username) + ", realm=" + quote(c->realm) + ", nonce=" + quote(c->nonce) +
                    ", uri=" + quote(uri) + ", response=" + quote(response) + ", algorithm=MD5";
  if (qopAuth) out += ", qop=auth, nc=" + nc + ", cnonce=" + quote(cnonce);
  if (!c->opaque.empty()) out += ", opaque=" + quote(c->opaque);
  return out;
}

void httpPost(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, std::shared_ptr<NameResolver> resolver,
              HttpPostRequest request, std::function<void(HttpPostResult)> done) {
  asio::co_spawn(io, post(std::move(request), std::move(tls), std::move(resolver)),
                 [done = std::move(done)](std::exception_ptr e, HttpPostResult result) {
                   if (e) result = HttpPostResult{"internal error", 0, {}, HttpPostResult::Stage::Exchange};
                   done(std::move(result));
                 });
}

void httpPost(asio::io_context& io, std::shared_ptr<asio::ssl::context> tls, HttpPostRequest request,
              std::function<void(HttpPostResult)> done) {
  httpPost(io, std::move(tls), std::make_shared<NameResolver>(io), std::move(request), std::move(done));
}

}  // namespace mesim::wsman::eventing
