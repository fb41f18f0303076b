// Intel AMT Port Forwarding (APF) wire format, spec/apf.md §1: every message type of §1.1 as a struct, one
// encoder and one decoder. Big-endian integers, strings as u32 length + bytes. Pure: no I/O, no state.
// On MEI one APF message is exactly one MEI message (spec §1); frameLength() serves byte streams (CIRA).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "hostif/link/hbm_wire.h"

namespace mesim::lme::apf {

using hbm::Bytes;
using hbm::ByteView;

enum class MessageType : std::uint8_t {
  Disconnect = 1,
  ServiceRequest = 5,
  ServiceAccept = 6,
  UserauthRequest = 50,
  UserauthFailure = 51,
  UserauthSuccess = 52,
  GlobalRequest = 80,
  RequestSuccess = 81,
  RequestFailure = 82,
  ChannelOpen = 90,
  ChannelOpenConfirmation = 91,
  ChannelOpenFailure = 92,
  ChannelWindowAdjust = 93,
  ChannelData = 94,
  ChannelClose = 97,
  ProtocolVersion = 192,
  KeepaliveRequest = 208,
  KeepaliveReply = 209,
  KeepaliveOptionsRequest = 210,
  KeepaliveOptionsReply = 211,
  JsonControl = 250,  // MeshCentral only
};
const char* messageTypeName(std::uint8_t type);

// §1.2
enum class DisconnectReason : std::uint32_t {
  HostNotAllowedToConnect = 1,
  ProtocolError = 2,
  KeyExchangeFailed = 3,
  Reserved = 4,
  MacError = 5,
  CompressionError = 6,
  ServiceNotAvailable = 7,
  ProtocolVersionNotSupported = 8,
  HostKeyNotVerifiable = 9,
  ConnectionLost = 10,
  ByApplication = 11,
  TooManyConnections = 12,
  AuthCancelledByUser = 13,
  NoMoreAuthMethodsAvailable = 14,
  IllegalUserName = 15,
  ConnectionTimedOut = 16,
  ByPolicy = 17,
  TemporarilyUnavailable = 18,
};
enum class OpenFailureReason : std::uint32_t {
  AdministrativelyProhibited = 1,
  ConnectFailed = 2,
  UnknownChannelType = 3,
  ResourceShortage = 4,
};
enum class TriggerReason : std::uint32_t {
  UserInitiated = 1,
  Alert = 2,
  HitProvisioning = 3,
  Periodic = 4,
  LmeRequest = 254,
};

inline constexpr std::string_view kServicePfwd = "pfwd@amt.intel.com";
inline constexpr std::string_view kServiceAuth = "auth@amt.intel.com";
inline constexpr std::string_view kTcpipForward = "tcpip-forward";
inline constexpr std::string_view kCancelTcpipForward = "cancel-tcpip-forward";
inline constexpr std::string_view kUdpSendTo = "udp-send-to@amt.intel.com";
inline constexpr std::string_view kForwardedTcpip = "forwarded-tcpip";
inline constexpr std::string_view kDirectTcpip = "direct-tcpip";
inline constexpr std::uint32_t kReservedMaxPacket = 0xFFFFFFFF;
inline constexpr std::uint32_t kMajorVersion = 1;
inline constexpr std::uint32_t kMinorVersion = 0;

// Fixed sizes of §1.1 (type byte included).
inline constexpr std::size_t kDisconnectSize = 7;
inline constexpr std::size_t kProtocolVersionSize = 93;
inline constexpr std::size_t kChannelOpenConfirmationSize = 17;
inline constexpr std::size_t kChannelOpenFailureSize = 17;
inline constexpr std::size_t kWindowAdjustSize = 9;
inline constexpr std::size_t kChannelDataHeaderSize = 9;
inline constexpr std::size_t kChannelCloseSize = 5;
// LMS silently drops a CHANNEL_DATA with more payload than this (spec §2.5).
inline constexpr std::size_t kLmsMaxDataPayload = 4095;

struct Disconnect {
  std::uint32_t reason = 0;
  bool operator==(const Disconnect&) const = default;
};
struct ServiceRequest {
  std::string service;
  bool operator==(const ServiceRequest&) const = default;
};
struct ServiceAccept {
  std::string service;
  bool operator==(const ServiceAccept&) const = default;
};
struct UserauthRequest {
  std::string user;
  std::string service;
  std::string method;              // "none" or "password"
  std::optional<std::string> password;  // present iff method == "password"
  bool operator==(const UserauthRequest&) const = default;
};
struct UserauthFailure {
  std::string methods;
  bool partialSuccess = false;  // encoded as u8 (GWM, 14 bytes); u16 is accepted (MPSes, 15 bytes)
  bool operator==(const UserauthFailure&) const = default;
};
struct UserauthSuccess {
  bool operator==(const UserauthSuccess&) const = default;
};

// Data of tcpip-forward and cancel-tcpip-forward (§1.3).
struct TcpipForward {
  std::string address;
  std::uint32_t port = 0;
  bool operator==(const TcpipForward&) const = default;
};
struct UdpSendTo {
  std::string address;
  std::uint32_t port = 0;
  std::string originatorAddress;
  std::uint32_t originatorPort = 0;
  Bytes payload;
  bool operator==(const UdpSendTo&) const = default;
};
struct GlobalRequest {
  std::string name;
  bool wantReply = false;
  // TcpipForward for the two forward names, UdpSendTo for udp-send-to; other names keep their raw data.
  std::variant<Bytes, TcpipForward, UdpSendTo> data;
  bool operator==(const GlobalRequest&) const = default;
};
struct RequestSuccess {
  std::optional<std::uint32_t> portBound;  // the tcpip-forward reply carries it; the cancel reply nothing
  bool operator==(const RequestSuccess&) const = default;
};
struct RequestFailure {
  bool operator==(const RequestFailure&) const = default;
};
struct ChannelOpen {
  std::string channelType;
  std::uint32_t senderChannel = 0;
  std::uint32_t initialWindow = 0;
  std::uint32_t reserved = kReservedMaxPacket;
  std::string connectedAddress;
  std::uint32_t connectedPort = 0;
  std::string originatorAddress;
  std::uint32_t originatorPort = 0;
  bool operator==(const ChannelOpen&) const = default;
};
struct ChannelOpenConfirmation {
  std::uint32_t recipientChannel = 0;
  std::uint32_t senderChannel = 0;
  std::uint32_t initialWindow = 0;
  std::uint32_t reserved = kReservedMaxPacket;
  bool operator==(const ChannelOpenConfirmation&) const = default;
};
struct ChannelOpenFailure {
  std::uint32_t recipientChannel = 0;
  std::uint32_t reason = 0;
  bool operator==(const ChannelOpenFailure&) const = default;
};
struct ChannelWindowAdjust {
  std::uint32_t recipientChannel = 0;
  std::uint32_t bytesToAdd = 0;
  bool operator==(const ChannelWindowAdjust&) const = default;
};
struct ChannelData {
  std::uint32_t recipientChannel = 0;
  Bytes data;
  bool operator==(const ChannelData&) const = default;
};
struct ChannelClose {
  std::uint32_t recipientChannel = 0;
  bool operator==(const ChannelClose&) const = default;
};
struct ProtocolVersion {
  std::uint32_t major = kMajorVersion;
  std::uint32_t minor = kMinorVersion;
  std::uint32_t triggerReason = 0;
  std::array<std::uint8_t, 16> uuid{};  // Microsoft GUID byte order (§1.2); 64 reserved zero bytes follow
  bool operator==(const ProtocolVersion&) const = default;
};
struct KeepaliveRequest {
  std::uint32_t cookie = 0;
  bool operator==(const KeepaliveRequest&) const = default;
};
struct KeepaliveReply {
  std::uint32_t cookie = 0;
  bool operator==(const KeepaliveReply&) const = default;
};
struct KeepaliveOptionsRequest {
  std::uint32_t intervalSeconds = 0;
  std::uint32_t timeoutSeconds = 0;
  bool operator==(const KeepaliveOptionsRequest&) const = default;
};
struct KeepaliveOptionsReply {
  std::uint32_t intervalSeconds = 0;
  std::uint32_t timeoutSeconds = 0;
  bool operator==(const KeepaliveOptionsReply&) const = default;
};
struct JsonControl {
  std::string json;
  bool operator==(const JsonControl&) const = default;
};

using Message = std::variant<Disconnect, ServiceRequest, ServiceAccept, UserauthRequest, UserauthFailure,
                             UserauthSuccess, GlobalRequest, RequestSuccess, RequestFailure, ChannelOpen,
                             ChannelOpenConfirmation, ChannelOpenFailure, ChannelWindowAdjust, ChannelData,
                             ChannelClose, ProtocolVersion, KeepaliveRequest, KeepaliveReply, KeepaliveOptionsRequest,
                             KeepaliveOptionsReply, JsonControl>;

Bytes encode(const Message& message);
// CHANNEL_DATA without building a ChannelData first (the hot path).
Bytes encodeChannelData(std::uint32_t recipientChannel, ByteView payload);

enum class DecodeError {
  None,
  Empty,        // zero bytes
  UnknownType,  // a type byte not in §1.1
  Truncated,    // shorter than its layout or a string/data length runs past the end
};
const char* decodeErrorName(DecodeError error);

struct Decoded {
  std::optional<Message> message;
  DecodeError error = DecodeError::None;
  std::uint8_t type = 0;        // the type byte, when there was one
  std::size_t trailingBytes = 0;  // bytes after the layout; ignored, as every implementation does
};
// One whole message. Strings longer than the message are Truncated, never allocated.
Decoded decode(ByteView message);

// For byte streams (CIRA): the length of the message at the start of `prefix`, 0 if more bytes are needed to
// tell, nullopt if the type is unknown.
std::optional<std::size_t> frameLength(ByteView prefix);

// UUID in RFC 4122 order (platform model) <-> the Microsoft GUID order APF carries (§1.2).
std::array<std::uint8_t, 16> uuidToWire(const std::array<std::uint8_t, 16>& rfc4122);

}  // namespace mesim::lme::apf
