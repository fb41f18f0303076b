#include "firmware/lme/apf_codec.h"

#include <type_traits>

#include "common/text_codecs.h"
#include "firmware/core/byte_io.h"

namespace mesim::lme::apf {

namespace {

// APF is big-endian (spec/apf.md §1).
using Writer = core::ByteWriter<core::order::big>;
using Reader = core::ByteReader<core::order::big>;

constexpr std::uint8_t code(MessageType t) { return static_cast<std::uint8_t>(t); }

bool isForwardName(std::string_view name) { return name == kTcpipForward || name == kCancelTcpipForward; }

void encodeBody(Writer& w, const Disconnect& m) { w.u8(code(MessageType::Disconnect)).u32(m.reason).u16(0); }
void encodeBody(Writer& w, const ServiceRequest& m) { w.u8(code(MessageType::ServiceRequest)).string(m.service); }
void encodeBody(Writer& w, const ServiceAccept& m) { w.u8(code(MessageType::ServiceAccept)).string(m.service); }
void encodeBody(Writer& w, const UserauthRequest& m) {
  w.u8(code(MessageType::UserauthRequest)).string(m.user).string(m.service).string(m.method);
  if (m.password) w.u8(0).string(*m.password);
}
void encodeBody(Writer& w, const UserauthFailure& m) {
  w.u8(code(MessageType::UserauthFailure)).string(m.methods).u8(m.partialSuccess ? 1 : 0);
}
void encodeBody(Writer& w, const UserauthSuccess&) { w.u8(code(MessageType::UserauthSuccess)); }
void encodeBody(Writer& w, const GlobalRequest& m) {
  w.u8(code(MessageType::GlobalRequest)).string(m.name).u8(m.wantReply ? 1 : 0);
  if (auto* raw = std::get_if<Bytes>(&m.data)) w.bytes(*raw);
  if (auto* fwd = std::get_if<TcpipForward>(&m.data)) w.string(fwd->address).u32(fwd->port);
  if (auto* udp = std::get_if<UdpSendTo>(&m.data))
    w.string(udp->address).u32(udp->port).string(udp->originatorAddress).u32(udp->originatorPort).data(udp->payload);
}
void encodeBody(Writer& w, const RequestSuccess& m) {
  w.u8(code(MessageType::RequestSuccess));
  if (m.portBound) w.u32(*m.portBound);
}
void encodeBody(Writer& w, const RequestFailure&) { w.u8(code(MessageType::RequestFailure)); }
void encodeBody(Writer& w, const ChannelOpen& m) {
  w.u8(code(MessageType::ChannelOpen))
      .string(m.channelType)
      .u32(m.senderChannel)
      .u32(m.initialWindow)
      .u32(m.reserved)
      .string(m.connectedAddress)
      .u32(m.connectedPort)
      .string(m.originatorAddress)
      .u32(m.originatorPort);
}
void encodeBody(Writer& w, const ChannelOpenConfirmation& m) {
  w.u8(code(MessageType::ChannelOpenConfirmation))
      .u32(m.recipientChannel)
      .u32(m.senderChannel)
      .u32(m.initialWindow)
      .u32(m.reserved);
}
void encodeBody(Writer& w, const ChannelOpenFailure& m) {
  w.u8(code(MessageType::ChannelOpenFailure)).u32(m.recipientChannel).u32(m.reason).u32(0).u32(0);
}
void encodeBody(Writer& w, const ChannelWindowAdjust& m) {
  w.u8(code(MessageType::ChannelWindowAdjust)).u32(m.recipientChannel).u32(m.bytesToAdd);
}
void encodeBody(Writer& w, const ChannelData& m) {
  w.u8(code(MessageType::ChannelData)).u32(m.recipientChannel).data(m.data);
}
void encodeBody(Writer& w, const ChannelClose& m) { w.u8(code(MessageType::ChannelClose)).u32(m.recipientChannel); }
void encodeBody(Writer& w, const ProtocolVersion& m) {
  w.u8(code(MessageType::ProtocolVersion)).u32(m.major).u32(m.minor).u32(m.triggerReason).bytes(m.uuid).zeros(64);
}
void encodeBody(Writer& w, const KeepaliveRequest& m) { w.u8(code(MessageType::KeepaliveRequest)).u32(m.cookie); }
void encodeBody(Writer& w, const KeepaliveReply& m) { w.u8(code(MessageType::KeepaliveReply)).u32(m.cookie); }
void encodeBody(Writer& w, const KeepaliveOptionsRequest& m) {
  w.u8(code(MessageType::KeepaliveOptionsRequest)).u32(m.intervalSeconds).u32(m.timeoutSeconds);
}
void encodeBody(Writer& w, const KeepaliveOptionsReply& m) {
  w.u8(code(MessageType::KeepaliveOptionsReply)).u32(m.intervalSeconds).u32(m.timeoutSeconds);
}
void encodeBody(Writer& w, const JsonControl& m) { w.u8(code(MessageType::JsonControl)).string(m.json); }

std::optional<Message> decodeBody(MessageType type, Reader& r) {
  switch (type) {
    case MessageType::Disconnect: {
      Disconnect m{r.u32()};
      r.u16();  // reserved
      return m;
    }
    case MessageType::ServiceRequest: return ServiceRequest{r.string()};
    case MessageType::ServiceAccept: return ServiceAccept{r.string()};
    case MessageType::UserauthRequest: {
      UserauthRequest m;
      m.user = r.string();
      m.service = r.string();
      m.method = r.string();
      if (m.method == "password") {
        r.u8();  // FALSE: not a password change
        m.password = r.string();
      }
      return m;
    }
    case MessageType::UserauthFailure: {
      UserauthFailure m;
      m.methods = r.string();
      m.partialSuccess = (r.remaining() == 2 ? r.u16() : r.u8()) != 0;
      return m;
    }
    case MessageType::UserauthSuccess: return UserauthSuccess{};
    case MessageType::GlobalRequest: {
      GlobalRequest m;
      m.name = r.string();
      m.wantReply = r.u8() != 0;
      if (isForwardName(m.name)) {
        TcpipForward f;
        f.address = r.string();
        f.port = r.u32();
        m.data = std::move(f);
      } else if (m.name == kUdpSendTo) {
        UdpSendTo u;
        u.address = r.string();
        u.port = r.u32();
        u.originatorAddress = r.string();
        u.originatorPort = r.u32();
        u.payload = r.data();
        m.data = std::move(u);
      } else {
        m.data = r.rest();
      }
      return m;
    }
    case MessageType::RequestSuccess: {
      RequestSuccess m;
      if (r.remaining() >= 4) m.portBound = r.u32();
      return m;
    }
    case MessageType::RequestFailure: return RequestFailure{};
    case MessageType::ChannelOpen: {
      ChannelOpen m;
      m.channelType = r.string();
      m.senderChannel = r.u32();
      m.initialWindow = r.u32();
      m.reserved = r.u32();
      m.connectedAddress = r.string();
      m.connectedPort = r.u32();
      m.originatorAddress = r.string();
      m.originatorPort = r.u32();
      return m;
    }
    case MessageType::ChannelOpenConfirmation: {
      ChannelOpenConfirmation m;
      m.recipientChannel = r.u32();
      m.senderChannel = r.u32();
      m.initialWindow = r.u32();
      m.reserved = r.u32();
      return m;
    }
    case MessageType::ChannelOpenFailure: {
      ChannelOpenFailure m;
      m.recipientChannel = r.u32();
      m.reason = r.u32();
      r.u32();
      r.u32();
      return m;
    }
    case MessageType::ChannelWindowAdjust: {
      ChannelWindowAdjust m;
      m.recipientChannel = r.u32();
      m.bytesToAdd = r.u32();
      return m;
    }
    case MessageType::ChannelData: {
      ChannelData m;
      m.recipientChannel = r.u32();
      m.data = r.data();
      return m;
    }
    case MessageType::ChannelClose: return ChannelClose{r.u32()};
    case MessageType::ProtocolVersion: {
      ProtocolVersion m;
      m.major = r.u32();
      m.minor = r.u32();
      m.triggerReason = r.u32();
      ByteView uuid = r.bytes(16);
      std::copy(uuid.begin(), uuid.end(), m.uuid.begin());
      r.bytes(64);  // reserved
      return m;
    }
    case MessageType::KeepaliveRequest: return KeepaliveRequest{r.u32()};
    case MessageType::KeepaliveReply: return KeepaliveReply{r.u32()};
    case MessageType::KeepaliveOptionsRequest: {
      KeepaliveOptionsRequest m;
      m.intervalSeconds = r.u32();
      m.timeoutSeconds = r.u32();
      return m;
    }
    case MessageType::KeepaliveOptionsReply: {
      KeepaliveOptionsReply m;
      m.intervalSeconds = r.u32();
      m.timeoutSeconds = r.u32();
      return m;
    }
    case MessageType::JsonControl: return JsonControl{r.string()};
  }
  return std::nullopt;
}

}  // namespace

const char* messageTypeName(std::uint8_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::Disconnect: return "DISCONNECT";
    case MessageType::ServiceRequest: return "SERVICE_REQUEST";
    case MessageType::ServiceAccept: return "SERVICE_ACCEPT";
    case MessageType::UserauthRequest: return "USERAUTH_REQUEST";
    case MessageType::UserauthFailure: return "USERAUTH_FAILURE";
    case MessageType::UserauthSuccess: return "USERAUTH_SUCCESS";
    case MessageType::GlobalRequest: return "GLOBAL_REQUEST";
    case MessageType::RequestSuccess: return "REQUEST_SUCCESS";
    case MessageType::RequestFailure: return "REQUEST_FAILURE";
    case MessageType::ChannelOpen: return "CHANNEL_OPEN";
    case MessageType::ChannelOpenConfirmation: return "CHANNEL_OPEN_CONFIRMATION";
    case MessageType::ChannelOpenFailure: return "CHANNEL_OPEN_FAILURE";
    case MessageType::ChannelWindowAdjust: return "CHANNEL_WINDOW_ADJUST";
    case MessageType::ChannelData: return "CHANNEL_DATA";
    case MessageType::ChannelClose: return "CHANNEL_CLOSE";
    case MessageType::ProtocolVersion: return "PROTOCOLVERSION";
    case MessageType::KeepaliveRequest: return "KEEPALIVE_REQUEST";
    case MessageType::KeepaliveReply: return "KEEPALIVE_REPLY";
    case MessageType::KeepaliveOptionsRequest: return "KEEPALIVE_OPTIONS_REQUEST";
    case MessageType::KeepaliveOptionsReply: return "KEEPALIVE_OPTIONS_REPLY";
    case MessageType::JsonControl: return "JSON_CONTROL";
  }
  return "UNKNOWN";
}

const char* decodeErrorName(DecodeError error) {
  switch (error) {
    case DecodeError::None: return "none";
    case DecodeError::Empty: return "empty message";
    case DecodeError::UnknownType: return "unknown message type";
    case DecodeError::Truncated: return "truncated message";
  }
  return "?";
}

Bytes encode(const Message& message) {
  Bytes out;
  Writer w(out);
  std::visit([&](const auto& m) { encodeBody(w, m); }, message);
  return out;
}

Bytes encodeChannelData(std::uint32_t recipientChannel, ByteView payload) {
  Bytes out;
  out.reserve(kChannelDataHeaderSize + payload.size());
  Writer(out).u8(code(MessageType::ChannelData)).u32(recipientChannel).data(payload);
  return out;
}

Decoded decode(ByteView message) {
  Decoded result;
  if (message.empty()) {
    result.error = DecodeError::Empty;
    return result;
  }
  result.type = message[0];
  if (std::string_view(messageTypeName(result.type)) == "UNKNOWN") {
    result.error = DecodeError::UnknownType;
    return result;
  }
  Reader r(message.subspan(1));
  auto decoded = decodeBody(static_cast<MessageType>(result.type), r);
  if (!r.ok() || !decoded) {
    result.error = DecodeError::Truncated;
    return result;
  }
  result.message = std::move(decoded);
  result.trailingBytes = r.remaining();
  return result;
}

std::optional<std::size_t> frameLength(ByteView prefix) {
  Decoded d = decode(prefix);
  if (d.error == DecodeError::UnknownType) return std::nullopt;
  if (!d.message) return 0;
  return prefix.size() - d.trailingBytes;
}

std::array<std::uint8_t, 16> uuidToWire(const std::array<std::uint8_t, 16>& u) { return text::uuidToMixedEndian(u); }

}  // namespace mesim::lme::apf
