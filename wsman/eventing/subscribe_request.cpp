#include "wsman/eventing/subscribe_request.h"

#include <charconv>
#include <chrono>
#include <ctime>
#include <set>
#include <sstream>

#include "wsman/soap/namespaces.h"
#include "wsman/soap/xml_ns.h"

namespace mesim::wsman::eventing {
namespace {

namespace ns = soap::ns;
using soap::Fault;
using soap::FaultCode;

Fault invalid(std::string reason) { return Fault{FaultCode::EventingInvalidMessage, {}, std::move(reason)}; }

void collectPrefixes(pugi::xml_node n, std::set<std::string>& used, std::set<std::string>& declared) {
  auto prefixOf = [](std::string_view q) {
    auto colon = q.find(':');
    return colon == std::string_view::npos ? std::string() : std::string(q.substr(0, colon));
  };
  used.insert(prefixOf(n.name()));
  for (auto a : n.attributes()) {
    std::string_view name = a.name();
    if (name == "xmlns") declared.insert("");
    else if (name.substr(0, 6) == "xmlns:") declared.insert(std::string(name.substr(6)));
    else if (auto p = prefixOf(name); !p.empty() && p != "xml") used.insert(p);
  }
  for (auto c : n.children())
    if (c.type() == pugi::node_element) collectPrefixes(c, used, declared);
}

// The namespace URI `prefix` has at `n` ("" = the default namespace); nullopt when undeclared.
std::optional<std::string> lookupPrefix(pugi::xml_node n, const std::string& prefix) {
  const std::string attr = prefix.empty() ? "xmlns" : "xmlns:" + prefix;
  for (; n && n.type() == pugi::node_element; n = n.parent())
    if (auto a = n.attribute(attr.c_str())) return std::string(a.value());
  return std::nullopt;
}

// Each child element of ReferenceParameters, standing alone: the namespace declarations it relies on from the
// Subscribe envelope are copied onto it (MeshCentral looks for `<m:arg xmlns:m="http://x.com">` in events).
std::string standaloneChildren(pugi::xml_node params) {
  std::string out;
  for (auto c : params.children()) {
    if (c.type() != pugi::node_element) continue;
    pugi::xml_document doc;
    auto copy = doc.append_copy(c);
    std::set<std::string> used, declared;
    collectPrefixes(c, used, declared);
    for (auto it = used.rbegin(); it != used.rend(); ++it) {
      if (declared.count(*it)) continue;
      auto uri = lookupPrefix(c.parent(), *it);
      if (!uri) continue;  // undeclared in the request too: left as the client wrote it
      copy.prepend_attribute(it->empty() ? "xmlns" : ("xmlns:" + *it).c_str()) = uri->c_str();
    }
    std::ostringstream text;
    doc.save(text, "", pugi::format_raw | pugi::format_no_declaration | pugi::format_no_empty_element_tags);
    out += text.str();
  }
  return out;
}

pugi::xml_node headerOf(const soap::Request& r) {
  return soap::child(r.doc->document_element(), ns::kEnvelope, "Header");
}

// wst:IssuedTokens/wst:RequestSecurityTokenResponse/wst:RequestedSecurityToken/wsse:UsernameToken.
void readIssuedTokens(pugi::xml_node header, SubscribeRequest& out) {
  auto tokens = soap::child(header, ns::kTrust, "IssuedTokens");
  for (auto rstr : tokens.children()) {
    if (!soap::is(rstr, ns::kTrust, "RequestSecurityTokenResponse")) continue;
    auto token = soap::child(soap::child(rstr, ns::kTrust, "RequestedSecurityToken"), ns::kWsse, "UsernameToken");
    if (!token) continue;
    out.username = soap::text(soap::child(token, ns::kWsse, "Username"));
    out.password = soap::text(soap::child(token, ns::kWsse, "Password"));
    return;
  }
}

// Decimal digits only (from_chars alone would take a sign).
bool digits(std::string_view s, int& out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

// "YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)", a date that exists in the calendar (no 2030-02-31).
std::optional<events::TimePoint> parseDateTime(std::string_view t) {
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':') return std::nullopt;
  std::tm tm{};
  int y, mo, d, h, mi, s;
  if (!digits(t.substr(0, 4), y) || !digits(t.substr(5, 2), mo) || !digits(t.substr(8, 2), d) ||
      !digits(t.substr(11, 2), h) || !digits(t.substr(14, 2), mi) || !digits(t.substr(17, 2), s))
    return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                         std::chrono::day(static_cast<unsigned>(d))};
  if (y < 1 || !date.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  auto rest = t.substr(19);
  if (!rest.empty() && rest[0] == '.') {
    std::size_t i = 1;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') ++i;
    if (i == 1) return std::nullopt;  // a fraction has digits
    rest.remove_prefix(i);
  }
  int offset = 0;
  if (rest == "Z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh, om;
    if (!digits(rest.substr(1, 2), oh) || !digits(rest.substr(4, 2), om) || oh > 14 || om > 59) return std::nullopt;
    offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return events::TimePoint(std::chrono::seconds(static_cast<std::int64_t>(timegm(&tm)) - offset));
}

std::variant<std::optional<events::TimePoint>, Fault> readExpires(pugi::xml_node parent, events::TimePoint now) {
  auto e = soap::child(parent, ns::kEventing, "Expires");
  if (!e) return std::optional<events::TimePoint>{};
  auto at = parseExpires(soap::text(e), now);
  if (!at) return Fault{FaultCode::InvalidExpirationTime, {}, {}};
  return at;
}

}  // namespace

std::optional<events::TimePoint> parseExpires(std::string_view text, events::TimePoint now) {
  std::optional<events::TimePoint> at;
  if (!text.empty() && (text[0] == 'P' || text[0] == '-')) {
    auto d = soap::parseDuration(text);
    if (d && d->count() > 0) at = now + *d;
  } else {
    at = parseDateTime(text);
  }
  if (!at || *at <= now) return std::nullopt;
  return at;
}

std::optional<Url> parseUrl(std::string_view text) {
  Url url;
  if (text.substr(0, 7) == "http://") {
    text.remove_prefix(7);
  } else if (text.substr(0, 8) == "https://") {
    url.tls = true;
    text.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  auto slash = text.find('/');
  auto authority = text.substr(0, slash);
  if (slash != std::string_view::npos) url.target = std::string(text.substr(slash));
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no user info in a NotifyTo
  std::string_view portText;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::nullopt;
      portText = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) portText = authority.substr(colon + 1);
  }
  if (url.host.empty()) return std::nullopt;
  for (char c : url.host)
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '?' || c == '#') return std::nullopt;
  if (!portText.empty()) {
    int port = 0;
    if (!digits(portText, port) || port < 1 || port > 65535) return std::nullopt;
    url.port = std::string(portText);
  } else {
    url.port = url.tls ? "443" : "80";
  }
  for (char c : url.target)
    if (static_cast<unsigned char>(c) <= ' ') return std::nullopt;
  return url;
}

std::variant<SubscribeRequest, Fault> parseSubscribe(const soap::Request& request, events::TimePoint now) {
  auto sub = request.payload;
  if (!sub || !soap::is(sub, ns::kEventing, "Subscribe")) return invalid("The body has no wse:Subscribe.");
  if (soap::child(sub, ns::kEventing, "Filter"))
    return Fault{FaultCode::UnsupportedFeature, {}, "Subscribe to a CIM_FilterCollection instead of sending a filter."};
  auto delivery = soap::child(sub, ns::kEventing, "Delivery");
  if (!delivery) return invalid("Subscribe has no Delivery.");
  SubscribeRequest out;
  std::string_view mode = delivery.attribute("Mode").value();
  if (mode.empty() || mode == kPushMode) out.mode = events::DeliveryMode::Push;
  else if (mode == kPushWithAckMode) out.mode = events::DeliveryMode::PushWithAck;
  else return Fault{FaultCode::DeliveryModeRequestedUnavailable, {}, {}};

  auto notifyTo = soap::child(delivery, ns::kEventing, "NotifyTo");
  out.notifyTo = soap::text(soap::child(notifyTo, ns::kAddressing, "Address"));
  if (out.notifyTo.empty()) return invalid("Delivery has no NotifyTo address.");
  if (out.notifyTo.size() > kMaxNotifyToLength) return invalid("The NotifyTo address is longer than 253 characters.");
  if (!parseUrl(out.notifyTo)) return invalid("The NotifyTo address is not an http or https URL.");
  if (auto params = soap::child(notifyTo, ns::kAddressing, "ReferenceParameters")) {
    out.referenceParameters = standaloneChildren(params);
    if (out.referenceParameters.size() > kMaxReferenceParameters)
      return invalid("ReferenceParameters are longer than 256 characters.");
  }
  if (auto auth = soap::child(delivery, ns::kWsman, "Auth")) {
    std::string_view profile = auth.attribute("Profile").value();
    if (!profile.empty() && profile != kDigestProfile)
      return Fault{FaultCode::UnsupportedFeature, {}, "Only the http/digest security profile is supported."};
  }
  readIssuedTokens(headerOf(request), out);
  auto expires = readExpires(sub, now);
  if (auto* f = std::get_if<Fault>(&expires)) return *f;
  out.expires = std::get<std::optional<events::TimePoint>>(expires);
  return out;
}

std::variant<std::optional<events::TimePoint>, Fault> parseRenew(const soap::Request& request, events::TimePoint now) {
  auto renew = request.payload;
  if (!renew || !soap::is(renew, ns::kEventing, "Renew")) return invalid("The body has no wse:Renew.");
  return readExpires(renew, now);
}

}  // namespace mesim::wsman::eventing
