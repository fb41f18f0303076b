// The simulated host's text console as a KVM screen: a grid of character cells fed by the bytes the console
// writes (printable ASCII and Latin-1, CR, LF, BS, TAB; the grid scrolls at the bottom; ANSI escape sequences are
// skipped), rendered with a PSF font into a framebuffer (light grey on black, the cursor an underline), as a
// VGA text mode shows it. Keys from KVM become the bytes a terminal would send and go to `typed`, the console's
// input, so what is typed echoes on SOL too.
//
//   ConsoleScreen screen(std::move(font), {.columns = 80, .rows = 25}, [&](std::string_view b) { console.input(b); });
//   screen.write("login: ");  // every byte the console writes, whether or not SOL listens
//
// Threading: the device's loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wsman/redirection/kvm_screen_source.h"
#include "wsman/redirection/psf_font.h"

namespace mesim::wsman::redirection {

// The cells, pure: no pixels.
class TerminalGrid {
 public:
  TerminalGrid(unsigned columns, unsigned rows);
  // Feeds console output; returns the rows changed (first, count), all of them after a scroll.
  std::pair<unsigned, unsigned> write(std::string_view bytes);
  unsigned columns() const { return columns_; }
  unsigned rows() const { return rows_; }
  unsigned cursorColumn() const { return cursorX_; }
  unsigned cursorRow() const { return cursorY_; }
  std::uint8_t at(unsigned column, unsigned row) const { return cells_[row * columns_ + column]; }
  // Row `row` as text, trailing spaces dropped.
  std::string rowText(unsigned row) const;

 private:
  void newline(unsigned& firstDirty, unsigned& lastDirty, bool& scrolled);
  unsigned columns_, rows_;
  std::vector<std::uint8_t> cells_;
  unsigned cursorX_ = 0, cursorY_ = 0;
  enum class Escape { None, Esc, Csi } escape_ = Escape::None;
};

struct ConsoleScreenOptions {
  unsigned columns = 80;
  unsigned rows = 25;
  std::uint32_t foreground = 0xAAAAAA;  // VGA light grey
  std::uint32_t background = 0x000000;
};

class ConsoleScreen final : public KvmScreenSource {
 public:
  using Typed = std::function<void(std::string_view bytes)>;
  ConsoleScreen(PsfFont font, ConsoleScreenOptions options, Typed typed);

  // What the console wrote.
  void write(std::string_view bytes);
  // A line drawn over the top right corner in inverse video (the user-consent code's place); empty removes it.
  void setOverlay(std::string text);
  const std::string& overlay() const { return overlay_; }
  const TerminalGrid& grid() const { return grid_; }
  const PsfFont& font() const { return font_; }

  unsigned width() const override { return width_; }
  unsigned height() const override { return height_; }
  // Drawn on first use and kept while a viewer listens: a fleet's idle devices hold cells (2 KB), not pixels (1 MB).
  const std::vector<std::uint32_t>& pixels() const override;
  void setChangeListener(ChangeListener listener) override;
  void keyEvent(bool down, std::uint32_t keysym) override;
  void pointerEvent(std::uint8_t, std::uint16_t, std::uint16_t) override {}  // a text console has no mouse
  std::string describe() const override;

 private:
  void renderRows(unsigned first, unsigned count);
  void changed(unsigned firstRow, unsigned count);

  PsfFont font_;
  ConsoleScreenOptions options_;
  Typed typed_;
  TerminalGrid grid_;
  unsigned width_, height_;
  mutable std::vector<std::uint32_t> pixels_;  // empty until someone looks
  std::string overlay_;
  ChangeListener listener_;
  bool controlDown_ = false;
};

// Renders cells into 0x00RRGGBB pixels: the one drawing routine, shared by the screen and by tests that check a
// picture against the text it should show. `overlay` is drawn inverse at the top right.
std::vector<std::uint32_t> renderText(const TerminalGrid& grid, const PsfFont& font, const ConsoleScreenOptions& options,
                                      const std::string& overlay = {}, bool cursor = true);

// The bytes a terminal sends for a keysym pressed (with Control held or not); empty for keys that send nothing.
std::string keysymToBytes(std::uint32_t keysym, bool control);

}  // namespace mesim::wsman::redirection
