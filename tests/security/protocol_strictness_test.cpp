// Issue #10 item 10 (protocol strictness), the part that is a security regression: request smuggling through a
// transfer coding the server cannot frame. The WS-Man server runs in this process on a loopback socket.
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>
#include <string>

#include <boost/asio/io_context.hpp>

#include "firmware/platform/platform_model.h"
#include "tests/support/daemon_process.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/http/wsman_http_server.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;

const std::string kIdentify = "<wsmid:Identify/>";

class RequestSmugglingTest : public ::testing::Test {
 protected:
  RequestSmugglingTest() : quiet_(log::Level::Off) {
    auto opened = platform::PlatformModel::open(dir_.path(), {});
    EXPECT_TRUE(opened) << opened.error().message;
    platform_ = std::move(*opened);
    wsman::http::WsmanHttpOptions options;
    options.httpPort = 0;
    options.httpsPort = -1;
    options.stateDir = dir_.path();
    server_ = std::make_unique<wsman::http::WsmanHttpServer>(io_, *platform_, options);
    server_->setHandler([this](wsman::http::WsmanRequest, wsman::http::WsmanReply reply) {
      ++handled_;
      reply({200, "<identified/>", "application/soap+xml; charset=UTF-8"});
    });
    server_->setAnonymousPredicate([](std::string_view body) { return body.find(kIdentify) != std::string_view::npos; });
    EXPECT_EQ(errorOf(server_->start()), "");
  }
  ~RequestSmugglingTest() override { server_->stop(); }

  // Sends `raw` on a new connection and returns all the server answers until it closes (or 2 s pass).
  std::string exchange(const std::string& raw) {
    const int fd = test::connectLoopback(server_->ports().http);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL), static_cast<ssize_t>(raw.size()));
    std::string got;
    const auto end = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < end) {
      io_.restart();
      io_.run_for(5ms);
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) got.append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) break;  // closed
    }
    ::close(fd);
    return got;
  }

  static int count(const std::string& text, const std::string& what) {
    int n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  test::LogThreshold quiet_;
  test::TempDir dir_{"smuggling"};
  boost::asio::io_context io_;
  std::unique_ptr<platform::PlatformModel> platform_;
  std::unique_ptr<wsman::http::WsmanHttpServer> server_;
  int handled_ = 0;
};

std::string identifyRequest() {
  return "POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kIdentify.size()) + "\r\n\r\n" + kIdentify;
}

TEST_F(RequestSmugglingTest, ABodyBehindTransferEncodingGzipIsNeverTakenForARequest) {
  // A front end that honours Transfer-Encoding would see one request; a server that reads no body sees two.
  const std::string smuggled = identifyRequest();
  const std::string answer =
      exchange("POST /index.htm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(count(answer, "HTTP/1.1 "), 1) << answer;
  EXPECT_EQ(handled_, 0) << "the body was served as a request of its own";
}

TEST_F(RequestSmugglingTest, TransferEncodingAndContentLengthTogetherAreRefused) {
  const std::string smuggled = identifyRequest();
  const std::string answer = exchange("POST /index.htm HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_EQ(count(answer, "HTTP/1.1 "), 1) << answer;
  EXPECT_EQ(handled_, 0);
}

TEST_F(RequestSmugglingTest, AnIdentifyOnItsOwnIsServed) {  // the harness itself: a request that should pass does
  std::string request = identifyRequest();
  request.insert(request.find("\r\n") + 2, "Connection: close\r\n");
  EXPECT_EQ(exchange(request).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(handled_, 1);
}

}  // namespace
}  // namespace mesim
