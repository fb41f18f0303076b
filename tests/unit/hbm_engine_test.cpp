// The ME side of HBM driven frame by frame, as an external host driver would (spec/mei.md §2).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "firmware/hbm/hbm_engine.h"
#include "tests/support/test_clients.h"
#include "tests/unit/firmware_test_support.h"

namespace mesim::firmware {
namespace {

using hbm::Bytes;
using test::FakeEndpoint;

class HbmEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    echo = std::make_shared<test::EchoClient>(1024, 2);
    echoAddr = engine.addClient(echo);
    link = std::make_shared<FakeEndpoint>();
    engine.attach(link);
  }
  void startHost(hbm::Version v = {2, 2}) {
    link->bus(hbm::encode(hbm::HostStartReq{v}));
    link->take();
  }
  void connectHost(std::uint8_t hostAddr) {
    link->bus(hbm::encodeConnect(hbm::Command::ClientConnect, {echoAddr, hostAddr}));
    auto frames = link->take();
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].payload, (Bytes{0x86, echoAddr, hostAddr, 0}));
    EXPECT_EQ(frames[1].payload, (Bytes{0x08, echoAddr, hostAddr, 0, 0, 0, 0, 0}));  // first credit
  }
  void sendData(std::uint8_t hostAddr, const std::string& text) {
    hbm::Frame f;
    f.header.meAddr = echoAddr;
    f.header.hostAddr = hostAddr;
    f.payload.assign(text.begin(), text.end());
    f.header.length = static_cast<std::uint16_t>(f.payload.size());
    link->deliver(std::move(f));
  }
  bool sawReset(const std::vector<hbm::Frame>& frames) {
    for (auto& f : frames)
      if (hbm::parseLinkControl(f) == hbm::LinkControl::Reset) return true;
    return false;
  }

  boost::asio::io_context io;
  HbmEngine engine{io};
  std::shared_ptr<test::EchoClient> echo;
  std::uint8_t echoAddr = 0;
  std::shared_ptr<FakeEndpoint> link;
};

TEST_F(HbmEngineTest, HostStartNegotiatesVersion22) {
  link->bus(hbm::encode(hbm::HostStartReq{{2, 2}}));
  auto frames = link->take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, (Bytes{0x81, 1, 2, 2}));
  EXPECT_EQ(engine.state(), HbmEngine::State::Started);
  EXPECT_EQ(engine.negotiatedVersion(), (hbm::Version{2, 2}));
}

TEST_F(HbmEngineTest, HostStartAccepts20AndRejectsOlderHosts) {
  link->bus(hbm::encode(hbm::HostStartReq{{2, 0}}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x81, 1, 2, 2}));
  EXPECT_EQ(engine.negotiatedVersion(), (hbm::Version{2, 0}));
  link->bus(hbm::encode(hbm::HostStartReq{{1, 1}}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x81, 0, 2, 2}));
  EXPECT_EQ(engine.state(), HbmEngine::State::Stopped);
}

TEST_F(HbmEngineTest, NewerHostFallsBackToMeMaximum) {
  link->bus(hbm::encode(hbm::HostStartReq{{3, 0}}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x81, 0, 2, 2}));
  EXPECT_EQ(engine.state(), HbmEngine::State::Started);
}

TEST_F(HbmEngineTest, EnumerationAndProperties) {
  startHost();
  link->bus({0x13, 0, 0, 0});
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x93, 0, 0, 0}));
  link->bus(hbm::encode(hbm::HostEnumReq{3}));
  auto enumRes = hbm::decodeHostEnumRes(link->take()[0].payload);
  ASSERT_TRUE(enumRes);
  EXPECT_EQ(enumRes->validAddresses[0], 1u << echoAddr);
  link->bus(hbm::encode(hbm::PropertiesReq{echoAddr}));
  auto props = hbm::decodePropertiesRes(link->take()[0].payload);
  ASSERT_TRUE(props);
  EXPECT_EQ(props->status, hbm::Status::Success);
  EXPECT_EQ(props->props.uuid, test::kEchoGuid);
  EXPECT_EQ(props->props.maxMsgLength, 1024u);
  EXPECT_EQ(props->props.maxConnections, 2);
  link->bus(hbm::encode(hbm::PropertiesReq{77}));
  EXPECT_EQ(hbm::decodePropertiesRes(link->take()[0].payload)->status, hbm::Status::ClientNotFound);
}

TEST_F(HbmEngineTest, ConnectEnforcesMaxConnectionsAndKnownAddresses) {
  startHost();
  connectHost(1);
  connectHost(2);
  link->bus(hbm::encodeConnect(hbm::Command::ClientConnect, {echoAddr, 3}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x86, echoAddr, 3, 3}));  // OUT_OF_RESOURCES
  link->bus(hbm::encodeConnect(hbm::Command::ClientConnect, {echoAddr, 1}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x86, echoAddr, 1, 2}));  // already connected
  link->bus(hbm::encodeConnect(hbm::Command::ClientConnect, {99, 4}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x86, 99, 4, 1}));  // NOT_FOUND
  // a disconnect frees a slot
  link->bus(hbm::encodeConnect(hbm::Command::ClientDisconnect, {echoAddr, 2}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x87, echoAddr, 2, 0}));
  EXPECT_EQ(echo->disconnects, 1);
  connectHost(3);
}

TEST_F(HbmEngineTest, NoDataWithoutHostCreditAndTheNextCreditOnceTheAnswerIsTaken) {
  startHost();
  connectHost(5);
  sendData(5, "hello");
  // The echo's answer waits for a host credit, and the client takes no new message while it waits.
  EXPECT_TRUE(link->take().empty());
  link->bus(hbm::encode(hbm::FlowControl{echoAddr, 5}));
  auto frames = link->take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].header.meAddr, echoAddr);
  EXPECT_EQ(frames[0].header.hostAddr, 5);
  EXPECT_TRUE(frames[0].header.complete);
  EXPECT_EQ(std::string(frames[0].payload.begin(), frames[0].payload.end()), "hello");
  EXPECT_EQ(frames[1].payload, (Bytes{0x08, echoAddr, 5, 0, 0, 0, 0, 0})) << "then the next credit";
}

TEST_F(HbmEngineTest, AnAnswerTheHostHasCreditForGoesOutWithTheNextCreditAtOnce) {
  startHost();
  connectHost(5);
  link->bus(hbm::encode(hbm::FlowControl{echoAddr, 5}));  // a read is waiting on the host
  sendData(5, "hello");
  auto frames = link->take();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(std::string(frames[0].payload.begin(), frames[0].payload.end()), "hello");
  EXPECT_EQ(frames[1].payload, (Bytes{0x08, echoAddr, 5, 0, 0, 0, 0, 0}));
}

// Client data is counted per firmware client and direction (the metrics' MEI series); bus messages are not.
TEST_F(HbmEngineTest, ClientTrafficIsCountedPerClientBothWays) {
  startHost();
  connectHost(5);
  link->bus(hbm::encode(hbm::FlowControl{echoAddr, 5}));
  sendData(5, "hello");
  sendData(5, "HOLD");    // taken, not answered; the client withholds the next credit
  sendData(5, "sneaky");  // without a credit: refused, not traffic
  auto clients = engine.stats().clients;
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_STREQ(clients[0].client, "echo");
  EXPECT_EQ(clients[0].messagesIn, 2u);
  EXPECT_EQ(clients[0].bytesIn, 9u);
  EXPECT_EQ(clients[0].messagesOut, 1u);
  EXPECT_EQ(clients[0].bytesOut, 5u);
}

// A host that writes and never reads: the firmware holds one unread answer and no more (the host driver's tx queue
// limit does the rest), instead of answers piling up in the firmware.
TEST_F(HbmEngineTest, AHostThatNeverReadsGetsNoSecondCredit) {
  startHost();
  connectHost(5);
  sendData(5, "one");
  EXPECT_TRUE(link->take().empty());
  sendData(5, "two");  // without a credit: a broken driver
  EXPECT_EQ(engine.stats().flowControlViolations, 1u);
  EXPECT_EQ(echo->received.size(), 1u);
}

TEST_F(HbmEngineTest, HostIgnoringFlowControlIsDisconnected) {
  startHost();
  connectHost(5);
  sendData(5, "HOLD");  // the client withholds the next credit
  EXPECT_TRUE(link->take().empty());
  sendData(5, "sneaky");  // sent without a credit
  auto frames = link->take();
  EXPECT_EQ(engine.stats().flowControlViolations, 1u);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, (Bytes{0x07, echoAddr, 5, 0}));
  EXPECT_EQ(echo->received.size(), 1u);  // "sneaky" never reached the client
}

TEST_F(HbmEngineTest, ResumeReceiveGrantsTheWithheldCredit) {
  startHost();
  connectHost(5);
  sendData(5, "HOLD");
  EXPECT_TRUE(link->take().empty());
  echo->last->resumeReceive();
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x08, echoAddr, 5, 0, 0, 0, 0, 0}));
  sendData(5, "fine");
  EXPECT_EQ(engine.stats().flowControlViolations, 0u);
}

TEST_F(HbmEngineTest, FragmentsToCircularBufferDepthAndReassembles) {
  startHost();
  connectHost(6);
  // host sends 1000 bytes in two fragments
  std::string big(1000, 'x');
  big[999] = 'y';
  auto fragments = hbm::fragment(echoAddr, 6, Bytes(big.begin(), big.end()), 128);
  ASSERT_EQ(fragments.size(), 2u);
  EXPECT_EQ(fragments[0].payload.size(), 508u);
  EXPECT_FALSE(fragments[0].header.complete);
  for (auto& f : fragments) link->deliver(f);
  ASSERT_EQ(echo->received.size(), 1u);
  EXPECT_EQ(echo->received[0].size(), 1000u);
  link->take();
  link->bus(hbm::encode(hbm::FlowControl{echoAddr, 6}));
  auto frames = link->take();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload.size(), 508u);
  EXPECT_FALSE(frames[0].header.complete);
  EXPECT_EQ(frames[1].payload.size(), 492u);
  EXPECT_TRUE(frames[1].header.complete);
  EXPECT_EQ(frames[2].payload, (Bytes{0x08, echoAddr, 6, 0, 0, 0, 0, 0})) << "the answer is out: the next credit";
}

TEST_F(HbmEngineTest, MalformedFramesResetTheFirmware) {
  startHost();
  connectHost(7);
  link->bus({0x04, 0, 0});  // truncated HOST_ENUM
  auto frames = link->take();
  EXPECT_TRUE(sawReset(frames));
  EXPECT_EQ(engine.state(), HbmEngine::State::WaitingForHost);
  EXPECT_EQ(echo->disconnects, 1);
  EXPECT_EQ(engine.stats().connections, 0u);
  // host resets and starts again
  link->deliver(hbm::makeLinkControl(hbm::LinkControl::Reset));
  frames = link->take();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(hbm::parseLinkControl(frames[0]), hbm::LinkControl::Ready);
  EXPECT_EQ(hbm::parseReady(frames[0]).fwStatus[0], 0x94000245u);
  startHost();
  connectHost(7);
}

TEST_F(HbmEngineTest, UnknownCommandsAndOversizedFragmentsReset) {
  startHost();
  link->bus({0x55, 0, 0, 0});
  EXPECT_TRUE(sawReset(link->take()));
  startHost();
  hbm::Frame f;
  f.header.meAddr = echoAddr;
  f.header.hostAddr = 1;
  f.payload.assign(509, 0);
  f.header.length = 509;
  link->deliver(f);
  EXPECT_TRUE(sawReset(link->take()));
  startHost();
  link->bus({0x04, 0, 0, 0});
  link->take();
  hbm::Frame lying;
  lying.header.length = 8;
  lying.payload = {0x04, 0, 0, 0};
  link->deliver(lying);
  EXPECT_TRUE(sawReset(link->take()));
}

TEST_F(HbmEngineTest, DataBeforeHostStartResets) {
  sendData(1, "early");
  EXPECT_TRUE(sawReset(link->take()));
}

TEST_F(HbmEngineTest, NotificationsOnlyWhenEnabled) {
  startHost();
  connectHost(8);
  echo->last->notify();
  EXPECT_TRUE(link->take().empty());
  link->bus(hbm::encode(hbm::NotifyReq{echoAddr, 8, true}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x90, echoAddr, 8, 0, 1, 0, 0, 0}));
  EXPECT_TRUE(echo->notifyEnabled);
  echo->last->notify();
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x11, echoAddr, 8, 0}));
}

TEST_F(HbmEngineTest, FirmwareDisconnectWaitsForHostAnswer) {
  startHost();
  connectHost(9);
  echo->last->disconnect();
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x07, echoAddr, 9, 0}));
  EXPECT_FALSE(echo->last->isOpen());
  EXPECT_EQ(engine.stats().connections, 1u);
  link->bus(hbm::encodeConnectRes(hbm::Command::ClientDisconnect, {echoAddr, 9, 0}));
  EXPECT_EQ(engine.stats().connections, 0u);
  EXPECT_EQ(echo->disconnects, 1);
}

TEST_F(HbmEngineTest, HostStopAndMeStop) {
  startHost();
  connectHost(10);
  engine.requestStop(0);
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x03, 0, 0, 0}));
  link->bus(hbm::encodeStop(hbm::Command::HostStop, {0}));
  EXPECT_EQ(link->take()[0].payload, (Bytes{0x82, 0, 0, 0}));
  EXPECT_EQ(engine.state(), HbmEngine::State::Stopped);
  EXPECT_EQ(echo->disconnects, 1);
}

TEST(HbmEngineLog, LinesNameTheDevice) {
  boost::asio::io_context io;
  HbmEngineOptions options;
  options.log = log::Context("dev-a");
  HbmEngine engine(io, options);
  auto lines = test::capturedLog(log::Level::Warn, [&] { engine.reset("test"); });
  EXPECT_NE(lines.find("[dev-a] hbm: firmware reset: test"), std::string::npos) << lines;
}

}  // namespace
}  // namespace mesim::firmware
