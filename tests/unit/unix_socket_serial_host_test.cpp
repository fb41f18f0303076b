// The Unix-socket host side of SOL (--sol-host unix:PATH / unix-connect:PATH): one peer, bytes both ways, a second
// peer turned away, a peer that leaves and the next one, reconnecting to a listener that comes late.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "wsman/redirection/unix_socket_serial_host.h"

namespace {

using namespace mesim::wsman::redirection;
using namespace std::chrono_literals;
using boost::asio::local::stream_protocol;
using Role = UnixSocketSerialHost::Role;

class UnixSocketSerialHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mesim-sol-unix-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "ttyS0.sock").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the loop until `done` or 5 s of real time.
  template <class Done>
  bool runUntil(Done done, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(10ms);
      io_.restart();
    }
    return done();
  }

  // A peer (the VM's serial port) on a socket of its own, driven on the same loop.
  std::string readPeer(stream_protocol::socket& peer, std::size_t n) {
    std::string got(n, '\0');
    std::size_t have = 0;
    bool failed = false;
    boost::asio::async_read(peer, boost::asio::buffer(got), [&](boost::system::error_code ec, std::size_t k) {
      have = k;
      failed = bool(ec);
    });
    runUntil([&] { return have == n || failed; });
    got.resize(have);
    return got;
  }

  boost::asio::io_context io_;
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(UnixSocketSerialHostTest, ListeningCarriesBytesBothWaysWithOnePeerAtATime) {
  auto host = UnixSocketSerialHost::open(io_, Role::Listen, path_);
  ASSERT_TRUE(host) << host.error().message;
  EXPECT_EQ((*host)->describe(), "unix " + path_);
  std::string fromHost;
  (*host)->setFromHost([&](std::string_view bytes) { fromHost += bytes; });

  // Before any peer, what the console types is dropped, as with no cable.
  (*host)->toHost("lost");
  EXPECT_EQ((*host)->stats().dropped, 4u);

  stream_protocol::socket vm(io_);
  vm.connect(stream_protocol::endpoint(path_));
  ASSERT_TRUE(runUntil([&] { return (*host)->connected(); }));
  (*host)->toHost("root\r");
  EXPECT_EQ(readPeer(vm, 5), "root\r");
  boost::asio::write(vm, boost::asio::buffer(std::string("login: ")));
  ASSERT_TRUE(runUntil([&] { return fromHost == "login: "; })) << fromHost;

  // A second cable is refused: closed at once.
  stream_protocol::socket second(io_);
  second.connect(stream_protocol::endpoint(path_));
  ASSERT_TRUE(runUntil([&] { return (*host)->stats().refused == 1; }));
  char byte;
  boost::system::error_code ec;
  second.read_some(boost::asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);

  // The peer leaves; the next one is served.
  vm.close();
  ASSERT_TRUE(runUntil([&] { return !(*host)->connected(); }));
  stream_protocol::socket next(io_);
  next.connect(stream_protocol::endpoint(path_));
  ASSERT_TRUE(runUntil([&] { return (*host)->connected(); }));
  (*host)->toHost("x");
  EXPECT_EQ(readPeer(next, 1), "x");
  EXPECT_EQ((*host)->stats().connections, 2u);

  host->reset();
  EXPECT_FALSE(std::filesystem::exists(path_)) << "the socket file goes with the host";
}

// Flow control: a peer that does not read fills the queue (full(), no byte dropped); reading drains it and says so
// once; a peer that leaves while full lets the console go on (its bytes are then dropped, as with no cable).
TEST_F(UnixSocketSerialHostTest, APeerThatReadsSlowlyHoldsTheConsoleBack) {
  auto host = UnixSocketSerialHost::open(io_, Role::Listen, path_);
  ASSERT_TRUE(host) << host.error().message;
  int drained = 0;
  (*host)->setOnDrained([&] { ++drained; });
  stream_protocol::socket vm(io_);
  vm.connect(stream_protocol::endpoint(path_));
  ASSERT_TRUE(runUntil([&] { return (*host)->connected(); }));

  std::string sent;
  for (int i = 0; !(*host)->full() && sent.size() < (8u << 20); ++i) {
    std::string chunk(4000, static_cast<char>('a' + i % 26));
    (*host)->toHost(chunk);
    sent += chunk;
    io_.poll();
    io_.restart();
  }
  ASSERT_TRUE((*host)->full()) << "the socket buffers fill, then the queue";
  EXPECT_EQ((*host)->stats().dropped, 0u);
  EXPECT_EQ(readPeer(vm, sent.size()), sent) << "every byte, in order";
  ASSERT_TRUE(runUntil([&] { return drained == 1; }));
  EXPECT_FALSE((*host)->full());

  while (!(*host)->full()) {
    (*host)->toHost(std::string(4000, 'z'));
    io_.poll();
    io_.restart();
  }
  vm.close();
  ASSERT_TRUE(runUntil([&] { return drained == 2; })) << "the peer went away: nothing left to wait for";
  EXPECT_FALSE((*host)->full());
  EXPECT_GT((*host)->stats().dropped, 0u);
}

TEST_F(UnixSocketSerialHostTest, AStaleSocketIsReplacedButNoOtherFile) {
  {
    auto first = UnixSocketSerialHost::open(io_, Role::Listen, path_);
    ASSERT_TRUE(first);
    // Leave the file behind as a crashed run would.
    const auto copy = dir_ / "kept";
    std::filesystem::rename(path_, copy);
    first->reset();
    std::filesystem::rename(copy, path_);
  }
  ASSERT_TRUE(std::filesystem::is_socket(path_));
  auto again = UnixSocketSerialHost::open(io_, Role::Listen, path_);
  ASSERT_TRUE(again) << again.error().message;
  again->reset();

  std::ofstream(dir_ / "notes.txt") << "keep me";
  auto refused = UnixSocketSerialHost::open(io_, Role::Listen, (dir_ / "notes.txt").string());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("is not a socket"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "notes.txt"));

  auto tooLong = UnixSocketSerialHost::open(io_, Role::Listen, std::string(200, 'a'));
  ASSERT_FALSE(tooLong);
  EXPECT_NE(tooLong.error().message.find("longer than"), std::string::npos);
}

TEST_F(UnixSocketSerialHostTest, ConnectingRetriesUntilTheVmListensAndAfterItGoes) {
  auto host = UnixSocketSerialHost::open(io_, Role::Connect, path_);
  ASSERT_TRUE(host) << host.error().message;
  EXPECT_EQ((*host)->describe(), "unix-connect " + path_);
  std::string fromHost;
  (*host)->setFromHost([&](std::string_view bytes) { fromHost += bytes; });
  runUntil([] { return false; }, 1500ms);  // nothing listens: two attempts fail quietly
  EXPECT_FALSE((*host)->connected());

  auto listener = std::make_unique<stream_protocol::acceptor>(io_, stream_protocol::endpoint(path_));
  stream_protocol::socket vm(io_);
  bool accepted = false;
  listener->async_accept(vm, [&](boost::system::error_code ec) { accepted = !ec; });
  ASSERT_TRUE(runUntil([&] { return accepted && (*host)->connected(); }));
  boost::asio::write(vm, boost::asio::buffer(std::string("BIOS\r\n")));
  ASSERT_TRUE(runUntil([&] { return fromHost == "BIOS\r\n"; }));
  (*host)->toHost("a");
  EXPECT_EQ(readPeer(vm, 1), "a");

  // The VM restarts: mesim connects again.
  vm.close();
  ASSERT_TRUE(runUntil([&] { return !(*host)->connected(); }));
  stream_protocol::socket vm2(io_);
  accepted = false;
  listener->async_accept(vm2, [&](boost::system::error_code ec) { accepted = !ec; });
  ASSERT_TRUE(runUntil([&] { return accepted && (*host)->connected(); }));
  EXPECT_EQ((*host)->stats().connections, 2u);
}

}  // namespace
