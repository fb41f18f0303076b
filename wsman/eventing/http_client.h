// A small HTTP/1.1 client for outgoing traffic (event delivery to subscribers, the BIOS's One Click Recovery download,
// tests): POST or GET, http or https,
// one request per connection, Digest (MD5, qop=auth) answered when the server challenges and credentials are
// given, one real-time deadline for the whole exchange, name lookup included (ARCHITECTURE.md: network timeouts use
// real time). Names are looked up by a NameResolver, off the loop and never one lookup behind another.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "common/result.h"
#include "wsman/eventing/name_resolver.h"

namespace mesim::wsman::eventing {

struct HttpPostRequest {
  std::string url;  // http://host[:port]/path or https://...
  std::string method = "POST";  // or "GET" (no body sent)
  std::string body;
  std::string contentType = "application/soap+xml; charset=UTF-8";
  std::string username;  // Digest credentials; empty = never answer a challenge
  std::string password;
  std::chrono::milliseconds timeout{5000};  // the whole exchange: name lookup, connect, TLS, request, answer
  std::size_t maxBody = 64 * 1024;         // a longer answer is an error (at the exchange stage)
  // With a verifying TLS context: the server's certificate must also name the URL's host (DNS name or IP address).
  bool verifyHostName = false;
};

struct HttpPostResult {
  // Where an exchange that got no HTTP response stopped.
  enum class Stage { None, Url, Resolve, Connect, Tls, Exchange };
  std::string error;  // "" when an HTTP response was read (whatever its status)
  unsigned status = 0;
  std::string body;
  Stage failedAt = Stage::None;
};

// A client TLS context. Peer certificates are not verified: a subscriber's certificate is whatever its
// operator made, and mesim has no provisioned trusted-root store to check it against.
std::shared_ptr<boost::asio::ssl::context> makeTlsClientContext();
// A client TLS context that verifies the server's chain against `rootsPem` (PEM certificates), and also against
// OpenSSL's default trust store when `systemStore`. An error if a root cannot be read.
// AMT keeps certificates as base64 DER (AMT_PublicKeyCertificate.X509Certificate); OpenSSL reads PEM.
std::string pemOfBase64Der(const std::string& base64Der);
Result<std::shared_ptr<boost::asio::ssl::context>> makeVerifyingTlsClientContext(const std::vector<std::string>& rootsPem,
                                                                               bool systemStore);

// Starts the POST on `io`; `done` is called once, later, on `io`, by `request.timeout` at the latest (a name
// lookup that hangs is "resolve HOST: timed out"). `resolver` looks the host up; it is kept as long as the POST
// runs, and must be `io`'s.
void httpPost(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls,
              std::shared_ptr<NameResolver> resolver, HttpPostRequest request, std::function<void(HttpPostResult)> done);
// The same with a resolver of its own (one-off requests, tests).
void httpPost(boost::asio::io_context& io, std::shared_ptr<boost::asio::ssl::context> tls, HttpPostRequest request,
              std::function<void(HttpPostResult)> done);

// The Authorization value answering the Digest challenge `wwwAuthenticate` for a request (RFC 7616, MD5);
// "" if the challenge is not a usable Digest one.
std::string digestAuthorization(std::string_view wwwAuthenticate, std::string_view method, std::string_view uri,
                                std::string_view username, std::string_view password, std::string_view cnonce);

}  // namespace mesim::wsman::eventing
