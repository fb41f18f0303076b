// VNC authentication (RFC 6143 §7.2.2): the server sends 16 random bytes, the client DES-encrypts them (ECB, two
// blocks) with the password as key: the first 8 bytes, zero-padded, each byte's bits reversed (the d3des quirk
// every VNC implementation shares). DES comes from OpenSSL 3's legacy provider, loaded in a library context of
// our own so the process's default providers stay as they are.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/result.h"

namespace mesim::wsman::redirection {

using VncChallenge = std::array<std::uint8_t, 16>;

// What a client holding `password` answers to `challenge`.
Result<VncChallenge> vncAuthResponse(const VncChallenge& challenge, const std::string& password);
// Whether `response` is that answer (constant time in the comparison).
bool vncAuthMatches(const VncChallenge& challenge, const VncChallenge& response, const std::string& password);
// The 8 bytes `vncpasswd` stores in a password file (the password under VNC's fixed key), e.g. for vncsnapshot -passwd.
Result<std::array<std::uint8_t, 8>> vncPasswordFile(const std::string& password);
// 16 random bytes (OpenSSL's generator).
VncChallenge vncNewChallenge();

}  // namespace mesim::wsman::redirection
