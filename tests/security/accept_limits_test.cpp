// Issue #10 item 5 (connection limits), in one process: listeners that run out of descriptors pause and go on
// (each on its own), accepted sockets never take the descriptors kept for the firmware, and the control API
// bounds its connections (idle ones make room), its request time, and answers what it cannot read in JSON.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "app/control_server.h"
#include "common/text_codecs.h"
#include "firmware/platform/platform_model.h"
#include "tests/support/daemon_process.h"
#include "tests/support/descriptor_squeeze.h"
#include "tests/unit/firmware_test_support.h"
#include "wsman/http/wsman_http_server.h"

namespace mesim {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// CPU time this process used, all threads.
std::chrono::milliseconds cpuTime() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return std::chrono::milliseconds(t.tv_sec * 1000 + t.tv_usec / 1000); };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

void send(int fd, const std::string& bytes) { ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())); }

// What arrived on `fd` so far without waiting; `closed` is set once the peer closed.
std::string receiveNow(int fd, bool* closed = nullptr) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (closed && (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))) *closed = true;
    return out;
  }
}

class AcceptLimitsTest : public ::testing::Test {
 protected:
  AcceptLimitsTest() : quiet_(log::Level::Off) {}

  ~AcceptLimitsTest() override {
    for (int fd : clients_) ::close(fd);
  }

  int connectTo(std::uint16_t port) {
    int fd = test::connectLoopback(port);
    EXPECT_GE(fd, 0);
    clients_.push_back(fd);
    return fd;
  }

  // Runs the loop until `done` or `limit`.
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit = 3000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      io_.restart();
      io_.run_for(5ms);
    }
    return true;
  }

  void runFor(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  // Runs the loop until `fd` has a whole answer and the server closed it; the answer.
  std::string answerOn(int fd) {
    std::string got;
    bool closed = false;
    runUntil([&] {
      got += receiveNow(fd, &closed);
      return closed;
    });
    return got;
  }

  std::unique_ptr<platform::PlatformModel> openPlatform() {
    auto opened = platform::PlatformModel::open(dir_.path(), {});
    EXPECT_TRUE(opened) << opened.error().message;
    return opened ? std::move(*opened) : nullptr;
  }

  test::LogThreshold quiet_;
  test::TempDir dir_{"accept-limits"};
  asio::io_context io_;
  std::vector<int> clients_;
};

// ---- WS-Man

TEST_F(AcceptLimitsTest, BothWsmanListenersOutliveRunningOutOfDescriptors) {
  if (test::kSanitizerBuild) GTEST_SKIP() << test::kNoSqueezeUnderSanitizers;
  auto platform = openPlatform();
  ASSERT_TRUE(platform);
  wsman::http::WsmanHttpOptions options;
  options.httpPort = 0;
  options.httpsPort = 0;
  options.stateDir = dir_.path();
  options.descriptorReserve = 0;
  wsman::http::WsmanHttpServer server(io_, *platform, options);
  ASSERT_EQ(errorOf(server.start()), "");
  const auto ports = server.ports();
  // Both clients wait in the listen backlogs while the process has no descriptor to accept them with.
  connectTo(ports.http);
  connectTo(ports.https);
  {
    test::DescriptorSqueeze squeeze;
    ASSERT_TRUE(squeeze.ok());
    ASSERT_TRUE(runUntil([&] { return server.stats().acceptErrors >= 2; }));
    runFor(300ms);
    EXPECT_EQ(server.stats().connections, 0u);
    EXPECT_LE(server.stats().acceptErrors, 20u) << "the listeners retry without pausing";
  }
  // Descriptors are back: each listener takes its client (one shared pause would have ended the other).
  EXPECT_TRUE(runUntil([&] { return server.stats().connections == 2; }))
      << "connections served: " << server.stats().connections;
  server.stop();
}

TEST_F(AcceptLimitsTest, WsmanNeverTakesTheDescriptorsKeptForTheFirmware) {
  auto platform = openPlatform();
  ASSERT_TRUE(platform);
  wsman::http::WsmanHttpOptions options;
  options.httpPort = 0;
  options.httpsPort = -1;
  options.stateDir = dir_.path();
  options.descriptorReserve = 8;
  wsman::http::WsmanHttpServer server(io_, *platform, options);
  ASSERT_EQ(errorOf(server.start()), "");
  const int refused = connectTo(server.ports().http);
  {
    test::DescriptorSqueeze squeeze(/*spare=*/4);  // 4 free, all within the reserve of 8
    ASSERT_TRUE(squeeze.ok());
    ASSERT_TRUE(runUntil([&] { return server.stats().descriptorsShort >= 1; }));
    EXPECT_EQ(server.stats().connections, 0u);
    bool closed = false;
    EXPECT_TRUE(runUntil([&] { return receiveNow(refused, &closed).empty() && closed; })) << "closed unanswered";
    // What the firmware opens still finds a descriptor.
    const int file = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_GE(file, 0);
    if (file >= 0) ::close(file);
  }
  // With descriptors to spare, the next client is served.
  const int served = connectTo(server.ports().http);
  send(served, "POST /wsman HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(answerOn(served).rfind("HTTP/1.1 401", 0), 0u);
  server.stop();
}

// ---- the control API

class ControlApiTest : public AcceptLimitsTest {
 protected:
  app::ControlServer& start(app::ControlServerOptions options) {
    server_ = std::make_unique<app::ControlServer>(
        io_,
        [this](const std::string& method, const std::string& target, const std::string&) {
          ++handled_;
          return app::ControlResponse{200, "application/json", "{\"method\":\"" + method + "\",\"target\":\"" + target + "\"}"};
        },
        options);
    EXPECT_EQ(errorOf(server_->start("127.0.0.1", 0)), "");
    return *server_;
  }

  int handled_ = 0;
  std::unique_ptr<app::ControlServer> server_;
};

TEST_F(ControlApiTest, OutOfDescriptorsTheListenerPausesInsteadOfSpinningAndGoesOn) {
  if (test::kSanitizerBuild) GTEST_SKIP() << test::kNoSqueezeUnderSanitizers;
  app::ControlServerOptions options;
  options.descriptorReserve = 0;
  auto& server = start(options);
  const int client = connectTo(server.port());
  send(client, "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  {
    test::DescriptorSqueeze squeeze;
    ASSERT_TRUE(squeeze.ok());
    const auto cpuBefore = cpuTime();
    runFor(500ms);
    const auto cpu = cpuTime() - cpuBefore;
    EXPECT_GE(server.stats().acceptErrors, 1u);
    EXPECT_LE(server.stats().acceptErrors, 20u) << "a failing accept was retried at once";
    EXPECT_LT(cpu.count(), 150) << "the loop spun on a failing accept";
  }
  const std::string answer = answerOn(client);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_EQ(handled_, 1);
}

TEST_F(ControlApiTest, AtTheCapTheLongestIdleConnectionMakesRoom) {
  app::ControlServerOptions options;
  options.maxConnections = 4;
  auto& server = start(options);
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connectTo(server.port()));
    ASSERT_TRUE(runUntil([&] { return server.openConnections() == idle.size(); }));
  }
  const int client = connectTo(server.port());
  send(client, "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answerOn(client).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(server.stats().evicted, 1u);
  bool closed = false;
  EXPECT_TRUE(runUntil([&] { return receiveNow(idle.front(), &closed).empty() && closed; }))
      << "the oldest idle connection was the one closed";
  EXPECT_LE(server.openConnections(), 4u);
}

TEST_F(ControlApiTest, AtTheCapWithNobodyIdleANewcomerGets503InJson) {
  app::ControlServerOptions options;
  options.maxConnections = 2;
  auto& server = start(options);
  for (int i = 0; i < 2; ++i) send(connectTo(server.port()), "GET /status HTTP/1.1\r\nHo");  // mid-request
  ASSERT_TRUE(runUntil([&] { return server.openConnections() == 2; }));
  runFor(20ms);
  const int client = connectTo(server.port());
  const std::string answer = answerOn(client);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NO_THROW(boost::json::parse(answer.substr(answer.find("\r\n\r\n") + 4)));
  EXPECT_EQ(server.stats().rejectedBusy, 1u);
  EXPECT_EQ(server.stats().evicted, 0u);
}

TEST_F(ControlApiTest, MalformedRequestsGetA400WithValidJson) {
  auto& server = start({});
  for (const std::string& request : {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/1.1\r\nBad\xff\xfeHeader\r\n\r\n"),
                                    std::string("GET /status HTTP/1.1\r\nContent-Length: zz\r\n\r\n")}) {
    const int client = connectTo(server.port());
    send(client, request);
    const std::string answer = answerOn(client);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos);
    const std::string body = answer.substr(answer.find("\r\n\r\n") + 4);
    EXPECT_TRUE(text::isValidUtf8(body)) << body;
    EXPECT_NO_THROW(boost::json::parse(body)) << body;
  }
  EXPECT_EQ(handled_, 0);
  EXPECT_EQ(server.stats().badRequests, 3u);
}

TEST_F(ControlApiTest, ARequestThatDoesNotArriveInTimeGets408) {
  app::ControlServerOptions options;
  options.requestTimeout = 200ms;
  auto& server = start(options);
  const int slow = connectTo(server.port());
  send(slow, "GET /status HTTP/1.1\r\nHost:");
  const auto sent = std::chrono::steady_clock::now();
  const std::string answer = answerOn(slow);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 150ms);
  EXPECT_NO_THROW(boost::json::parse(answer.substr(answer.find("\r\n\r\n") + 4)));
  // An idle connection is closed quietly after its own deadline.
  options.idleTimeout = 100ms;
  server_.reset();
  auto& again = start(options);
  const int idle = connectTo(again.port());
  EXPECT_EQ(answerOn(idle), "");
}

}  // namespace
}  // namespace mesim
