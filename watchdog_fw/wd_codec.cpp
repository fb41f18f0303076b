#include "watchdog_fw/wd_codec.h"

namespace mesim::watchdog::wd {
namespace {

Bytes header(std::uint8_t command, std::size_t total, std::uint8_t subcommand) {
  Bytes out(total, 0);
  out[0] = command;
  out[1] = static_cast<std::uint8_t>(total - 2);  // bytes after the bytecount field
  out[2] = subcommand;
  out[3] = kVersion;
  return out;
}

Bytes start(std::uint16_t timeout, std::size_t size) {
  Bytes out = header(kManagementControl, size, sub::kStartTimer);
  out[4] = static_cast<std::uint8_t>(timeout);
  out[5] = static_cast<std::uint8_t>(timeout >> 8);
  return out;
}

}  // namespace

const char* toString(DecodeError error) {
  switch (error) {
    case DecodeError::TooShort: return "shorter than the 4-byte header";
    case DecodeError::BadByteCount: return "bytecount does not match the length";
    case DecodeError::BadVersion: return "version is not 0x10";
    case DecodeError::UnknownCommand: return "unknown command";
    case DecodeError::BadLength: return "wrong length for the command";
    case DecodeError::BadValue: return "value out of range";
  }
  return "?";
}

Request decodeRequest(ByteView m, Header* out) {
  if (out) *out = Header{};
  if (m.size() < kHeaderSize) {
    if (out) {
      if (m.size() > 0) out->command = m[0];
      if (m.size() > 2) out->subcommand = m[2];
    }
    return DecodeError::TooShort;
  }
  const Header h{m[0], m[1], m[2], m[3]};
  if (out) *out = h;
  const bool known = (h.command == kManagementControl && (h.subcommand == sub::kStartTimer || h.subcommand == sub::kStopTimer)) ||
                     (h.command == kStateIndependence &&
                      (h.subcommand == sub::kIsChangeToAmtEnabled || h.subcommand == sub::kSetAmtOperationalState));
  if (!known) return DecodeError::UnknownCommand;
  if (h.version != kVersion) return DecodeError::BadVersion;
  if (h.bytecount != m.size() - 2) return DecodeError::BadByteCount;
  switch (h.subcommand) {
    case sub::kStartTimer:
      if (m.size() != kStartRequestSize && m.size() != kLegacyStartRequestSize) return DecodeError::BadLength;
      return StartTimer{static_cast<std::uint16_t>(m[4] | m[5] << 8), m.size() == kLegacyStartRequestSize};
    case sub::kStopTimer:
      if (m.size() != kStopRequestSize) return DecodeError::BadLength;
      return StopTimer{};
    case sub::kIsChangeToAmtEnabled:
      if (m.size() != kIsChangeRequestSize) return DecodeError::BadLength;
      return IsChangeToAmtEnabled{};
    case sub::kSetAmtOperationalState:
      if (m.size() != kSetOperationalRequestSize) return DecodeError::BadLength;
      if (m[4] > 1) return DecodeError::BadValue;
      return SetAmtOperationalState{m[4] == 1};
  }
  return DecodeError::UnknownCommand;
}

Bytes encodeStart(std::uint16_t timeout) { return start(timeout, kStartRequestSize); }
Bytes encodeLegacyStart(std::uint16_t timeout) { return start(timeout, kLegacyStartRequestSize); }
Bytes encodeStop() { return header(kManagementControl, kStopRequestSize, sub::kStopTimer); }
Bytes encodeIsChangeToAmtEnabled() { return header(kStateIndependence, kIsChangeRequestSize, sub::kIsChangeToAmtEnabled); }
Bytes encodeSetAmtOperationalState(bool enable) {
  Bytes out = header(kStateIndependence, kSetOperationalRequestSize, sub::kSetAmtOperationalState);
  out[4] = enable ? 1 : 0;
  return out;
}

Bytes encodeStartResponse(std::uint8_t status, std::uint8_t wdstate) {
  Bytes out = header(kManagementControl, kStartResponseSize, sub::kStartTimerResponse);
  out[4] = status;
  out[5] = wdstate;
  return out;
}

Bytes encodeIsChangeToAmtEnabledResponse(std::uint8_t bits) { return Bytes{bits}; }

Bytes encodeSetAmtOperationalStateResponse(std::uint32_t amtStatus) {
  // intel/lms ManageabilityClient: the request header echoed ({05, 03, 53, 10}), then a u32 AMT status.
  Bytes out{kStateIndependence, 0x03, sub::kSetAmtOperationalState, kVersion, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) out[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(amtStatus >> (8 * i));
  return out;
}

bool decodeStartResponse(ByteView m, StartResponse& out) {
  if (m.size() < kStartResponseSize) return false;
  if (m[0] != kManagementControl || m[3] != kVersion || m[2] != sub::kStartTimerResponse) return false;
  out = {m[4], m[5]};
  return true;
}

}  // namespace mesim::watchdog::wd
