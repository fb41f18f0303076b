// Small firmware clients for tests: an echo client and a notifier.
#pragma once

#include <algorithm>
#include <charconv>
#include <memory>
#include <string>
#include <vector>

#include "firmware/hbm/firmware_client.h"

namespace mesim::test {

inline const hbm::Guid kEchoGuid = *hbm::Guid::parse("11111111-2222-3333-4444-555555555555");

// Replies to each message with the same bytes; a message "NOTIFY" raises a notification,
// "BYE" makes the firmware disconnect, "HOLD" withholds the next credit, "BIG:<n>" answers with n bytes.
class EchoClient : public firmware::FirmwareClient {
 public:
  explicit EchoClient(std::uint32_t maxMsgLength = 512, std::uint8_t maxConnections = 8)
      : maxMsgLength_(maxMsgLength), maxConnections_(maxConnections) {}
  hbm::ClientProperties properties() const override {
    hbm::ClientProperties p;
    p.uuid = kEchoGuid;
    p.protocolVersion = 3;
    p.maxConnections = maxConnections_;
    p.maxMsgLength = maxMsgLength_;
    return p;
  }
  const char* name() const override { return "echo"; }
  void onConnect(const std::shared_ptr<firmware::ClientConnection>& c) override {
    ++connects;
    last = c;
  }
  void onMessage(const std::shared_ptr<firmware::ClientConnection>& c, firmware::ByteView m) override {
    std::string text(m.begin(), m.end());
    received.emplace_back(m.begin(), m.end());
    if (text == "NOTIFY") return c->notify();
    if (text == "BYE") return c->disconnect();
    if (text == "HOLD") return c->pauseReceive();
    if (text == "GO") return c->resumeReceive();
    if (text.rfind("BIG:", 0) == 0) {
      std::size_t n = 0;
      std::from_chars(text.data() + 4, text.data() + text.size(), n);
      hbm::Bytes big(std::min<std::size_t>(n, 1u << 16));
      for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
      return c->send(std::move(big));
    }
    c->send(hbm::Bytes(m.begin(), m.end()));
  }
  void onDisconnect(const std::shared_ptr<firmware::ClientConnection>&) override { ++disconnects; }
  void onNotifyChange(const std::shared_ptr<firmware::ClientConnection>&, bool enabled) override {
    notifyEnabled = enabled;
  }

  std::uint32_t maxMsgLength_;
  std::uint8_t maxConnections_;
  int connects = 0;
  int disconnects = 0;
  bool notifyEnabled = false;
  std::vector<hbm::Bytes> received;
  std::shared_ptr<firmware::ClientConnection> last;
};

}  // namespace mesim::test
