#include "common/text_codecs.h"

#include <cstring>

#include <openssl/evp.h>

#include <boost/asio/ip/address_v4.hpp>

#include <algorithm>
#include <cctype>

namespace mesim::text {
namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string toHex(std::span<const std::uint8_t> bytes, LetterCase letters) {
  const char* digits = letters == LetterCase::Upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0F]);
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> fromHex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> bytes;
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hexDigit(text[i]);
    const int lo = hexDigit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
  }
  return bytes;
}

std::string base64Encode(std::span<const std::uint8_t> bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');  // EVP_EncodeBlock writes a terminating NUL
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                     static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(std::max(length, 0)));
  return out;
}

std::optional<std::vector<std::uint8_t>> base64Decode(std::string_view text) {
  std::string digits;
  digits.reserve(text.size() + 3);
  std::size_t padding = 0;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding) return std::nullopt;  // data after padding
    digits.push_back(c);
  }
  // EVP_DecodeBlock wants whole quads; complete a short last quad the way padding would have.
  const std::size_t missing = (4 - digits.size() % 4) % 4;
  if (padding > 2 || missing == 3) return std::nullopt;
  digits.append(missing, 'A');
  std::vector<std::uint8_t> out(digits.size() / 4 * 3);
  const int length = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(digits.data()),
                                     static_cast<int>(digits.size()));
  if (length < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(length) - missing);
  return out;
}

std::string uuidText(const Uuid& uuid, LetterCase letters) {
  const std::string hex = toHex(uuid, letters);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::optional<Uuid> parseUuid(std::string_view text) {
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
    return std::nullopt;
  std::string hex;
  for (char c : text)
    if (c != '-') hex.push_back(c);
  const auto bytes = fromHex(hex);
  if (!bytes || bytes->size() != 16) return std::nullopt;
  Uuid out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

Uuid uuidToMixedEndian(const Uuid& u) {
  return {u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]};
}

std::string macText(const Mac& mac, char separator) {
  std::string out;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    if (i) out.push_back(separator);
    out += toHex(std::span(&mac[i], 1));
  }
  return out;
}

std::optional<Mac> parseMac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  std::string hex;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i % 3 == 2) {
      if (text[i] != ':' && text[i] != '-') return std::nullopt;
    } else {
      hex.push_back(text[i]);
    }
  }
  const auto bytes = fromHex(hex);
  if (!bytes) return std::nullopt;
  Mac out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

std::string ipv4Text(std::uint32_t address) { return boost::asio::ip::address_v4(address).to_string(); }

std::optional<std::uint32_t> parseIpv4(std::string_view text) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address_v4(std::string(text), ec);
  if (ec) return std::nullopt;
  return address.to_uint();
}

namespace {

// Decodes the UTF-8 sequence at `text[at]`: its code point and length, or nothing if it is not well-formed
// (overlong, a surrogate, above U+10FFFF, truncated).
struct CodePoint {
  std::uint32_t value;
  std::size_t length;
};
std::optional<CodePoint> decodeUtf8(std::string_view text, std::size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + at;
  const std::size_t left = text.size() - at;
  const unsigned char lead = *p;
  std::size_t length = 0;
  std::uint32_t codePoint = 0;
  if (lead < 0x80) return CodePoint{lead, 1};
  if ((lead & 0xE0) == 0xC0) length = 2, codePoint = lead & 0x1F;
  else if ((lead & 0xF0) == 0xE0) length = 3, codePoint = lead & 0x0F;
  else if ((lead & 0xF8) == 0xF0) length = 4, codePoint = lead & 0x07;
  else return std::nullopt;
  if (left < length) return std::nullopt;
  for (std::size_t i = 1; i < length; ++i) {
    if ((p[i] & 0xC0) != 0x80) return std::nullopt;
    codePoint = codePoint << 6 | (p[i] & 0x3F);
  }
  static constexpr std::uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (codePoint < kSmallest[length] || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
    return std::nullopt;
  return CodePoint{codePoint, length};
}

bool isXmlChar(std::uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

}  // namespace

std::size_t utf8SequenceLength(std::string_view text) {
  if (text.empty()) return 0;
  auto c = decodeUtf8(text, 0);
  return c ? c->length : 0;
}

bool isValidUtf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    auto c = decodeUtf8(text, at);
    if (!c) return false;
    at += c->length;
  }
  return true;
}

namespace {
// True if any byte of `word` is below 0x20 or above 0x7E (a control character, DEL or a UTF-8 byte): the
// "haszero"-style bit tricks, eight bytes at a time, so that a SOAP request's ASCII costs under a cycle a byte.
bool hasNonPrintableAscii(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  const std::uint64_t below20 = (word - kOnes * 0x20) & ~word & kHighs;
  const std::uint64_t above7E = ((word + kOnes * (0x7F - 0x7E)) | word) & kHighs;
  return (below20 | above7E) != 0;
}
}  // namespace

bool isXmlText(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    // Printable ASCII eight bytes at a time: nearly every byte of a SOAP request, checked on every one.
    if (text.size() - at >= 8) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + at, sizeof word);
      if (!hasNonPrintableAscii(word)) {
        at += 8;
        continue;
      }
    }
    const auto byte = static_cast<unsigned char>(text[at]);
    if ((byte >= 0x20 && byte < 0x7F) || byte == '\t' || byte == '\n' || byte == '\r') {
      ++at;
      continue;
    }
    auto c = decodeUtf8(text, at);
    if (!c || !isXmlChar(c->value)) return false;
    at += c->length;
  }
  return true;
}

std::string toValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t at = 0; at < text.size();) {
    if (auto c = decodeUtf8(text, at)) {
      out.append(text.substr(at, c->length));
      at += c->length;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++at;
    }
  }
  return out;
}

}  // namespace mesim::text
