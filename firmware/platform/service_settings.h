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
  // AMT_AuditLog.SetAuditLock: while a lock holds (until auditLockExpiresAt, Unix seconds of the firmware clock)
  // no record enters the audit log, and only the holder of auditLockHandle may renew or release it.
  std::uint32_t auditLockHandle = 0;  // 0: not locked
  std::uint32_t auditLockExpiresAt = 0;
  bool auditLockUnprovisioning = false;  // Flag 1, UNPROVISIONING_LOCK
  std::uint32_t lastAuditLockHandle = 0;  // handles are not reused
  // AMT_AuditLog.SetSigningKeyMaterial: the key (PKCS#8 PEM) and certificate chain (base64 DER, leaf first) that
  // ExportAuditLogSignature signs with; empty: "No Key" (AuditState 0x10).
  std::string auditSigningKey;
  std::vector<std::string> auditSigningCertificates;
  // AMT_SetupAndConfigurationService.SetTLSPSK: the pre-shared key of TLS-PSK provisioning (PSKID and the 32-byte
  // PSKValue, base64), set in pre-provisioning; cleared by a full unprovision.
  std::string tlsPskId;
  std::string tlsPskValue;
  // The agent watchdogs created as AMT_AgentPresenceWatchdogVA (the virtual appliance's flavour), by DeviceID: the
  // same watchdogs as the others (watchdog_fw), served under the subclass.
  std::vector<std::string> virtualApplianceWatchdogs;
};

}  // namespace mesim::platform
