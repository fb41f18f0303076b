// A small blocking WS-Man client for tests and benchmarks: POST /wsman over one keep-alive TCP connection to
// 127.0.0.1:port, HTTP Digest (MD5, qop=auth) answered on the first 401 and reused with a growing nc, as
// MeshCentral and LMS's WS-Man clients do. Beast reads the (often chunked) answers.
#pragma once

#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "tests/support/wsman_messages.h"

namespace mesim::test {

inline std::string md5Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(2 * length, '0');
  for (unsigned i = 0; i < length; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return out;
}

inline std::string wsmanGetGeneralSettings(const std::string& messageId = "1") {
  return wsmanEnvelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
                       "http://intel.com/wbem/wscim/1/amt-schema/1/AMT_GeneralSettings", "", messageId);
}

inline std::string wsmanIdentify() {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\"><s:Header/><s:Body>"
         "<wsmid:Identify/></s:Body></s:Envelope>";
}

struct HttpAnswer {
  unsigned status = 0;  // 0: the connection failed or closed
  std::string body;
  std::string error;
};

class WsmanDigestClient {
 public:
  WsmanDigestClient(std::uint16_t port, std::string user = "admin", std::string password = "P@ssw0rd")
      : port_(port), user_(std::move(user)), password_(std::move(password)), socket_(io_) {}

  HttpAnswer post(const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!socket_.is_open() && !connect()) return {0, "", "connect failed"};
      namespace http = boost::beast::http;
      http::request<http::string_body> request{http::verb::post, "/wsman", 11};
      request.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
      request.set(http::field::content_type, "application/soap+xml; charset=UTF-8");
      if (!nonce_.empty()) request.set(http::field::authorization, authorization());
      request.body() = body;
      request.prepare_payload();
      boost::system::error_code ec;
      http::write(socket_, request, ec);
      http::response<http::string_body> response;
      if (!ec) http::read(socket_, buffer_, response, ec);
      if (ec) {
        close();
        return {0, "", ec.message()};
      }
      if (!response.keep_alive()) close();
      if (response.result_int() == 401 && attempt == 0) {
        std::string challenge(response[http::field::www_authenticate]);
        realm_ = param(challenge, "realm");
        nonce_ = param(challenge, "nonce");
        nc_ = 0;
        if (!nonce_.empty()) continue;
      }
      return {response.result_int(), std::move(response.body()), ""};
    }
    return {0, "", "unreachable"};
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    buffer_.clear();
  }

 private:
  bool connect() {
    boost::system::error_code ec;
    socket_.connect({boost::asio::ip::address_v4::loopback(), port_}, ec);
    if (ec) return false;
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    // A test must fail, not hang, when an answer never comes.
    timeval tv{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return true;
  }

  std::string authorization() {
    char nc[9];
    std::snprintf(nc, sizeof nc, "%08x", ++nc_);
    const std::string cnonce = "0a4f113b";
    const std::string ha1 = md5Hex(user_ + ":" + realm_ + ":" + password_);
    const std::string ha2 = md5Hex("POST:/wsman");
    const std::string response = md5Hex(ha1 + ":" + nonce_ + ":" + nc + ":" + cnonce + ":auth:" + ha2);
    return "Digest username=\"" + user_ + "\", realm=\"" + realm_ + "\", nonce=\"" + nonce_ +
           "\", uri=\"/wsman\", qop=auth, nc=" + nc + ", cnonce=\"" + cnonce + "\", response=\"" + response + "\"";
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
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::string realm_;
  std::string nonce_;
  unsigned nc_ = 0;
};

}  // namespace mesim::test
