// What the HTTP layer hands to the SOAP layer and gets back: one authenticated (or anonymous Identify)
// POST /wsman body in, one status + body out. No Beast types, so wsman/soap and wsman/ops need not know HTTP.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace mesim::wsman::http {

struct WsmanRequest {
  std::string path = "/wsman";  // the request-target's path: /wsman, or a legacy SOAP path (setExtraPaths)
  std::string body;         // the SOAP envelope as received (UTF-8)
  std::string user;         // Digest user name; empty for an anonymous request (allowsAnonymous said yes)
  bool local = false;       // came through an in-process local channel (LMS/APF), not a TCP listener
  bool tls = false;         // came over the TLS listener (16993)
  std::string peerAddress;  // IP address of the client ("127.0.0.1", "::1"), or the local channel's name
};

struct WsmanResponse {
  unsigned status = 200;  // 200, or 400/500... for SOAP faults (spec/wsman.md §1.7)
  std::string body;
  std::string contentType = "application/soap+xml; charset=UTF-8";
};

// Answers exactly once. If every copy of it is dropped unanswered, the HTTP layer answers 500 itself.
using WsmanReply = std::function<void(WsmanResponse)>;

// Runs on the io_context thread; may answer at once (inside the call) or later.
using WsmanHandler = std::function<void(WsmanRequest, WsmanReply)>;

// True for bodies that are served without Digest credentials (WS-Man Identify, spec/wsman.md §1.4).
using AnonymousPredicate = std::function<bool(std::string_view body)>;

}  // namespace mesim::wsman::http
