// The one place for the text forms of bytes the simulator prints and parses: hex, base64, UUIDs, MAC and IPv4
// addresses, and the UTF-8 check every stored text passes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mesim::text {

enum class LetterCase { Lower, Upper };

std::string toHex(std::span<const std::uint8_t> bytes, LetterCase letters = LetterCase::Lower);
// An even number of hex digits, either case; nullopt on anything else.
std::optional<std::vector<std::uint8_t>> fromHex(std::string_view text);

// RFC 4648 base64 with padding (OpenSSL EVP_EncodeBlock).
std::string base64Encode(std::span<const std::uint8_t> bytes);
// Accepts whitespace anywhere and missing padding (clients send both); nullopt on other characters, data after
// padding or an impossible length.
std::optional<std::vector<std::uint8_t>> base64Decode(std::string_view text);

using Uuid = std::array<std::uint8_t, 16>;
// 8-4-4-4-12 of the bytes in order: lower case for RFC 4122 order (platform.json, PlatformModel::uuidString);
// GUID text in the mixed-endian form is uuidText(uuidToMixedEndian(u), LetterCase::Upper).
std::string uuidText(const Uuid& uuid, LetterCase letters = LetterCase::Lower);
// 8-4-4-4-12 hex digits, either case.
std::optional<Uuid> parseUuid(std::string_view text);
// The mixed-endian (Microsoft GUID / SMBIOS) order: the first three groups byte-swapped. AMTHI GetUUID and APF
// send it on the wire, and WS-Man's PlatformGUID prints it (upper-case hex, no dashes).
Uuid uuidToMixedEndian(const Uuid& rfc4122);

using Mac = std::array<std::uint8_t, 6>;
// Lower-case pairs joined by `separator` (':' in platform.json, '-' in AMT_EthernetPortSettings).
std::string macText(const Mac& mac, char separator = ':');
// Six hex pairs separated by ':' or '-'.
std::optional<Mac> parseMac(std::string_view text);

// IPv4 addresses as AMT holds them: 0x01020304 = "1.2.3.4" (Boost.Asio's address_v4).
std::string ipv4Text(std::uint32_t address);
std::optional<std::uint32_t> parseIpv4(std::string_view text);

// True if `text` is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). JSON
// writers pass other bytes through, and JSON parsers then refuse the file.
bool isValidUtf8(std::string_view text);
// Bytes of the well-formed UTF-8 sequence `text` starts with (1..4), or 0 if it starts with a malformed one or is
// empty.
std::size_t utf8SequenceLength(std::string_view text);

// True if `text` is valid UTF-8 of characters XML 1.0 can carry (tab, LF, CR, U+0020-U+D7FF, U+E000-U+FFFD,
// U+10000-U+10FFFF): text that may be stored and later sent in a SOAP message.
bool isXmlText(std::string_view text);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, so that any JSON writer
// produces a file its parser reads back.
std::string toValidUtf8(std::string_view text);

}  // namespace mesim::text
