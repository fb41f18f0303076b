// HBM wire format shared by both sides of the link (spec/mei.md §2). Pure data, no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mesim::hbm {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// A client GUID in the kernel's uuid_le byte order (spec §1.1).
struct Guid {
  std::array<std::uint8_t, 16> bytes{};
  static std::optional<Guid> parse(std::string_view text);  // "12F80028-B4B7-4B2D-ACA8-46E0FF65814C"
  std::string toString() const;                              // upper-case canonical form
  bool operator==(const Guid&) const = default;
};

// mei_msg_hdr: me_addr:8 | host_addr:8 | length:9 | reserved:3 | extended:1 | dma_ring:1 | internal:1 | complete:1
struct MsgHeader {
  std::uint8_t meAddr = 0;
  std::uint8_t hostAddr = 0;
  std::uint16_t length = 0;  // payload bytes of this fragment, <= 511
  bool extended = false;
  bool dmaRing = false;
  bool internal = false;  // on mesim's link: a link-control frame (docs/hbm-link.md)
  bool complete = true;

  std::uint32_t pack() const;
  static MsgHeader unpack(std::uint32_t raw);
  bool isBusMessage() const { return meAddr == 0 && hostAddr == 0 && !internal; }
};

constexpr std::size_t kHeaderSize = 4;
constexpr std::uint32_t kDefaultBufferSlots = 128;  // ME_CBD depth, 4-byte slots incl. the header
constexpr std::size_t kMaxFragmentLength = 511;     // the 9-bit length field

// Largest payload one fragment may carry for a circular buffer of `slots` 4-byte slots.
constexpr std::size_t maxFragmentPayload(std::uint32_t slots) {
  std::size_t bytes = slots > 1 ? (slots - 1) * 4u : 0u;
  return bytes < kMaxFragmentLength ? bytes : kMaxFragmentLength;
}

// One fragment as it crosses the link.
struct Frame {
  MsgHeader header;
  Bytes payload;
};

// Link-control frames (internal=1, me=host=0) model the hardware's reset/ready handshake.
enum class LinkControl : std::uint8_t {
  Reset = 1,  // the sender reset (host: H_RST; ME: lost ME_RDY); the peer must drop all state
  Ready = 2,  // ME: ready after a reset (ME_RDY)
  Registers = 3,  // ME: the registers of READY changed while running (an error state shows in fw_status)
};
Frame makeLinkControl(LinkControl op);
std::optional<LinkControl> parseLinkControl(const Frame& frame);

// READY also carries what the host reads from PCI config space and MMIO on real hardware:
// the six firmware status registers (HFSTS1..6) and the TRC register.
struct ReadyInfo {
  std::array<std::uint32_t, 6> fwStatus{};
  std::uint32_t trc = 0;
};
Frame makeReady(const ReadyInfo& info);
// REGISTERS: the same payload as READY, without its meaning of a reset being over.
Frame makeRegisters(const ReadyInfo& info);
ReadyInfo parseReady(const Frame& frame);  // READY or REGISTERS; missing fields read as zero

// Splits a message into fragments that fit a circular buffer of `slots` slots.
std::vector<Frame> fragment(std::uint8_t meAddr, std::uint8_t hostAddr, ByteView message, std::uint32_t slots);

// Reassembles fragments per (me, host) address pair.
class Reassembler {
 public:
  explicit Reassembler(std::size_t maxMessage = 1u << 20) : maxMessage_(maxMessage) {}
  enum class Result { Incomplete, Complete, TooLong };
  // On Complete, `out` holds the whole message.
  Result add(const Frame& frame, Bytes& out);
  void reset() { pending_.clear(); }
  void drop(std::uint8_t meAddr, std::uint8_t hostAddr);

 private:
  std::size_t maxMessage_;
  std::vector<std::pair<std::uint16_t, Bytes>> pending_;  // key = me << 8 | host
};

// HBM bus commands (spec §2.2); the response is the request | 0x80.
enum class Command : std::uint8_t {
  HostStart = 0x01,
  HostStop = 0x02,
  MeStop = 0x03,
  HostEnum = 0x04,
  ClientProperties = 0x05,
  ClientConnect = 0x06,
  ClientDisconnect = 0x07,
  FlowControl = 0x08,
  PgIsolationEntry = 0x0a,
  PgIsolationExit = 0x0b,
  AddClient = 0x0f,
  Notify = 0x10,
  Notification = 0x11,
  DmaSetup = 0x12,
  Capabilities = 0x13,
  ClientDmaMap = 0x14,
  ClientDmaUnmap = 0x15,
};
constexpr std::uint8_t kResponseBit = 0x80;
constexpr std::uint8_t responseOf(Command c) { return static_cast<std::uint8_t>(c) | kResponseBit; }

enum class Status : std::uint8_t {
  Success = 0,
  ClientNotFound = 1,
  AlreadyExists = 2,
  Rejected = 3,
  InvalidParameter = 4,
  NotAllowed = 5,
  AlreadyStarted = 6,
  NotStarted = 7,
};
// CLIENT_CONNECT reuses the numbers with its own meanings.
enum class ConnectStatus : std::uint8_t {
  Success = 0,
  NotFound = 1,
  AlreadyStarted = 2,
  OutOfResources = 3,
  MessageSmall = 4,
  NotAllowed = 5,
};

struct Version {
  std::uint8_t major = 0;
  std::uint8_t minor = 0;
  auto operator<=>(const Version&) const = default;
};
constexpr Version kMaxVersion{2, 2};
constexpr Version kMinHostVersion{2, 0};

// mei_client_properties (24 bytes).
struct ClientProperties {
  Guid uuid;
  std::uint8_t protocolVersion = 0;
  std::uint8_t maxConnections = 0;
  std::uint8_t fixedAddress = 0;
  std::uint8_t flags = 0;  // bit0 single_recv_buf, bit1 vt_supported
  std::uint32_t maxMsgLength = 0;
};
constexpr std::size_t kClientPropertiesSize = 24;

// Decoded bus messages. Encoders produce the exact on-wire payload; decoders check length.
struct HostStartReq { Version host; };
struct HostStartRes { bool hostVersionSupported; Version meMax; };
struct StopReq { std::uint8_t reason; };  // HOST_STOP / ME_STOP
struct HostEnumReq { std::uint8_t flags; };
struct HostEnumRes { std::array<std::uint8_t, 32> validAddresses{}; };
struct PropertiesReq { std::uint8_t meAddr; };
struct PropertiesRes { std::uint8_t meAddr; Status status; ClientProperties props; };
struct ConnectReq { std::uint8_t meAddr; std::uint8_t hostAddr; };                     // 0x06 and 0x07
struct ConnectRes { std::uint8_t meAddr; std::uint8_t hostAddr; std::uint8_t status; };  // 0x86 and 0x87
struct FlowControl { std::uint8_t meAddr; std::uint8_t hostAddr; };
struct NotifyReq { std::uint8_t meAddr; std::uint8_t hostAddr; bool start; };
struct NotifyRes { std::uint8_t meAddr; std::uint8_t hostAddr; Status status; bool start; };
struct Notification { std::uint8_t meAddr; std::uint8_t hostAddr; };
struct Capabilities { std::array<std::uint8_t, 3> caps{}; };
struct SimpleStatus { std::uint8_t status; };  // DMA_SETUP / DMA map responses

Bytes encode(const HostStartReq&);
Bytes encode(const HostStartRes&);
Bytes encodeStop(Command cmd, const StopReq&);  // HOST_STOP req, ME_STOP req
Bytes encodeHostStopRes();
Bytes encode(const HostEnumReq&);
Bytes encode(const HostEnumRes&);
Bytes encode(const PropertiesReq&);
Bytes encode(const PropertiesRes&);
Bytes encodeConnect(Command cmd, const ConnectReq&);   // 0x06 or 0x07
Bytes encodeConnectRes(Command cmd, const ConnectRes&);  // 0x86 or 0x87
Bytes encode(const FlowControl&);
Bytes encode(const NotifyReq&);
Bytes encode(const NotifyRes&);
Bytes encode(const Notification&);
Bytes encodeCapabilities(bool response, const Capabilities&);
Bytes encodeSimple(std::uint8_t responseCode, std::uint8_t status);

void writeProperties(const ClientProperties& props, std::uint8_t* out24);
ClientProperties readProperties(const std::uint8_t* in24);

// Exact payload size a bus message with this code must have; nullopt for unknown codes.
std::optional<std::size_t> busMessageSize(std::uint8_t code);

std::optional<HostStartReq> decodeHostStartReq(ByteView);
std::optional<HostStartRes> decodeHostStartRes(ByteView);
std::optional<StopReq> decodeStop(ByteView);
std::optional<HostEnumReq> decodeHostEnumReq(ByteView);
std::optional<HostEnumRes> decodeHostEnumRes(ByteView);
std::optional<PropertiesReq> decodePropertiesReq(ByteView);
std::optional<PropertiesRes> decodePropertiesRes(ByteView);
std::optional<ConnectReq> decodeConnect(ByteView);
std::optional<ConnectRes> decodeConnectRes(ByteView);
std::optional<FlowControl> decodeFlowControl(ByteView);
std::optional<NotifyReq> decodeNotifyReq(ByteView);
std::optional<NotifyRes> decodeNotifyRes(ByteView);
std::optional<Notification> decodeNotification(ByteView);
std::optional<Capabilities> decodeCapabilities(ByteView);

const char* commandName(std::uint8_t code);

}  // namespace mesim::hbm
