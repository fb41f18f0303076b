// The fields of an application/x-www-form-urlencoded body (the web UI's POST forms): decoded with Boost.URL, '+' as
// a space. Bounded: a body over kMaxFormBytes or with more than kMaxFormFields fields is refused, as is one that is
// not a valid query (a stray '%') or whose text is not UTF-8, so nothing from a form reaches the platform model
// unchecked.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace mesim::wsman::webui {

inline constexpr std::size_t kMaxFormBytes = 16 * 1024;
inline constexpr std::size_t kMaxFormFields = 64;

struct FormData {
  std::vector<std::pair<std::string, std::string>> fields;  // in the order sent; a name may repeat

  // The first value of `name`, or nullptr.
  const std::string* find(std::string_view name) const;
  // The first value of `name`, or "".
  std::string get(std::string_view name) const;
  // Every value of `name`, in order (checkboxes of one name).
  std::vector<std::string> all(std::string_view name) const;
};

Result<FormData> parseForm(std::string_view body);

}  // namespace mesim::wsman::webui
