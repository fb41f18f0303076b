#include "wsman/redirection/web_redirection.h"

#include <memory>
#include <utility>

namespace mesim::wsman::redirection {

namespace {

// One WebSocket's RedirectionSession: each message's bytes go in as they came (the session buffers a message a
// frame leaves unfinished and takes several from one frame); each of its messages goes out as one binary frame.
class WebRedirectionEndpoint final : public http::WebSocketEndpoint {
 public:
  explicit WebRedirectionEndpoint(std::unique_ptr<RedirectionSession> session) : session_(std::move(session)) {}
  void receive(std::span<const std::uint8_t> bytes) override { session_->receive(bytes); }
  void end(const std::string& why) override { session_->end(why); }

 private:
  std::unique_ptr<RedirectionSession> session_;
};

}  // namespace

http::WebSocketService webRedirectionService(RedirectionService& service) {
  http::WebSocketService web;
  web.admit = [&service](const http::WebSocketRequest&) -> std::optional<http::WebSocketRefusal> {
    if (service.accepting()) return std::nullopt;
    // Real firmware's answer is not documented; 16994 closes such connections unanswered, and an HTTP client is
    // better served by a status that says why.
    return http::WebSocketRefusal{503, "Service Unavailable",
                                  "The redirection listener is disabled (AMT_RedirectionService.ListenerEnabled) or "
                                  "the device is not provisioned."};
  };
  web.open = [&service](const http::WebSocketRequest& request, http::WebSocketTransport transport)
      -> std::unique_ptr<http::WebSocketEndpoint> {
    RedirectionSessionOptions options;
    options.httpUser = request.user;
    auto session = service.open({std::move(transport.write), std::move(transport.close)}, request.peerAddress,
                                std::move(options));
    return std::make_unique<WebRedirectionEndpoint>(std::move(session));
  };
  // The largest message a console sends is a 0x28 with its u16 length (64 KiB + 10), or a merge of a few small ones.
  web.maxMessageBytes = kMaxSolDataBytes + 10 + kMaxMessageBytes;
  return web;
}

}  // namespace mesim::wsman::redirection
