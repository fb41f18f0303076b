#include "wsman/redirection/console_screen.h"

namespace mesim::wsman::redirection {

namespace {
// Draws text row `row` (cells, cursor, the overlay's part of it) into `pixels`, a framebuffer `width` wide.
void drawRow(const TerminalGrid& grid, const PsfFont& font, const ConsoleScreenOptions& options,
             const std::string& overlay, bool cursor, unsigned row, std::vector<std::uint32_t>& pixels,
             unsigned width) {
  const unsigned cw = font.width(), ch = font.height();
  const unsigned overlayStart = overlay.size() >= grid.columns() ? 0 : grid.columns() - static_cast<unsigned>(overlay.size());
  for (unsigned column = 0; column < grid.columns(); ++column) {
    std::uint8_t glyph = grid.at(column, row);
    std::uint32_t fg = options.foreground, bg = options.background;
    if (row == 0 && !overlay.empty() && column >= overlayStart) {
      glyph = static_cast<std::uint8_t>(overlay[column - overlayStart]);
      fg = 0x000000;
      bg = 0xFFFFFF;
    }
    const bool underline = cursor && column == grid.cursorColumn() && row == grid.cursorRow();
    for (unsigned y = 0; y < ch; ++y) {
      std::uint32_t* out = &pixels[(row * ch + y) * width + column * cw];
      const bool cursorLine = underline && y + 2 >= ch;
      for (unsigned x = 0; x < cw; ++x) out[x] = (cursorLine || font.pixel(glyph, x, y)) ? fg : bg;
    }
  }
}
}  // namespace

// ------------------------------------------------------------------------------------------------
// TerminalGrid
// ------------------------------------------------------------------------------------------------

TerminalGrid::TerminalGrid(unsigned columns, unsigned rows)
    : columns_(std::max(1u, columns)), rows_(std::max(1u, rows)), cells_(columns_ * rows_, ' ') {}

std::string TerminalGrid::rowText(unsigned row) const {
  std::string text(cells_.begin() + row * columns_, cells_.begin() + (row + 1) * columns_);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

void TerminalGrid::newline(unsigned& firstDirty, unsigned& lastDirty, bool& scrolled) {
  if (cursorY_ + 1 < rows_) {
    ++cursorY_;
  } else {
    std::copy(cells_.begin() + columns_, cells_.end(), cells_.begin());
    std::fill(cells_.end() - columns_, cells_.end(), ' ');
    scrolled = true;
  }
  firstDirty = std::min(firstDirty, cursorY_);
  lastDirty = std::max(lastDirty, cursorY_);
}

std::pair<unsigned, unsigned> TerminalGrid::write(std::string_view bytes) {
  unsigned first = cursorY_, last = cursorY_;  // the cursor's old row changes (it loses the underline)
  bool scrolled = false;
  for (char ch : bytes) {
    const auto c = static_cast<std::uint8_t>(ch);
    if (escape_ == Escape::Esc) {
      escape_ = c == '[' ? Escape::Csi : Escape::None;
      continue;
    }
    if (escape_ == Escape::Csi) {
      if (c >= 0x40 && c <= 0x7E) escape_ = Escape::None;  // the final byte
      continue;
    }
    switch (c) {
      case 0x1B: escape_ = Escape::Esc; continue;
      case '\r': cursorX_ = 0; continue;
      case '\n': newline(first, last, scrolled); continue;
      case '\b':
        if (cursorX_ > 0) --cursorX_;
        continue;
      case '\t': {
        const unsigned next = (cursorX_ / 8 + 1) * 8;
        cursorX_ = std::min(next, columns_ - 1);
        continue;
      }
      default: break;
    }
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) continue;  // other controls draw nothing
    if (cursorX_ >= columns_) {  // the line is full: wrap
      cursorX_ = 0;
      newline(first, last, scrolled);
    }
    cells_[cursorY_ * columns_ + cursorX_] = c;
    first = std::min(first, cursorY_);
    last = std::max(last, cursorY_);
    ++cursorX_;
  }
  if (scrolled) return {0, rows_};
  return {first, last - first + 1};
}

// ------------------------------------------------------------------------------------------------
// ConsoleScreen
// ------------------------------------------------------------------------------------------------

ConsoleScreen::ConsoleScreen(PsfFont font, ConsoleScreenOptions options, Typed typed)
    : font_(std::move(font)),
      options_(options),
      typed_(std::move(typed)),
      grid_(options.columns, options.rows),
      width_(grid_.columns() * font_.width()),
      height_(grid_.rows() * font_.height()) {}

const std::vector<std::uint32_t>& ConsoleScreen::pixels() const {
  if (pixels_.empty()) pixels_ = renderText(grid_, font_, options_, overlay_);
  return pixels_;
}

void ConsoleScreen::setChangeListener(ChangeListener listener) {
  listener_ = std::move(listener);
  if (!listener_) {
    pixels_.clear();
    pixels_.shrink_to_fit();
  }
}

void ConsoleScreen::write(std::string_view bytes) {
  const unsigned oldCursorRow = grid_.cursorRow();
  auto [first, count] = grid_.write(bytes);
  // The underline left the old cursor row, which may lie outside what changed.
  const unsigned top = std::min(first, oldCursorRow);
  const unsigned bottom = std::max(first + count, oldCursorRow + 1);
  renderRows(top, bottom - top);
  changed(top, bottom - top);
}

void ConsoleScreen::setOverlay(std::string text) {
  if (text.size() > grid_.columns()) text.resize(grid_.columns());
  overlay_ = std::move(text);
  renderRows(0, 1);
  changed(0, 1);
}

void ConsoleScreen::renderRows(unsigned first, unsigned count) {
  if (pixels_.empty()) return;  // drawn whole when first asked for
  for (unsigned row = first; row < first + count && row < grid_.rows(); ++row)
    drawRow(grid_, font_, options_, overlay_, true, row, pixels_, width_);
}

void ConsoleScreen::changed(unsigned firstRow, unsigned count) {
  if (listener_ && count > 0) listener_(ScreenRect{0, firstRow * font_.height(), width_, count * font_.height()});
}

void ConsoleScreen::keyEvent(bool down, std::uint32_t keysym) {
  if (keysym == 0xFFE3 || keysym == 0xFFE4) {  // Control_L, Control_R
    controlDown_ = down;
    return;
  }
  if (!down) return;
  const std::string bytes = keysymToBytes(keysym, controlDown_);
  if (!bytes.empty() && typed_) typed_(bytes);
}

std::string ConsoleScreen::describe() const {
  return "console " + std::to_string(grid_.columns()) + "x" + std::to_string(grid_.rows()) + " (" + font_.source() + ")";
}

std::vector<std::uint32_t> renderText(const TerminalGrid& grid, const PsfFont& font, const ConsoleScreenOptions& options,
                                      const std::string& overlay, bool cursor) {
  const unsigned width = grid.columns() * font.width();
  std::vector<std::uint32_t> pixels(static_cast<std::size_t>(width) * grid.rows() * font.height());
  for (unsigned row = 0; row < grid.rows(); ++row) drawRow(grid, font, options, overlay, cursor, row, pixels, width);
  return pixels;
}

std::string keysymToBytes(std::uint32_t keysym, bool control) {
  if (keysym >= 0x20 && keysym <= 0x7E) {
    char c = static_cast<char>(keysym);
    if (control && ((c >= '@' && c <= '_') || (c >= 'a' && c <= 'z'))) c = static_cast<char>(c & 0x1F);
    return std::string(1, c);
  }
  if (keysym >= 0xA0 && keysym <= 0xFF) return std::string(1, static_cast<char>(keysym));  // Latin-1
  switch (keysym) {
    case 0xFF0D: case 0xFF8D: return "\r";  // Return, KP_Enter
    case 0xFF08: return "\x7F";             // BackSpace: what a Linux terminal sends
    case 0xFF09: return "\t";
    case 0xFF1B: return "\x1B";
    case 0xFFFF: return "\x1B[3~";          // Delete
    case 0xFF51: return "\x1B[D";
    case 0xFF52: return "\x1B[A";
    case 0xFF53: return "\x1B[C";
    case 0xFF54: return "\x1B[B";
    default: return "";
  }
}

}  // namespace mesim::wsman::redirection
