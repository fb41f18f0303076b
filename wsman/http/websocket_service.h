// What the HTTP layer hands to a service behind a WebSocket path (AMT's /ws-redirection on 16992/16993, docs/
// redirection.md "The web variant"): the upgrade is Digest-authenticated like any request, then the service gets
// each message's bytes and answers through a transport, one binary message per write. No Beast types, so a service
// (wsman/redirection) needs no WebSocket code and wsman/http needs none of the service's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mesim::wsman::http {

struct WebSocketRequest {
  std::string path;         // the served path (/ws-redirection); a query string is not part of it
  std::string user;         // the Digest user of the upgrade request
  bool local = false;       // an in-process local channel (LMS), not a TCP listener
  bool tls = false;         // over 16993
  std::string peerAddress;  // the client's IP, or the local channel's name
};

// The server's side of an open WebSocket, given to the service's endpoint.
struct WebSocketTransport {
  std::function<void(std::vector<std::uint8_t> message)> write;  // one binary message (one frame)
  std::function<void()> close;  // a close frame after the messages queued so far; safe inside receive()
};

// The service's side of one open WebSocket.
class WebSocketEndpoint {
 public:
  virtual ~WebSocketEndpoint() = default;
  // One message's payload (text or binary) as it came: the service buffers what a message leaves unfinished.
  virtual void receive(std::span<const std::uint8_t> bytes) = 0;
  // The connection is gone (closed by the client, failed, timed out, or the server stops). Idempotent.
  virtual void end(const std::string& why) = 0;
};

// An HTTP answer in place of the 101.
struct WebSocketRefusal {
  unsigned status = 503;
  std::string reason = "Service Unavailable";
  std::string detail;
};

struct WebSocketService {
  // After authentication, before the handshake: nullopt to go on, or the answer that refuses the upgrade.
  std::function<std::optional<WebSocketRefusal>(const WebSocketRequest& request)> admit;
  // Once the handshake is done; null closes the WebSocket at once.
  std::function<std::unique_ptr<WebSocketEndpoint>(const WebSocketRequest& request, WebSocketTransport transport)> open;
  // A longer message fails the connection (close code 1009).
  std::size_t maxMessageBytes = 64 * 1024;
};

}  // namespace mesim::wsman::http
