#include "wsman/redirection/ider_codec.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <type_traits>

#include "common/byte_order.h"

namespace mesim::wsman::redirection {

namespace {

// A message of fixed length `size`, zero-filled after its header, filled in by position.
class Frame {
 public:
  Frame(IderType type, std::uint8_t attributes, std::uint32_t sequence, std::size_t size) : out_(size, 0) {
    out_[0] = static_cast<std::uint8_t>(type);
    out_[3] = attributes;
    put32(4, sequence);
  }
  Frame& put8(std::size_t at, std::uint8_t v) { return out_[at] = v, *this; }
  Frame& put16(std::size_t at, std::uint16_t v) {
    out_[at] = static_cast<std::uint8_t>(v);
    out_[at + 1] = static_cast<std::uint8_t>(v >> 8);
    return *this;
  }
  Frame& put32(std::size_t at, std::uint32_t v) {
    put16(at, static_cast<std::uint16_t>(v));
    return put16(at + 2, static_cast<std::uint16_t>(v >> 16));
  }
  Frame& append(std::span<const std::uint8_t> bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  std::vector<std::uint8_t> take() { return std::move(out_); }

 private:
  std::vector<std::uint8_t> out_;
};

std::string hexByte(std::uint8_t b) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", b);
  return text;
}

// The length of the fixed part of each type (the whole message but for 0x41's OEM bytes and 0x53/0x54's data);
// 0 for a type that is not IDE-R's.
std::size_t fixedLength(std::uint8_t type) {
  switch (static_cast<IderType>(type)) {
    case IderType::OpenSession: return 18;
    case IderType::OpenSessionReply: return 30;
    case IderType::CloseSession:
    case IderType::CloseSessionReply:
    case IderType::KeepAlivePing:
    case IderType::KeepAlivePong:
    case IderType::ResetOccurredReply:
    case IderType::Heartbeat: return 8;
    case IderType::ResetOccurred: return 9;
    case IderType::SetFeatures:
    case IderType::SetFeaturesReply: return 13;
    case IderType::ErrorOccurred: return 11;
    case IderType::CommandWritten: return 28;
    case IderType::CommandEndResponse:
    case IderType::GetDataFromHost: return 31;
    case IderType::DataFromHost: return 14;
    case IderType::DataToHost: return 34;
  }
  return 0;
}

}  // namespace

const char* iderMessageName(IderType type) {
  switch (type) {
    case IderType::OpenSession: return "IDER OpenSession";
    case IderType::OpenSessionReply: return "IDER OpenSessionReply";
    case IderType::CloseSession: return "IDER CloseSession";
    case IderType::CloseSessionReply: return "IDER CloseSessionReply";
    case IderType::KeepAlivePing: return "IDER KeepAlivePing";
    case IderType::KeepAlivePong: return "IDER KeepAlivePong";
    case IderType::ResetOccurred: return "IDER ResetOccurred";
    case IderType::ResetOccurredReply: return "IDER ResetOccurredReply";
    case IderType::SetFeatures: return "IDER SetFeatures";
    case IderType::SetFeaturesReply: return "IDER SetFeaturesReply";
    case IderType::ErrorOccurred: return "IDER ErrorOccurred";
    case IderType::Heartbeat: return "IDER Heartbeat";
    case IderType::CommandWritten: return "IDER CommandWritten";
    case IderType::CommandEndResponse: return "IDER CommandEndResponse";
    case IderType::GetDataFromHost: return "IDER GetDataFromHost";
    case IderType::DataFromHost: return "IDER DataFromHost";
    case IderType::DataToHost: return "IDER DataToHost";
  }
  return "IDER unknown";
}

IderType iderTypeOf(const IderBody& body) {
  return std::visit(
      [](const auto& m) -> IderType {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, IderOpenSession>) return IderType::OpenSession;
        else if constexpr (std::is_same_v<T, IderOpenSessionReply>) return IderType::OpenSessionReply;
        else if constexpr (std::is_same_v<T, IderCloseSession>) return IderType::CloseSession;
        else if constexpr (std::is_same_v<T, IderCloseSessionReply>) return IderType::CloseSessionReply;
        else if constexpr (std::is_same_v<T, IderKeepAlive>) return m.pong ? IderType::KeepAlivePong : IderType::KeepAlivePing;
        else if constexpr (std::is_same_v<T, IderResetOccurred>) return IderType::ResetOccurred;
        else if constexpr (std::is_same_v<T, IderResetOccurredReply>) return IderType::ResetOccurredReply;
        else if constexpr (std::is_same_v<T, IderFeatures>) return m.reply ? IderType::SetFeaturesReply : IderType::SetFeatures;
        else if constexpr (std::is_same_v<T, IderErrorOccurred>) return IderType::ErrorOccurred;
        else if constexpr (std::is_same_v<T, IderHeartbeat>) return IderType::Heartbeat;
        else if constexpr (std::is_same_v<T, IderCommandWritten>) return IderType::CommandWritten;
        else if constexpr (std::is_same_v<T, IderCommandEnd>) return IderType::CommandEndResponse;
        else if constexpr (std::is_same_v<T, IderGetDataFromHost>) return IderType::GetDataFromHost;
        else if constexpr (std::is_same_v<T, IderDataFromHost>) return IderType::DataFromHost;
        else return IderType::DataToHost;
      },
      body);
}

Result<std::optional<IderDecoded>> decodeIderMessage(std::span<const std::uint8_t> in) {
  if (in.empty()) return std::optional<IderDecoded>();
  const std::size_t fixed = fixedLength(in[0]);
  if (fixed == 0) return fail("unknown IDE-R message type " + hexByte(in[0]));
  const auto type = static_cast<IderType>(in[0]);
  std::size_t length = fixed;
  switch (type) {
    case IderType::OpenSessionReply:
      if (in.size() < 30) return std::optional<IderDecoded>();
      length = 30 + in[29];
      break;
    case IderType::DataFromHost:
    case IderType::DataToHost:
      if (in.size() < 11) return std::optional<IderDecoded>();
      length = fixed + bytes::le16(in, 9);
      break;
    default: break;
  }
  if (in.size() < length) return std::optional<IderDecoded>();
  const auto m = in.first(length);
  IderDecoded out;
  out.length = length;
  out.message.attributes = m[3];
  out.message.sequence = bytes::le32(m, 4);
  auto& body = out.message.body;
  switch (type) {
    case IderType::OpenSession:
      body = IderOpenSession{bytes::le16(m, 8), bytes::le16(m, 10), bytes::le16(m, 12), bytes::le32(m, 14)};
      break;
    case IderType::OpenSessionReply: {
      IderOpenSessionReply r;
      r.protocolMajor = m[8];
      r.protocolMinor = m[9];
      r.firmwareMajor = m[10];
      r.firmwareMinor = m[11];
      r.readBuffer = bytes::le16(m, 16);
      r.writeBuffer = bytes::le16(m, 18);
      r.protocol = m[21];
      r.iana = bytes::le32(m, 25);
      r.oemData.assign(m.begin() + 30, m.end());
      body = std::move(r);
      break;
    }
    case IderType::CloseSession: body = IderCloseSession{}; break;
    case IderType::CloseSessionReply: body = IderCloseSessionReply{}; break;
    case IderType::KeepAlivePing: body = IderKeepAlive{false}; break;
    case IderType::KeepAlivePong: body = IderKeepAlive{true}; break;
    case IderType::ResetOccurred: body = IderResetOccurred{m[8]}; break;
    case IderType::ResetOccurredReply: body = IderResetOccurredReply{}; break;
    case IderType::SetFeatures:
    case IderType::SetFeaturesReply: {
      if (m[8] < 1 || m[8] > 3)
        return fail(std::string(iderMessageName(type)) + " has kind " + std::to_string(m[8]) + ", not 1, 2 or 3");
      body = IderFeatures{type == IderType::SetFeaturesReply, static_cast<IderFeatureKind>(m[8]), bytes::le32(m, 9)};
      break;
    }
    case IderType::ErrorOccurred: body = IderErrorOccurred{{m[8], m[9], m[10]}}; break;
    case IderType::Heartbeat: body = IderHeartbeat{}; break;
    case IderType::CommandWritten: {
      IderCommandWritten c;
      c.featureRegister = m[9];
      c.byteCount = bytes::le16(m, 12);
      c.driveSelect = m[14];
      c.command = m[15];
      std::copy(m.begin() + 16, m.begin() + 28, c.cdb.begin());
      body = c;
      break;
    }
    case IderType::CommandEndResponse: body = IderCommandEnd{m[27], m[28], m[29], m[30], m[26]}; break;
    case IderType::GetDataFromHost: body = IderGetDataFromHost{m[18], bytes::le16(m, 9)}; break;
    case IderType::DataFromHost:
      body = IderDataFromHost{m[13], std::vector<std::uint8_t>(m.begin() + 14, m.end())};
      break;
    case IderType::DataToHost:
      body = IderDataToHost{m[18], m[27], std::vector<std::uint8_t>(m.begin() + 34, m.end())};
      break;
  }
  return std::optional<IderDecoded>(std::move(out));
}

std::vector<std::uint8_t> encodeIder(const IderMessage& message) {
  const auto type = iderTypeOf(message.body);
  Frame f(type, message.attributes, message.sequence, fixedLength(static_cast<std::uint8_t>(type)));
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, IderOpenSession>) {
          f.put16(8, m.rxTimeout).put16(10, m.txTimeout).put16(12, m.heartbeat).put32(14, m.version);
        } else if constexpr (std::is_same_v<T, IderOpenSessionReply>) {
          const std::size_t oem = std::min<std::size_t>(m.oemData.size(), 255);
          f.put8(8, m.protocolMajor).put8(9, m.protocolMinor).put8(10, m.firmwareMajor).put8(11, m.firmwareMinor);
          f.put16(16, m.readBuffer).put16(18, m.writeBuffer).put8(21, m.protocol).put32(25, m.iana);
          f.put8(29, static_cast<std::uint8_t>(oem)).append(std::span(m.oemData).first(oem));
        } else if constexpr (std::is_same_v<T, IderResetOccurred>) {
          f.put8(8, m.mask);
        } else if constexpr (std::is_same_v<T, IderFeatures>) {
          f.put8(8, static_cast<std::uint8_t>(m.kind)).put32(9, m.value);
        } else if constexpr (std::is_same_v<T, IderErrorOccurred>) {
          f.put8(8, m.data[0]).put8(9, m.data[1]).put8(10, m.data[2]);
        } else if constexpr (std::is_same_v<T, IderCommandWritten>) {
          f.put8(9, m.featureRegister).put16(12, m.byteCount).put8(14, m.driveSelect).put8(15, m.command);
          for (std::size_t i = 0; i < m.cdb.size(); ++i) f.put8(16 + i, m.cdb[i]);
        } else if constexpr (std::is_same_v<T, IderCommandEnd>) {
          // Two forms, as consoles send them: good status (C5 ... 50) or a check condition with the sense key also
          // in the error register (87 key<<4 ... 51 key asc ascq).
          const bool error = (m.status & 0x01) != 0;
          f.put8(20, error ? 0x87 : 0xC5).put8(21, error ? static_cast<std::uint8_t>(m.senseKey << 4) : 0);
          f.put8(22, 0x03).put8(26, m.device).put8(27, m.status);
          if (error) f.put8(28, m.senseKey).put8(29, m.asc).put8(30, m.ascq);
        } else if constexpr (std::is_same_v<T, IderGetDataFromHost>) {
          f.put16(9, m.length).put8(12, 0xB5).put16(16, m.length).put8(18, m.device).put8(19, 0x58);
        } else if constexpr (std::is_same_v<T, IderDataFromHost>) {
          const std::size_t n = std::min(m.data.size(), kIderMaxData);
          f.put16(9, static_cast<std::uint16_t>(n)).put8(12, 0xB5).put8(13, m.device);
          f.append(std::span(m.data).first(n));
        } else if constexpr (std::is_same_v<T, IderDataToHost>) {
          const std::size_t n = std::min(m.data.size(), kIderMaxData);
          const bool dma = (message.attributes & kIderAttrDma) != 0;
          const auto count = static_cast<std::uint16_t>(n);
          f.put16(9, count).put8(12, dma ? 0xB4 : 0xB5).put8(14, 0x02).put16(16, dma ? 0 : count);
          f.put8(18, m.device).put8(19, 0x58);
          if (message.attributes & kIderAttrCompleted)
            f.put8(20, 0x85).put8(22, 0x03).put8(26, m.device).put8(27, m.status);
          f.append(std::span(m.data).first(n));
        }
      },
      message.body);
  return f.take();
}

}  // namespace mesim::wsman::redirection
