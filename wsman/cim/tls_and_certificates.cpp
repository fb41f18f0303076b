// TLS and certificates (spec/wsman.md §3.2 rpc-go configure): AMT_TLSSettingData (remote 802.3 and
// local LMS, Put), AMT_PublicKeyCertificate (Delete), AMT_PublicKeyManagementService
// (AddTrustedRootCertificate, AddCertificate).
#include <openssl/x509.h>

#include <memory>

#include "firmware/platform/event_records.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kTlsIds[2] = {"Intel(r) AMT 802.3 TLS Settings", "Intel(r) AMT LMS TLS Settings"};
constexpr std::size_t kMaxCertificates = 64;
// AMT_PublicKeyCertificate.X509Certificate is MaxLen(4100) in AMT's MOF. With kMaxCertificates this bounds what
// the certificate store adds to the state (and to the work of every state change) at about 260 KiB.
constexpr std::size_t kMaxCertificateBytes = 4100;

// True if `der` is exactly one DER X.509 certificate OpenSSL can parse, nothing before or after it.
bool isX509Certificate(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), &X509_free);
  return cert && p == der.data() + der.size();
}

MethodResult addCertificate(CimContext& ctx, const Arguments& in, bool trustedRoot) {
  std::string blob;
  std::vector<std::uint8_t> der;
  if (!argString(in, "CertificateBlob", blob) || !base64Decode(blob, der) || der.empty() ||
      der.size() > kMaxCertificateBytes)
    return MethodResult::status(status::kInvalidParameter);
  if (!isX509Certificate(der)) return MethodResult::status(status::kInvalidCert);
  const auto& state = ctx.platform.state();
  for (const auto& c : state.certificates)
    if (c.x509 == blob) return MethodResult::status(status::kDuplicate);
  if (state.certificates.size() >= kMaxCertificates) return MethodResult::status(status::kMaxLimitReached);
  std::string id;
  const auto now = ctx.now();
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    id = "Intel(r) AMT Certificate: Handle: " + std::to_string(s.nextCertificateHandle++);
    s.certificates.push_back({id, blob, trustedRoot});
    if (trustedRoot)
      platform::appendAuditRecord(s, platform::makeAuditRecord(platform::audit::kSecurityAdmin,
                                                               platform::audit::kTlsTrustedRootAdded,
                                                               ctx.initiator(), now));
  });
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  MethodResult r;
  r.outputs["CreatedCertificate"] = Value::ref(instanceIdRef(Schema::Amt, "AMT_PublicKeyCertificate", id));
  return r;
}

}  // namespace

void registerTlsAndCertificates(ClassRegistry& r) {
  ClassDef tls{.name = "AMT_TLSSettingData", .schema = Schema::Amt, .keys = {"InstanceID"}};
  tls.properties = {W("AcceptNonSecureConnections", T::Boolean), P("ElementName"), W("Enabled", T::Boolean),
                    P("InstanceID"), W("MutualAuthentication", T::Boolean), {"TrustedCN", T::String, true, true}};
  tls.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (int k = 0; k < 2; ++k) {
      const auto& t = ctx.platform.state().tls[static_cast<std::size_t>(k)];
      Instance i;
      i.setBool("AcceptNonSecureConnections", t.acceptNonSecureConnections)
          .set("ElementName", kTlsIds[k])
          .setBool("Enabled", t.enabled)
          .set("InstanceID", kTlsIds[k])
          .setBool("MutualAuthentication", t.mutualAuthentication);
      if (!t.trustedCn.empty()) i.set("TrustedCN", Value::list(t.trustedCn));
      out.push_back(std::move(i));
    }
    return out;
  };
  tls.put = [](CimContext& ctx, const Instance& current, const Arguments& in) -> ChangeFault {
    const std::size_t k = current.str("InstanceID") == kTlsIds[0] ? 0 : 1;
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      auto& t = s.tls[k];
      bool b = false;
      if (argBool(in, "Enabled", b)) t.enabled = b;
      if (argBool(in, "MutualAuthentication", b)) t.mutualAuthentication = b;
      if (argBool(in, "AcceptNonSecureConnections", b)) t.acceptNonSecureConnections = b;
      if (auto it = in.find("TrustedCN"); it != in.end()) t.trustedCn = it->second.items;
      if (k == 0) s.tlsEnabled = t.enabled;
    }));
  };
  r.add(std::move(tls));

  ClassDef cert{.name = "AMT_PublicKeyCertificate", .schema = Schema::Amt, .keys = {"InstanceID"}};
  // "TrustedRootCertficate" is AMT's own spelling.
  cert.properties = {P("ElementName"), P("InstanceID"), P("ReadOnlyCertificate", T::Boolean),
                     P("TrustedRootCertficate", T::Boolean), P("X509Certificate", T::Base64)};
  cert.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& c : ctx.platform.state().certificates) {
      Instance i;
      i.set("ElementName", "Intel(r) AMT Certificate")
          .set("InstanceID", c.instanceId)
          .setBool("ReadOnlyCertificate", false)
          .setBool("TrustedRootCertficate", c.trustedRoot)
          .set("X509Certificate", c.x509);
      out.push_back(std::move(i));
    }
    return out;
  };
  cert.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string id = target.str("InstanceID");
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.certificates, [&](const platform::StoredCertificate& c) { return c.instanceId == id; });
    }));
  };
  r.add(std::move(cert));

  constexpr const char* kPkiName = "Intel(r) AMT Public Key Management Service";
  ClassDef pki{.name = "AMT_PublicKeyManagementService", .schema = Schema::Amt, .keys = kServiceKeys};
  pki.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                    P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  pki.methods = {{"AddTrustedRootCertificate", {In("CertificateBlob", T::Base64)}, {Out("CreatedCertificate", T::Reference)},
                  [](CimContext& ctx, const Instance&, const Arguments& in) { return addCertificate(ctx, in, true); }},
                 {"AddCertificate", {In("CertificateBlob", T::Base64)}, {Out("CreatedCertificate", T::Reference)},
                  [](CimContext& ctx, const Instance&, const Arguments& in) { return addCertificate(ctx, in, false); }}};
  pki.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, "AMT_PublicKeyManagementService", kPkiName).set("ElementName", kPkiName).setNum("EnabledState", 5).setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(pki));
}

}  // namespace mesim::wsman::cim
