// HTML building blocks of the web UI: escaping (everything that comes from state or a request goes through
// escapeHtml), the page frame AMT 11-16 draws (table.header, p.top2 "Computer: host", table.spread with td.navbar
// and td.maincell) and the stylesheet and images the logon page shows (our own, drawn to AMT's layout).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mesim::wsman::webui {

// & < > " ' as character references; bytes that are not UTF-8 text were refused before they got here.
std::string escapeHtml(std::string_view text);

// The menu, with `current` (a page's path, "/index.htm") marked.
std::string navigationBar(std::string_view current);
// A whole page: title, the header with the computer's name, the menu and `main` (already HTML).
std::string framedPage(std::string_view computerName, std::string_view current, std::string_view main);
// The logon page (public): header, "Log On", the GET form to index.htm.
std::string logonPage(std::string_view computerName);
// A table.log of td.r1 label/value rows under an <h2>; values are escaped here.
std::string labelValueTable(std::string_view heading, const std::vector<std::pair<std::string, std::string>>& rows);

const std::string& stylesheet();
const std::string& logoImage();  // a GIF
const std::string& runImage();   // a GIF

}  // namespace mesim::wsman::webui
