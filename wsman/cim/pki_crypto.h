// The OpenSSL work behind AMT_PublicKeyManagementService: RSA keys, the public key as AMT shows it (DERKey),
// CSRs signed by a stored key, and matching certificates to keys. Pure functions of their input (no state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace mesim::wsman::cim {

// AMT_TLSSettingData.TrustedCN: how many names and how long each (X.520's upper bound for a common name), as
// AMT_PublicKeyManagementCapabilities announces them and the Put enforces them.
inline constexpr std::size_t kMaxTrustedCommonNames = 4;
inline constexpr std::size_t kMaxCommonNameLength = 64;

// A new RSA key of `bits` as unencrypted PKCS#8 PEM. Tens of milliseconds of CPU for 2048 bits: off the loop.
Result<std::string> generateRsaPrivateKeyPem(int bits);

// AddKey's KeyBlob: a DER RSA private key (PKCS#1 or PKCS#8) of 1024..4096 bits, as PKCS#8 PEM; nullopt if it is not one.
std::optional<std::string> rsaPrivateKeyPemFromDer(const std::vector<std::uint8_t>& der);

// AMT_PublicPrivateKeyPair.DERKey: the DER PKCS#1 RSAPublicKey of a stored private key (MeshCentral reads it as the
// body of a PEM "PUBLIC KEY" after the SubjectPublicKeyInfo prefix), base64. Empty if the key cannot be read.
std::string publicKeyDerBase64(const std::string& privateKeyPem);

// True if the DER X.509 certificate carries the public key of `privateKeyPem`.
bool certificateMatchesKey(const std::vector<std::uint8_t>& certificateDer, const std::string& privateKeyPem);

// GeneratePKCS10RequestEx: the console's request (subject, attributes and extensions; signature left null) signed by
// `privateKeyPem` with SHA-1 (signingAlgorithm 0) or SHA-256 (1), its public key the key pair's; DER.
Result<std::vector<std::uint8_t>> signCertificateRequest(const std::vector<std::uint8_t>& nullSignedRequestDer,
                                                         const std::string& privateKeyPem, std::uint32_t signingAlgorithm);

// GeneratePKCS10Request (the method before the Ex one): a request for the subject `distinguishedName` ("CN=amt,
// O=Example": X.500 short names separated by commas) with an extendedKeyUsage of the comma-separated OIDs in `usage`
// (none if empty), the key pair's public key, signed by it with SHA-256; DER.
Result<std::vector<std::uint8_t>> makeCertificateRequest(const std::string& privateKeyPem,
                                                         const std::string& distinguishedName, const std::string& usage);

// An AddCRL serial number (base64 of a big-endian integer) as its minimal big-endian bytes (no leading zeros; one
// zero byte for 0); nullopt if it is not base64 or longer than the 20 bytes RFC 5280 allows a serial.
std::optional<std::vector<std::uint8_t>> crlSerialBytes(const std::string& base64Serial);

// The bits of an RSA private key (PEM); 0 if it is not one.
int rsaKeyBits(const std::string& privateKeyPem);

// True if `der` is exactly one DER X.509 certificate.
bool isDerCertificate(const std::vector<std::uint8_t>& der);

// An RSA PKCS#1 v1.5 signature of `data` with SHA-1 (mechanism 0), SHA-256 (1) or SHA-384 (2), the audit log's
// signing mechanisms (AMT_AuditLog.ExportAuditLogSignature).
Result<std::vector<std::uint8_t>> rsaSign(const std::string& privateKeyPem, std::uint32_t mechanism,
                                          const std::vector<std::uint8_t>& data);

}  // namespace mesim::wsman::cim
