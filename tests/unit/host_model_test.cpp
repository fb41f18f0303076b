// The host model (Linux mei driver semantics, spec/mei.md §1.2) against the real HBM engine.
#include <gtest/gtest.h>

#include <cerrno>
#include <future>
#include <thread>

#include "hostif/client/mei_file.h"
#include "hostif/host/bus_fixup.h"
#include "tests/support/inprocess_platform.h"
#include "tests/support/test_clients.h"

namespace mesim::host {
namespace {

using client::MeiFile;
using namespace std::chrono_literals;

class HostModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    echo = std::make_shared<test::EchoClient>(1024, 4);
    machine.engine.addClient(echo);
    ASSERT_TRUE(machine.start());
  }
  std::string readText(MeiFile& f, std::size_t n = 2048) {
    std::vector<std::uint8_t> buf(n);
    auto r = f.read(buf, false, 2000ms);
    if (r < 0) return "errno:" + std::to_string(-r);
    return std::string(buf.begin(), buf.begin() + r);
  }
  ssize_t writeText(MeiFile& f, const std::string& s, bool nonblocking = false) {
    return f.write(hbm::ByteView(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()), nonblocking);
  }

  static host::HostOptions options() {
    host::HostOptions o;
    o.connectTimeout = std::chrono::milliseconds(500);  // keeps the no-answer cases short
    return o;
  }
  test::InProcessMachine machine{options()};
  std::shared_ptr<test::EchoClient> echo;
};

TEST_F(HostModelTest, EnumeratesAndReportsSysfs) {
  EXPECT_EQ(machine.run([&] { return machine.host->sysfsDevState(); }), "ENABLED");
  EXPECT_EQ(machine.run([&] { return machine.host->sysfsHbmVer(); }), "2.2\n");
  EXPECT_EQ(machine.run([&] { return machine.host->sysfsHbmVerDrv(); }), "2.2\n");
  EXPECT_EQ(machine.run([&] { return machine.host->sysfsFwStatus(); }),
            "94000245\n09F10506\n00000020\n00004000\n00041F03\nC7E003CB\n");
  EXPECT_EQ(machine.run([&] { return machine.host->sysfsKind(); }), "mei\n");
  EXPECT_EQ(machine.run([&] { return machine.host->sysfsTxQueueLimit(); }), "50\n");
  EXPECT_EQ(machine.run([&] { return machine.host->setTxQueueLimit(10); }), EINVAL);
  auto clients = machine.run([&] { return machine.host->clients(); });
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].props.uuid, test::kEchoGuid);
}

TEST_F(HostModelTest, ConnectReturnsPropertiesAndEchoes) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  hbm::ClientProperties props;
  ASSERT_EQ(f.connect(test::kEchoGuid, &props), 0);
  EXPECT_EQ(props.maxMsgLength, 1024u);
  EXPECT_EQ(props.protocolVersion, 3);
  EXPECT_EQ(writeText(f, "ping"), 4);
  EXPECT_EQ(readText(f), "ping");
  EXPECT_EQ(writeText(f, "again"), 5);
  EXPECT_EQ(readText(f), "again");
}

TEST_F(HostModelTest, ErrnoCases) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  std::vector<std::uint8_t> buf(16);
  EXPECT_EQ(f.read(buf), -ENODEV) << "read on an unconnected file";
  EXPECT_EQ(writeText(f, "x"), -ENODEV) << "write on an unconnected file";
  EXPECT_EQ(f.poll(POLLIN, 10ms), POLLERR);
  EXPECT_EQ(f.connect(*hbm::Guid::parse("00000000-0000-0000-0000-000000000001")), ENOTTY);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  EXPECT_EQ(f.connect(test::kEchoGuid), EBUSY) << "second connect on a connected fd";
  EXPECT_EQ(f.write(hbm::Bytes(1025, 1)), -EFBIG);
  EXPECT_EQ(f.write(hbm::Bytes{}), 0);
  EXPECT_EQ(f.read(std::span<std::uint8_t>{}), 0);
  EXPECT_EQ(f.read(buf, true), -EAGAIN);
  std::uint32_t event = 0;
  EXPECT_EQ(f.notifyGet(event, true), EAGAIN);
  EXPECT_EQ(f.notifySet(2), EINVAL);
}

TEST_F(HostModelTest, VtagConnectIsNotSupported) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  auto result = std::make_shared<std::promise<int>>();
  machine.run([&] {
    FileId id = 0;
    EXPECT_EQ(machine.host->open(id), 0);
    machine.host->connectVtag(id, test::kEchoGuid, 1, [result](int err, const hbm::ClientProperties&) {
      result->set_value(err);
    });
  });
  EXPECT_EQ(result->get_future().get(), EOPNOTSUPP);
}

TEST_F(HostModelTest, ShortReadsReturnTheRestBeforeTheNextMessage) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  writeText(f, "abcdefghij");
  EXPECT_EQ(readText(f, 4), "abcd");
  writeText(f, "second");
  EXPECT_EQ(readText(f, 4), "efgh");
  EXPECT_EQ(readText(f, 100), "ij");
  EXPECT_EQ(readText(f, 100), "second");
}

TEST_F(HostModelTest, PollStartsARead) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  EXPECT_EQ(f.poll(POLLOUT, 10ms) & POLLOUT, POLLOUT);
  writeText(f, "polled");
  short revents = f.poll(POLLIN, 2000ms);
  EXPECT_TRUE(revents & POLLIN);
  EXPECT_EQ(readText(f), "polled");
}

TEST_F(HostModelTest, LargeMessagesCrossFragmented) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  std::string big(1024, 'q');
  EXPECT_EQ(writeText(f, big), 1024);
  EXPECT_EQ(readText(f), big);
}

TEST_F(HostModelTest, FirmwareDisconnectGivesEnodevThenReconnectOnSameFd) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  writeText(f, "BYE");
  std::vector<std::uint8_t> buf(16);
  EXPECT_EQ(f.read(buf, false, 2000ms), -ENODEV);
  EXPECT_EQ(writeText(f, "x"), -ENODEV);
  EXPECT_EQ(f.poll(POLLIN, 10ms), POLLERR);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  writeText(f, "back");
  EXPECT_EQ(readText(f), "back");
}

TEST_F(HostModelTest, BlockedReadEndsWithEnodevOnFirmwareReset) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  auto reader = std::async(std::launch::async, [&] {
    std::vector<std::uint8_t> buf(16);
    return f.read(buf);
  });
  std::this_thread::sleep_for(50ms);
  machine.run([&] { machine.engine.reset("test"); });
  EXPECT_EQ(reader.get(), -ENODEV);
  // the device re-enumerates and the same fd may connect again
  for (int i = 0; i < 100 && machine.run([&] { return machine.host->state(); }) != DevState::Enabled; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  writeText(f, "after reset");
  EXPECT_EQ(readText(f), "after reset");
  EXPECT_EQ(machine.run([&] { return machine.host->stats().resets; }), 1u);
}

TEST_F(HostModelTest, NotificationsReachNotifyGet) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  ASSERT_EQ(f.notifySet(1), 0);
  writeText(f, "NOTIFY");
  std::uint32_t event = 0;
  EXPECT_EQ(f.notifyGet(event, false), 0);
  EXPECT_EQ(event, 1u);
  EXPECT_EQ(f.notifyGet(event, true), EAGAIN);
  ASSERT_EQ(f.notifySet(0), 0);
}

TEST_F(HostModelTest, MaxConnectionsGivesEbusy) {
  std::vector<std::unique_ptr<MeiFile>> files;
  for (int i = 0; i < 4; ++i) {
    files.push_back(std::make_unique<MeiFile>(machine.io, *machine.host));
    ASSERT_EQ(files.back()->open(), 0);
    ASSERT_EQ(files.back()->connect(test::kEchoGuid), 0);
  }
  MeiFile extra(machine.io, *machine.host);
  ASSERT_EQ(extra.open(), 0);
  EXPECT_EQ(extra.connect(test::kEchoGuid), EBUSY);
  files[0]->close();
  // the disconnect completed before close returned, so the slot is free
  EXPECT_EQ(extra.connect(test::kEchoGuid), 0);
}

TEST_F(HostModelTest, TooManyOpenFilesGivesEmfile) {
  std::vector<std::unique_ptr<MeiFile>> files;
  int err = 0;
  for (int i = 0; i < 300 && err == 0; ++i) {
    files.push_back(std::make_unique<MeiFile>(machine.io, *machine.host));
    err = files.back()->open();
  }
  EXPECT_EQ(err, EMFILE);
  EXPECT_EQ(files.size(), 256u);  // 255 host addresses, the 256th open fails
}

TEST_F(HostModelTest, BlockedReadInterruptedByCancel) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  std::vector<std::uint8_t> buf(16);
  EXPECT_EQ(f.read(buf, false, 50ms), -ETIME);  // cancelled after the timeout (EINTR inside)
  writeText(f, "still works");
  EXPECT_EQ(readText(f), "still works");
}

// The kernel's mei_write: at tx_queue_limit queued messages a non-blocking write is EAGAIN and a blocking one waits
// (EINTR on a signal) until the queue drops below it; poll() reports POLLOUT only below it.
TEST_F(HostModelTest, AWriterThatNeverReadsStopsAtTheTxQueueLimit) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  // Nobody reads: the echo's first answer waits in the firmware, which then grants no credit.
  int accepted = 0;
  for (int i = 0; i < 60; ++i)
    if (writeText(f, "q", true) == 1) ++accepted;
  EXPECT_EQ(accepted, 51) << "one went out on the connect's credit, 50 queued";
  EXPECT_EQ(writeText(f, "q", true), -EAGAIN);
  EXPECT_EQ(f.poll(POLLOUT, 50ms), 0) << "not writable at the limit";
  EXPECT_EQ(echo->received.size(), 1u);

  auto blocked = std::async(std::launch::async, [&] { return writeText(f, "blocked"); });
  EXPECT_EQ(blocked.wait_for(100ms), std::future_status::timeout) << "a blocking write waits";
  EXPECT_EQ(machine.run([&] { return machine.host->stats().pendingCalls; }), 1u);

  EXPECT_EQ(readText(f), "q") << "reading takes the answer: the firmware takes the next request";
  EXPECT_EQ(blocked.get(), 7) << "and the waiting write gets into the queue";
  EXPECT_EQ(f.poll(POLLOUT, 0ms), 0) << "which is full again";
  EXPECT_EQ(readText(f), "q");
  EXPECT_TRUE(f.poll(POLLOUT, 1000ms) & POLLOUT) << "one place free";
  for (int i = 0; i < 49; ++i) EXPECT_EQ(readText(f), "q") << i;
  EXPECT_EQ(readText(f), "blocked");
}

// The limit set through sysfs counts, and a signal ends a blocked write with EINTR (MeiHost::cancel).
TEST_F(HostModelTest, ABlockedWriteEndsWithEintrWhenCancelled) {
  ASSERT_EQ(machine.run([&] { return machine.host->setTxQueueLimit(30); }), 0);
  auto connected = std::make_shared<std::promise<int>>();
  FileId file = 0;
  machine.run([&] {
    ASSERT_EQ(machine.host->open(file), 0);
    machine.host->connect(file, test::kEchoGuid,
                          [connected](int err, const hbm::ClientProperties&) { connected->set_value(err); });
  });
  ASSERT_EQ(connected->get_future().get(), 0);
  auto write = [&](bool nonblocking, std::shared_ptr<std::promise<ssize_t>> result) {
    return machine.run([&] {
      return machine.host->write(file, hbm::Bytes{'q'}, nonblocking, [result](ssize_t r) { result->set_value(r); });
    });
  };
  for (int i = 0; i < 31; ++i) {
    auto result = std::make_shared<std::promise<ssize_t>>();
    write(true, result);
    ASSERT_EQ(result->get_future().get(), 1) << i;
  }
  auto refused = std::make_shared<std::promise<ssize_t>>();
  write(true, refused);
  EXPECT_EQ(refused->get_future().get(), -EAGAIN);

  auto blocked = std::make_shared<std::promise<ssize_t>>();
  auto blockedResult = blocked->get_future();
  const Ticket ticket = write(false, blocked);
  ASSERT_NE(ticket, 0u) << "a blocking write at the limit waits";
  EXPECT_EQ(blockedResult.wait_for(50ms), std::future_status::timeout);
  machine.run([&] { machine.host->cancel(ticket); });
  EXPECT_EQ(blockedResult.get(), -EINTR);
  EXPECT_EQ(machine.run([&] { return machine.host->stats().pendingCalls; }), 0u);
  machine.run([&] { machine.host->close(file, [] {}); });
}

TEST_F(HostModelTest, ConnectWithoutAnAnswerIsEfault) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  machine.run([&] { machine.engine.detach(); });  // the firmware stops answering
  EXPECT_EQ(f.connect(test::kEchoGuid), EFAULT);
}

TEST_F(HostModelTest, OpenWhileTheDeviceIsNotEnabledIsEnodev) {
  machine.run([&] {
    machine.engine.detach();
    machine.host->reset("test");  // restarts, but no firmware answers READY
  });
  EXPECT_NE(machine.run([&] { return machine.host->state(); }), DevState::Enabled);
  MeiFile f(machine.io, *machine.host);
  EXPECT_EQ(f.open(), ENODEV);
}

TEST_F(HostModelTest, RepeatedResetsWithoutFirmwareEndDisabled) {
  machine.run([&] {
    machine.engine.detach();
    machine.host->reset("test");
  });
  // each start waits startTimeout (2 s by default) for READY: 4 attempts then DISABLED
  DevState state = DevState::Initializing;
  for (int i = 0; i < 120 && state != DevState::Disabled; ++i) {
    std::this_thread::sleep_for(100ms);
    state = machine.run([&] { return machine.host->state(); });
  }
  EXPECT_EQ(state, DevState::Disabled);
  EXPECT_EQ(machine.run([&] { return machine.host->sysfsDevState(); }), "DISABLED");
}

TEST_F(HostModelTest, FsyncWaitsForQueuedWrites) {
  MeiFile f(machine.io, *machine.host);
  ASSERT_EQ(f.open(), 0);
  ASSERT_EQ(f.connect(test::kEchoGuid), 0);
  EXPECT_EQ(f.fsync(), 0);  // nothing queued
  writeText(f, "HOLD");     // the echo client withholds its next credit (and sends nothing)
  EXPECT_EQ(writeText(f, "queued"), 6);  // accepted at once, waiting for a credit
  auto synced = std::async(std::launch::async, [&] { return f.fsync(); });
  EXPECT_EQ(synced.wait_for(100ms), std::future_status::timeout);
  machine.run([&] { echo->last->resumeReceive(); });
  EXPECT_EQ(synced.get(), 0);
  EXPECT_EQ(readText(f), "queued");
}

// Several devices in one process: a second firmware and host model on the same loop, with a log context of its
// own, serve their files independently; resetting one leaves the other's connections alone.
TEST_F(HostModelTest, TwoHostsOnOneLoopAreIndependent) {
  auto secondEcho = std::make_shared<test::EchoClient>(256, 1);
  std::unique_ptr<firmware::HbmEngine> secondEngine;
  std::unique_ptr<MeiHost> secondHost;
  HostOptions secondOptions = options();
  secondOptions.log = log::Context("mei1");
  machine.run([&] {
    secondEngine = std::make_unique<firmware::HbmEngine>(machine.io);
    secondEngine->addClient(secondEcho);
    auto link = link::makeInProcessLink(machine.io);
    secondEngine->attach(link.firmware);
    secondHost = std::make_unique<MeiHost>(machine.io, link.host, secondOptions);
    secondHost->start();
  });
  for (int i = 0; i < 200 && machine.run([&] { return secondHost->state(); }) != DevState::Enabled; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(machine.run([&] { return secondHost->state(); }), DevState::Enabled);
  EXPECT_EQ(secondHost->logContext().device(), "mei1");
  EXPECT_EQ(machine.host->logContext().device(), "") << "the default is the process's context";

  MeiFile first(machine.io, *machine.host);
  MeiFile second(machine.io, *secondHost);
  ASSERT_EQ(first.open(), 0);
  ASSERT_EQ(second.open(), 0);
  hbm::ClientProperties firstProps, secondProps;
  ASSERT_EQ(first.connect(test::kEchoGuid, &firstProps), 0);
  ASSERT_EQ(second.connect(test::kEchoGuid, &secondProps), 0);
  EXPECT_EQ(firstProps.maxMsgLength, 1024u);
  EXPECT_EQ(secondProps.maxMsgLength, 256u);
  EXPECT_EQ(writeText(first, "one"), 3);
  EXPECT_EQ(writeText(second, "two"), 3);
  EXPECT_EQ(readText(second), "two");
  EXPECT_EQ(readText(first), "one");

  machine.run([&] { secondHost->reset("test"); });
  std::vector<std::uint8_t> buf(16);
  EXPECT_EQ(second.read(buf, false, 2000ms), -ENODEV) << "the reset host's file is disconnected";
  EXPECT_EQ(writeText(first, "still"), 5);
  EXPECT_EQ(readText(first), "still") << "the other host is untouched";
  EXPECT_EQ(machine.run([&] { return machine.host->stats().resets; }), 0u);
  EXPECT_EQ(machine.run([&] { return secondHost->stats().resets; }), 1u);

  second.close();
  machine.run([&] {
    secondHost.reset();
    secondEngine.reset();
  });
}

// bus-fixup.c's GET_FW_VERSION answer as sysfs fw_ver shows it (spec §2.4, §5).
TEST(BusFixup, FirmwareVersionReplyBecomesThreeSysfsLines) {
  const hbm::Bytes reply{0xFF, 0x82, 0x00, 0x00,                           // MKHI GEN, GET_FW_VERSION response
                         0x05, 0x00, 0x10, 0x09, 0x2C, 0x06, 0x03, 0x00,   // code: 9:16.5.3.1580
                         0x01, 0x00, 0x02, 0x03, 0x04, 0x00, 0x05, 0x00};  // NFTP: 3:2.1.5.4
  const auto blocks = parseFwVersionReply(reply);
  ASSERT_TRUE(blocks.has_value());
  ASSERT_EQ(blocks->size(), 2u);
  EXPECT_EQ(formatFwVer(*blocks), "9:16.5.3.1580\n3:2.1.5.4\n0:0.0.0.0\n") << "a missing block reads as zeros";
  EXPECT_EQ(formatFwVer({}), "0:0.0.0.0\n0:0.0.0.0\n0:0.0.0.0\n");
}

TEST(BusFixup, AnythingButAGetFwVersionReplyIsIgnored) {
  EXPECT_FALSE(parseFwVersionReply({0xFF, 0x82, 0x00, 0x00}).has_value()) << "too short";
  EXPECT_FALSE(parseFwVersionReply(hbm::Bytes(12, 0)).has_value()) << "not MKHI GEN";
  hbm::Bytes failed{0xFF, 0x82, 0x00, 0x8D, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(parseFwVersionReply(failed).has_value()) << "a failure status";
}

}  // namespace
}  // namespace mesim::host
