#include "hostif/host/bus_fixup.h"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <utility>

#include <boost/asio/steady_timer.hpp>

namespace mesim::host {

using hbm::Bytes;

namespace {
// The kernel's MKHI "fix" client, which the bus fixup asks for the firmware version (spec §2.4, §5).
const hbm::Guid kMkhiFixGuid = *hbm::Guid::parse("55213584-9A29-4916-BADF-0FB7ED682AEB");
constexpr std::chrono::milliseconds kFixupTimeout{500};
// MKHI OS version: group 0x03 command 0x06, rule FeatureID 0x10, Linux (os_type 2). No reply.
const Bytes kOsVersionMessage{0x03, 0x06, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x08, 0, 0, 0, 0, 2, 6, 1, 0};
const Bytes kGetFwVersionMessage{0xFF, 0x02, 0x00, 0x00};  // MKHI GEN group, GET_FW_VERSION
}  // namespace

std::optional<std::vector<FwVersionBlock>> parseFwVersionReply(const Bytes& data) {
  if (data.size() < 12 || data[0] != 0xFF || data[1] != 0x82 || data[3] != 0) return std::nullopt;
  std::vector<FwVersionBlock> blocks;
  for (std::size_t off = 4; off + 8 <= data.size() && blocks.size() < 3; off += 8) {
    FwVersionBlock b;
    b.minor = data[off] | data[off + 1] << 8;
    b.major = data[off + 2];
    b.platform = data[off + 3];
    b.build = data[off + 4] | data[off + 5] << 8;
    b.hotfix = data[off + 6] | data[off + 7] << 8;
    blocks.push_back(b);
  }
  return blocks;
}

std::string formatFwVer(const std::vector<FwVersionBlock>& blocks) {
  std::string out;
  char line[64];
  for (std::size_t i = 0; i < 3; ++i) {
    const FwVersionBlock& b = i < blocks.size() ? blocks[i] : FwVersionBlock{};
    std::snprintf(line, sizeof line, "%u:%u.%u.%u.%u\n", b.platform, b.major, b.minor, b.hotfix, b.build);
    out += line;
  }
  return out;
}

BusFixup::BusFixup(boost::asio::io_context& io, const HbmBus& bus, HostClients& clients)
    : io_(io), bus_(bus), clients_(clients) {}

void BusFixup::whenDone(std::function<void()> done) {
  if (!running_) return done();
  waiters_.push_back(std::move(done));
}

void BusFixup::finish() {
  running_ = false;
  for (auto& done : std::exchange(waiters_, {})) done();
}

void BusFixup::run() {
  if (!bus_.findClient(kMkhiFixGuid)) return finish();
  FileId id = 0;
  if (clients_.open(id) != 0) return finish();
  clients_.markInternal(id);
  clients_.connect(id, kMkhiFixGuid, [this, id](int err, const hbm::ClientProperties& props) {
    if (err) return clients_.close(id, [this] { finish(); });
    clients_.write(id, kOsVersionMessage, true, [](ssize_t) {});
    clients_.write(id, kGetFwVersionMessage, true, [](ssize_t) {});
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, kFixupTimeout);
    clients_.read(id, props.maxMsgLength, false, [this, id, timer](int readErr, Bytes data) {
      timer->cancel();
      if (!readErr) {
        if (auto blocks = parseFwVersionReply(data)) fwVersions_ = std::move(*blocks);
      }
      clients_.close(id, [this] { finish(); });
    });
    timer->async_wait([this, id](boost::system::error_code ec) {
      if (!ec) clients_.failWaiters(id, ETIME);
    });
  });
}

}  // namespace mesim::host
