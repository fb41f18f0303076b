// The console's side of IDE-R for tests (written against ../shared/spec/features.md §1.3, as MeshCentral's module
// behaves): it opens the session, registers the device with a start mode, answers pings and resets, and serves
// ATAPI commands from an in-memory image. Pure: bytes from AMT in, bytes to AMT out (one vector per message).
// Also: a small bootable ISO 9660 image built by hand (PVD at LBA 16, El Torito record at 17, terminator at 18,
// boot catalog at 19).
//
//   IderConsoleMedia console(makeIsoImage("MESIM_TEST"), 2048);
//   auto out = console.open(kIderStartNow);          // 0x40, to send after the login
//   auto replies = console.receive(bytesFromAmt);      // 0x48 after 0x41, 0x51/0x54 for each 0x50 ...
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "wsman/redirection/ider_codec.h"

namespace mesim::test {

namespace ider = wsman::redirection;

inline void putBothEndian32(std::vector<std::uint8_t>& image, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) image[at + i] = static_cast<std::uint8_t>(v >> (8 * i));         // little-endian
  for (int i = 0; i < 4; ++i) image[at + 4 + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));  // big-endian
}

// A CD image of `blocks` 2048-byte blocks (at least 24) with the volume descriptors a BIOS looks at; every other
// block is filled with its own LBA so reads can be checked.
inline std::vector<std::uint8_t> makeIsoImage(const std::string& volumeId, std::uint32_t blocks = 64,
                                              bool bootable = true) {
  constexpr std::size_t kBlock = 2048;
  blocks = std::max<std::uint32_t>(blocks, 24);
  std::vector<std::uint8_t> image(std::size_t(blocks) * kBlock, 0);
  for (std::uint32_t lba = 20; lba < blocks; ++lba)
    for (std::size_t i = 0; i + 8 <= kBlock; i += 8) putBothEndian32(image, lba * kBlock + i, lba);
  auto at = [&](std::uint32_t lba) { return std::size_t(lba) * kBlock; };
  // LBA 16: primary volume descriptor.
  auto* pvd = &image[at(16)];
  pvd[0] = 1;
  std::memcpy(pvd + 1, "CD001", 5);
  pvd[6] = 1;
  std::memset(pvd + 8, ' ', 32);   // system id
  std::memset(pvd + 40, ' ', 32);  // volume id
  std::memcpy(pvd + 40, volumeId.data(), std::min<std::size_t>(volumeId.size(), 32));
  putBothEndian32(image, at(16) + 80, blocks);  // volume space size
  pvd[120] = 1, pvd[123] = 1;                  // volume set size, sequence number (both-endian u16)
  pvd[124] = 1, pvd[127] = 1;
  pvd[128] = 0x00, pvd[129] = 0x08, pvd[130] = 0x08, pvd[131] = 0x00;  // logical block size 2048
  pvd[881] = 1;                                                        // file structure version
  // LBA 17: El Torito boot record (or a second terminator when not bootable).
  auto* record = &image[at(17)];
  if (bootable) {
    record[0] = 0;
    std::memcpy(record + 1, "CD001", 5);
    record[6] = 1;
    std::memcpy(record + 7, "EL TORITO SPECIFICATION", 23);
    record[0x47] = 19;  // boot catalog at LBA 19 (u32 LE)
  } else {
    record[0] = 0xFF;
    std::memcpy(record + 1, "CD001", 5);
    record[6] = 1;
  }
  // LBA 18: volume descriptor set terminator.
  image[at(18)] = 0xFF;
  std::memcpy(&image[at(18) + 1], "CD001", 5);
  image[at(18) + 6] = 1;
  // LBA 19: boot catalog, a validation entry (platform 0 x86, key 55 AA) and a no-emulation default entry.
  auto* catalog = &image[at(19)];
  catalog[0] = 1;
  catalog[0x1E] = 0x55, catalog[0x1F] = 0xAA;
  std::uint16_t sum = 0;
  for (int i = 0; i < 32; i += 2) sum = static_cast<std::uint16_t>(sum + (catalog[i] | catalog[i + 1] << 8));
  const auto check = static_cast<std::uint16_t>(0x10000 - sum);
  catalog[0x1C] = static_cast<std::uint8_t>(check), catalog[0x1D] = static_cast<std::uint8_t>(check >> 8);
  catalog[32] = 0x88;  // bootable, no emulation
  catalog[32 + 6] = 4;  // 4 virtual sectors
  catalog[32 + 8] = 20;  // load LBA 20
  return image;
}

class IderConsoleMedia {
 public:
  using Bytes = std::vector<std::uint8_t>;
  IderConsoleMedia(Bytes image, std::uint32_t blockSize, std::uint16_t chunk = 8192)
      : image_(std::move(image)), blockSize_(blockSize), chunk_(chunk) {}

  // 0x40 with MeshCentral's values; the start mode is sent (0x48 set) when 0x41 arrives.
  std::vector<Bytes> open(std::uint32_t startMode, std::uint16_t heartbeat = 20000) {
    startMode_ = startMode;
    return {send(ider::IderOpenSession{30000, 0, heartbeat, 1})};
  }

  // Bytes from AMT, in any split: the console's answers.
  std::vector<Bytes> receive(const Bytes& bytes) {
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    std::vector<Bytes> out;
    for (;;) {
      auto decoded = ider::decodeIderMessage(buffer_);
      if (!decoded) {
        error = decoded.error().message;
        buffer_.clear();
        break;
      }
      if (!*decoded) break;
      auto message = (*decoded)->message;
      buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>((*decoded)->length));
      if (message.sequence != inSequence_) error = "AMT's sequence skipped";
      inSequence_ = message.sequence + 1;
      handle(message, out);
    }
    return out;
  }

  // What the console saw.
  bool opened = false;
  bool registered = false;  // 0x49 kind 3 said ok
  bool closed = false;
  std::uint16_t readBuffer = 0;
  int heartbeats = 0, pings = 0, resets = 0;
  std::vector<std::array<std::uint8_t, 12>> commands;  // every CDB AMT sent
  std::vector<std::uint32_t> readLbas;                 // first LBA of each READ(10)
  std::string error;
  bool noMedia = false;  // answer every command with 02/3A/00

  std::vector<Bytes> close() { return {send(ider::IderCloseSession{})}; }
  // 0x48 kind 3 with `value` (enable bit and start mode), as a console that changes its mind sends it.
  std::vector<Bytes> setFeatures(std::uint32_t value) {
    return {send(ider::IderFeatures{false, ider::IderFeatureKind::Set, value})};
  }

 private:
  static std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
  }
  Bytes send(ider::IderBody body, std::uint8_t attributes = 0) {
    return ider::encodeIder(ider::IderMessage{attributes, outSequence_++, std::move(body)});
  }
  Bytes sense(std::uint8_t device, std::uint8_t key, std::uint8_t asc, std::uint8_t ascq) {
    return send(ider::IderCommandEnd{ider::kAtaStatusError, key, asc, ascq, device}, ider::kIderAttrCompleted);
  }
  Bytes good(std::uint8_t device) {
    return send(ider::IderCommandEnd{ider::kAtaStatusGood, 0, 0, 0, device}, ider::kIderAttrCompleted);
  }
  void data(std::uint8_t device, const Bytes& bytes, std::vector<Bytes>& out) {
    const std::size_t chunk = std::max<std::size_t>(1, std::min<std::size_t>(chunk_, readBuffer ? readBuffer : chunk_));
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
      const bool last = at + chunk >= bytes.size();
      Bytes part(bytes.begin() + at, bytes.begin() + std::min(bytes.size(), at + chunk));
      out.push_back(send(ider::IderDataToHost{device, static_cast<std::uint8_t>(last ? ider::kAtaStatusGood : 0),
                                              std::move(part)},
                         last ? ider::kIderAttrCompleted : 0));
    }
  }

  void handle(const ider::IderMessage& message, std::vector<Bytes>& out) {
    using namespace ider;
    const auto& body = message.body;
    if (const auto* reply = std::get_if<IderOpenSessionReply>(&body)) {
      opened = true;
      readBuffer = reply->readBuffer;
      if (reply->protocol != 0) error = "open reply protocol is not 0";
      out.push_back(send(IderFeatures{false, IderFeatureKind::Set, kIderFeatureEnable | startMode_}));
    } else if (const auto* f = std::get_if<IderFeatures>(&body)) {
      if (f->kind == IderFeatureKind::Set) {
        registered = f->value == 1;
        out.push_back(send(IderFeatures{false, IderFeatureKind::GetState, 0}));
      }
    } else if (const auto* k = std::get_if<IderKeepAlive>(&body)) {
      if (!k->pong) {
        ++pings;
        out.push_back(send(IderKeepAlive{true}));
      }
    } else if (std::holds_alternative<IderHeartbeat>(body)) {
      ++heartbeats;
    } else if (std::holds_alternative<IderResetOccurred>(body)) {
      ++resets;
      ready_ = false;  // a reset is followed by a unit attention
      out.push_back(send(IderResetOccurredReply{}));
    } else if (std::holds_alternative<IderCloseSessionReply>(body) || std::holds_alternative<IderCloseSession>(body)) {
      closed = true;
    } else if (const auto* c = std::get_if<IderCommandWritten>(&body)) {
      command(*c, out);
    }
  }

  void command(const ider::IderCommandWritten& c, std::vector<Bytes>& out) {
    commands.push_back(c.cdb);
    const std::uint8_t device = (c.driveSelect & 0x10) ? ider::kIderDeviceCdrom : ider::kIderDeviceFloppy;
    if (noMedia) return out.push_back(sense(device, 0x02, 0x3A, 0x00));
    const std::uint64_t blocks = image_.size() / blockSize_;
    switch (c.cdb[0]) {
      case 0x00:  // TEST UNIT READY: a fresh medium reports a unit attention first
        if (!ready_) {
          ready_ = true;
          return out.push_back(sense(device, 0x06, 0x28, 0x00));
        }
        return out.push_back(good(device));
      case 0x25: {  // READ CAPACITY
        const auto last = static_cast<std::uint32_t>(blocks - 1);
        Bytes capacity = {static_cast<std::uint8_t>(last >> 24), static_cast<std::uint8_t>(last >> 16),
                          static_cast<std::uint8_t>(last >> 8), static_cast<std::uint8_t>(last),
                          0, 0, static_cast<std::uint8_t>(blockSize_ >> 8), 0};
        return data(device, capacity, out);
      }
      case 0x28: {  // READ(10)
        const std::uint32_t lba = be32(&c.cdb[2]);
        const std::uint32_t count = std::uint32_t(c.cdb[7]) << 8 | c.cdb[8];
        readLbas.push_back(lba);
        if (std::uint64_t(lba) + count > blocks) return out.push_back(sense(device, 0x05, 0x21, 0x00));
        if (count == 0) return out.push_back(good(device));
        Bytes bytes(image_.begin() + std::ptrdiff_t(lba) * blockSize_,
                    image_.begin() + std::ptrdiff_t(lba + count) * blockSize_);
        return data(device, bytes, out);
      }
      default:
        return out.push_back(sense(device, 0x05, 0x20, 0x00));
    }
  }

  Bytes image_;
  std::uint32_t blockSize_;
  std::uint16_t chunk_;
  std::uint32_t startMode_ = 0;
  bool ready_ = false;
  Bytes buffer_;
  std::uint32_t inSequence_ = 0, outSequence_ = 0;
};

}  // namespace mesim::test
