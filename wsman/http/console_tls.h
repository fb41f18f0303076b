// What the TLS listeners (16993, 16995) serve once a console configured TLS (docs/certificates-and-tls.md): the
// certificate bound by AMT_TLSCredentialContext with its key pair from AMT's key store, and with
// MutualAuthentication a client certificate that chains to a trusted root of AMT_PublicKeyCertificate (and whose
// subject CN is one of TrustedCN, if any) — all as of the last CommitChanges (platform::KeyStore) — and whose chain
// carries no serial number of an AMT_CRL (those apply as soon as AddCRL stores them).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "common/result.h"
#include "firmware/platform/platform_state.h"
#include "wsman/http/tls_identity.h"

namespace mesim::wsman::http {

struct ConsoleTlsPolicy {
  std::optional<TlsIdentity> identity;         // the console's certificate and its key; none: the listener's own
  bool mutualAuthentication = false;
  std::vector<std::string> trustedRootsPem;    // what client certificates must chain to
  std::vector<std::string> trustedCn;          // empty: any subject
  std::vector<std::vector<std::uint8_t>> revokedSerials;  // AMT_CRL serial numbers, minimal big-endian bytes
};

// The committed inputs of the policy as text, cheap to compare: the listener rebuilds its context only when this
// changes (it is computed on every platform change).
std::string consoleTlsFingerprint(const platform::PlatformState& state);

// The policy of `state`: nullopt when nothing was committed that differs from serving the listener's own
// certificate to any client. An error when the bound certificate or its key cannot be used (the caller keeps
// serving what it served).
Result<std::optional<ConsoleTlsPolicy>> consoleTlsPolicy(const platform::PlatformState& state);

// A server context for `policy` with `own` as the certificate when the policy names none; client certificates
// are asked for and checked when `verifyClients` and the policy wants mutual authentication.
Result<std::shared_ptr<boost::asio::ssl::context>> makeConsoleTlsContext(const ConsoleTlsPolicy& policy,
                                                                         const TlsIdentity& own, bool verifyClients);

}  // namespace mesim::wsman::http
