// Arbitrary bytes from a client into a WS-Man HTTP session (the same HttpSession class the listeners use, over
// Beast's in-memory stream), plus the Digest Authorization parser on the raw input. Every input must end with
// the connection answered or closed and the loop idle: no crash, no hang, no handler call without credentials
// except for the anonymous body, and no WebSocket upgrade (/ws-redirection) without them: an input cannot carry a
// Digest answer to a nonce it never saw, so reaching the WebSocket service at all is a hole.
#include <cstdlib>
#include <optional>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include "firmware/platform/platform_model.h"
#include "tests/fuzz/fuzz_platform.h"
#include "wsman/http/digest_auth.h"
#include "wsman/http/wsman_http_server.h"

namespace {

struct Fixture : mesim::test::FuzzPlatform {
  Fixture() : FuzzPlatform("fuzz-wsman-http") {
    mesim::wsman::http::WsmanHttpOptions options;
    options.httpPort = -1;
    options.httpsPort = -1;
    options.maxRequestBytes = 8 * 1024;
    options.digest.auditSuccessfulLogins = false;
    options.digest.lockoutThreshold = 1'000'000;  // keep inputs independent; failures still write audit records
    server = std::make_unique<mesim::wsman::http::WsmanHttpServer>(io, *platform, options);
    server->setHandler([](mesim::wsman::http::WsmanRequest request, mesim::wsman::http::WsmanReply reply) {
      if (request.user.empty() && request.body.find("Identify") == std::string::npos) std::abort();
      reply({200, "<ok/>", "application/soap+xml; charset=UTF-8"});
    });
    server->setAnonymousPredicate([](std::string_view body) { return body.find("Identify") != std::string_view::npos; });
    namespace http = mesim::wsman::http;
    http::WebSocketService webSocket;
    webSocket.admit = [](const http::WebSocketRequest&) -> std::optional<http::WebSocketRefusal> { std::abort(); };
    server->setWebSocket("/ws-redirection", std::move(webSocket));
  }
  boost::asio::io_context io;
  std::unique_ptr<mesim::wsman::http::WsmanHttpServer> server;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)mesim::wsman::http::parseDigestAuthorization(input);

  {
    boost::beast::test::stream client(f.io);
    boost::beast::test::stream remote(f.io);
    client.connect(remote);
    mesim::wsman::http::detail::ConnectionInfo info;
    info.peerAddress = "192.0.2.1";
    f.server->serveStream(std::move(remote), std::move(info));
    boost::asio::write(client, boost::asio::buffer(input.data(), input.size()));
    client.close();  // the server reads the input, then end of stream
    f.io.restart();
    f.io.run_for(std::chrono::seconds(10));
    if (!f.io.stopped()) std::abort();  // something still waits: a hang
  }
  if (f.server->activeConnections() != 0) std::abort();  // a session leaked
  // Keep the audit log from growing the state file without bound across millions of inputs.
  if (f.platform->state().logs.auditLog.size() > 64)
    f.platform->update([](mesim::platform::PlatformState& s) { s.logs.auditLog.clear(); });
  return 0;
}
