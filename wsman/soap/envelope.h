// Parsing a WS-Man request envelope: SOAP 1.2 + WS-Addressing 2004/08 + WS-Man headers, matched by
// namespace URI whatever the prefixes (both the AMT-client and the openwsman styles, spec/wsman.md §1.2).
// DOCTYPE and entity declarations are refused before any XML parsing. Pure: no I/O.
#pragma once

#include <pugixml.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wsman/soap/epr.h"
#include "wsman/soap/fault.h"

namespace mesim::wsman::soap {

struct Option {
  std::string name;
  std::string value;
  bool mustComply = false;
};

struct RequestHeader {
  std::string action;      // empty for Identify
  std::string to;
  std::string resourceUri;
  std::string messageId;
  std::string replyTo;
  bool hasSelectorSet = false;
  std::vector<Selector> selectors;
  // Effective timeout: the request's value raised to AMT's 30 s floor; nullopt when absent.
  std::optional<std::chrono::milliseconds> operationTimeout;
  std::optional<std::uint64_t> maxEnvelopeSize;
  std::vector<Option> options;
  std::string locale;
};

struct ParseLimits {
  std::size_t maxRequestBytes = 512 * 1024;
  std::uint64_t minMaxEnvelopeSize = 50000;  // AMT rule (spec/wsman.md §1.2)
  std::chrono::milliseconds operationTimeoutFloor{30000};
};

struct Request {
  std::unique_ptr<pugi::xml_document> doc;
  RequestHeader header;
  pugi::xml_node body;     // env:Body
  pugi::xml_node payload;  // first element child of Body, or null
  bool isIdentify() const;
};

struct ParseResult {
  std::optional<Request> request;  // set on success
  std::optional<Fault> fault;      // set on failure
  std::string messageId;           // the request's MessageID if it could be read (for RelatesTo)
};

ParseResult parseRequest(std::string_view text, const ParseLimits& limits = {});

// Loads `text` into `doc` with the checks every request gets before its envelope is read: the size cap, no markup
// declarations, UTF-8 XML text only, well-formed (pugixml alone lets a bare '&' and text or a second element
// outside the root through), at most 64 levels deep. nullopt on success, else the fault (SchemaValidationError or
// EncodingLimit) and why. Shared by WS-Man and the legacy EOI SOAP services (wsman/eoi).
std::optional<Fault> loadWellFormedXml(std::string_view text, std::size_t maxBytes, pugi::xml_document& doc);

// True if `text` has a markup declaration (`<!DOCTYPE`, `<!ENTITY`, ...) outside comments and CDATA.
bool hasMarkupDeclaration(std::string_view text);

// xs:duration ("PT60S", "P1DT2H", "PT0.500S") in milliseconds; nullopt if malformed.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

}  // namespace mesim::wsman::soap
