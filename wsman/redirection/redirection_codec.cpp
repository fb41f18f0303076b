#include "wsman/redirection/redirection_codec.h"

#include <cstdio>
#include <type_traits>

#include "common/byte_order.h"

namespace mesim::wsman::redirection {

namespace {

class Writer {
 public:
  explicit Writer(MessageType type, std::uint8_t second = 0) { out_ = {static_cast<std::uint8_t>(type), second, 0, 0}; }
  Writer& u8(std::uint8_t v) { return out_.push_back(v), *this; }
  Writer& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v)).u8(static_cast<std::uint8_t>(v >> 8)); }
  Writer& u32(std::uint32_t v) { return u16(static_cast<std::uint16_t>(v)).u16(static_cast<std::uint16_t>(v >> 16)); }
  Writer& bytes(const void* data, std::size_t n) {
    auto p = static_cast<const std::uint8_t*>(data);
    out_.insert(out_.end(), p, p + n);
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

// Fixed lengths, by type; 0 for the types whose length is in the message.
std::size_t fixedLength(MessageType type) {
  switch (type) {
    case MessageType::StartRedirectionSession: return 8;
    case MessageType::EndRedirectionSession: return 4;
    case MessageType::StartSol: return 24;
    case MessageType::StartSolReply: return 23;
    case MessageType::EndSol:
    case MessageType::EndSolReply:
    case MessageType::KeepAlivePing:
    case MessageType::KeepAlivePong:
    case MessageType::SolHeartbeat: return 8;
    case MessageType::SolSettingsUndocumented: return 14;
    case MessageType::SolControl: return 10;
    default: return 0;
  }
}

void appendField(std::vector<std::uint8_t>& out, const std::string& text) {
  // Longer fields cannot be said in a 1-byte length; they are cut rather than made into a different message.
  const std::size_t n = std::min<std::size_t>(text.size(), 255);
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), text.begin(), text.begin() + static_cast<std::ptrdiff_t>(n));
}

// Reads length-prefixed fields one after another.
class FieldReader {
 public:
  explicit FieldReader(std::span<const std::uint8_t> data) : data_(data) {}
  Result<std::string> next(const char* what) {
    if (at_ >= data_.size()) return fail(std::string("the ") + what + " field is missing");
    const std::size_t n = data_[at_++];
    if (data_.size() - at_ < n) return fail(std::string("the ") + what + " field is cut short");
    std::string text(data_.begin() + static_cast<std::ptrdiff_t>(at_), data_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
    return Result<std::string>(boost::system::in_place_value, std::move(text));
  }
  bool done() const { return at_ == data_.size(); }

 private:
  std::span<const std::uint8_t> data_;
  std::size_t at_ = 0;
};

}  // namespace

const char* messageName(MessageType type) {
  switch (type) {
    case MessageType::StartRedirectionSession: return "StartRedirectionSession";
    case MessageType::StartRedirectionSessionReply: return "StartRedirectionSessionReply";
    case MessageType::EndRedirectionSession: return "EndRedirectionSession";
    case MessageType::AuthenticateSession: return "AuthenticateSession";
    case MessageType::AuthenticateSessionReply: return "AuthenticateSessionReply";
    case MessageType::StartSol: return "StartSOL";
    case MessageType::StartSolReply: return "StartSOLReply";
    case MessageType::EndSol: return "EndSOL";
    case MessageType::EndSolReply: return "EndSOLReply";
    case MessageType::KeepAlivePing: return "KeepAlivePing";
    case MessageType::KeepAlivePong: return "KeepAlivePong";
    case MessageType::SolSettingsUndocumented: return "SOL 0x27";
    case MessageType::SolDataToHost: return "SOLDataToHost";
    case MessageType::SolControl: return "SOLControl";
    case MessageType::SolDataFromHost: return "SOLDataFromHost";
    case MessageType::SolHeartbeat: return "SOLHeartbeat";
  }
  return "unknown";
}

Result<std::optional<Decoded>> decodeMessage(std::span<const std::uint8_t> in) {
  if (in.empty()) return std::optional<Decoded>();
  const auto type = static_cast<MessageType>(in[0]);
  std::size_t length = fixedLength(type);
  switch (type) {
    case MessageType::StartRedirectionSessionReply:
      if (in.size() < 13) return std::optional<Decoded>();
      length = 13 + in[12];
      break;
    case MessageType::AuthenticateSession:
    case MessageType::AuthenticateSessionReply: {
      if (in.size() < 9) return std::optional<Decoded>();
      const std::uint32_t dataLength = bytes::le32(in, 5);
      if (dataLength > kMaxMessageBytes - 9)
        return fail(std::string(messageName(type)) + " carries " + std::to_string(dataLength) +
                    " bytes of data, more than the " + std::to_string(kMaxMessageBytes - 9) + " allowed");
      length = 9 + dataLength;
      break;
    }
    case MessageType::SolDataToHost:
    case MessageType::SolDataFromHost:
      if (in.size() < 10) return std::optional<Decoded>();
      length = 10 + bytes::le16(in, 8);
      break;
    default:
      if (length == 0) return fail("unknown redirection message type " + hexByte(in[0]));
  }
  if (in.size() < length) return std::optional<Decoded>();
  const auto m = in.first(length);
  Decoded out;
  out.length = length;
  switch (type) {
    case MessageType::StartRedirectionSession:
      out.message = StartSession{m[1], std::string(m.begin() + 4, m.begin() + 8)};
      break;
    case MessageType::EndRedirectionSession: out.message = EndSession{}; break;
    case MessageType::AuthenticateSession:
      out.message = Authenticate{static_cast<AuthType>(m[4]), std::vector<std::uint8_t>(m.begin() + 9, m.end())};
      break;
    case MessageType::AuthenticateSessionReply:
      out.message = AuthenticateReply{static_cast<AuthStatus>(m[1]), static_cast<AuthType>(m[4]),
                                      std::vector<std::uint8_t>(m.begin() + 9, m.end())};
      break;
    case MessageType::StartRedirectionSessionReply: {
      StartSessionReply r;
      r.status = static_cast<SessionStatus>(m[1]);
      r.protocolMajor = m[4];
      r.protocolMinor = m[5];
      r.firmwareMajor = m[6];
      r.firmwareMinor = m[7];
      r.iana = bytes::le32(m, 8);
      r.oemData.assign(m.begin() + 13, m.end());
      out.message = std::move(r);
      break;
    }
    case MessageType::StartSol: {
      SolSettings s;
      s.sequence = bytes::le32(m, 4);
      s.maxTxBuffer = bytes::le16(m, 8);
      s.txTimeout = bytes::le16(m, 10);
      s.txOverflowTimeout = bytes::le16(m, 12);
      s.rxTimeout = bytes::le16(m, 14);
      s.rxFlushTimeout = bytes::le16(m, 16);
      s.heartbeat = bytes::le16(m, 18);
      out.message = StartSol{s};
      break;
    }
    case MessageType::StartSolReply: {
      StartSolReply r;
      r.status = m[1];
      r.sequence = bytes::le32(m, 4);
      r.protocolMajor = m[8];
      r.protocolMinor = m[9];
      r.firmwareMajor = m[10];
      r.firmwareMinor = m[11];
      r.maxTxBuffer = bytes::le16(m, 12);
      r.maxRxBuffer = bytes::le16(m, 14);
      r.reserved = bytes::le16(m, 16);
      r.iana = bytes::le32(m, 18);
      out.message = r;
      break;
    }
    case MessageType::EndSol: out.message = EndSol{bytes::le32(m, 4)}; break;
    case MessageType::EndSolReply: out.message = EndSolReply{bytes::le32(m, 4)}; break;
    case MessageType::KeepAlivePing:
    case MessageType::KeepAlivePong:
      out.message = KeepAlive{type == MessageType::KeepAlivePong, bytes::le32(m, 4)};
      break;
    case MessageType::SolSettingsUndocumented: out.message = SolUndocumented{bytes::le32(m, 4)}; break;
    case MessageType::SolDataToHost:
    case MessageType::SolDataFromHost:
      out.message = SolData{type == MessageType::SolDataToHost, bytes::le32(m, 4), std::string(m.begin() + 10, m.end())};
      break;
    case MessageType::SolControl: out.message = SolControl{bytes::le32(m, 4), m[8], m[9]}; break;
    case MessageType::SolHeartbeat: out.message = SolHeartbeat{bytes::le32(m, 4)}; break;
  }
  return std::optional<Decoded>(std::move(out));
}

std::vector<std::uint8_t> encode(const Message& message) {
  return std::visit(
      [](const auto& m) -> std::vector<std::uint8_t> {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, StartSession>) {
          std::string tag = m.tag;
          tag.resize(4, ' ');
          return Writer(MessageType::StartRedirectionSession, m.flags).bytes(tag.data(), 4).take();
        } else if constexpr (std::is_same_v<T, EndSession>) {
          return Writer(MessageType::EndRedirectionSession).take();
        } else if constexpr (std::is_same_v<T, Authenticate>) {
          return Writer(MessageType::AuthenticateSession)
              .u8(static_cast<std::uint8_t>(m.type))
              .u32(static_cast<std::uint32_t>(m.data.size()))
              .bytes(m.data.data(), m.data.size())
              .take();
        } else if constexpr (std::is_same_v<T, AuthenticateReply>) {
          return Writer(MessageType::AuthenticateSessionReply, static_cast<std::uint8_t>(m.status))
              .u8(static_cast<std::uint8_t>(m.type))
              .u32(static_cast<std::uint32_t>(m.data.size()))
              .bytes(m.data.data(), m.data.size())
              .take();
        } else if constexpr (std::is_same_v<T, StartSessionReply>) {
          const auto oem = std::min<std::size_t>(m.oemData.size(), 255);
          return Writer(MessageType::StartRedirectionSessionReply, static_cast<std::uint8_t>(m.status))
              .u8(m.protocolMajor)
              .u8(m.protocolMinor)
              .u8(m.firmwareMajor)
              .u8(m.firmwareMinor)
              .u32(m.iana)
              .u8(static_cast<std::uint8_t>(oem))
              .bytes(m.oemData.data(), oem)
              .take();
        } else if constexpr (std::is_same_v<T, StartSol>) {
          const auto& s = m.settings;
          return Writer(MessageType::StartSol)
              .u32(s.sequence)
              .u16(s.maxTxBuffer)
              .u16(s.txTimeout)
              .u16(s.txOverflowTimeout)
              .u16(s.rxTimeout)
              .u16(s.rxFlushTimeout)
              .u16(s.heartbeat)
              .u32(0)
              .take();
        } else if constexpr (std::is_same_v<T, StartSolReply>) {
          return Writer(MessageType::StartSolReply, m.status)
              .u32(m.sequence)
              .u8(m.protocolMajor)
              .u8(m.protocolMinor)
              .u8(m.firmwareMajor)
              .u8(m.firmwareMinor)
              .u16(m.maxTxBuffer)
              .u16(m.maxRxBuffer)
              .u16(m.reserved)
              .u32(m.iana)
              .u8(0)
              .take();
        } else if constexpr (std::is_same_v<T, EndSol>) {
          return Writer(MessageType::EndSol).u32(m.sequence).take();
        } else if constexpr (std::is_same_v<T, EndSolReply>) {
          return Writer(MessageType::EndSolReply).u32(m.sequence).take();
        } else if constexpr (std::is_same_v<T, SolUndocumented>) {
          return Writer(MessageType::SolSettingsUndocumented).u32(m.sequence).u16(0).u8(0x1B).u8(0).u16(0).take();
        } else if constexpr (std::is_same_v<T, KeepAlive>) {
          return Writer(m.pong ? MessageType::KeepAlivePong : MessageType::KeepAlivePing).u32(m.sequence).take();
        } else if constexpr (std::is_same_v<T, SolData>) {
          const auto n = std::min<std::size_t>(m.bytes.size(), kMaxSolDataBytes);
          return Writer(m.toHost ? MessageType::SolDataToHost : MessageType::SolDataFromHost)
              .u32(m.sequence)
              .u16(static_cast<std::uint16_t>(n))
              .bytes(m.bytes.data(), n)
              .take();
        } else if constexpr (std::is_same_v<T, SolControl>) {
          return Writer(MessageType::SolControl).u32(m.sequence).u8(m.control).u8(m.status).take();
        } else {
          static_assert(std::is_same_v<T, SolHeartbeat>);
          return Writer(MessageType::SolHeartbeat).u32(m.sequence).take();
        }
      },
      message);
}

Result<CleartextCredentials> decodeCleartext(std::span<const std::uint8_t> data) {
  FieldReader fields(data);
  auto user = fields.next("user");
  if (!user) return user.error();
  auto password = fields.next("password");
  if (!password) return password.error();
  if (!fields.done()) return fail("bytes follow the password");
  return CleartextCredentials{std::move(*user), std::move(*password)};
}

std::vector<std::uint8_t> encodeCleartext(const CleartextCredentials& c) {
  std::vector<std::uint8_t> out;
  appendField(out, c.user);
  appendField(out, c.password);
  return out;
}

Result<DigestFields> decodeDigest(std::span<const std::uint8_t> data) {
  FieldReader fields(data);
  DigestFields d;
  const std::pair<std::string*, const char*> order[] = {{&d.user, "user"},     {&d.realm, "realm"},
                                                        {&d.nonce, "nonce"},   {&d.uri, "uri"},
                                                        {&d.cnonce, "cnonce"}, {&d.nc, "nc"},
                                                        {&d.response, "response"}, {&d.qop, "qop"}};
  for (const auto& [field, name] : order) {
    auto text = fields.next(name);
    if (!text) return text.error();
    *field = std::move(*text);
  }
  if (!fields.done()) return fail("bytes follow the qop field");
  return d;
}

std::vector<std::uint8_t> encodeDigest(const DigestFields& d) {
  std::vector<std::uint8_t> out;
  for (const auto* field : {&d.user, &d.realm, &d.nonce, &d.uri, &d.cnonce, &d.nc, &d.response, &d.qop})
    appendField(out, *field);
  return out;
}

std::vector<std::uint8_t> encodeDigestChallenge(const DigestChallenge& c) {
  std::vector<std::uint8_t> out;
  appendField(out, c.realm);
  appendField(out, c.nonce);
  appendField(out, c.qop);
  return out;
}

Result<DigestChallenge> decodeDigestChallenge(std::span<const std::uint8_t> data) {
  FieldReader fields(data);
  DigestChallenge c;
  for (auto [field, name] : {std::pair{&c.realm, "realm"}, std::pair{&c.nonce, "nonce"}, std::pair{&c.qop, "qop"}}) {
    auto text = fields.next(name);
    if (!text) return text.error();
    *field = std::move(*text);
  }
  if (!fields.done()) return fail("bytes follow the qop field");
  return c;
}

}  // namespace mesim::wsman::redirection
