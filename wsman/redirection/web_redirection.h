// The firmware's web variant of the redirection protocol (AMT >= 11.6, features.md §1.1): a WebSocket on
// /ws-redirection of 16992/16993, opened after HTTP Digest, whose binary messages carry the same protocol as 16994
// (docs/redirection.md, "The web variant"). This is the service WsmanHttpServer::setWebSocket() takes; app/ wires it,
// since wsman/http includes nothing of wsman/redirection.
//
//   http.setWebSocket(kWebRedirectionPath, webRedirectionService(redirectionService));
#pragma once

#include "wsman/http/websocket_service.h"
#include "wsman/redirection/redirection_session.h"

namespace mesim::wsman::redirection {

inline constexpr char kWebRedirectionPath[] = "/ws-redirection";

// Refuses the upgrade (503) while 16994 would close a connection at accept: before provisioning completes, and
// with AMT_RedirectionService.ListenerEnabled false. Otherwise each WebSocket gets a RedirectionSession whose
// login may be the empty type 2 of the HTTP user (RedirectionSessionOptions::httpUser). `service` must outlive the
// HTTP server's use of the returned callbacks (the device stops its WS-Man server before its redirection service).
http::WebSocketService webRedirectionService(RedirectionService& service);

}  // namespace mesim::wsman::redirection
