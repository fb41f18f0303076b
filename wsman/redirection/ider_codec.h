// IDE redirection (IDE-R, ../shared/spec/features.md §1.3) as bytes: the messages that follow a successful
// AuthenticateSession of an "IDER" session. Pure: no I/O, no state. Multi-byte fields are little-endian unless said.
//
// Every message starts with an 8-byte header: type, 0, 0, attributes (bit0 DMA, bit1 completed), then a u32
// sequence number that each side counts from 0 for its own messages.
//
//   auto next = decodeIderMessage(bytes);                 // NeedMore (nullopt), a message and its length, or an error
//   auto out = encodeIder(IderMessage{{}, seq++, IderCommandWritten{...}});
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "common/result.h"

namespace mesim::wsman::redirection {

enum class IderType : std::uint8_t {
  OpenSession = 0x40,          // console -> AMT
  OpenSessionReply = 0x41,     // AMT -> console
  CloseSession = 0x42,         // either way
  CloseSessionReply = 0x43,    // either way: the session is over
  KeepAlivePing = 0x44,        // either way
  KeepAlivePong = 0x45,
  ResetOccurred = 0x46,        // AMT -> console: the host reset the IDE bus
  ResetOccurredReply = 0x47,   // console -> AMT
  SetFeatures = 0x48,          // console -> AMT (the "disable/enable features" request)
  SetFeaturesReply = 0x49,     // AMT -> console
  ErrorOccurred = 0x4A,        // either way
  Heartbeat = 0x4B,            // either way
  CommandWritten = 0x50,       // AMT -> console: an ATAPI PACKET command from the host
  CommandEndResponse = 0x51,   // console -> AMT: the command ended (good status or sense)
  GetDataFromHost = 0x52,      // console -> AMT: send me the host's data of a write
  DataFromHost = 0x53,         // AMT -> console: the host's data of a write
  DataToHost = 0x54,           // console -> AMT: data for the host (a read), in chunks
};

// Header attributes.
inline constexpr std::uint8_t kIderAttrDma = 0x01;
inline constexpr std::uint8_t kIderAttrCompleted = 0x02;

// Device select (the IDE drive/head register): bit4 selects the CD (device 0xB0) over the floppy (0xA0).
inline constexpr std::uint8_t kIderDeviceFloppy = 0xA0;
inline constexpr std::uint8_t kIderDeviceCdrom = 0xB0;

// ATA status register values a console reports: 0x50 ready, no error; 0x51 = the same with ERR (check condition:
// the sense fields say why).
inline constexpr std::uint8_t kAtaStatusGood = 0x50;
inline constexpr std::uint8_t kAtaStatusError = 0x51;

// 0x48/0x49 kinds and the set value's bits.
enum class IderFeatureKind : std::uint8_t { Supported = 1, GetState = 2, Set = 3 };
inline constexpr std::uint32_t kIderFeatureEnable = 0x01;       // register the IDE-R device with the host
inline constexpr std::uint32_t kIderStartModeMask = 0x18;
inline constexpr std::uint32_t kIderStartOnReboot = 0x08;
inline constexpr std::uint32_t kIderStartGraceful = 0x10;
inline constexpr std::uint32_t kIderStartNow = 0x18;
inline constexpr std::uint32_t kIderStateEnabled = 0x02;       // 0x49 kind 2: the device is registered

struct IderOpenSession {  // 0x40, 18 B: the console's timers (ms) and protocol version
  std::uint16_t rxTimeout = 30000;
  std::uint16_t txTimeout = 0;
  std::uint16_t heartbeat = 20000;
  std::uint32_t version = 1;
};
struct IderOpenSessionReply {  // 0x41, 30 B + OEM data
  std::uint8_t protocolMajor = 1;
  std::uint8_t protocolMinor = 0;
  std::uint8_t firmwareMajor = 0;
  std::uint8_t firmwareMinor = 0;
  std::uint16_t readBuffer = 8192;   // [16..17]: the largest 0x54 chunk the console may send (MeshCentral: <= 8192)
  std::uint16_t writeBuffer = 8192;  // [18..19]
  std::uint8_t protocol = 0;         // [21]: MeshCentral refuses anything but 0
  std::uint32_t iana = 0x157;        // [25..28]
  std::vector<std::uint8_t> oemData; // [29] length, then the bytes
};
struct IderCloseSession {};        // 0x42, 8 B
struct IderCloseSessionReply {};   // 0x43, 8 B
struct IderKeepAlive {             // 0x44 ping / 0x45 pong, 8 B
  bool pong = false;
};
struct IderResetOccurred {         // 0x46, 9 B
  std::uint8_t mask = 0;           // which devices saw the reset (we send 1)
};
struct IderResetOccurredReply {};  // 0x47, 8 B
struct IderFeatures {              // 0x48 request / 0x49 reply, 13 B
  bool reply = false;
  IderFeatureKind kind = IderFeatureKind::GetState;
  std::uint32_t value = 0;
};
struct IderErrorOccurred {         // 0x4A, 11 B
  std::array<std::uint8_t, 3> data{};
};
struct IderHeartbeat {};           // 0x4B, 8 B
struct IderCommandWritten {        // 0x50, 28 B
  std::uint8_t featureRegister = 0;   // [9]: bit0 DMA
  std::uint16_t byteCount = 0;        // [12..13]: the host's byte count limit (cylinder registers)
  std::uint8_t driveSelect = kIderDeviceCdrom;  // [14]
  std::uint8_t command = 0xA0;        // [15]: the ATA command, PACKET
  std::array<std::uint8_t, 12> cdb{}; // [16..27]
};
struct IderCommandEnd {            // 0x51, 31 B
  std::uint8_t status = kAtaStatusGood;  // [27]
  std::uint8_t senseKey = 0;             // [28]
  std::uint8_t asc = 0;                  // [29]
  std::uint8_t ascq = 0;                 // [30]
  std::uint8_t device = kIderDeviceCdrom;  // [26]
};
struct IderGetDataFromHost {       // 0x52, 31 B
  std::uint8_t device = kIderDeviceFloppy;  // [18]
  std::uint16_t length = 0;                 // [9..10]
};
struct IderDataFromHost {          // 0x53, 14 B + data
  std::uint8_t device = kIderDeviceFloppy;  // [13]
  std::vector<std::uint8_t> data;           // length at [9..10]
};
struct IderDataToHost {            // 0x54, 34 B + data
  std::uint8_t device = kIderDeviceCdrom;  // [18]
  std::uint8_t status = 0;                 // [27]: the ending status when the header says completed, else 0
  std::vector<std::uint8_t> data;          // length at [9..10]
};

using IderBody = std::variant<IderOpenSession, IderOpenSessionReply, IderCloseSession, IderCloseSessionReply,
                              IderKeepAlive, IderResetOccurred, IderResetOccurredReply, IderFeatures,
                              IderErrorOccurred, IderHeartbeat, IderCommandWritten, IderCommandEnd,
                              IderGetDataFromHost, IderDataFromHost, IderDataToHost>;

struct IderMessage {
  std::uint8_t attributes = 0;  // kIderAttrDma | kIderAttrCompleted
  std::uint32_t sequence = 0;
  IderBody body;
};

// A 0x41 may carry up to 255 OEM bytes, 0x53/0x54 up to 65535 data bytes: nothing longer is ever buffered.
inline constexpr std::size_t kIderMaxData = 0xFFFF;

struct IderDecoded {
  IderMessage message;
  std::size_t length = 0;  // bytes of the input it took
};
// The first message in `input`: nullopt while more bytes are needed; an error when they can never make one (an
// unknown type, a field that is out of range).
Result<std::optional<IderDecoded>> decodeIderMessage(std::span<const std::uint8_t> input);

// The bytes of one message. 0x53/0x54 data longer than kIderMaxData is cut (callers chunk by the read buffer).
std::vector<std::uint8_t> encodeIder(const IderMessage& message);

const char* iderMessageName(IderType type);
IderType iderTypeOf(const IderBody& body);

}  // namespace mesim::wsman::redirection
