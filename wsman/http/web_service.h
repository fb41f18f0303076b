// What the HTTP layer hands to a service of web pages on 16992/16993 (AMT's built-in web UI and its /amt-storage/
// API, wsman/webui): any request that is not POST /wsman, a legacy SOAP path or a WebSocket path. The service
// says which paths are public (served without Digest: the logon page, its stylesheet and images); every other
// request needs the same Digest login as /wsman (same accounts, realm, nonces and back-off) before the service
// sees it. No Beast types, so the service needs no HTTP code and wsman/http knows nothing of pages.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesim::wsman::http {

struct WebRequest {
  std::string method;       // "GET", "POST", "PUT", "DELETE", "HEAD"...
  std::string target;       // origin form as received: "/index.htm?x=1"
  std::string path;         // the target without its query: "/index.htm"
  std::string query;        // after '?', undecoded ("" when none)
  std::string contentType;  // the Content-Type header ("" when none)
  std::string body;
  std::string user;         // the Digest user; empty for a public path
  bool local = false;       // an in-process local channel (LMS), not a TCP listener
  bool tls = false;         // over 16993
  std::string peerAddress;  // the client's IP, or the local channel's name
};

struct WebResponse {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type, Location, Content-Encoding...
  std::string body;

  WebResponse& header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

struct WebService {
  // True for requests served without Digest credentials (the logon page and what it shows).
  std::function<bool(std::string_view method, std::string_view path)> isPublic;
  // Runs on the io_context thread and answers at once. An exception answers 500.
  std::function<WebResponse(const WebRequest& request)> handle;
};

}  // namespace mesim::wsman::http
