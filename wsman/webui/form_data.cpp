#include "wsman/webui/form_data.h"

#include <string>

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

#include "common/text_codecs.h"

namespace mesim::wsman::webui {

const std::string* FormData::find(std::string_view name) const {
  for (const auto& [key, value] : fields)
    if (key == name) return &value;
  return nullptr;
}

std::string FormData::get(std::string_view name) const {
  const auto* value = find(name);
  return value ? *value : std::string();
}

std::vector<std::string> FormData::all(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : fields)
    if (key == name) values.push_back(value);
  return values;
}

Result<FormData> parseForm(std::string_view body) {
  if (body.size() > kMaxFormBytes)
    return fail("the form is " + std::to_string(body.size()) + " bytes; at most " + std::to_string(kMaxFormBytes) +
                " are accepted");
  FormData form;
  if (body.empty()) return form;
  // A NUL-terminated copy: Boost.URL 1.81's parse_query reads its argument with strlen (ASan found it reading past
  // a body that was not terminated).
  const std::string text(body);
  const auto parsed = boost::urls::parse_query(boost::urls::string_view(text.c_str(), text.size()));
  if (!parsed) return fail("the form is not application/x-www-form-urlencoded: " + parsed.error().message());
  const boost::urls::encoding_opts plusIsSpace(true, false, false);
  for (const auto& param : *parsed) {
    if (form.fields.size() == kMaxFormFields)
      return fail("the form has more than " + std::to_string(kMaxFormFields) + " fields");
    std::string key = param.key.decode(plusIsSpace);
    std::string value = param.has_value ? param.value.decode(plusIsSpace) : std::string();
    if (!text::isValidUtf8(key) || !text::isValidUtf8(value)) return fail("a form field is not UTF-8 text");
    if (key.empty()) continue;  // "&&" or "=x": nothing names it
    form.fields.emplace_back(std::move(key), std::move(value));
  }
  return form;
}

}  // namespace mesim::wsman::webui
