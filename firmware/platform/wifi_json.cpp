#include "firmware/platform/wifi_json.h"

#include <boost/json.hpp>

#include "firmware/platform/json_members.h"

namespace mesim::platform {
namespace json = boost::json;
namespace {


json::object ieee8021xToJson(const Ieee8021xProfile& x) {
  return {{"instanceId", x.instanceId},
          {"elementName", x.elementName},
          {"authenticationProtocol", x.authenticationProtocol},
          {"roamingIdentity", x.roamingIdentity},
          {"serverCertificateName", x.serverCertificateName},
          {"serverCertificateNameComparison", x.serverCertificateNameComparison},
          {"username", x.username},
          {"password", x.password},
          {"domain", x.domain},
          {"clientCertificateId", x.clientCertificateId},
          {"caCertificateId", x.caCertificateId}};
}

void ieee8021xFromJson(const json::value& in, const std::string& path, Ieee8021xProfile& x, std::string& error) {
  if (!in.is_object()) {
    error = path.substr(0, path.size() - 1) + " must be an object";
    return;
  }
  JsonMembers m(in.get_object(), path, error);
  m.text("instanceId", x.instanceId);
  m.text("elementName", x.elementName);
  m.number("authenticationProtocol", x.authenticationProtocol);
  m.text("roamingIdentity", x.roamingIdentity);
  m.text("serverCertificateName", x.serverCertificateName);
  m.number("serverCertificateNameComparison", x.serverCertificateNameComparison);
  m.text("username", x.username);
  m.text("password", x.password);
  m.text("domain", x.domain);
  m.text("clientCertificateId", x.clientCertificateId);
  m.text("caCertificateId", x.caCertificateId);
}

}  // namespace

json::value wifiToJson(const WifiSettings& s) {
  json::array profiles;
  for (const auto& p : s.profiles) {
    json::object o{{"instanceId", p.instanceId},
                   {"elementName", p.elementName},
                   {"ssid", p.ssid},
                   {"priority", p.priority},
                   {"authenticationMethod", p.authenticationMethod},
                   {"encryptionMethod", p.encryptionMethod},
                   {"pskPassPhrase", p.pskPassPhrase},
                   {"userProfile", p.userProfile},
                   {"addedSequence", p.addedSequence}};
    if (p.ieee8021x) o["ieee8021x"] = ieee8021xToJson(*p.ieee8021x);
    profiles.push_back(std::move(o));
  }
  return json::object{{"portState", s.portState},
                      {"localProfileSynchronization", s.localProfileSynchronization},
                      {"uefiProfileShareEnabled", s.uefiProfileShareEnabled},
                      {"noHostCsmeSoftwarePolicy", s.noHostCsmeSoftwarePolicy},
                      {"nextSequence", s.nextSequence},
                      {"profiles", std::move(profiles)}};
}

std::string wifiFromJson(const json::value& in, WifiSettings& out) {
  if (!in.is_object()) return "must be an object";
  std::string error;
  WifiSettings read;
  JsonMembers top(in.get_object(), "", error);
  top.number("portState", read.portState);
  top.number("localProfileSynchronization", read.localProfileSynchronization);
  top.boolean("uefiProfileShareEnabled", read.uefiProfileShareEnabled);
  top.number("noHostCsmeSoftwarePolicy", read.noHostCsmeSoftwarePolicy);
  top.number("nextSequence", read.nextSequence);
  if (const json::value* list = top.member("profiles")) {
    if (!list->is_array()) return "profiles must be an array";
    if (list->get_array().size() > WifiSettings::kMaxProfiles)
      return "profiles holds more than " + std::to_string(WifiSettings::kMaxProfiles) + " profiles";
    for (std::size_t i = 0; i < list->get_array().size() && error.empty(); ++i) {
      const std::string path = "profiles[" + std::to_string(i) + "].";
      const json::value& item = list->get_array()[i];
      if (!item.is_object()) return path.substr(0, path.size() - 1) + " must be an object";
      JsonMembers m(item.get_object(), path, error);
      WifiProfile p;
      m.text("instanceId", p.instanceId);
      m.text("elementName", p.elementName);
      m.text("ssid", p.ssid);
      m.number("priority", p.priority);
      m.number("authenticationMethod", p.authenticationMethod);
      m.number("encryptionMethod", p.encryptionMethod);
      m.text("pskPassPhrase", p.pskPassPhrase);
      m.boolean("userProfile", p.userProfile);
      m.number("addedSequence", p.addedSequence);
      if (const json::value* x = m.member("ieee8021x")) {
        p.ieee8021x.emplace();
        ieee8021xFromJson(*x, path + "ieee8021x.", *p.ieee8021x, error);
      }
      if (error.empty() && (p.instanceId.empty() || p.elementName.empty())) error = path + "instanceId and elementName must be set";
      read.profiles.push_back(std::move(p));
    }
  }
  if (!error.empty()) return error;
  out = std::move(read);
  return {};
}

json::value wired8021xToJson(const Wired8021xSettings& s) {
  return json::object{{"enabled", s.enabled},
                      {"availableInS0", s.availableInS0},
                      {"pxeTimeout", s.pxeTimeout},
                      {"profile", ieee8021xToJson(s.profile)}};
}

std::string wired8021xFromJson(const json::value& in, Wired8021xSettings& out) {
  if (!in.is_object()) return "must be an object";
  std::string error;
  Wired8021xSettings read;
  JsonMembers top(in.get_object(), "", error);
  top.number("enabled", read.enabled);
  top.boolean("availableInS0", read.availableInS0);
  top.number("pxeTimeout", read.pxeTimeout);
  if (const json::value* p = top.member("profile")) ieee8021xFromJson(*p, "profile.", read.profile, error);
  if (!error.empty()) return error;
  out = std::move(read);
  return {};
}

}  // namespace mesim::platform
