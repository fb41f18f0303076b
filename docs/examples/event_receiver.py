#!/usr/bin/env python3
# An event sink for mesim's WS-Eventing alerts: prints every event it is sent and, when the event asks for one
# (PushWithAck), answers with the wsman:Ack that names it. With --digest USER:PASS it first demands HTTP Digest,
# as a console's sink does, and checks the credentials the subscriber gave in its Subscribe.
# Usage: event_receiver.py [--port PORT] [--digest USER:PASS]     (listens on 127.0.0.1, port 9999)
import argparse, hashlib, re, secrets, sys
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, HTTPServer

SOAP, ADDRESSING = "{http://www.w3.org/2003/05/soap-envelope}", "{http://schemas.xmlsoap.org/ws/2004/08/addressing}"
WSMAN = "{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}"
ACK = ('<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
       'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header>'
       '<a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack</a:Action><a:RelatesTo>{}</a:RelatesTo>'
       '</s:Header><s:Body/></s:Envelope>')
REALM, NONCE = "event-receiver", secrets.token_hex(16)

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=9999)
parser.add_argument("--digest", metavar="USER:PASS")
options = parser.parse_args()

def md5(text):
    return hashlib.md5(text.encode()).hexdigest()

def digest_ok(authorization):
    user, password = options.digest.split(":", 1)
    p = {k: quoted or bare for k, quoted, bare in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s"]*))', authorization)}
    expected = md5(":".join([md5(f"{user}:{REALM}:{password}"), p.get("nonce", ""), p.get("nc", ""),
                             p.get("cnonce", ""), p.get("qop", ""), md5("POST:" + p.get("uri", ""))]))
    return authorization.startswith("Digest ") and p.get("username") == user and p.get("response") == expected

class EventSink(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if options.digest and not digest_ok(self.headers.get("Authorization", "")):
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        print(f"POST {self.path}\n{body.decode()}\n", flush=True)
        header = ET.fromstring(body).find(SOAP + "Header")
        answer = b""
        if header.find(WSMAN + "AckRequested") is not None:
            answer = ACK.format(header.findtext(ADDRESSING + "MessageID")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", options.port), EventSink)
print(f"listening on http://127.0.0.1:{options.port}/", file=sys.stderr, flush=True)
server.serve_forever()
