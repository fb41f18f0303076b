// A small blocking HTTP client of the firmware web UI for tests: any method and target on 127.0.0.1:port, one
// connection per request, HTTP Digest (MD5, qop=auth) answered on a 401 and then sent up front with a growing nc,
// as a browser does. Answers keep their status, Location and body.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "tests/support/wsman_digest_client.h"

namespace mesim::test {

struct WebAnswer {
  unsigned status = 0;  // 0: the connection failed
  std::string location;
  std::string contentType;
  std::string body;
  std::string error;
};

class WebDigestClient {
 public:
  WebDigestClient(std::uint16_t port, std::string user = "admin", std::string password = "P@ssw0rd")
      : port_(port), user_(std::move(user)), password_(std::move(password)) {}

  // `withCredentials` false: never answers a 401 (to see what an anonymous browser sees).
  WebAnswer request(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& contentType = "application/x-www-form-urlencoded", bool withCredentials = true) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto answer = once(method, target, body, contentType, withCredentials && !nonce_.empty());
      if (answer.status == 401 && withCredentials && attempt == 0 && !challenge_.empty()) {
        realm_ = param(challenge_, "realm");
        nonce_ = param(challenge_, "nonce");
        nc_ = 0;
        continue;
      }
      return answer;
    }
    return {0, "", "", "", "unreachable"};
  }
  WebAnswer get(const std::string& target, bool withCredentials = true) {
    return request("GET", target, {}, {}, withCredentials);
  }
  WebAnswer post(const std::string& target, const std::string& form) { return request("POST", target, form); }

 private:
  WebAnswer once(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& contentType, bool authorize) {
    namespace http = boost::beast::http;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    boost::system::error_code ec;
    socket.connect({boost::asio::ip::address_v4::loopback(), port_}, ec);
    if (ec) return {0, "", "", "", "connect: " + ec.message()};
    timeval tv{10, 0};  // a test fails, not hangs, when an answer never comes
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    http::request<http::string_body> request{http::string_to_verb(method), target, 11};
    request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
    if (!body.empty() || method == "POST" || method == "PUT") {
      request.set(http::field::content_type, contentType);
      request.body() = body;
    }
    if (authorize) request.set(http::field::authorization, authorization(method, target));
    request.prepare_payload();
    http::write(socket, request, ec);
    http::response<http::string_body> response;
    boost::beast::flat_buffer buffer;
    if (!ec) http::read(socket, buffer, response, ec);
    if (ec) return {0, "", "", "", ec.message()};
    challenge_ = std::string(response[http::field::www_authenticate]);
    return {response.result_int(), std::string(response[http::field::location]),
            std::string(response[http::field::content_type]), std::move(response.body()), ""};
  }

  std::string authorization(const std::string& method, const std::string& uri) {
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", ++nc_);
    const std::string cnonce = "5ccc069c";
    const std::string ha1 = md5Hex(user_ + ":" + realm_ + ":" + password_);
    const std::string ha2 = md5Hex(method + ":" + uri);
    const std::string response = md5Hex(ha1 + ":" + nonce_ + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    return "Digest username=\"" + user_ + "\", realm=\"" + realm_ + "\", nonce=\"" + nonce_ + "\", uri=\"" + uri +
           "\", qop=auth, nc=" + nc + ", cnonce=\"" + cnonce + "\", response=\"" + response + "\"";
  }

  static std::string param(const std::string& header, const std::string& name) {
    auto at = header.find(name + "=\"");
    if (at == std::string::npos) return {};
    at += name.size() + 2;
    return header.substr(at, header.find('"', at) - at);
  }

  std::uint16_t port_;
  std::string user_;
  std::string password_;
  std::string challenge_;
  std::string realm_;
  std::string nonce_;
  unsigned nc_ = 0;
};

// The value of the hidden CSRF field `t` of the first form on `page`; "" when there is none.
inline std::string csrfToken(const std::string& page) {
  const std::string marker = "name=\"t\" value=\"";
  const auto at = page.find(marker);
  if (at == std::string::npos) return {};
  const auto start = at + marker.size();
  return page.substr(start, page.find('"', start) - start);
}

}  // namespace mesim::test
