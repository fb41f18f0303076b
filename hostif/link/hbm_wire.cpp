#include "hostif/link/hbm_wire.h"

#include <algorithm>

#include "common/text_codecs.h"

namespace mesim::hbm {

// Fields 1-3 are stored little-endian (uuid_le): the mixed-endian form of the text's bytes.
std::optional<Guid> Guid::parse(std::string_view text) {
  const auto inTextOrder = text::parseUuid(text);
  if (!inTextOrder) return std::nullopt;
  return Guid{text::uuidToMixedEndian(*inTextOrder)};
}

std::string Guid::toString() const {
  return text::uuidText(text::uuidToMixedEndian(bytes), text::LetterCase::Upper);
}

std::uint32_t MsgHeader::pack() const {
  return std::uint32_t{meAddr} | std::uint32_t{hostAddr} << 8 | (std::uint32_t{length} & 0x1ffu) << 16 |
         std::uint32_t{extended} << 28 | std::uint32_t{dmaRing} << 29 | std::uint32_t{internal} << 30 |
         std::uint32_t{complete} << 31;
}

MsgHeader MsgHeader::unpack(std::uint32_t raw) {
  MsgHeader h;
  h.meAddr = raw & 0xff;
  h.hostAddr = (raw >> 8) & 0xff;
  h.length = (raw >> 16) & 0x1ff;
  h.extended = (raw >> 28) & 1;
  h.dmaRing = (raw >> 29) & 1;
  h.internal = (raw >> 30) & 1;
  h.complete = (raw >> 31) & 1;
  return h;
}

Frame makeLinkControl(LinkControl op) {
  Frame f;
  f.header.internal = true;
  f.header.length = 4;
  f.payload = {static_cast<std::uint8_t>(op), 0, 0, 0};
  return f;
}

std::optional<LinkControl> parseLinkControl(const Frame& frame) {
  if (!frame.header.internal || frame.payload.size() < 1) return std::nullopt;
  auto op = frame.payload[0];
  if (op == static_cast<std::uint8_t>(LinkControl::Reset) || op == static_cast<std::uint8_t>(LinkControl::Ready) ||
      op == static_cast<std::uint8_t>(LinkControl::Registers))
    return static_cast<LinkControl>(op);
  return std::nullopt;
}

namespace {
Frame makeRegisterFrame(LinkControl op, const ReadyInfo& info) {
  Frame f = makeLinkControl(op);
  auto put = [&](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) f.payload.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  for (auto v : info.fwStatus) put(v);
  put(info.trc);
  f.header.length = static_cast<std::uint16_t>(f.payload.size());
  return f;
}
}  // namespace

Frame makeReady(const ReadyInfo& info) { return makeRegisterFrame(LinkControl::Ready, info); }
Frame makeRegisters(const ReadyInfo& info) { return makeRegisterFrame(LinkControl::Registers, info); }

ReadyInfo parseReady(const Frame& frame) {
  ReadyInfo info;
  auto get = [&](std::size_t offset) -> std::uint32_t {
    if (frame.payload.size() < offset + 4) return 0;
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= std::uint32_t{frame.payload[offset + i]} << (8 * i);
    return v;
  };
  for (std::size_t i = 0; i < info.fwStatus.size(); ++i) info.fwStatus[i] = get(4 + 4 * i);
  info.trc = get(28);
  return info;
}

std::vector<Frame> fragment(std::uint8_t meAddr, std::uint8_t hostAddr, ByteView message, std::uint32_t slots) {
  std::vector<Frame> frames;
  const std::size_t chunk = std::max<std::size_t>(maxFragmentPayload(slots), 4);
  std::size_t offset = 0;
  do {
    std::size_t n = std::min(chunk, message.size() - offset);
    Frame f;
    f.header.meAddr = meAddr;
    f.header.hostAddr = hostAddr;
    f.header.length = static_cast<std::uint16_t>(n);
    f.payload.assign(message.begin() + offset, message.begin() + offset + n);
    offset += n;
    f.header.complete = offset == message.size();
    frames.push_back(std::move(f));
  } while (offset < message.size());
  return frames;
}

Reassembler::Result Reassembler::add(const Frame& frame, Bytes& out) {
  const std::uint16_t key = static_cast<std::uint16_t>(frame.header.meAddr << 8 | frame.header.hostAddr);
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& p) { return p.first == key; });
  if (frame.header.complete && it == pending_.end()) {
    out = frame.payload;
    return Result::Complete;
  }
  if (it == pending_.end()) {
    pending_.emplace_back(key, Bytes{});
    it = std::prev(pending_.end());
  }
  if (it->second.size() + frame.payload.size() > maxMessage_) {
    pending_.erase(it);
    return Result::TooLong;
  }
  it->second.insert(it->second.end(), frame.payload.begin(), frame.payload.end());
  if (!frame.header.complete) return Result::Incomplete;
  out = std::move(it->second);
  pending_.erase(it);
  return Result::Complete;
}

void Reassembler::drop(std::uint8_t meAddr, std::uint8_t hostAddr) {
  const std::uint16_t key = static_cast<std::uint16_t>(meAddr << 8 | hostAddr);
  std::erase_if(pending_, [&](const auto& p) { return p.first == key; });
}

// ---- bus messages ----

Bytes encode(const HostStartReq& m) { return {0x01, 0, m.host.minor, m.host.major}; }
Bytes encode(const HostStartRes& m) {
  return {responseOf(Command::HostStart), static_cast<std::uint8_t>(m.hostVersionSupported), m.meMax.minor, m.meMax.major};
}
Bytes encodeStop(Command cmd, const StopReq& m) { return {static_cast<std::uint8_t>(cmd), m.reason, 0, 0}; }
Bytes encodeHostStopRes() { return {responseOf(Command::HostStop), 0, 0, 0}; }
Bytes encode(const HostEnumReq& m) { return {0x04, m.flags, 0, 0}; }
Bytes encode(const HostEnumRes& m) {
  Bytes b(4 + m.validAddresses.size(), 0);
  b[0] = responseOf(Command::HostEnum);
  std::copy(m.validAddresses.begin(), m.validAddresses.end(), b.begin() + 4);
  return b;
}
Bytes encode(const PropertiesReq& m) { return {0x05, m.meAddr, 0, 0}; }
Bytes encode(const PropertiesRes& m) {
  Bytes b(4 + kClientPropertiesSize, 0);
  b[0] = responseOf(Command::ClientProperties);
  b[1] = m.meAddr;
  b[2] = static_cast<std::uint8_t>(m.status);
  writeProperties(m.props, b.data() + 4);
  return b;
}
Bytes encodeConnect(Command cmd, const ConnectReq& m) { return {static_cast<std::uint8_t>(cmd), m.meAddr, m.hostAddr, 0}; }
Bytes encodeConnectRes(Command cmd, const ConnectRes& m) {
  return {static_cast<std::uint8_t>(static_cast<std::uint8_t>(cmd) | kResponseBit), m.meAddr, m.hostAddr, m.status};
}
Bytes encode(const FlowControl& m) { return {0x08, m.meAddr, m.hostAddr, 0, 0, 0, 0, 0}; }
Bytes encode(const NotifyReq& m) { return {0x10, m.meAddr, m.hostAddr, static_cast<std::uint8_t>(m.start)}; }
Bytes encode(const NotifyRes& m) {
  return {responseOf(Command::Notify), m.meAddr, m.hostAddr, static_cast<std::uint8_t>(m.status),
          static_cast<std::uint8_t>(m.start), 0, 0, 0};
}
Bytes encode(const Notification& m) { return {0x11, m.meAddr, m.hostAddr, 0}; }
Bytes encodeCapabilities(bool response, const Capabilities& m) {
  return {static_cast<std::uint8_t>(response ? responseOf(Command::Capabilities) : 0x13), m.caps[0], m.caps[1], m.caps[2]};
}
Bytes encodeSimple(std::uint8_t responseCode, std::uint8_t status) { return {responseCode, status, 0, 0}; }

void writeProperties(const ClientProperties& p, std::uint8_t* out) {
  std::copy(p.uuid.bytes.begin(), p.uuid.bytes.end(), out);
  out[16] = p.protocolVersion;
  out[17] = p.maxConnections;
  out[18] = p.fixedAddress;
  out[19] = p.flags;
  for (int i = 0; i < 4; ++i) out[20 + i] = static_cast<std::uint8_t>(p.maxMsgLength >> (8 * i));
}

ClientProperties readProperties(const std::uint8_t* in) {
  ClientProperties p;
  std::copy(in, in + 16, p.uuid.bytes.begin());
  p.protocolVersion = in[16];
  p.maxConnections = in[17];
  p.fixedAddress = in[18];
  p.flags = in[19];
  p.maxMsgLength = std::uint32_t{in[20]} | std::uint32_t{in[21]} << 8 | std::uint32_t{in[22]} << 16 |
                   std::uint32_t{in[23]} << 24;
  return p;
}

std::optional<std::size_t> busMessageSize(std::uint8_t code) {
  switch (code) {
    case 0x01: case 0x81: case 0x02: case 0x82: case 0x03: case 0x04: case 0x05: case 0x06: case 0x86:
    case 0x07: case 0x87: case 0x0a: case 0x8a: case 0x0b: case 0x8b: case 0x10: case 0x11: case 0x13:
    case 0x93: case 0x8f:
      return 4;
    case 0x84: return 36;
    case 0x85: return 28;
    case 0x08: case 0x90: return 8;
    case 0x0f: return 28;
    case 0x12: return 40;
    case 0x92: return 4;
    case 0x14: return 16;
    case 0x15: return 4;
    case 0x94: case 0x95: return 4;
    default: return std::nullopt;
  }
}

namespace {
bool sized(ByteView b, std::uint8_t code) {
  auto n = busMessageSize(code);
  return n && b.size() == *n && b[0] == code;
}
}  // namespace

std::optional<HostStartReq> decodeHostStartReq(ByteView b) {
  if (!sized(b, 0x01)) return std::nullopt;
  return HostStartReq{Version{b[3], b[2]}};
}
std::optional<HostStartRes> decodeHostStartRes(ByteView b) {
  if (!sized(b, 0x81)) return std::nullopt;
  return HostStartRes{b[1] != 0, Version{b[3], b[2]}};
}
std::optional<StopReq> decodeStop(ByteView b) {
  if (b.size() != 4 || (b[0] != 0x02 && b[0] != 0x03)) return std::nullopt;
  return StopReq{b[1]};
}
std::optional<HostEnumReq> decodeHostEnumReq(ByteView b) {
  if (!sized(b, 0x04)) return std::nullopt;
  return HostEnumReq{b[1]};
}
std::optional<HostEnumRes> decodeHostEnumRes(ByteView b) {
  if (!sized(b, 0x84)) return std::nullopt;
  HostEnumRes r;
  std::copy(b.begin() + 4, b.end(), r.validAddresses.begin());
  return r;
}
std::optional<PropertiesReq> decodePropertiesReq(ByteView b) {
  if (!sized(b, 0x05)) return std::nullopt;
  return PropertiesReq{b[1]};
}
std::optional<PropertiesRes> decodePropertiesRes(ByteView b) {
  if (!sized(b, 0x85)) return std::nullopt;
  return PropertiesRes{b[1], static_cast<Status>(b[2]), readProperties(b.data() + 4)};
}
std::optional<ConnectReq> decodeConnect(ByteView b) {
  if (b.size() != 4 || (b[0] != 0x06 && b[0] != 0x07)) return std::nullopt;
  return ConnectReq{b[1], b[2]};
}
std::optional<ConnectRes> decodeConnectRes(ByteView b) {
  if (b.size() != 4 || (b[0] != 0x86 && b[0] != 0x87)) return std::nullopt;
  return ConnectRes{b[1], b[2], b[3]};
}
std::optional<FlowControl> decodeFlowControl(ByteView b) {
  if (!sized(b, 0x08)) return std::nullopt;
  return FlowControl{b[1], b[2]};
}
std::optional<NotifyReq> decodeNotifyReq(ByteView b) {
  if (!sized(b, 0x10) || b[3] > 1) return std::nullopt;
  return NotifyReq{b[1], b[2], b[3] == 1};
}
std::optional<NotifyRes> decodeNotifyRes(ByteView b) {
  if (!sized(b, 0x90)) return std::nullopt;
  return NotifyRes{b[1], b[2], static_cast<Status>(b[3]), b[4] != 0};
}
std::optional<Notification> decodeNotification(ByteView b) {
  if (!sized(b, 0x11)) return std::nullopt;
  return Notification{b[1], b[2]};
}
std::optional<Capabilities> decodeCapabilities(ByteView b) {
  if (b.size() != 4 || (b[0] != 0x13 && b[0] != 0x93)) return std::nullopt;
  return Capabilities{{b[1], b[2], b[3]}};
}

const char* commandName(std::uint8_t code) {
  switch (code & 0x7f) {
    case 0x01: return "HOST_START";
    case 0x02: return "HOST_STOP";
    case 0x03: return "ME_STOP";
    case 0x04: return "HOST_ENUM";
    case 0x05: return "CLIENT_PROPERTIES";
    case 0x06: return "CLIENT_CONNECT";
    case 0x07: return "CLIENT_DISCONNECT";
    case 0x08: return "FLOW_CONTROL";
    case 0x0a: return "PG_ISOLATION_ENTRY";
    case 0x0b: return "PG_ISOLATION_EXIT";
    case 0x0f: return "ADD_CLIENT";
    case 0x10: return "NOTIFY";
    case 0x11: return "NOTIFICATION";
    case 0x12: return "DMA_SETUP";
    case 0x13: return "CAPABILITIES";
    case 0x14: return "CLIENT_DMA_MAP";
    case 0x15: return "CLIENT_DMA_UNMAP";
    default: return "UNKNOWN";
  }
}

}  // namespace mesim::hbm
