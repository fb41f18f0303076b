// Settings of AMT services that each hold a few values (docs/object-model.md): the switches of the event and audit
// logs, the audit policy, Kerberos, the power scheme, the web UI's and secure I/O's enabled states.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mesim::platform {

struct ServiceSettings {
  bool messageLogFrozen = false;   // AMT_MessageLog.FreezeLog: no records are added while frozen
  bool messageLogEnabled = true;   // AMT_MessageLog.RequestStateChange 2 / 3
  bool auditLogEnabled = true;     // AMT_AuditLog.RequestStateChange 2 / 3 (AuditState)
  // AMT_AuditPolicyRule, as AuditedAppID << 16 | EventID: events taken out of the audit (every known event is
  // audited by default; Security Admin's cannot be taken out) and events marked critical (PolicyType 0).
  std::vector<std::uint32_t> auditDisabledEvents;
  std::vector<std::uint32_t> auditCriticalEvents;
  bool kerberosCredentialCache = false;  // AMT_KerberosSettingData.Set/GetCredentialCacheState
  std::string activePowerScheme;         // AMT_SystemPowerScheme InstanceID; "" = the first
  bool secureIoEnabled = false;          // IPS_SecIOService.RequestStateChange 2 / 3
  bool provisioningRecordLogEnabled = true;    // IPS_ProvisioningRecordLog.RequestStateChange 2 / 3
  std::uint32_t provisioningRecordsClearedAt = 0;  // IPS_ProvisioningRecordLog.ClearLog (Unix seconds)
};

}  // namespace mesim::platform
