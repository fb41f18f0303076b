// TLS and certificates (spec/wsman.md §3.2 rpc-go configure): AMT_TLSSettingData (remote 802.3 and
// local LMS, Put; applied by CommitChanges), AMT_PublicKeyCertificate (Put, Delete). The store's service and key
// pairs are in public_key_management.cpp.
#include <openssl/x509.h>

#include <memory>

#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/pki_crypto.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kTlsIds[2] = {"Intel(r) AMT 802.3 TLS Settings", "Intel(r) AMT LMS TLS Settings"};
// AMT_PublicKeyCertificate.X509Certificate is MaxLen(4100) in AMT's MOF.
constexpr std::size_t kMaxCertificateBytes = 4100;

bool isX509Certificate(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), &X509_free);
  return cert && p == der.data() + der.size();
}

// A certificate the TLS endpoint is bound to, or still serves since the last CommitChanges, stays (AMT: "a
// certificate cannot be removed if it is referenced, for example by TLS").
bool usedByTls(const platform::PlatformState& s, const std::string& id) {
  return s.keyStore.tlsCertificateId == id || (s.keyStore.tlsCommitted && s.keyStore.committedTlsCertificateId == id);
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
    if (auto it = in.find("TrustedCN"); it != in.end()) {
      if (it->second.items.size() > kMaxTrustedCommonNames)
        return invalidParameter("TrustedCN holds at most " + std::to_string(kMaxTrustedCommonNames) + " names");
      for (const auto& cn : it->second.items)
        if (cn.empty() || cn.size() > kMaxCommonNameLength)
          return invalidParameter("a TrustedCN name has 1 to " + std::to_string(kMaxCommonNameLength) + " characters");
    }
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
                     P("TrustedRootCertficate", T::Boolean), W("X509Certificate", T::Base64)};
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
  cert.put = [](CimContext& ctx, const Instance& current, const Arguments& in) -> ChangeFault {
    const std::string id = current.str("InstanceID");
    std::string blob;
    if (!argString(in, "X509Certificate", blob)) return std::nullopt;  // nothing writable sent
    std::vector<std::uint8_t> der;
    if (!base64Decode(blob, der) || der.empty() || der.size() > kMaxCertificateBytes || !isX509Certificate(der))
      return invalidParameter("X509Certificate must be one DER X.509 certificate of at most 4100 bytes.");
    if (usedByTls(ctx.platform.state(), id))
      return soap::Fault{soap::FaultCode::AccessDenied, {}, "The TLS endpoint uses this certificate."};
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      for (auto& c : s.certificates)
        if (c.instanceId == id) c.x509 = blob;
    }));
  };
  cert.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string id = target.str("InstanceID");
    if (usedByTls(ctx.platform.state(), id))
      return soap::Fault{soap::FaultCode::AccessDenied, {}, "The TLS endpoint uses this certificate."};
    return changeFault(ctx.platform.update([&](platform::PlatformState& s) {
      std::erase_if(s.certificates, [&](const platform::StoredCertificate& c) { return c.instanceId == id; });
    }));
  };
  r.add(std::move(cert));

}

}  // namespace mesim::wsman::cim
