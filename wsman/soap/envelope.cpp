#include "wsman/soap/envelope.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/text_codecs.h"
#include "wsman/soap/namespaces.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman::soap {
namespace {

constexpr int kMaxDepth = 64;  // deeper documents are refused (stack use in later recursive walks)

ParseResult failure(FaultCode code, std::string messageId = {}, std::string detail = {}, std::string reason = {}) {
  ParseResult r;
  r.fault = Fault{code, std::move(detail), std::move(reason)};
  r.messageId = std::move(messageId);
  return r;
}

int depthOf(pugi::xml_node n) {
  int depth = 0;
  int best = 0;
  // Iterative pre-order walk: no recursion on attacker-controlled depth.
  pugi::xml_node cur = n.first_child();
  depth = 1;
  while (cur) {
    if (depth > best) best = depth;
    if (best > kMaxDepth) return best;
    if (cur.first_child()) {
      cur = cur.first_child();
      ++depth;
      continue;
    }
    while (cur && !cur.next_sibling()) {
      cur = cur.parent();
      --depth;
      if (cur == n) return best;
    }
    if (cur) cur = cur.next_sibling();
  }
  return best;
}

// True if every name, value and text under `doc` is XML text: character references (&#1;, &#xFFFE;) decode to
// characters the raw-byte check never saw. Iterative, like depthOf.
bool holdsOnlyXmlText(const pugi::xml_document& doc) {
  pugi::xml_node cur = doc.first_child();
  while (cur) {
    if (!text::isXmlText(cur.value())) return false;
    for (auto a : cur.attributes())
      if (!text::isXmlText(a.value())) return false;
    if (cur.first_child()) {
      cur = cur.first_child();
      continue;
    }
    while (cur && !cur.next_sibling()) cur = cur.parent();
    if (cur) cur = cur.next_sibling();
  }
  return true;
}

// True if an '&' in markup or text does not start one of the five predefined entities or a character reference.
// pugixml keeps such an '&' as a character (XML 1.0 §2.4 makes it a fatal error). Comments, CDATA sections and
// processing instructions may hold a bare '&' and are skipped.
bool hasBareAmpersand(std::string_view text) {
  if (text.find('&') == std::string_view::npos) return false;  // most requests: one memchr
  auto skipTo = [&](std::size_t& pos, std::string_view end) {
    auto at = text.find(end, pos);
    pos = at == std::string_view::npos ? text.size() : at + end.size();
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto next = text.find_first_of("<&", pos);
    if (next == std::string_view::npos) return false;
    pos = next;
    const auto rest = text.substr(pos);
    if (rest.substr(0, 4) == "<!--") {
      skipTo(pos, "-->");
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      skipTo(pos, "]]>");
    } else if (rest.substr(0, 2) == "<?") {
      skipTo(pos, "?>");
    } else if (rest[0] == '<') {
      ++pos;
    } else {
      const auto semicolon = rest.find(';');
      if (semicolon == std::string_view::npos) return true;
      const auto name = rest.substr(1, semicolon - 1);
      const bool entity = name == "lt" || name == "gt" || name == "amp" || name == "apos" || name == "quot";
      auto digits = [](std::string_view s, bool hex) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [hex](char c) {
          return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : std::isdigit(static_cast<unsigned char>(c)) != 0;
        });
      };
      const bool reference =
          name.size() > 1 && name[0] == '#' && (name[1] == 'x' ? digits(name.substr(2), true) : digits(name.substr(1), false));
      if (!entity && !reference) return true;
      pos += semicolon + 1;
    }
  }
  return false;
}

// Exactly one root element and nothing but markup (comments, processing instructions) besides: pugixml skips
// text before or after the root and accepts a second root element. Parsed as a fragment, the skipped text shows
// up as document-level nodes.
bool hasOneRootElement(const pugi::xml_document& doc) {
  int elements = 0;
  for (auto n : doc.children()) {
    if (n.type() == pugi::node_element) ++elements;
    else if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) return false;
  }
  return elements == 1;
}

// Headers this service acts on; anything else marked mustUnderstand is a MustUnderstand fault.
bool understood(pugi::xml_node h) {
  auto ns = namespaceOf(h);
  auto local = localName(h);
  if (ns == ns::kAddressing)
    return local == "Action" || local == "To" || local == "MessageID" || local == "ReplyTo" || local == "FaultTo" ||
           local == "From";
  if (ns == ns::kWsman)
    return local == "ResourceURI" || local == "SelectorSet" || local == "OperationTimeout" ||
           local == "MaxEnvelopeSize" || local == "Locale" || local == "RequestEPR";
  return false;
}

}  // namespace

bool Request::isIdentify() const {
  return header.action.empty() && payload && is(payload, ns::kIdentity, "Identify");
}

bool hasMarkupDeclaration(std::string_view text) {
  std::size_t pos = 0;
  while ((pos = text.find("<!", pos)) != std::string_view::npos) {
    auto rest = text.substr(pos);
    if (rest.substr(0, 4) == "<!--") {
      auto end = text.find("-->", pos + 4);
      if (end == std::string_view::npos) return false;  // unterminated: the parser rejects it
      pos = end + 3;
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      auto end = text.find("]]>", pos + 9);
      if (end == std::string_view::npos) return false;
      pos = end + 3;
    } else {
      return true;
    }
  }
  return false;
}

std::optional<std::chrono::milliseconds> parseDuration(std::string_view s) {
  bool negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  if (s.empty() || s[0] != 'P') return std::nullopt;
  s.remove_prefix(1);
  bool inTime = false;
  bool any = false;
  double total = 0;
  while (!s.empty()) {
    if (s[0] == 'T') {
      if (inTime) return std::nullopt;
      inTime = true;
      s.remove_prefix(1);
      continue;
    }
    std::size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0 || i == s.size() || i > 18) return std::nullopt;
    double value = 0;
    auto digits = s.substr(0, i);
    auto dot = digits.find('.');
    std::uint64_t whole = 0;
    auto wholePart = digits.substr(0, dot);
    if (!wholePart.empty() &&
        std::from_chars(wholePart.data(), wholePart.data() + wholePart.size(), whole).ec != std::errc{})
      return std::nullopt;
    value = static_cast<double>(whole);
    if (dot != std::string_view::npos) {
      auto frac = digits.substr(dot + 1);
      if (frac.find('.') != std::string_view::npos) return std::nullopt;
      double scale = 0.1;
      for (char c : frac) {
        value += (c - '0') * scale;
        scale /= 10;
      }
    }
    char unit = s[i];
    double seconds = 0;
    if (!inTime && unit == 'Y') seconds = 365.0 * 86400;
    else if (!inTime && unit == 'M') seconds = 30.0 * 86400;
    else if (!inTime && unit == 'D') seconds = 86400;
    else if (inTime && unit == 'H') seconds = 3600;
    else if (inTime && unit == 'M') seconds = 60;
    else if (inTime && unit == 'S') seconds = 1;
    else return std::nullopt;
    total += value * seconds;
    any = true;
    s.remove_prefix(i + 1);
  }
  if (!any || negative || total > 1e10) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(total * 1000));
}

std::optional<Fault> loadWellFormedXml(std::string_view input, std::size_t maxBytes, pugi::xml_document& doc) {
  auto refused = [](FaultCode code, std::string reason = {}) { return Fault{code, {}, std::move(reason)}; };
  if (input.size() > maxBytes) return refused(FaultCode::EncodingLimit);
  if (hasMarkupDeclaration(input))
    return refused(FaultCode::SchemaValidationError, "DOCTYPE and entity declarations are not accepted.");

  // Text that is stored (user names, subscriber addresses, reference parameters) must be storable and sendable.
  constexpr const char* kNotXmlText =
      "The request holds bytes that are not UTF-8, or characters XML 1.0 does not allow.";
  if (!text::isXmlText(input)) return refused(FaultCode::SchemaValidationError, kNotXmlText);
  constexpr const char* kNotWellFormed = "The request is not well-formed XML.";
  if (hasBareAmpersand(input)) return refused(FaultCode::SchemaValidationError, kNotWellFormed);

  // No parse_doctype and no custom entities: only the five predefined entities and character references. As a
  // fragment, so that text outside the root element is kept and can be refused.
  auto parsed = doc.load_buffer(input.data(), input.size(),
                                (pugi::parse_default | pugi::parse_fragment) & ~pugi::parse_wconv_attribute,
                                pugi::encoding_utf8);
  if (!parsed || !hasOneRootElement(doc)) return refused(FaultCode::SchemaValidationError, kNotWellFormed);
  if (depthOf(doc) > kMaxDepth) return refused(FaultCode::EncodingLimit);
  if (input.find("&#") != std::string_view::npos && !holdsOnlyXmlText(doc))
    return refused(FaultCode::SchemaValidationError, kNotXmlText);
  return std::nullopt;
}

ParseResult parseRequest(std::string_view input, const ParseLimits& limits) {
  Request req;
  req.doc = std::make_unique<pugi::xml_document>();
  if (auto refused = loadWellFormedXml(input, limits.maxRequestBytes, *req.doc)) {
    ParseResult r;
    r.fault = std::move(*refused);
    return r;
  }

  auto env = req.doc->document_element();
  if (!is(env, ns::kEnvelope, "Envelope"))
    return failure(FaultCode::SchemaValidationError, {}, {}, "The root element is not a SOAP 1.2 Envelope.");
  auto header = child(env, ns::kEnvelope, "Header");
  req.body = child(env, ns::kEnvelope, "Body");
  if (!req.body) return failure(FaultCode::SchemaValidationError, {}, {}, "The envelope has no Body.");
  req.payload = firstElement(req.body);

  auto& h = req.header;
  // First pass: the MessageID, so every later fault can relate to it.
  for (auto n : header.children())
    if (is(n, ns::kAddressing, "MessageID")) h.messageId = text(n);

  bool duplicate = false;
  auto once = [&](bool& seen) {
    if (seen) duplicate = true;
    seen = true;
  };
  bool seenAction = false, seenTo = false, seenUri = false, seenId = false, seenSel = false;
  for (auto n : header.children()) {
    if (n.type() != pugi::node_element) continue;
    auto ns = namespaceOf(n);
    auto local = localName(n);
    if (ns == ns::kAddressing && local == "Action") {
      once(seenAction);
      h.action = text(n);
    } else if (ns == ns::kAddressing && local == "To") {
      once(seenTo);
      h.to = text(n);
    } else if (ns == ns::kAddressing && local == "MessageID") {
      once(seenId);
    } else if (ns == ns::kAddressing && local == "ReplyTo") {
      h.replyTo = text(child(n, ns::kAddressing, "Address"));
    } else if (ns == ns::kWsman && local == "ResourceURI") {
      once(seenUri);
      h.resourceUri = text(n);
    } else if (ns == ns::kWsman && local == "SelectorSet") {
      once(seenSel);
      h.hasSelectorSet = true;
      if (!readSelectorSet(n, h.selectors))
        return failure(FaultCode::InvalidSelectors, h.messageId, std::string(detail::kInvalidValue));
    } else if (ns == ns::kWsman && local == "OperationTimeout") {
      auto d = parseDuration(text(n));
      if (!d) return failure(FaultCode::InvalidMessageInformationHeader, h.messageId);
      h.operationTimeout = std::max(*d, limits.operationTimeoutFloor);
    } else if (ns == ns::kWsman && local == "MaxEnvelopeSize") {
      auto v = text(n);
      std::uint64_t size = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), size);
      if (ec != std::errc{} || p != v.data() + v.size())
        return failure(FaultCode::InvalidMessageInformationHeader, h.messageId);
      if (size < limits.minMaxEnvelopeSize)
        return failure(FaultCode::EncodingLimit, h.messageId, std::string(detail::kMaxEnvelopeSize));
      h.maxEnvelopeSize = size;
    } else if (ns == ns::kWsman && local == "Locale") {
      h.locale = n.attribute("xml:lang").value();
    } else if (ns == ns::kWsman && local == "OptionSet") {
      // AMT supports no options: an OptionSet the client insists on is not understood (spec/wsman.md §1.2).
      if (mustUnderstand(n)) return failure(FaultCode::MustUnderstand, h.messageId);
      for (auto o : n.children()) {
        if (!is(o, ns::kWsman, "Option")) continue;
        h.options.push_back({o.attribute("Name").value(), text(o), isTrue(o.attribute("MustComply").value())});
        if (h.options.back().mustComply) return failure(FaultCode::UnsupportedFeature, h.messageId);
      }
    } else if (mustUnderstand(n) && !understood(n)) {
      return failure(FaultCode::MustUnderstand, h.messageId);
    }
  }
  if (duplicate) return failure(FaultCode::InvalidMessageInformationHeader, h.messageId);

  ParseResult ok;
  ok.messageId = h.messageId;
  if (req.isIdentify()) {
    ok.request = std::move(req);
    return ok;
  }
  if (h.action.empty() || h.messageId.empty())
    return failure(FaultCode::MessageInformationHeaderRequired, h.messageId);
  ok.request = std::move(req);
  return ok;
}

}  // namespace mesim::wsman::soap
