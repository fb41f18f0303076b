// AMT's key and certificate store (spec/wsman.md §3.1): AMT_PublicKeyManagementService (GenerateKeyPair,
// GeneratePKCS10RequestEx, AddKey, AddCertificate, AddTrustedRootCertificate), AMT_PublicPrivateKeyPair,
// AMT_CryptographicCapabilities, and the binding of a certificate to the TLS endpoint: AMT_TLSCredentialContext
// (a CIM_CredentialContext) between an AMT_PublicKeyCertificate and AMT_TLSProtocolEndpointCollection, whose members
// are the AMT_TLSProtocolEndpoint instances. AMT_TLSSettingData and AMT_PublicKeyCertificate are in
// tls_and_certificates.cpp; CommitChanges applies the binding (docs/certificates-and-tls.md).
#include <openssl/x509.h>

#include <memory>

#include "firmware/platform/event_records.h"
#include "wsman/cim/class_registry.h"
#include "wsman/cim/cim_util.h"
#include "wsman/cim/pki_crypto.h"

namespace mesim::wsman::cim {
namespace {

using T = PropType;
constexpr const char* kKeyPairClass = "AMT_PublicPrivateKeyPair";
constexpr const char* kCertificateClass = "AMT_PublicKeyCertificate";
constexpr const char* kCollectionClass = "AMT_TLSProtocolEndpointCollection";
constexpr const char* kCollectionName = "TLSProtocolEndpointInstances Collection";
constexpr const char* kEndpointClass = "AMT_TLSProtocolEndpoint";
constexpr const char* kEndpointNames[2] = {"Intel(r) AMT 802.3 TLS Protocol Endpoint",
                                           "Intel(r) AMT LMS TLS Protocol Endpoint"};
// AMT keeps a handful of key pairs; a bound on what the store adds to the state (a 2048-bit key is ~1.7 KiB of PEM).
constexpr std::size_t kMaxKeyPairs = 16;
constexpr std::size_t kMaxCertificates = 64;
// AMT_PublicKeyCertificate.X509Certificate is MaxLen(4100) in AMT's MOF; AddKey's blob is bounded alike.
constexpr std::size_t kMaxCertificateBytes = 4100;
constexpr std::size_t kMaxKeyBytes = 4100;
constexpr std::uint64_t kRsa = 0;
constexpr std::uint64_t kKeyLength = 2048;
constexpr const char* kCrlClass = "AMT_CRL";
// CRLs: what AMT_PublicKeyManagementCapabilities announces is what AddCRL enforces. MaximumCRLSize counts the
// serial numbers over all CRLs (our choice of unit: the SDK does not say; no capture shows it).
constexpr std::size_t kMaxCrlSerials = 256;
constexpr std::size_t kMaxCrls = 16;
constexpr std::size_t kMaxCrlUrlLength = 256;
// GeneratePKCS10Request's DNName and Usage: bounded like the CN fields AMT keeps.
constexpr std::size_t kMaxDistinguishedNameLength = 1024;

// True if `der` is exactly one DER X.509 certificate OpenSSL can parse, nothing before or after it.
bool isX509Certificate(const std::vector<std::uint8_t>& der) {
  const unsigned char* p = der.data();
  std::unique_ptr<X509, decltype(&X509_free)> cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())), &X509_free);
  return cert && p == der.data() + der.size();
}

const platform::StoredKeyPair* findKeyPair(const platform::PlatformState& s, const std::string& id) {
  for (const auto& k : s.keyStore.keyPairs)
    if (k.instanceId == id) return &k;
  return nullptr;
}

// The InstanceID a reference argument names, if it references `className`.
std::optional<std::string> referencedId(const Arguments& in, std::string_view name, const std::string& className) {
  const EndpointReference* ref = argRef(in, name);
  if (!ref || ref->resourceUri != resourceUri(Schema::Amt, className)) return std::nullopt;
  const soap::Selector* id = ref->find("InstanceID");
  if (!id || id->isEpr()) return std::nullopt;
  return id->value;
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
  r.outputs["CreatedCertificate"] = Value::ref(instanceIdRef(Schema::Amt, kCertificateClass, id));
  return r;
}

// Stores a key pair; the reference to it in `out` under `outputName`.
MethodResult storeKeyPair(CimContext& ctx, std::string pem, const char* outputName) {
  const auto& state = ctx.platform.state();
  for (const auto& k : state.keyStore.keyPairs)
    if (k.privateKeyPem == pem) return MethodResult::status(status::kDuplicate);
  if (state.keyStore.keyPairs.size() >= kMaxKeyPairs) return MethodResult::status(status::kMaxLimitReached);
  std::string id;
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    id = "Intel(r) AMT Key: Handle: " + std::to_string(s.keyStore.nextKeyPairHandle++);
    s.keyStore.keyPairs.push_back({id, std::move(pem)});
  });
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  MethodResult r;
  r.outputs[outputName] = Value::ref(instanceIdRef(Schema::Amt, kKeyPairClass, id));
  return r;
}

MethodResult generateKeyPair(CimContext& ctx, const Instance&, const Arguments& in) {
  std::uint64_t algorithm = 0, length = 0;
  if (!argUint(in, "KeyAlgorithm", algorithm) || !argUint(in, "KeyLength", length) || algorithm != kRsa ||
      length != kKeyLength)
    return MethodResult::status(status::kInvalidParameter);
  if (ctx.platform.state().keyStore.keyPairs.size() >= kMaxKeyPairs)
    return MethodResult::status(status::kMaxLimitReached);
  MethodResult deferred;
  deferred.offLoop = []() -> MethodFinish {
    auto pem = generateRsaPrivateKeyPem(static_cast<int>(kKeyLength));
    return [pem = std::move(pem)](CimContext& ctx) mutable {
      if (!pem) return MethodResult::status(status::kInternalError);
      return storeKeyPair(ctx, std::move(*pem), "KeyPair");
    };
  };
  return deferred;
}

MethodResult addKey(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string blob;
  std::vector<std::uint8_t> der;
  if (!argString(in, "KeyBlob", blob) || !base64Decode(blob, der) || der.empty() || der.size() > kMaxKeyBytes)
    return MethodResult::status(status::kInvalidParameter);
  auto pem = rsaPrivateKeyPemFromDer(der);
  if (!pem) return MethodResult::status(status::kInvalidParameter);
  return storeKeyPair(ctx, std::move(*pem), "CreatedKey");
}

MethodResult generatePkcs10(CimContext& ctx, const Instance&, const Arguments& in) {
  const auto keyId = referencedId(in, "KeyPair", kKeyPairClass);
  std::uint64_t algorithm = 0;
  std::string blob;
  std::vector<std::uint8_t> request;
  if (!keyId || !argUint(in, "SigningAlgorithm", algorithm) || algorithm > 1 ||
      !argString(in, "NullSignedCertificateRequest", blob) || !base64Decode(blob, request) || request.empty())
    return MethodResult::status(status::kInvalidParameter);
  const platform::StoredKeyPair* key = findKeyPair(ctx.platform.state(), *keyId);
  if (!key) return MethodResult::status(status::kNotFound);
  auto signedRequest = signCertificateRequest(request, key->privateKeyPem, static_cast<std::uint32_t>(algorithm));
  if (!signedRequest) return MethodResult::status(status::kInvalidParameter);
  MethodResult r;
  r.outputs["SignedCertificateRequest"] = Value::text(base64Encode(*signedRequest));
  return r;
}

// GeneratePKCS10Request (before the Ex variant, still in amt.js): AMT builds the whole request from a DN string and a
// list of key-usage OIDs, signs it with the key pair (SHA-256) and returns it.
MethodResult generatePkcs10Legacy(CimContext& ctx, const Instance&, const Arguments& in) {
  const auto keyId = referencedId(in, "KeyPair", kKeyPairClass);
  std::string dn, usage;
  if (!keyId || !argString(in, "DNName", dn) || dn.empty() || dn.size() > kMaxDistinguishedNameLength)
    return MethodResult::status(status::kInvalidParameter);
  if (in.count("Usage") && (!argString(in, "Usage", usage) || usage.size() > kMaxDistinguishedNameLength))
    return MethodResult::status(status::kInvalidParameter);
  const platform::StoredKeyPair* key = findKeyPair(ctx.platform.state(), *keyId);
  if (!key) return MethodResult::status(status::kNotFound);
  auto request = makeCertificateRequest(key->privateKeyPem, dn, usage);
  if (!request) return MethodResult::status(status::kInvalidParameter);
  MethodResult r;
  r.outputs["SignedCertificateRequest"] = Value::text(base64Encode(*request));
  return r;
}

std::size_t crlSerialCount(const platform::KeyStore& k) {
  std::size_t n = 0;
  for (const auto& c : k.crls) n += c.serialNumbers.size();
  return n;
}

// AddCRL: the issuer's URL (optional) and the revoked serial numbers (required, base64). From then on a client
// certificate with one of them is refused by mutual TLS (docs/certificates-and-tls.md).
MethodResult addCrl(CimContext& ctx, const Instance&, const Arguments& in) {
  std::string url;
  if (in.count("Url") && (!argString(in, "Url", url) || url.size() > kMaxCrlUrlLength))
    return MethodResult::status(status::kInvalidParameter);
  const Value* serials = in.count("SerialNumbers") ? &in.at("SerialNumbers") : nullptr;
  if (!serials || serials->items.empty()) return MethodResult::status(status::kInvalidParameter);
  std::vector<std::string> normalized;
  for (const auto& s : serials->items) {
    auto bytes = crlSerialBytes(s);
    if (!bytes) return MethodResult::status(status::kInvalidParameter);
    normalized.push_back(base64Encode(*bytes));
  }
  const auto& keyStore = ctx.platform.state().keyStore;
  if (keyStore.crls.size() >= kMaxCrls || crlSerialCount(keyStore) + normalized.size() > kMaxCrlSerials)
    return MethodResult::status(status::kMaxLimitReached);
  std::string id;
  auto result = ctx.platform.update([&](platform::PlatformState& s) {
    id = "Intel(r) AMT CRL: Handle: " + std::to_string(s.keyStore.nextCrlHandle++);
    s.keyStore.crls.push_back({id, url, std::move(normalized)});
  });
  if (result != platform::ChangeResult::Ok) return MethodResult::status(status::kInternalError);
  MethodResult r;
  r.outputs["CRL"] = Value::ref(instanceIdRef(Schema::Amt, kCrlClass, id));
  return r;
}

MethodResult resetCrlList(CimContext& ctx, const Instance&, const Arguments&) {
  auto result = ctx.platform.update([](platform::PlatformState& s) { s.keyStore.crls.clear(); });
  return result == platform::ChangeResult::Ok ? MethodResult{} : MethodResult::status(status::kInternalError);
}

EndpointReference collectionRef() {
  EndpointReference e;
  e.resourceUri = resourceUri(Schema::Amt, kCollectionClass);
  e.selectors = {soap::textSelector("ElementName", kCollectionName)};
  return e;
}

// The certificate bound to the TLS endpoint, if any, and whether it has a key pair in the store.
const platform::StoredCertificate* findCertificate(const platform::PlatformState& s, const std::string& id) {
  for (const auto& c : s.certificates)
    if (c.instanceId == id) return &c;
  return nullptr;
}

bool hasKeyPair(const platform::PlatformState& s, const platform::StoredCertificate& cert) {
  std::vector<std::uint8_t> der;
  if (!base64Decode(cert.x509, der)) return false;
  for (const auto& k : s.keyStore.keyPairs)
    if (certificateMatchesKey(der, k.privateKeyPem)) return true;
  return false;
}

}  // namespace

void commitTlsChanges(platform::PlatformState& s) {
  auto& k = s.keyStore;
  k.tlsCommitted = true;
  k.committedTlsEnabled = s.tls[0].enabled;
  k.committedMutualAuthentication = s.tls[0].mutualAuthentication;
  k.committedTrustedCn = s.tls[0].trustedCn;
  k.committedTlsCertificateId = k.tlsCertificateId;
}

void registerPublicKeyManagement(ClassRegistry& r) {
  constexpr const char* kPkiName = "Intel(r) AMT Public Key Management Service";
  ClassDef pki{.name = "AMT_PublicKeyManagementService", .schema = Schema::Amt, .keys = kServiceKeys};
  pki.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                    P("RequestedState", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  pki.methods = {
      {"AddTrustedRootCertificate", {In("CertificateBlob", T::Base64)}, {Out("CreatedCertificate", T::Reference)},
       [](CimContext& ctx, const Instance&, const Arguments& in) { return addCertificate(ctx, in, true); }},
      {"AddCertificate", {In("CertificateBlob", T::Base64)}, {Out("CreatedCertificate", T::Reference)},
       [](CimContext& ctx, const Instance&, const Arguments& in) { return addCertificate(ctx, in, false); }},
      {"AddKey", {In("KeyBlob", T::Base64)}, {Out("CreatedKey", T::Reference)}, addKey},
      {"GenerateKeyPair", {In("KeyAlgorithm", T::UInt16), In("KeyLength", T::UInt32)}, {Out("KeyPair", T::Reference)},
       generateKeyPair},
      {"GeneratePKCS10RequestEx",
       {In("KeyPair", T::Reference), In("SigningAlgorithm", T::UInt16), In("NullSignedCertificateRequest", T::Base64)},
       {Out("SignedCertificateRequest", T::Base64)},
       generatePkcs10},
      {"GeneratePKCS10Request", {In("KeyPair", T::Reference), In("DNName"), In("Usage")},
       {Out("SignedCertificateRequest", T::Base64)}, generatePkcs10Legacy},
      {"AddCRL", {In("Url"), In("SerialNumbers", T::String, true)}, {Out("CRL", T::Reference)}, addCrl},
      {"ResetCRLList", {}, {}, resetCrlList}};
  pki.enumerate = [](CimContext&) {
    Instance i;
    setServiceKeys(i, "AMT_PublicKeyManagementService", kPkiName).set("ElementName", kPkiName).setNum("EnabledState", 5).setNum("RequestedState", 12);
    return std::vector<Instance>{i};
  };
  r.add(std::move(pki));

  ClassDef pair{.name = kKeyPairClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  pair.properties = {P("DERKey", T::Base64), P("ElementName"), P("InstanceID")};
  pair.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& k : ctx.platform.state().keyStore.keyPairs) {
      Instance i;
      i.set("DERKey", publicKeyDerBase64(k.privateKeyPem)).set("ElementName", "Intel(r) AMT Key").set("InstanceID", k.instanceId);
      out.push_back(std::move(i));
    }
    return out;
  };
  pair.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string id = target.str("InstanceID");
    const auto& s = ctx.platform.state();
    const platform::StoredKeyPair* key = findKeyPair(s, id);
    if (!key) return invalidParameter();
    // A certificate the TLS endpoint uses (bound, or still served since the last CommitChanges) keeps its key.
    for (const std::string& bound : {s.keyStore.tlsCertificateId, s.keyStore.committedTlsCertificateId}) {
      const platform::StoredCertificate* cert = bound.empty() ? nullptr : findCertificate(s, bound);
      std::vector<std::uint8_t> der;
      if (cert && base64Decode(cert->x509, der) && certificateMatchesKey(der, key->privateKeyPem))
        return soap::Fault{soap::FaultCode::AccessDenied, {}, "The key belongs to the TLS endpoint's certificate."};
    }
    return changeFault(ctx.platform.update([&](platform::PlatformState& st) {
      std::erase_if(st.keyStore.keyPairs, [&](const platform::StoredKeyPair& k) { return k.instanceId == id; });
    }));
  };
  r.add(std::move(pair));

  // The credentials the key store manages: each certificate and key pair, with the service as Antecedent.
  ClassDef managed{.name = "CIM_ManagedCredential", .schema = Schema::Cim, .keys = {"Antecedent", "Dependent"}};
  managed.properties = {P("Antecedent", T::Reference), P("Dependent", T::Reference)};
  managed.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const auto& s = ctx.platform.state();
    auto add = [&](const char* cls, const std::string& id) {
      Instance i;
      i.setRef("Antecedent", serviceRef(Schema::Amt, "AMT_PublicKeyManagementService", kPkiName))
          .setRef("Dependent", instanceIdRef(Schema::Amt, cls, id));
      out.push_back(std::move(i));
    };
    for (const auto& c : s.certificates) add(kCertificateClass, c.instanceId);
    for (const auto& k : s.keyStore.keyPairs) add(kKeyPairClass, k.instanceId);
    return out;
  };
  r.add(std::move(managed));

  ClassDef crl{.name = kCrlClass, .schema = Schema::Amt, .keys = {"InstanceID"}};
  crl.properties = {P("ElementName"), P("InstanceID"), A("SerialNumbers"), P("Url")};
  crl.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (const auto& c : ctx.platform.state().keyStore.crls) {
      Instance i;
      i.set("ElementName", "Intel(r) AMT CRL").set("InstanceID", c.instanceId).set("SerialNumbers", Value::list(c.serialNumbers));
      if (!c.url.empty()) i.set("Url", c.url);
      out.push_back(std::move(i));
    }
    return out;
  };
  crl.remove = [](CimContext& ctx, const Instance& target) -> ChangeFault {
    const std::string id = target.str("InstanceID");
    return changeFault(ctx.platform.update([&](platform::PlatformState& st) {
      std::erase_if(st.keyStore.crls, [&](const platform::StoredCrl& c) { return c.instanceId == id; });
    }));
  };
  r.add(std::move(crl));

  // The limits the store above enforces.
  ClassDef pkiCapabilities{.name = "AMT_PublicKeyManagementCapabilities", .schema = Schema::Amt, .keys = {"InstanceID"}};
  pkiCapabilities.properties = {P("CertChainMaxSize", T::UInt32), P("CommonNameMaxCount", T::UInt32),
                                P("CommonNameMaxSize", T::UInt32), P("ElementName"), P("InstanceID"),
                                P("MaximumCRLSize", T::UInt32), P("RootCertMaxCount", T::UInt32),
                                P("RootCertMaxSize", T::UInt32), A("SupportedKeyLengths", T::UInt32)};
  pkiCapabilities.enumerate = [](CimContext&) {
    Instance i;
    i.setNum("CertChainMaxSize", kMaxCertificateBytes).setNum("CommonNameMaxCount", kMaxTrustedCommonNames)
        .setNum("CommonNameMaxSize", kMaxCommonNameLength).set("ElementName", "Intel(r) AMT Public Key Management Capabilities")
        .set("InstanceID", "Intel(r) AMT Public Key Management Capabilities").setNum("MaximumCRLSize", kMaxCrlSerials)
        .setNum("RootCertMaxCount", kMaxCertificates).setNum("RootCertMaxSize", kMaxCertificateBytes)
        .set("SupportedKeyLengths", Value::numbers({static_cast<std::uint32_t>(kKeyLength)}));
    return std::vector<Instance>{i};
  };
  r.add(std::move(pkiCapabilities));

  ClassDef crypto{.name = "AMT_CryptographicCapabilities", .schema = Schema::Amt, .keys = {"InstanceID"}};
  crypto.properties = {P("ElementName"), P("HardwareAcceleration", T::UInt16), P("InstanceID")};
  crypto.enumerate = [](CimContext&) {
    Instance i;
    // HardwareAcceleration 2: AMT's crypto engine accelerates RSA and AES (the value real platforms report).
    i.set("ElementName", "Intel(r) AMT: Cryptographic Capabilities").setNum("HardwareAcceleration", 2)
        .set("InstanceID", "Intel(r) AMT: Cryptographic Capabilities");
    return std::vector<Instance>{i};
  };
  r.add(std::move(crypto));

  ClassDef collection{.name = kCollectionClass, .schema = Schema::Amt, .keys = {"ElementName"}};
  collection.properties = {P("ElementName"), P("InstanceID")};
  collection.enumerate = [](CimContext&) {
    Instance i;
    i.set("ElementName", kCollectionName).set("InstanceID", kCollectionName);
    return std::vector<Instance>{i};
  };
  r.add(std::move(collection));

  ClassDef endpoint{.name = kEndpointClass, .schema = Schema::Amt, .keys = kServiceKeys};
  endpoint.properties = {P("CreationClassName"), P("ElementName"), P("EnabledState", T::UInt16), P("Name"),
                         P("ProtocolIFType", T::UInt16), P("SystemCreationClassName"), P("SystemName")};
  endpoint.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    for (int k = 0; k < 2; ++k) {
      Instance i;
      setServiceKeys(i, kEndpointClass, kEndpointNames[k]).set("ElementName", kEndpointNames[k]);
      // EnabledState 2/3: TLS on or off on this interface as last committed; ProtocolIFType 1 other.
      const auto& s = ctx.platform.state();
      const bool enabled = k == 0 ? s.keyStore.committedTlsEnabled : s.tls[1].enabled;
      i.setNum("EnabledState", enabled ? 2 : 3).setNum("ProtocolIFType", 1);
      out.push_back(std::move(i));
    }
    return out;
  };
  r.add(std::move(endpoint));

  ClassDef context{.name = "CIM_CredentialContext", .schema = Schema::Cim,
                   .keys = {"ElementInContext", "ElementProvidingContext"}};
  context.properties = {P("ElementInContext", T::Reference), P("ElementProvidingContext", T::Reference)};
  r.add(std::move(context));  // abstract here: its instances are AMT_TLSCredentialContext's

  ClassDef tls{.name = "AMT_TLSCredentialContext", .schema = Schema::Amt, .base = "CIM_CredentialContext",
               .keys = {"ElementInContext", "ElementProvidingContext"}};
  tls.properties = {P("ElementInContext", T::Reference), P("ElementProvidingContext", T::Reference)};
  tls.enumerate = [](CimContext& ctx) {
    std::vector<Instance> out;
    const std::string& id = ctx.platform.state().keyStore.tlsCertificateId;
    if (id.empty()) return out;
    Instance i;
    i.setRef("ElementInContext", instanceIdRef(Schema::Amt, kCertificateClass, id))
        .setRef("ElementProvidingContext", collectionRef());
    out.push_back(std::move(i));
    return out;
  };
  tls.create = [](CimContext& ctx, const Arguments& body, std::vector<soap::Selector>& created) -> ChangeFault {
    const auto certId = referencedId(body, "ElementInContext", kCertificateClass);
    const EndpointReference* provider = argRef(body, "ElementProvidingContext");
    if (!certId) return invalidParameter("ElementInContext must reference an AMT_PublicKeyCertificate.");
    if (!provider || !(*provider == collectionRef()))
      return invalidParameter("ElementProvidingContext must reference the AMT_TLSProtocolEndpointCollection.");
    const auto& s = ctx.platform.state();
    const platform::StoredCertificate* cert = findCertificate(s, *certId);
    if (!cert) return invalidParameter("No such certificate.");
    if (cert->trustedRoot || !hasKeyPair(s, *cert))
      return invalidParameter("The certificate has no key pair in AMT: add or generate its key first.");
    if (!s.keyStore.tlsCertificateId.empty())
      return soap::Fault{soap::FaultCode::AlreadyExists, {}, "The TLS endpoint already has a certificate."};
    if (auto f = changeFault(ctx.platform.update([&](platform::PlatformState& st) { st.keyStore.tlsCertificateId = *certId; })))
      return f;
    created = {soap::eprSelector("ElementInContext", instanceIdRef(Schema::Amt, kCertificateClass, *certId)),
               soap::eprSelector("ElementProvidingContext", collectionRef())};
    return std::nullopt;
  };
  tls.remove = [](CimContext& ctx, const Instance&) -> ChangeFault {
    return changeFault(ctx.platform.update([](platform::PlatformState& st) { st.keyStore.tlsCertificateId.clear(); }));
  };
  r.add(std::move(tls));
}

}  // namespace mesim::wsman::cim
