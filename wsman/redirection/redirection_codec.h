// The redirection protocol of 16994/16995 (../shared/spec/features.md §1.1-1.2, wsman.md §2.3) as bytes: session
// setup (0x10-0x14) and Serial-over-LAN (0x20-0x2B). Pure: no I/O, no state. Multi-byte fields are little-endian.
//
//   std::vector<std::uint8_t> in = ...;                   // what a socket delivered so far
//   auto next = decodeMessage(in);                        // NeedMore, a message and its length, or an error
//   auto bytes = encode(StartSessionReply{...});          // one message, for one write
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"

namespace mesim::wsman::redirection {

enum class MessageType : std::uint8_t {
  StartRedirectionSession = 0x10,
  StartRedirectionSessionReply = 0x11,
  EndRedirectionSession = 0x12,
  AuthenticateSession = 0x13,
  AuthenticateSessionReply = 0x14,
  StartSol = 0x20,
  StartSolReply = 0x21,
  EndSol = 0x22,
  EndSolReply = 0x23,
  KeepAlivePing = 0x24,
  KeepAlivePong = 0x25,
  SolSettingsUndocumented = 0x27,  // MeshCentral and ui-toolkit send it once after 0x21; its meaning is unknown
  SolDataToHost = 0x28,
  SolControl = 0x29,
  SolDataFromHost = 0x2A,
  SolHeartbeat = 0x2B,
};

// 0x11 [1] status.
enum class SessionStatus : std::uint8_t { Ok = 0, UnknownType = 1, Busy = 2, Unsupported = 3, Error = 0xFF };
// 0x14 [1] status.
enum class AuthStatus : std::uint8_t { Ok = 0, Failed = 1, NotSupported = 2 };
// 0x13/0x14 [4] type.
enum class AuthType : std::uint8_t { Query = 0, Cleartext = 1, Kerberos = 2, DigestNoCnonce = 3, Digest = 4 };

// The session kinds of 0x10's 4-byte tag.
inline constexpr char kTagSol[] = "SOL ";
inline constexpr char kTagIder[] = "IDER";
inline constexpr char kTagKvm[] = "KVMR";
inline constexpr std::uint32_t kIanaIntel = 0x157;
// The Digest URI of the redirection protocol's type 4 (MeshCentral, amtterm >= 1.5).
inline constexpr char kDigestUri[] = "/RedirectionService";

// ---- console -> AMT

struct StartSession {  // 0x10
  std::uint8_t flags = 0;  // [1]: MeshCentral and 9front send 1 for KVMR
  std::string tag;         // 4 bytes: "SOL ", "IDER", "KVMR"
};
struct EndSession {};  // 0x12
struct Authenticate {  // 0x13
  AuthType type = AuthType::Query;
  std::vector<std::uint8_t> data;
};
struct SolSettings {  // 0x20 (values are the console's; heartbeat and timeouts in ms)
  std::uint32_t sequence = 0;
  std::uint16_t maxTxBuffer = 0;
  std::uint16_t txTimeout = 0;
  std::uint16_t txOverflowTimeout = 0;
  std::uint16_t rxTimeout = 0;
  std::uint16_t rxFlushTimeout = 0;
  std::uint16_t heartbeat = 0;
};
struct StartSol {  // 0x20
  SolSettings settings;
};
struct EndSol {  // 0x22
  std::uint32_t sequence = 0;
};
struct SolUndocumented {  // 0x27
  std::uint32_t sequence = 0;
};

// ---- AMT -> console

struct StartSessionReply {  // 0x11
  SessionStatus status = SessionStatus::Ok;
  std::uint8_t protocolMajor = 1;
  std::uint8_t protocolMinor = 0;
  std::uint8_t firmwareMajor = 0;
  std::uint8_t firmwareMinor = 0;
  std::uint32_t iana = kIanaIntel;
  std::vector<std::uint8_t> oemData;
};
struct AuthenticateReply {  // 0x14
  AuthStatus status = AuthStatus::Ok;
  AuthType type = AuthType::Query;
  std::vector<std::uint8_t> data;
};
struct StartSolReply {  // 0x21
  std::uint8_t status = 0;
  std::uint32_t sequence = 1;
  std::uint8_t protocolMajor = 1;
  std::uint8_t protocolMinor = 0;
  std::uint8_t firmwareMajor = 0;
  std::uint8_t firmwareMinor = 0;
  std::uint16_t maxTxBuffer = 0x2000;
  std::uint16_t maxRxBuffer = 0x0100;
  std::uint16_t reserved = 0;
  std::uint32_t iana = kIanaIntel;
};
struct EndSolReply {  // 0x23
  std::uint32_t sequence = 0;
};

// ---- either way

struct KeepAlive {  // 0x24 ping / 0x25 pong
  bool pong = false;
  std::uint32_t sequence = 0;
};
struct SolData {  // 0x28 to the host (console -> AMT), 0x2A from the host (AMT -> console)
  bool toHost = true;
  std::uint32_t sequence = 0;
  std::string bytes;  // at most 65535
};
// 0x29 control bits (console -> AMT) and status bits (AMT -> console).
inline constexpr std::uint8_t kControlRts = 1, kControlDtr = 2, kControlBreak = 4;
inline constexpr std::uint8_t kStatusTxOverflow = 1, kStatusLoopback = 2, kStatusPoweredOn = 4,
                              kStatusRxFlushTimeout = 8, kStatusTestMode = 16;
struct SolControl {  // 0x29
  std::uint32_t sequence = 0;
  std::uint8_t control = 0;
  std::uint8_t status = 0;
};
struct SolHeartbeat {  // 0x2B
  std::uint32_t sequence = 0;
};

using Message = std::variant<StartSession, EndSession, Authenticate, StartSol, EndSol, SolUndocumented,
                             StartSessionReply, AuthenticateReply, StartSolReply, EndSolReply, KeepAlive, SolData,
                             SolControl, SolHeartbeat>;

// Messages are at most this long: a longer length field is an error, never a reason to buffer more.
inline constexpr std::size_t kMaxMessageBytes = 9 + 4096;   // 0x13/0x14 with their data
inline constexpr std::size_t kMaxSolDataBytes = 0xFFFF;     // 0x28/0x2A: u16 length

struct Decoded {
  Message message;
  std::size_t length = 0;  // bytes of `input` it took
};
// The first message in `input`: nullopt when more bytes are needed for it; an error when they can never make one
// (an unknown type, a length over the caps). Each type has one layout whichever way it goes.
Result<std::optional<Decoded>> decodeMessage(std::span<const std::uint8_t> input);

// Bytes of one message (one write: see the amtterm quirk, features.md §1.2).
std::vector<std::uint8_t> encode(const Message& message);

const char* messageName(MessageType type);

// ---- the data inside 0x13 / 0x14

struct CleartextCredentials {  // type 1: <ul> user <pl> password
  std::string user;
  std::string password;
};
Result<CleartextCredentials> decodeCleartext(std::span<const std::uint8_t> data);
std::vector<std::uint8_t> encodeCleartext(const CleartextCredentials& credentials);

// Type 4 (console -> AMT): eight fields, each a 1-byte length and its text, filling the data exactly. The first
// step sends the user and uri with the other six empty (`<l>user 00 00 <l>uri 00 00 00 00`), the second all eight;
// response = MD5(HA1:nonce:nc:cnonce:qop:MD5("POST:" uri)).
struct DigestFields {
  std::string user, realm, nonce, uri, cnonce, nc, response, qop;
};
// Type 4 challenge (AMT -> console, status 1): realm, nonce, qop, each length-prefixed.
struct DigestChallenge {
  std::string realm, nonce, qop;
};
Result<DigestFields> decodeDigest(std::span<const std::uint8_t> data);
std::vector<std::uint8_t> encodeDigest(const DigestFields& fields);
std::vector<std::uint8_t> encodeDigestChallenge(const DigestChallenge& challenge);
Result<DigestChallenge> decodeDigestChallenge(std::span<const std::uint8_t> data);

}  // namespace mesim::wsman::redirection
