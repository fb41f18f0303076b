// platform.json <-> PlatformState, one field list per struct (fields() in platform_json.cpp) that both
// directions and Boost.JSON's value_from / value_to (tag_invoke below) go through: a new persisted field is
// one line there. Internal to the platform library.
#pragma once

#include <concepts>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "common/result.h"
#include "firmware/platform/platform_state.h"

namespace mesim::platform {

// 1: the audit and message logs inside platform.json (read, then moved to their own files); 2: without them.
constexpr int kPlatformSchema = 2;

// Human-editable, indented JSON without the logs. Fails, naming the field, on text that is not UTF-8: the
// file must always parse again.
Result<std::string> serializeState(const PlatformState& state);

struct ParsedState {
  PlatformState state;
  bool defaulted = false;    // a field was missing and took its value from the fallback
  bool logsInside = false;   // a schema-1 file: state.logs came from it
};

// Parses `text`. Identity fields (uuid, realm, admin HA1, local system account) are required; any other
// missing field takes its value from `fallback`. Wrong types or invalid values are errors naming the field.
// state.logs is `fallback`'s unless the file holds them (schema 1).
Result<ParsedState> parseState(std::string_view text, const PlatformState& fallback);

// Invariants every stored state keeps; the error names the first violation.
Result<> validateState(const PlatformState& state);

// Boost.JSON conversions of the persisted structs (value_to throws std::invalid_argument naming the field).
template <class T>
concept PersistedStruct =
    std::same_as<T, FirmwareInfo> || std::same_as<T, CodeVersion> || std::same_as<T, LanInterface> ||
    std::same_as<T, FeatureStates> || std::same_as<T, RemoteAccessStatus> || std::same_as<T, CertHashEntry> ||
    std::same_as<T, EnterpriseAccess> || std::same_as<T, HostBasedSetup> || std::same_as<T, LocalSystemAccount> ||
    std::same_as<T, AdminAccount> || std::same_as<T, AclUser> || std::same_as<T, HostPower> ||
    std::same_as<T, BootSettings> || std::same_as<T, OptInSettings> || std::same_as<T, RedirectionSettings> ||
    std::same_as<T, GeneralSettingsExtra> || std::same_as<T, TlsSettings> || std::same_as<T, StoredCertificate> ||
    std::same_as<T, StoredKeyPair> || std::same_as<T, StoredCrl> || std::same_as<T, KeyStore> ||
    std::same_as<T, MpsServer> || std::same_as<T, RemoteAccessPolicyRule> || std::same_as<T, HttpProxy> ||
    std::same_as<T, EventLogs> || std::same_as<T, ServiceSettings> || std::same_as<T, PlatformState>;

template <PersistedStruct T>
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const T& value);
template <PersistedStruct T>
T tag_invoke(boost::json::value_to_tag<T>, const boost::json::value& in);

}  // namespace mesim::platform
