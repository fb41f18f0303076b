#include "common/text_codecs.h"

#include <gtest/gtest.h>

namespace mesim::text {
namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(TextCodecs, HexBothCasesAndRejectsOddOrForeignDigits) {
  const std::vector<std::uint8_t> data{0x00, 0xAB, 0x7F, 0xFF};
  EXPECT_EQ(toHex(data), "00ab7fff");
  EXPECT_EQ(toHex(data, LetterCase::Upper), "00AB7FFF");
  EXPECT_EQ(fromHex("00aB7fFF"), data);
  EXPECT_EQ(fromHex(""), std::vector<std::uint8_t>{});
  EXPECT_FALSE(fromHex("abc"));
  EXPECT_FALSE(fromHex("0g"));
}

TEST(TextCodecs, Base64MatchesRfc4648Vectors) {
  EXPECT_EQ(base64Encode(bytes("")), "");
  EXPECT_EQ(base64Encode(bytes("f")), "Zg==");
  EXPECT_EQ(base64Encode(bytes("fo")), "Zm8=");
  EXPECT_EQ(base64Encode(bytes("foo")), "Zm9v");
  EXPECT_EQ(base64Encode(bytes("foobar")), "Zm9vYmFy");
  for (std::string_view s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"})
    EXPECT_EQ(base64Decode(base64Encode(bytes(s))), bytes(s)) << s;
  const std::vector<std::uint8_t> binary{0x00, 0xFF, 0xFE, 0x80, 0x01};
  EXPECT_EQ(base64Decode(base64Encode(binary)), binary);
}

TEST(TextCodecs, Base64DecodeIsLenientAboutWhitespaceAndPaddingOnly) {
  EXPECT_EQ(base64Decode("Zm9v\r\nYmFy"), bytes("foobar"));
  EXPECT_EQ(base64Decode(" Zg== "), bytes("f"));
  EXPECT_EQ(base64Decode("Zg"), bytes("f"));
  EXPECT_EQ(base64Decode("Zm8"), bytes("fo"));
  EXPECT_FALSE(base64Decode("Zg==Zg"));   // data after padding
  EXPECT_FALSE(base64Decode("Z"));        // a lone digit is no byte
  EXPECT_FALSE(base64Decode("Zm9v!"));    // not in the alphabet
  EXPECT_FALSE(base64Decode("Zg==="));    // too much padding
}

TEST(TextCodecs, UuidTextKeepsByteOrderAndTheMixedEndianFormSwapsThreeGroups) {
  const Uuid u{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe};
  EXPECT_EQ(uuidText(u), "01234567-89ab-cdef-1032-547698badcfe");
  EXPECT_EQ(parseUuid("01234567-89AB-cdef-1032-547698BADCFE"), u);
  EXPECT_FALSE(parseUuid("0123456789ab-cdef-1032-547698badcfe0"));
  EXPECT_FALSE(parseUuid("01234567-89ab-cdef-1032-547698badcfg"));
  EXPECT_EQ(toHex(uuidToMixedEndian(u), LetterCase::Upper), "67452301AB89EFCD1032547698BADCFE");
  EXPECT_EQ(uuidToMixedEndian(uuidToMixedEndian(u)), u);
  EXPECT_EQ(uuidText(uuidToMixedEndian(u), LetterCase::Upper), "67452301-AB89-EFCD-1032-547698BADCFE");
}

TEST(TextCodecs, MacWithEitherSeparator) {
  const Mac mac{0x02, 0x11, 0xAA, 0x33, 0x44, 0xFF};
  EXPECT_EQ(macText(mac), "02:11:aa:33:44:ff");
  EXPECT_EQ(macText(mac, '-'), "02-11-aa-33-44-ff");
  EXPECT_EQ(parseMac("02:11:AA:33:44:ff"), mac);
  EXPECT_EQ(parseMac("02-11-aa-33-44-ff"), mac);
  EXPECT_FALSE(parseMac("02:11:aa:33:44"));
  EXPECT_FALSE(parseMac("02.11.aa.33.44.ff"));
  EXPECT_FALSE(parseMac("02:11:aa:33:44:fg"));
}

TEST(TextCodecs, Ipv4InAmtOrder) {
  EXPECT_EQ(ipv4Text(0xC0A80164), "192.168.1.100");
  EXPECT_EQ(ipv4Text(0), "0.0.0.0");
  EXPECT_EQ(parseIpv4("192.168.1.100"), 0xC0A80164u);
  EXPECT_EQ(parseIpv4("255.255.255.255"), 0xFFFFFFFFu);
  EXPECT_FALSE(parseIpv4("256.1.1.1"));
  EXPECT_FALSE(parseIpv4("1.2.3"));
  EXPECT_FALSE(parseIpv4("1.2.3.4.5"));
  EXPECT_FALSE(parseIpv4("1.2.3.4x"));
  EXPECT_FALSE(parseIpv4(""));
}

TEST(TextCodecs, Utf8AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(isValidUtf8(""));
  EXPECT_TRUE(isValidUtf8("plain ascii"));
  EXPECT_TRUE(isValidUtf8("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80"));  // ü ß € 😀
  EXPECT_FALSE(isValidUtf8("\xFF\xFE"));
  EXPECT_FALSE(isValidUtf8("a\xC3"));              // cut short
  EXPECT_FALSE(isValidUtf8("\xC0\xAF"));           // overlong '/'
  EXPECT_FALSE(isValidUtf8("\xED\xA0\x80"));       // a surrogate
  EXPECT_FALSE(isValidUtf8("\xF4\x90\x80\x80"));   // above U+10FFFF
  EXPECT_FALSE(isValidUtf8("\xE2\x28\xA1"));       // bad continuation
}

TEST(TextCodecs, Utf8SequenceLengthOfTheFirstCharacter) {
  EXPECT_EQ(utf8SequenceLength(""), 0u);
  EXPECT_EQ(utf8SequenceLength("ab"), 1u);
  EXPECT_EQ(utf8SequenceLength("\xC3\xBCx"), 2u);             // ü
  EXPECT_EQ(utf8SequenceLength("\xE2\x82\xAC"), 3u);          // €
  EXPECT_EQ(utf8SequenceLength("\xF0\x9F\x98\x80!"), 4u);     // 😀
  EXPECT_EQ(utf8SequenceLength("\xC3"), 0u);                  // cut short
  EXPECT_EQ(utf8SequenceLength("\xC0\xAF"), 0u);              // overlong
  EXPECT_EQ(utf8SequenceLength("\x80"), 0u);                  // a lone continuation byte
}

TEST(TextCodecs, XmlTextRefusesWhatXmlCannotCarry) {
  EXPECT_TRUE(isXmlText("tab\tnew line\ncr\r gr\xC3\xBC\xC3\x9F \xF0\x9F\x98\x80"));
  EXPECT_FALSE(isXmlText("\xFF\xFE"));
  EXPECT_FALSE(isXmlText(std::string("nul\0", 4)));
  EXPECT_FALSE(isXmlText("bell\x07"));
  EXPECT_FALSE(isXmlText("esc\x1B[2J"));
  EXPECT_FALSE(isXmlText("\xEF\xBF\xBE"));  // U+FFFE
  EXPECT_FALSE(isXmlText("\xEF\xBF\xBF"));  // U+FFFF
  EXPECT_TRUE(isXmlText("\xEF\xBF\xBD"));   // U+FFFD is a character
}

// The check reads eight bytes at a time: a byte it must look at closely is found wherever it sits in a word,
// and the printable range's edges (space, tilde) pass.
TEST(TextCodecs, XmlTextFindsAnOddByteAtEveryPositionOfAWord) {
  const std::string printable = std::string(" ~") + std::string(38, 'a');
  EXPECT_TRUE(isXmlText(printable));
  for (std::size_t at = 0; at < printable.size(); ++at) {
    for (char odd : {'\x00', '\x07', '\x1F', '\x80', '\xFF'}) {
      std::string text = printable;
      text[at] = odd;
      EXPECT_FALSE(isXmlText(text)) << "byte " << int(static_cast<unsigned char>(odd)) << " at " << at;
    }
    for (char fine : {'\t', '\n', '\r', ' ', '~', '\x7F'}) {  // DEL is an XML character
      std::string text = printable;
      text[at] = fine;
      EXPECT_TRUE(isXmlText(text)) << "byte " << int(fine) << " at " << at;
    }
    if (at + 1 == printable.size()) continue;
    std::string umlaut = printable;
    umlaut.replace(at, 2, "\xC3\xBC");
    EXPECT_TRUE(isXmlText(umlaut)) << "a two-byte character at " << at;
  }
}

TEST(TextCodecs, ToValidUtf8ReplacesOnlyBadBytes) {
  EXPECT_EQ(toValidUtf8("ok \xC3\xBC"), "ok \xC3\xBC");
  EXPECT_EQ(toValidUtf8("a\xFF\xFE" "b"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_EQ(toValidUtf8("cut\xC3"), "cut\xEF\xBF\xBD");
  EXPECT_TRUE(isValidUtf8(toValidUtf8("\xC0\xAF\xED\xA0\x80")));
}

}  // namespace
}  // namespace mesim::text
