// AMT_AuditLog's auditor methods: SetAuditLock (lock, unprovisioning lock, unlock; the lock expires on the firmware
// clock), SetSigningKeyMaterial (the key and chain the log is signed with) and ExportAuditLogSignature (an RSA
// signature over the records and the log's description). docs/object-model.md.
#include <stdexcept>
#include <string>
#include <vector>

#include "firmware/platform/event_records.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/pki_crypto.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;

// SetAuditLock's Flag: 0 locks the audit log, 1 locks it for an unprovisioning, 2 unlocks.
constexpr std::uint64_t kUnprovisioningLock = 1;
constexpr std::uint64_t kAuditLogUnlock = 2;
constexpr std::uint64_t kMaxLockSeconds = 300;  // "Max value is 5 minutes"
// SetSigningKeyMaterial: "Up to 5 certificates cascaded into one stream (with a total length of 4100 bytes)".
constexpr std::size_t kMaxSigningCertificates = 5;
constexpr std::size_t kMaxSigningCertificateBytes = 4100;
constexpr int kSigningKeyBits = 2048;  // "Key pair (RSA 2048 bit modulus)"
// PT_STATUS values of these methods (AMT SDK).
constexpr std::uint32_t kPkiMissingKeys = 0x80C;
constexpr std::uint32_t kInvalidKey = 0x80E;
constexpr std::uint32_t kCertKeyNotMatch = 0x810;
// Security Audit Log events (MeshCentral's audit string table: 2004 Security Audit Log Exported).
constexpr std::uint16_t kSecurityAuditLogApp = 20;
constexpr std::uint16_t kAuditLogExported = 4;

MethodResult changed(platform::ChangeResult result, MethodResult ok = MethodResult::status(status::kSuccess)) {
  return result == platform::ChangeResult::Ok ? ok : MethodResult::status(status::kInternalError);
}

bool lockHeld(const platform::ServiceSettings& s, std::uint32_t now) {
  return s.auditLockHandle != 0 && now < s.auditLockExpiresAt;
}

MethodResult setAuditLock(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t flag = 0, timeout = 0, handle = 0;
  if (!argUint(in, "Flag", flag) || flag > kAuditLogUnlock) return MethodResult::status(status::kInvalidParameter);
  const bool haveHandle = argUint(in, "Handle", handle);
  const auto now = ctx.now();
  const auto& services = ctx.platform.state().services;
  const bool held = lockHeld(services, now);
  // While the log is locked, lock and unlock requests need the lock's handle.
  if (held && (!haveHandle || handle != services.auditLockHandle)) return MethodResult::status(status::kNotPermitted);
  if (flag == kAuditLogUnlock) {
    return changed(ctx.platform.update([](platform::PlatformState& s) {
      s.services.auditLockHandle = 0;
      s.services.auditLockExpiresAt = 0;
      s.services.auditLockUnprovisioning = false;
    }));
  }
  if (!argUint(in, "LockTimeoutInSeconds", timeout) || timeout == 0 || timeout > kMaxLockSeconds)
    return MethodResult::status(status::kInvalidParameter);
  std::uint32_t granted = 0;
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    // The same handle renews the lock with the new timeout; a free log gets a new handle.
    granted = held ? s.services.auditLockHandle : ++s.services.lastAuditLockHandle;
    if (granted == 0) granted = ++s.services.lastAuditLockHandle;  // the counter wrapped: 0 means "no lock"
    s.services.auditLockHandle = granted;
    s.services.auditLockExpiresAt = now + static_cast<std::uint32_t>(timeout);
    s.services.auditLockUnprovisioning = flag == kUnprovisioningLock;
  });
  MethodResult ok;
  ok.outputs["Handle"] = Value::number(granted);
  return changed(result, std::move(ok));
}

MethodResult setSigningKeyMaterial(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string keyText, certificatesText;
  auto lengths = in.find("LengthOfCertificates");
  std::vector<std::uint8_t> keyDer, stream;
  if (!argString(in, "SigningKey", keyText) || !argString(in, "Certificates", certificatesText) ||
      lengths == in.end() || lengths->second.items.empty() || !base64Decode(keyText, keyDer) ||
      !base64Decode(certificatesText, stream))
    return MethodResult::status(status::kInvalidParameter);
  std::uint64_t mechanism = 0;
  if (argUint(in, "SigningMechanismType", mechanism) && mechanism > 2) return MethodResult::status(status::kInvalidParameter);
  if (lengths->second.items.size() > kMaxSigningCertificates || stream.size() > kMaxSigningCertificateBytes)
    return MethodResult::status(status::kInvalidParameter);
  // Cut the stream into the certificates the lengths name; they must cover it exactly.
  std::vector<std::string> certificates;
  std::size_t at = 0;
  for (const auto& text : lengths->second.items) {
    std::size_t length = 0;
    try {
      std::size_t used = 0;
      length = std::stoul(text, &used);
      if (used != text.size()) return MethodResult::status(status::kInvalidParameter);
    } catch (const std::exception&) {
      return MethodResult::status(status::kInvalidParameter);
    }
    if (length == 0 || at + length > stream.size()) return MethodResult::status(status::kInvalidParameter);
    std::vector<std::uint8_t> der(stream.begin() + static_cast<std::ptrdiff_t>(at),
                                  stream.begin() + static_cast<std::ptrdiff_t>(at + length));
    if (!isDerCertificate(der)) return MethodResult::status(status::kInvalidCert);
    certificates.push_back(base64Encode(der));
    at += length;
  }
  if (at != stream.size()) return MethodResult::status(status::kInvalidParameter);
  auto keyPem = rsaPrivateKeyPemFromDer(keyDer);
  if (!keyPem || rsaKeyBits(*keyPem) != kSigningKeyBits) return MethodResult::status(kInvalidKey);
  std::vector<std::uint8_t> leaf;
  base64Decode(certificates.front(), leaf);
  if (!certificateMatchesKey(leaf, *keyPem)) return MethodResult::status(kCertKeyNotMatch);
  return changed(ctx.platform.update([&](platform::PlatformState& s) {
    s.services.auditSigningKey = *keyPem;
    s.services.auditSigningCertificates = certificates;
  }));
}

void appendBe32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::uint32_t recordTime(const std::vector<std::uint8_t>& record) {
  auto decoded = platform::decodeAuditRecord(record);
  return decoded ? decoded->timestamp : 0;
}

MethodResult exportAuditLogSignature(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t mechanism = 0;
  if (!argUint(in, "SigningMechanism", mechanism) || mechanism > 2) return MethodResult::status(status::kInvalidParameter);
  const auto& state = ctx.platform.state();
  if (state.services.auditSigningKey.empty()) return MethodResult::status(kPkiMissingKeys);
  const auto& log = state.logs.auditLog;
  const std::uint32_t start = log.empty() ? 0 : recordTime(log.front());
  const std::uint32_t end = log.empty() ? 0 : recordTime(log.back());
  const std::uint32_t generated = ctx.now();
  const std::string fqdn = state.fqdn();
  // What is signed (docs/object-model.md): every record as ReadRecords returns it, oldest first, then the description
  // the method returns: TotalRecordCount, StartLogTime, EndLogTime, GenerationTime (u32 big-endian, Unix seconds),
  // the 16 UUID bytes, the FQDN's bytes and SignatureMechanism (u32 big-endian).
  std::vector<std::uint8_t> signedData;
  for (const auto& record : log) signedData.insert(signedData.end(), record.begin(), record.end());
  appendBe32(signedData, static_cast<std::uint32_t>(log.size()));
  appendBe32(signedData, start);
  appendBe32(signedData, end);
  appendBe32(signedData, generated);
  signedData.insert(signedData.end(), state.uuid.begin(), state.uuid.end());
  signedData.insert(signedData.end(), fqdn.begin(), fqdn.end());
  appendBe32(signedData, static_cast<std::uint32_t>(mechanism));
  auto signature = rsaSign(state.services.auditSigningKey, static_cast<std::uint32_t>(mechanism), signedData);
  if (!signature) return MethodResult::status(status::kInternalError);

  MethodResult r;
  r.outputs["TotalRecordCount"] = Value::number(log.size());
  r.outputs["StartLogTime"] = Value::dateTime(cimDatetime(start));
  r.outputs["EndLogTime"] = Value::dateTime(cimDatetime(end));
  r.outputs["GenerationTime"] = Value::dateTime(cimDatetime(generated));
  static const char* kHex = "0123456789ABCDEF";
  std::string uuid;
  for (auto b : state.uuid) uuid += {kHex[b >> 4], kHex[b & 15]};
  r.outputs["UUID"] = Value::text(uuid);
  r.outputs["FQDN"] = Value::text(fqdn);
  r.outputs["SignatureMechanism"] = Value::number(mechanism);
  r.outputs["Signature"] = Value::text(base64Encode(*signature));
  std::vector<std::string> lengths;
  std::vector<std::uint8_t> chain;
  for (const auto& certificate : state.services.auditSigningCertificates) {
    std::vector<std::uint8_t> der;
    base64Decode(certificate, der);
    lengths.push_back(std::to_string(der.size()));
    chain.insert(chain.end(), der.begin(), der.end());
  }
  r.outputs["LengthOfCertificates"] = Value::list(std::move(lengths));
  r.outputs["Certificates"] = Value::text(base64Encode(chain));
  // The export is itself audited (2004 Security Audit Log Exported); a locked log does not take it.
  ctx.platform.update([&](platform::PlatformState& s) {
    platform::appendAuditRecord(s, platform::makeAuditRecord(kSecurityAuditLogApp, kAuditLogExported, ctx.initiator(), generated));
  });
  return r;
}

}  // namespace

std::uint32_t auditLogState(const platform::PlatformState& state, std::uint32_t now) {
  std::uint32_t bits = 0;  // 0 Enabled
  if (!state.services.auditLogEnabled) bits |= 0x01;
  if (lockHeld(state.services, now)) bits |= 0x02;
  const auto records = state.logs.auditLog.size();
  if (records >= platform::EventLogs::kMaxAuditLogRecords) bits |= 0x08;  // Full
  else if (records * 100 >= platform::EventLogs::kMaxAuditLogRecords * 85) bits |= 0x04;  // Almost Full
  if (state.services.auditSigningKey.empty()) bits |= 0x10;  // No Key
  return bits;
}

std::vector<MethodDef> auditLogAuditorMethods() {
  return {{"SetAuditLock",
           {In("LockTimeoutInSeconds", T::UInt32), In("Flag", T::UInt32), In("Handle", T::UInt32)},
           {Out("Handle", T::UInt32)},
           setAuditLock},
          {"ExportAuditLogSignature",
           {In("SigningMechanism", T::UInt32)},
           {Out("TotalRecordCount", T::UInt32), Out("StartLogTime", T::DateTime), Out("EndLogTime", T::DateTime),
            Out("GenerationTime", T::DateTime), Out("UUID", T::String), Out("FQDN"), Out("SignatureMechanism", T::UInt32),
            Out("Signature", T::Base64), Out("LengthOfCertificates", T::UInt16, true), Out("Certificates", T::Base64)},
           exportAuditLogSignature},
          {"SetSigningKeyMaterial",
           {In("SigningMechanismType", T::UInt32), In("SigningKey", T::Base64), In("LengthOfCertificates", T::UInt16, true),
            In("Certificates", T::Base64)},
           {},
           setSigningKeyMaterial}};
}

}  // namespace mesim::wsman::cim
