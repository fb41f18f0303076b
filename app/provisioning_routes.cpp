#include "app/provisioning_routes.h"

#include <algorithm>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/device.h"
#include "common/text_codecs.h"
#include "firmware/core/clock_text.h"
#include "firmware/platform/event_records.h"
#include "firmware/platform/platform_model.h"
#include "firmware/platform/provisioning_timeout.h"

namespace mesim::app {
namespace {

using platform::ControlMode;
using platform::ProvisioningState;

const char* stateName(ProvisioningState state) {
  switch (state) {
    case ProvisioningState::Pre: return "pre";
    case ProvisioningState::In: return "in";
    case ProvisioningState::Post: return "post";
  }
  return "?";
}

const char* modeName(ControlMode mode) {
  switch (mode) {
    case ControlMode::None: return "none";
    case ControlMode::Client: return "ccm";
    case ControlMode::Admin: return "acm";
  }
  return "?";
}

boost::json::object provisioningJson(const Device& device, const platform::PlatformModel& platform,
                                     const platform::ProvisioningTimeout* timeout) {
  const auto& s = platform.state();
  boost::json::object o;
  o["state"] = stateName(s.provisioningState);
  o["control_mode"] = modeName(s.controlMode);
  if (s.hostBasedSetup) {
    boost::json::object setup;
    setup["kind"] = "host-based";
    setup["server_hash_algorithm"] = s.hostBasedSetup->serverHashAlgorithm == platform::HashAlgorithm::Sha384 ? "sha384" : "sha256";
    setup["server_cert_hash"] = text::toHex(s.hostBasedSetup->serverCertHash);
    setup["host_vpn"] = s.hostBasedSetup->hostVpnEnabled;
    boost::json::array suffixes;
    for (const auto& suffix : s.hostBasedSetup->dnsSuffixes) suffixes.emplace_back(suffix);
    setup["dns_suffixes"] = std::move(suffixes);
    if (auto deadline = timeout ? timeout->deadline() : std::nullopt) {
      setup["deadline"] = core::formatUtc(*deadline);
      setup["seconds_left"] = std::chrono::duration<double>(*deadline - device.clock().now()).count();
    }
    o["setup"] = std::move(setup);
  } else {
    o["setup"] = nullptr;
  }
  if (timeout) {
    o["timeout_seconds"] = std::chrono::duration<double>(timeout->period()).count();
    o["timeouts_expired"] = timeout->expired();
  }
  o["admin_user"] = s.admin.user;
  o["admin_password_set_by_console"] = s.admin.setByProvisioning;
  o["mebx_password_set"] = !s.mebxHa1.empty();
  o["opt_in_required"] = s.optIn.optInRequired;
  o["acl_users"] = s.aclUsers.size();
  o["user_cert_hashes"] = std::count_if(s.certHashes.begin(), s.certHashes.end(),
                                        [](const platform::CertHashEntry& e) { return !e.isDefault; });
  o["tls_enabled"] = s.tlsEnabled || s.tls[0].enabled || s.tls[1].enabled;
  o["message_log_records"] = s.logs.messageLog.size();
  o["audit_log_records"] = s.logs.auditLog.size();
  return o;
}

}  // namespace

void addProvisioningRoutes(ControlRoutes& routes) {
  routes.add("GET", "/provisioning", "provisioning state, control mode, the setup under way and its deadline",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               auto* platform = device.platformModel();
               if (!platform) return jsonError(503, "device " + device.name() + " is not running");
               return jsonResponse(200, provisioningJson(device, *platform, device.provisioningTimeout()));
             });

  routes.add("POST", "/provisioning/factory-reset",
             "back to factory state: pre-provisioning, the factory admin, no ACL users or user root hashes",
             [](Device& device, const ControlRequest& request) {
               if (auto unknown = request.unknownParam({})) return jsonError(400, "unknown parameter " + *unknown);
               auto* platform = device.platformModel();
               if (!platform) return jsonError(503, "device " + device.name() + " is not running");
               // Recorded as AMT records an unprovision made at the platform itself (MEBx): a local initiator.
               auto record = platform::makeAuditRecord(platform::audit::kSecurityAdmin,
                                                       platform::audit::kUnprovisioningStarted, {"", true, {}},
                                                       core::unixSeconds(device.clock().now()));
               auto result = platform->factoryReset(std::move(record));
               if (result == platform::ChangeResult::StorageError)
                 return jsonError(507, "the state could not be written: " + platform->lastError());
               if (result != platform::ChangeResult::Ok)
                 return jsonError(500, std::string("factory reset refused: ") + platform::toString(result));
               return jsonResponse(200, provisioningJson(device, *platform, device.provisioningTimeout()));
             });
}

}  // namespace mesim::app
