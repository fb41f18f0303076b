#include "wsman/redirection/psf_font.h"

#include <zlib.h>

#include <system_error>

#include "common/byte_order.h"

namespace mesim::wsman::redirection {

namespace {
constexpr std::size_t kMaxGlyphs = 65536;
constexpr unsigned kMaxSide = 64;
}  // namespace

Result<PsfFont> PsfFont::parse(std::span<const std::uint8_t> bytes) {
  PsfFont font;
  std::size_t offset = 0;
  if (bytes.size() >= 4 && bytes[0] == 0x36 && bytes[1] == 0x04) {
    const std::uint8_t mode = bytes[2];
    font.width_ = 8;
    font.height_ = bytes[3];
    font.glyphs_ = (mode & 0x01) ? 512 : 256;
    font.bytesPerRow_ = 1;
    offset = 4;
  } else if (bytes.size() >= 32 && mesim::bytes::le32(bytes, 0) == 0x864ab572u) {
    const std::uint32_t headerSize = mesim::bytes::le32(bytes, 8);
    const std::uint32_t count = mesim::bytes::le32(bytes, 16);
    const std::uint32_t charSize = mesim::bytes::le32(bytes, 20);
    font.height_ = mesim::bytes::le32(bytes, 24);
    font.width_ = mesim::bytes::le32(bytes, 28);
    if (font.width_ == 0 || font.width_ > kMaxSide || font.height_ == 0 || font.height_ > kMaxSide)
      return fail("PSF2 glyph size " + std::to_string(font.width_) + "x" + std::to_string(font.height_) +
                  " is not supported (1..64)");
    if (count == 0 || count > kMaxGlyphs) return fail("PSF2 glyph count " + std::to_string(count) + " out of range");
    font.bytesPerRow_ = (font.width_ + 7) / 8;
    if (charSize != font.bytesPerRow_ * font.height_) return fail("PSF2 charsize does not match width and height");
    font.glyphs_ = count;
    offset = headerSize;
    if (offset < 32 || offset > bytes.size()) return fail("PSF2 header size out of range");
  } else {
    return fail("not a PSF font (no PSF1 or PSF2 magic)");
  }
  if (font.height_ == 0 || font.height_ > kMaxSide) return fail("PSF glyph height out of range");
  const std::size_t need = font.glyphs_ * font.height_ * font.bytesPerRow_;
  if (bytes.size() - offset < need)
    return fail("PSF font truncated: " + std::to_string(bytes.size() - offset) + " of " + std::to_string(need) +
                " glyph bytes");
  font.bitmaps_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                       bytes.begin() + static_cast<std::ptrdiff_t>(offset + need));
  font.source_ = "PSF";
  return font;
}

Result<PsfFont> PsfFont::load(const std::filesystem::path& path) {
  // gzread reads plain files as they are, so one path serves .psf and .psf.gz.
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) return fail("cannot open font " + path.string() + ": " + std::generic_category().message(errno));
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[16384];
  int n = 0;
  while ((n = gzread(file, chunk, sizeof chunk)) > 0) {
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (bytes.size() > (16u << 20)) break;
  }
  const bool bad = n < 0;
  gzclose(file);
  if (bad) return fail("cannot read font " + path.string() + ": bad gzip data");
  auto font = parse(bytes);
  if (!font) return fail("font " + path.string() + ": " + font.error().message);
  font->source_ = path.string();
  return font;
}

PsfFont PsfFont::fallback(unsigned width, unsigned height) {
  PsfFont font;
  font.width_ = width;
  font.height_ = height;
  font.glyphs_ = 256;
  font.bytesPerRow_ = (width + 7) / 8;
  font.bitmaps_.assign(font.glyphs_ * height * font.bytesPerRow_, 0);
  for (std::size_t g = 0x21; g < 0x7F; ++g) {
    // A box one pixel in from the cell's edges, rows 3..height-3.
    for (unsigned y = 3; y + 3 <= height; ++y)
      for (unsigned x = 1; x + 1 < width; ++x) {
        const bool edge = y == 3 || y + 3 == height || x == 1 || x + 2 == width;
        if (!edge) continue;
        font.bitmaps_[(g * height + y) * font.bytesPerRow_ + x / 8] |= std::uint8_t(0x80 >> (x % 8));
      }
  }
  font.source_ = "built-in boxes";
  return font;
}

bool PsfFont::pixel(std::uint32_t index, unsigned x, unsigned y) const {
  if (x >= width_ || y >= height_ || glyphs_ == 0) return false;
  if (index >= glyphs_) index = '?' < glyphs_ ? '?' : 0;
  const std::uint8_t row = bitmaps_[(index * height_ + y) * bytesPerRow_ + x / 8];
  return (row >> (7 - x % 8)) & 1;
}

std::vector<std::filesystem::path> defaultConsoleFontPaths() {
  return {"/usr/share/consolefonts/Lat15-Fixed16.psf.gz", "/usr/share/consolefonts/default8x16.psf.gz",
          "/usr/share/kbd/consolefonts/default8x16.psf.gz", "/usr/share/consolefonts/Lat15-VGA16.psf.gz"};
}

}  // namespace mesim::wsman::redirection
