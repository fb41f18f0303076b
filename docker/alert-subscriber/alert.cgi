#!/bin/sh
# One pushed WS-Eventing alert (busybox httpd CGI): the envelope is appended to ALERT_LOG after a line naming the
# alert, the line also goes to stderr (the container's log), and the device gets 200 (Push delivery needs no Ack).
set -eu
ALERT_LOG="${ALERT_LOG:-/var/log/alerts/alerts.log}"
if [ "${REQUEST_METHOD:-}" != POST ]; then
  printf 'Status: 405 Method Not Allowed\r\nContent-Type: text/plain\r\n\r\nPOST alerts here\n'
  exit 0
fi
body="$(head -c "${CONTENT_LENGTH:-0}")"
# The fields of the CIM_AlertIndication, whatever namespace prefix the device gives them (the envelope's header
# has a MessageID of its own).
indication="${body#*CIM_AlertIndication}"
field() { printf '%s' "$indication" | sed -n "s|.*<[A-Za-z0-9]*:$1>\([^<]*\)</[A-Za-z0-9]*:$1>.*|\1|p" | head -n 1; }
line="alert $(date -u +%Y-%m-%dT%H:%M:%SZ) MessageID=$(field MessageID) IndicationIdentifier=$(field IndicationIdentifier) from=${REMOTE_ADDR:-?}"
{
  echo "$line"
  printf '%s\n' "$body"
} >>"$ALERT_LOG"
echo "alert-subscriber: $line" >&2
printf 'Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n'
