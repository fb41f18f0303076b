// A bitmap console font read from a PSF file (version 1 or 2, gzip-compressed or not), as Debian's kbd and
// console-setup-linux ship them in /usr/share/consolefonts. The KVM screen draws its text cells with it.
//
//   auto font = PsfFont::load("/usr/share/consolefonts/Lat15-Fixed16.psf.gz");
//   if (font && font->pixel(glyph, x, y)) ...
//
// PSF1: 36 04 mode charsize, 256 (or 512) glyphs 8 px wide. PSF2: 72 b5 4a 86 version headersize flags length
// charsize height width. The Unicode table is not read: glyphs are indexed by the code point's low byte, which
// for Lat15/default fonts holds ASCII in place.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace mesim::wsman::redirection {

class PsfFont {
 public:
  // Parses the bytes of a PSF file (already gunzipped).
  static Result<PsfFont> parse(std::span<const std::uint8_t> bytes);
  // Reads (gunzipping if needed) and parses a file.
  static Result<PsfFont> load(const std::filesystem::path& path);
  // A font made of no file: every glyph but space is an outlined box, so text stays visible (and the screen is
  // not blank) when no PSF font is installed.
  static PsfFont fallback(unsigned width = 8, unsigned height = 16);

  unsigned width() const { return width_; }
  unsigned height() const { return height_; }
  std::size_t glyphCount() const { return glyphs_; }
  // Whether pixel (x, y) of glyph `index` is set; an index past the font draws as the glyph of '?'.
  bool pixel(std::uint32_t index, unsigned x, unsigned y) const;
  const std::string& source() const { return source_; }

 private:
  unsigned width_ = 8;
  unsigned height_ = 16;
  std::size_t glyphs_ = 0;
  std::size_t bytesPerRow_ = 1;
  std::vector<std::uint8_t> bitmaps_;  // glyphs_ * height_ * bytesPerRow_
  std::string source_;
};

// Where Debian keeps a font we can use, in order of preference; the first that exists and parses wins.
std::vector<std::filesystem::path> defaultConsoleFontPaths();

}  // namespace mesim::wsman::redirection
