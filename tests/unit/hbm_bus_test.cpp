// HbmBus (hbm.c) alone, against a scripted firmware: the start-up sequence, the dispatch to the clients layer
// and resets, without any host client or firmware engine behind it.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "hostif/host/hbm_bus.h"

namespace mesim::host {
namespace {

// The host's endpoint with nobody behind it: the test reads what the bus sent and injects the firmware's frames.
class ScriptedLink : public link::Endpoint {
 public:
  explicit ScriptedLink(boost::asio::io_context& io) : io_(io) {}
  void send(hbm::Frame frame) override { sent.push_back(std::move(frame)); }
  void onFrame(FrameHandler handler) override { frameHandler_ = std::move(handler); }
  void onDown(DownHandler handler) override { downHandler_ = std::move(handler); }
  void close() override {}

  void deliver(hbm::Frame frame) {
    boost::asio::post(io_, [this, frame = std::move(frame)]() mutable { frameHandler_(std::move(frame)); });
    io_.poll();  // what is ready, not the bus's timers
    io_.restart();
  }
  void deliverBus(hbm::Bytes message) {
    hbm::Frame frame;
    frame.header.length = static_cast<std::uint16_t>(message.size());
    frame.payload = std::move(message);
    deliver(std::move(frame));
  }
  void goDown() { downHandler_(); }
  // The next bus message the host sent (its command byte first); empty if none.
  hbm::Bytes nextBus() {
    while (!sent.empty()) {
      hbm::Frame frame = std::move(sent.front());
      sent.pop_front();
      if (!hbm::parseLinkControl(frame) && frame.header.isBusMessage()) return frame.payload;
    }
    return {};
  }

  std::deque<hbm::Frame> sent;

 private:
  boost::asio::io_context& io_;
  FrameHandler frameHandler_;
  DownHandler downHandler_;
};

struct RecordingListener : HbmBus::Listener {
  void onConnectRes(const hbm::ConnectRes&) override { events.push_back("connect-res"); }
  void onDisconnectRes(const hbm::ConnectRes&) override { events.push_back("disconnect-res"); }
  void onFirmwareDisconnect(const hbm::ConnectReq& req) override {
    events.push_back("firmware-disconnect " + std::to_string(req.hostAddr));
  }
  void onFlowControl(const hbm::FlowControl&) override { events.push_back("flow-control"); }
  void onNotifyRes(const hbm::NotifyRes&) override { events.push_back("notify-res"); }
  void onNotification(const hbm::Notification&) override { events.push_back("notification"); }
  void onClientMessage(std::uint8_t meAddr, std::uint8_t hostAddr, hbm::Bytes message) override {
    events.push_back("message " + std::to_string(meAddr) + "->" + std::to_string(hostAddr) + " " +
                     std::string(message.begin(), message.end()));
  }
  void onBusLost() override { events.push_back("bus-lost"); }
  void onEnabling() override { events.push_back("enabling"); }
  void onEnabled() override { events.push_back("enabled"); }
  std::vector<std::string> events;
};

const hbm::Guid kGuid = *hbm::Guid::parse("12F80028-B4B7-4B2D-ACA8-46E0FF65814C");

class HbmBusTest : public ::testing::Test {
 protected:
  HbmBusTest() : link(std::make_shared<ScriptedLink>(io)), bus(io, link, HostOptions{}, listener) {
    bus.onStateChange([this](DevState state) { listener.events.push_back(std::string("state ") + devStateName(state)); });
  }

  // Answers the start-up sequence as a firmware with one client at address 2 does.
  void enumerate() {
    bus.start();
    ASSERT_EQ(hbm::parseLinkControl(link->sent.front()), hbm::LinkControl::Reset);
    hbm::ReadyInfo ready;
    ready.trc = 0x1234;
    link->deliver(hbm::makeReady(ready));
    ASSERT_EQ(link->nextBus().at(0), 0x01) << "HOST_START";
    link->deliverBus(hbm::encode(hbm::HostStartRes{true, hbm::kMaxVersion}));
    ASSERT_EQ(link->nextBus().at(0), 0x13) << "CAPABILITIES for HBM 2.2";
    link->deliverBus(hbm::encodeCapabilities(true, {}));
    ASSERT_EQ(link->nextBus().at(0), 0x04) << "HOST_ENUM";
    hbm::HostEnumRes enumRes;
    enumRes.validAddresses[0] = 1u << 2;
    link->deliverBus(hbm::encode(enumRes));
    const hbm::Bytes propsReq = link->nextBus();
    ASSERT_EQ(propsReq.at(0), 0x05) << "CLIENT_PROPERTIES";
    ASSERT_EQ(propsReq.at(1), 2);
    hbm::ClientProperties props;
    props.uuid = kGuid;
    props.maxMsgLength = 4096;
    link->deliverBus(hbm::encode(hbm::PropertiesRes{2, hbm::Status::Success, props}));
  }

  boost::asio::io_context io;
  RecordingListener listener;
  std::shared_ptr<ScriptedLink> link;
  HbmBus bus;
};

TEST_F(HbmBusTest, StartUpEnumeratesThenAnnouncesEnabled) {
  enumerate();
  EXPECT_EQ(bus.state(), DevState::Enabled);
  EXPECT_EQ(bus.negotiatedVersion(), hbm::kMaxVersion);
  EXPECT_EQ(bus.registers().trc, 0x1234u);
  ASSERT_EQ(bus.clients().size(), 1u);
  EXPECT_EQ(bus.clients()[0].meAddr, 2);
  EXPECT_TRUE(bus.hasClient(2, kGuid));
  ASSERT_NE(bus.findClient(kGuid), nullptr);
  const std::vector<std::string> tail(listener.events.end() - 3, listener.events.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"enabling", "state ENABLED", "enabled"}))
      << "the fixup is marked running before the state callbacks run";
}

TEST_F(HbmBusTest, ClientTrafficGoesToTheListener) {
  enumerate();
  listener.events.clear();
  link->deliverBus(hbm::encodeConnectRes(hbm::Command::ClientConnect, {2, 5, 0}));
  link->deliverBus(hbm::encode(hbm::FlowControl{2, 5}));
  const hbm::Bytes text{'h', 'i'};
  for (auto& frame : hbm::fragment(2, 5, text, hbm::kDefaultBufferSlots)) link->deliver(std::move(frame));
  link->deliverBus(hbm::encodeConnect(hbm::Command::ClientDisconnect, {2, 5}));
  EXPECT_EQ(listener.events,
            (std::vector<std::string>{"connect-res", "flow-control", "message 2->5 hi", "firmware-disconnect 5"}));
  const hbm::Bytes ack = link->nextBus();
  ASSERT_EQ(ack.size(), 4u);
  EXPECT_EQ(ack[0], 0x87) << "the bus answers the firmware's disconnect itself";
}

TEST_F(HbmBusTest, MalformedMessageResetsAndFailsTheFiles) {
  enumerate();
  listener.events.clear();
  link->deliverBus({0x86, 2});  // CLIENT_CONNECT response cut short
  EXPECT_EQ(bus.totalResets(), 1u);
  EXPECT_EQ(bus.state(), DevState::Initializing) << "a reset starts over";
  EXPECT_TRUE(bus.clients().empty());
  ASSERT_GE(listener.events.size(), 2u);
  EXPECT_EQ(listener.events[0], "state RESETTING");
  EXPECT_EQ(listener.events[1], "bus-lost");
}

TEST_F(HbmBusTest, LinkDownDisablesTheDevice) {
  enumerate();
  link->goDown();
  EXPECT_EQ(bus.state(), DevState::Disabled);
  EXPECT_EQ(listener.events.back(), "bus-lost");
}

}  // namespace
}  // namespace mesim::host
