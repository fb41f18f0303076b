#!/usr/bin/env node
// A minimal CIRA client: N simulated devices each dial an MPS over TLS and go through APF admission
// (spec/apf.md §3: PROTOCOLVERSION, auth service, USERAUTH, pfwd service, tcpip-forward of 16992, 16993,
// 16994, 16995 and 5900), then keep the tunnel alive (KEEPALIVE_REQUEST, KEEPALIVE_OPTIONS answered). It serves
// nothing: every channel the MPS opens gets OPEN_FAILURE(CONNECT_FAILED). It is the reference for what the MPS
// alone costs per admission (issue 15 item 5) and a check of the MeshCentral fixture (spec/cira.md).
//
// node cira_reference_client.js --port P --user U --password P --ca ROOT.pem --cn NAME [--count N]
//   [--host 127.0.0.1] [--stagger-ms 0] [--uuid-prefix 8HEX] [--hold-s 0] [--timeout-s 60] [--keepalive-s 30]
//   [--trigger 4]
// Prints one JSON line when every device is admitted or failed (or at --timeout-s): {"event":"admitted",...};
// then holds the tunnels for --hold-s seconds (0: until SIGTERM or SIGINT) and prints
// {"event":"done",...} with the keep-alive and channel counters. Exit status 0 when every device was admitted.
'use strict';
const tls = require('tls');
const fs = require('fs');

const APF = {
  DISCONNECT: 1, SERVICE_REQUEST: 5, SERVICE_ACCEPT: 6, USERAUTH_REQUEST: 50, USERAUTH_FAILURE: 51,
  USERAUTH_SUCCESS: 52, GLOBAL_REQUEST: 80, REQUEST_SUCCESS: 81, REQUEST_FAILURE: 82, CHANNEL_OPEN: 90,
  CHANNEL_OPEN_CONFIRMATION: 91, CHANNEL_OPEN_FAILURE: 92, CHANNEL_WINDOW_ADJUST: 93, CHANNEL_DATA: 94,
  CHANNEL_CLOSE: 97, PROTOCOLVERSION: 192, KEEPALIVE_REQUEST: 208, KEEPALIVE_REPLY: 209,
  KEEPALIVE_OPTIONS_REQUEST: 210, KEEPALIVE_OPTIONS_REPLY: 211, JSON_CONTROL: 250,
};
const FORWARDED_PORTS = [16992, 16993, 16994, 16995, 5900];
const OPEN_FAILURE_CONNECT_FAILED = 2;

function parseArgs(argv) {
  const o = { host: '127.0.0.1', count: 1, staggerMs: 0, uuidPrefix: 'c1ea0000', holdS: 0, timeoutS: 60,
              keepaliveS: 30, trigger: 4 };
  const names = { '--host': 'host', '--port': 'port', '--user': 'user', '--password': 'password', '--ca': 'ca',
                  '--cn': 'cn', '--count': 'count', '--stagger-ms': 'staggerMs', '--uuid-prefix': 'uuidPrefix',
                  '--hold-s': 'holdS', '--timeout-s': 'timeoutS', '--keepalive-s': 'keepaliveS', '--trigger': 'trigger' };
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) throw new Error('bad argument ' + argv[i]);
    o[key] = argv[i + 1];
  }
  for (const k of ['port', 'count', 'staggerMs', 'holdS', 'timeoutS', 'keepaliveS', 'trigger']) o[k] = Number(o[k]);
  for (const k of ['port', 'user', 'password', 'ca', 'cn'])
    if (o[k] === undefined || (typeof o[k] === 'number' && !Number.isFinite(o[k]))) throw new Error('missing --' + k);
  if (!/^[0-9a-f]{8}$/.test(o.uuidPrefix)) throw new Error('--uuid-prefix takes 8 lower-case hex digits');
  return o;
}

// Device i's UUID: the prefix, then i; reproducible, so a test can work out the MPS's node id.
function deviceUuid(prefix, i) {
  return prefix + '-0000-4000-8000-' + i.toString(16).padStart(12, '0');
}

// The UUID field of PROTOCOLVERSION is in GUID byte order: the first three fields little-endian (apf.md §1.2).
function uuidToGuidBytes(uuid) {
  const hex = uuid.replace(/-/g, '');
  const b = Buffer.from(hex, 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(),
                        Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8, 16)]);
}

function u32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; }
function str(s) { const b = Buffer.from(s, 'utf8'); return Buffer.concat([u32(b.length), b]); }
function msg(type, ...parts) { return Buffer.concat([Buffer.from([type]), ...parts]); }

// Length of the complete message at the start of `buf`, 0 if more bytes are needed, -1 if unknown.
function messageLength(buf) {
  if (buf.length < 1) return 0;
  const need = (n) => (buf.length >= n ? n : 0);
  const strEnd = (at) => (buf.length >= at + 4 ? at + 4 + buf.readUInt32BE(at) : Infinity);
  switch (buf[0]) {
    case APF.DISCONNECT: return need(7);
    case APF.SERVICE_ACCEPT: { const e = strEnd(1); return e === Infinity ? 0 : need(e); }
    case APF.USERAUTH_FAILURE: { const e = strEnd(1); return e === Infinity ? 0 : need(e + 2); }  // u16 partial (cira.md §2)
    case APF.USERAUTH_SUCCESS: return 1;
    // REQUEST_SUCCESS carries a port only for tcpip-forward: the client knows which it is waiting for.
    case APF.REQUEST_SUCCESS: return -2;
    case APF.REQUEST_FAILURE: return 1;
    case APF.CHANNEL_OPEN: {
      let e = strEnd(1); if (e === Infinity) return 0;
      e = strEnd(e + 12); if (e === Infinity) return 0;
      e = strEnd(e + 4); if (e === Infinity) return 0;
      return need(e + 4);
    }
    case APF.CHANNEL_WINDOW_ADJUST: return need(9);
    case APF.CHANNEL_DATA: return buf.length >= 9 ? need(9 + buf.readUInt32BE(5)) : 0;
    case APF.CHANNEL_CLOSE: return need(5);
    case APF.KEEPALIVE_REQUEST: case APF.KEEPALIVE_REPLY: return need(5);
    case APF.KEEPALIVE_OPTIONS_REQUEST: return need(9);
    case APF.JSON_CONTROL: { const e = strEnd(1); return e === Infinity ? 0 : need(e); }
    default: return -1;
  }
}

const opts = parseArgs(process.argv);
const ca = fs.readFileSync(opts.ca);
const t0 = process.hrtime.bigint();
const msSince = (t) => Number(process.hrtime.bigint() - t) / 1e6;
const stats = { keepaliveRequestsSent: 0, keepaliveRepliesReceived: 0, keepaliveOptionsRequests: 0,
                channelOpens: 0, disconnectsReceived: 0, closedByPeer: 0 };
const devices = [];
let settled = 0;
let reported = false;
let finishing = false;
let peerSha256 = null;

function fail(dev, why) {
  if (dev.state === 'admitted' || dev.state === 'failed') return;
  dev.state = 'failed';
  dev.error = why;
  settled++;
  maybeReport();
}

function startDevice(i) {
  const dev = { index: i, uuid: deviceUuid(opts.uuidPrefix, i), state: 'connecting', pendingForwards: [],
                start: process.hrtime.bigint(), timings: {} };
  devices.push(dev);
  const socket = tls.connect({ host: opts.host, port: opts.port, ca, servername: opts.cn, minVersion: 'TLSv1.2' });
  dev.socket = socket;
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  socket.on('secureConnect', () => {
    dev.timings.tlsMs = msSince(dev.start);
    // What the MPS presented, so a test can tell which of its files is the MPS certificate.
    if (peerSha256 === null) peerSha256 = socket.getPeerCertificate().fingerprint256.replace(/:/g, '').toLowerCase();
    dev.state = 'auth-service';
    // The device speaks first; the MPS never answers PROTOCOLVERSION (cira.md §2.1).
    socket.write(Buffer.concat([
      msg(APF.PROTOCOLVERSION, u32(1), u32(0), u32(opts.trigger), uuidToGuidBytes(dev.uuid), Buffer.alloc(64)),
      msg(APF.SERVICE_REQUEST, str('auth@amt.intel.com'))]));
  });
  socket.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      let len = messageLength(buf);
      if (len === -2) len = dev.pendingForwards.length ? (buf.length >= 5 ? 5 : 0) : 1;
      if (len === 0) return;
      if (len < 0) { fail(dev, 'unknown APF message type ' + buf[0]); socket.destroy(); return; }
      const m = buf.subarray(0, len);
      buf = buf.subarray(len);
      handle(dev, m);
    }
  });
  socket.on('error', (e) => fail(dev, e.code || e.message));
  socket.on('close', () => {
    if (!finishing) stats.closedByPeer++;
    if (dev.keepalive) clearInterval(dev.keepalive);
    fail(dev, 'connection closed in state ' + dev.state);
  });
}

function handle(dev, m) {
  const s = dev.socket;
  switch (m[0]) {
    case APF.SERVICE_ACCEPT: {
      const service = m.subarray(5).toString();
      if (dev.state === 'auth-service' && service === 'auth@amt.intel.com') {
        dev.state = 'userauth';
        s.write(msg(APF.USERAUTH_REQUEST, str(opts.user), str('pfwd@amt.intel.com'), str('password'),
                    Buffer.from([0]), str(opts.password)));
      } else if (dev.state === 'pfwd-service' && service === 'pfwd@amt.intel.com') {
        dev.state = 'forwarding';
        dev.pendingForwards = FORWARDED_PORTS.slice();
        // All forwards in one write: the MPS answers them in order.
        s.write(Buffer.concat(FORWARDED_PORTS.map((port) =>
          msg(APF.GLOBAL_REQUEST, str('tcpip-forward'), Buffer.from([1]), str(''), u32(port)))));
      }
      return;
    }
    case APF.USERAUTH_SUCCESS:
      dev.timings.userauthMs = msSince(dev.start);
      dev.state = 'pfwd-service';
      s.write(msg(APF.SERVICE_REQUEST, str('pfwd@amt.intel.com')));
      return;
    case APF.USERAUTH_FAILURE:
      fail(dev, 'USERAUTH_FAILURE');
      s.destroy();
      return;
    case APF.REQUEST_SUCCESS: {
      if (m.length !== 5 || !dev.pendingForwards.length) return;
      const port = m.readUInt32BE(1);
      if (port !== dev.pendingForwards[0]) { fail(dev, 'REQUEST_SUCCESS for ' + port); s.destroy(); return; }
      dev.pendingForwards.shift();
      if (!dev.pendingForwards.length) admitted(dev);
      return;
    }
    case APF.REQUEST_FAILURE:
      fail(dev, 'REQUEST_FAILURE for tcpip-forward ' + dev.pendingForwards[0]);
      s.destroy();
      return;
    case APF.KEEPALIVE_OPTIONS_REQUEST: {
      stats.keepaliveOptionsRequests++;
      const interval = m.readUInt32BE(1), timeout = m.readUInt32BE(5);
      s.write(msg(APF.KEEPALIVE_OPTIONS_REPLY, u32(interval), u32(timeout)));
      if (interval > 0 && interval < opts.keepaliveS) armKeepalive(dev, interval);
      return;
    }
    case APF.KEEPALIVE_REQUEST:
      s.write(msg(APF.KEEPALIVE_REPLY, m.subarray(1, 5)));
      return;
    case APF.KEEPALIVE_REPLY:
      stats.keepaliveRepliesReceived++;
      return;
    case APF.CHANNEL_OPEN: {
      stats.channelOpens++;
      const typeEnd = 5 + m.readUInt32BE(1);
      const sender = m.readUInt32BE(typeEnd);
      s.write(msg(APF.CHANNEL_OPEN_FAILURE, u32(sender), u32(OPEN_FAILURE_CONNECT_FAILED), u32(0), u32(0)));
      return;
    }
    case APF.DISCONNECT:
      stats.disconnectsReceived++;
      s.destroy();
      return;
    default:
      return;  // window adjust, data, close of channels never opened, JSON control: nothing to do
  }
}

function armKeepalive(dev, seconds) {
  if (dev.keepalive) clearInterval(dev.keepalive);
  let cookie = 0;
  dev.keepalive = setInterval(() => {
    stats.keepaliveRequestsSent++;
    dev.socket.write(msg(APF.KEEPALIVE_REQUEST, u32(++cookie)));
  }, seconds * 1000);
}

function admitted(dev) {
  dev.timings.admittedMs = msSince(dev.start);
  dev.admittedAtMs = msSince(t0);
  dev.state = 'admitted';
  settled++;
  armKeepalive(dev, opts.keepaliveS);
  maybeReport();
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}

function summary(event) {
  const ok = devices.filter((d) => d.state === 'admitted');
  const per = ok.map((d) => d.timings.admittedMs).sort((a, b) => a - b);
  const tlsMs = ok.map((d) => d.timings.tlsMs).sort((a, b) => a - b);
  const errors = {};
  for (const d of devices) if (d.state === 'failed') errors[d.error] = (errors[d.error] || 0) + 1;
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return { event, devices: opts.count, admitted: ok.length, failed: devices.length - ok.length,
           wallMs: round(msSince(t0)),
           allAdmittedMs: ok.length === opts.count ? round(Math.max(...ok.map((d) => d.admittedAtMs))) : null,
           admitMedianMs: round(percentile(per, 0.5)), admitP95Ms: round(percentile(per, 0.95)),
           admitMaxMs: round(percentile(per, 1)), tlsMedianMs: round(percentile(tlsMs, 0.5)),
           cpuMs: round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
           firstUuid: deviceUuid(opts.uuidPrefix, 0), mpsCertSha256: peerSha256, errors, ...stats };
}

function maybeReport() {
  if (reported || settled < opts.count) return;
  reported = true;
  clearTimeout(admissionTimer);
  console.log(JSON.stringify(summary('admitted')));
  if (opts.holdS > 0) setTimeout(finish, opts.holdS * 1000);
}

function finish() {
  if (finishing) return;
  finishing = true;
  if (!reported) { reported = true; console.log(JSON.stringify(summary('admitted'))); }
  const s = summary('done');
  clearInterval(keepAlive);
  for (const d of devices) { if (d.keepalive) clearInterval(d.keepalive); d.socket.destroy(); }
  console.log(JSON.stringify(s));
  process.exitCode = s.admitted === opts.count ? 0 : 1;
  setTimeout(() => process.exit(), 100).unref();
}

const admissionTimer = setTimeout(() => {
  for (const d of devices) if (d.state !== 'admitted') fail(d, 'timeout in state ' + d.state);
  reported = true;
  console.log(JSON.stringify(summary('admitted')));
  finish();
}, opts.timeoutS * 1000);

// Alive until told to stop, even when the MPS closed every tunnel: the "done" line still has to come.
const keepAlive = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', finish);
process.on('SIGINT', finish);

for (let i = 0; i < opts.count; i++) {
  if (opts.staggerMs > 0) setTimeout(() => startDevice(i), i * opts.staggerMs);
  else startDevice(i);
}
