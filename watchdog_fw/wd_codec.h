// The watchdog client's wire format (spec/mei.md §3; Linux drivers/watchdog/mei_wdt.c; intel/lms
// MEIClient/ManageabilityClient): pure encoders and decoders, no I/O. Every message starts with
// mei_mc_hdr {u8 command, u8 bytecount (= length - 2), u8 subcommand, u8 version 0x10}.
// command 0x02 (management control) carries the OS watchdog, 0x05 the state-independence commands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>

#include "hostif/link/hbm_wire.h"

namespace mesim::watchdog::wd {

using hbm::Bytes;
using hbm::ByteView;

inline constexpr std::uint8_t kManagementControl = 0x02;
inline constexpr std::uint8_t kStateIndependence = 0x05;
inline constexpr std::uint8_t kVersion = 0x10;

namespace sub {
inline constexpr std::uint8_t kStartTimer = 0x13;          // START_WD_TIMER_REQ, also the heartbeat
inline constexpr std::uint8_t kStopTimer = 0x14;           // STOP_WD_TIMER_REQ
inline constexpr std::uint8_t kStartTimerResponse = 0x83;  // START_WD_TIMER_RES
inline constexpr std::uint8_t kIsChangeToAmtEnabled = 0x51;
inline constexpr std::uint8_t kSetAmtOperationalState = 0x53;
}  // namespace sub

inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::size_t kStartRequestSize = 23;        // hdr + u16 timeout + u8 reserved[17]
inline constexpr std::size_t kLegacyStartRequestSize = 20;  // drivers/misc/mei/wd.c
inline constexpr std::size_t kStopRequestSize = 4;
inline constexpr std::size_t kStartResponseSize = 6;        // hdr + u8 status + u8 wdstate
inline constexpr std::size_t kIsChangeRequestSize = 4;
inline constexpr std::size_t kSetOperationalRequestSize = 5;
inline constexpr std::size_t kSetOperationalResponseSize = 8;

inline constexpr std::uint8_t kStatusSuccess = 0;
inline constexpr std::uint8_t kStatusInvalidParameter = 1;  // a zero timeout, a malformed START
inline constexpr std::uint8_t kWdStateNotRequired = 0x01;

// IsChangeToAMTEnabled response bits (a single byte).
inline constexpr std::uint8_t kChangeEnabled = 0x01;      // transition allowed
inline constexpr std::uint8_t kAmtOperational = 0x02;     // current state: AMT on
inline constexpr std::uint8_t kNewInterface = 0x80;

inline constexpr std::uint16_t kMinTimeout = 1;  // the firmware accepts 1..65535 s
inline constexpr std::uint16_t kMaxTimeout = 65535;

struct Header {
  std::uint8_t command = 0;
  std::uint8_t bytecount = 0;
  std::uint8_t subcommand = 0;
  std::uint8_t version = 0;
};

struct StartTimer {
  std::uint16_t timeout = 0;  // seconds
  bool legacy = false;        // the 20-byte form
};
struct StopTimer {};
struct IsChangeToAmtEnabled {};
struct SetAmtOperationalState {
  bool enable = false;
};

enum class DecodeError {
  TooShort,          // fewer than 4 bytes
  BadByteCount,      // bytecount != length - 2
  BadVersion,        // version != 0x10
  UnknownCommand,    // command or subcommand not served here
  BadLength,         // known subcommand, wrong size
  BadValue,          // SetAmtOperationalState other than 0/1
};
const char* toString(DecodeError error);

using Request = std::variant<DecodeError, StartTimer, StopTimer, IsChangeToAmtEnabled, SetAmtOperationalState>;

// nullopt-free: a decode failure is a DecodeError alternative. `header` (if not null) gets whatever header
// bytes were present, so the caller can answer a malformed START with a failing START response.
Request decodeRequest(ByteView message, Header* header = nullptr);

// Requests (hosts and tests).
Bytes encodeStart(std::uint16_t timeout);
Bytes encodeLegacyStart(std::uint16_t timeout);
Bytes encodeStop();
Bytes encodeIsChangeToAmtEnabled();
Bytes encodeSetAmtOperationalState(bool enable);

// Responses.
Bytes encodeStartResponse(std::uint8_t status, std::uint8_t wdstate);
Bytes encodeIsChangeToAmtEnabledResponse(std::uint8_t bits);  // one byte, no header (LMS, rpc-go)
Bytes encodeSetAmtOperationalStateResponse(std::uint32_t amtStatus);

struct StartResponse {
  std::uint8_t status = 0;
  std::uint8_t wdstate = 0;
};
// Checks command, subcommand and version like mei_wdt_rx; false if it is not a START response.
bool decodeStartResponse(ByteView message, StartResponse& out);

}  // namespace mesim::watchdog::wd
