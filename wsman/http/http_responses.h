// The fixed parts of AMT's HTTP answers (spec/wsman.md §2.1): Server and Date values, the 401 page, chunked
// bodies with AMT's 4-upper-hex-digit chunk sizes, and small pages for the errors this layer raises itself.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "firmware/core/firmware_clock.h"

namespace mesim::wsman::http {

// MeshCentral reads the firmware version after this 46-character prefix of the header line (spec §2.1).
inline constexpr std::string_view kServerPrefix = "Intel(R) Active Management Technology ";
inline constexpr std::size_t kChunkSize = 1024;  // AMT sends ~1.2 KiB chunks ("04EC", "0513")

std::string serverHeaderValue(std::string_view amtVersion);  // "Intel(R) Active Management Technology 16.1.27.2225"
std::string httpDate(core::FirmwareClock::time_point t);       // IMF-fixdate: "Thu, 27 Jan 2022 11:18:36 GMT"

// AMT's "Log on failed" page (693 bytes, as AMT 15 sends it with its 401).
const std::string& unauthorizedPage();

// `body` as chunks of at most `chunkSize` bytes, sizes as 4 upper-case hex digits, then the last chunk.
std::string chunked(std::string_view body, std::size_t chunkSize = kChunkSize);
// The same, appended to `out`; chunkedOverhead() is what it adds beyond the body's own bytes.
void appendChunked(std::string& out, std::string_view body, std::size_t chunkSize = kChunkSize);
std::size_t chunkedOverhead(std::size_t bodySize, std::size_t chunkSize = kChunkSize);

// A short HTML page for an error this layer answers itself (400, 404, 405, 408, 413, 431, 500, 503).
std::string errorPage(unsigned status, std::string_view reason, std::string_view detail);

}  // namespace mesim::wsman::http
