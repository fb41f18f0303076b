// Drives headless Chromium over the DevTools protocol (--remote-debugging-pipe: requests on fd 3, answers on
// fd 4, each JSON message ended by a NUL) to open meshcentral_kvm.html, wait until MeshCentral's viewer has drawn
// a whole frame, save a PNG screenshot and write, as JSON to RESULT.json, the viewer's state, the canvas pixels
// (base64 RGB), the page's console messages and on failure the error and chromium's last complaints.
// Then, with TYPE, it types those keys (lower-case letters and digits; a '\n' is Return) as key events on the page,
// which amt-desktop sends as RFB KeyEvents, and waits until the viewer has drawn a frame more (the host's echo).
// Usage: node meshcentral_kvm_browser.js CHROMIUM URL SCREENSHOT.png RESULT.json [TIMEOUT_SECONDS [TYPE]]
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [chromiumPath, url, screenshotPath, resultPath, timeoutArg, typeText] = process.argv.slice(2);
if (!chromiumPath || !url || !screenshotPath || !resultPath) {
  console.error('usage: node meshcentral_kvm_browser.js CHROMIUM URL SCREENSHOT.png RESULT.json [TIMEOUT_SECONDS]');
  process.exit(2);
}
const timeoutMs = Number(timeoutArg || 30) * 1000;
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mesim-chromium-'));
const browser = spawn(chromiumPath, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--no-default-browser-check', '--disable-extensions', '--remote-debugging-pipe', '--user-data-dir=' + profile,
  '--window-size=640,420', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let browserErrors = '';
browser.stderr.on('data', (d) => { browserErrors = (browserErrors + d).slice(-4000); });
// The pipes break when chromium goes (killed at the end): not an error of the test.
for (const stream of [browser.stdio[3], browser.stdio[4]]) stream.on('error', () => {});

const pending = new Map();
let nextId = 1, received = '';
const consoleLines = [];
browser.stdio[4].on('data', (chunk) => {
  received += chunk.toString('utf8');
  let end;
  while ((end = received.indexOf('\0')) >= 0) {
    const message = JSON.parse(received.slice(0, end));
    received = received.slice(end + 1);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error))); else resolve(message.result);
    } else if (message.method === 'Runtime.consoleAPICalled') {
      consoleLines.push(message.params.args.map((a) => a.value !== undefined ? String(a.value) : a.description || a.type).join(' '));
    } else if (message.method === 'Runtime.exceptionThrown') {
      consoleLines.push('exception: ' + JSON.stringify(message.params.exceptionDetails.exception?.description || message.params.exceptionDetails.text));
    }
  }
});
function call(method, params = {}, sessionId) {
  const id = nextId++;
  const message = { id, method, params };
  if (sessionId) message.sessionId = sessionId;
  browser.stdio[3].write(JSON.stringify(message) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let finished = false, lastKvm = null;  // lastKvm: the page's last report, for the failure message
function finish(result, code) {
  if (finished) return;
  finished = true;
  if (result.kvm === undefined) result.kvm = lastKvm;
  result.console = consoleLines;
  if (code !== 0) result.browser_stderr = browserErrors;
  fs.writeFileSync(resultPath, JSON.stringify(result));
  if (result.error) console.error(result.error);
  try { browser.kill('SIGKILL'); } catch (e) { /* already gone */ }
  setTimeout(() => { fs.rmSync(profile, { recursive: true, force: true }); process.exit(code); }, 200);
}
browser.on('exit', (code, signal) => finish({ error: `chromium exited (${code ?? signal}) before the page was ready` }, 1));
browser.on('error', (e) => finish({ error: 'cannot start chromium: ' + e.message }, 1));
setTimeout(() => finish({ error: `no whole frame within ${timeoutMs / 1000} s` }, 1), timeoutMs).unref();

// Key down and up for each character, as a keyboard would (amt-desktop reads keyCode: 'A'..'Z' unshifted become
// the lower-case keysym); then waits for the frame that shows the echo. The viewer's report after it.
async function type(text, sessionId) {
  const frames = async () => JSON.parse((await call('Runtime.evaluate',
    { expression: 'JSON.stringify(window.mesimKvm)', returnByValue: true }, sessionId)).result.value);
  const before = (await frames()).frames;
  for (const c of text) {
    const enter = c === '\n';
    const keyCode = enter ? 13 : c.toUpperCase().charCodeAt(0);
    const key = enter ? 'Enter' : c;
    for (const type of ['keyDown', 'keyUp']) {
      await call('Input.dispatchKeyEvent', { type, key, windowsVirtualKeyCode: keyCode, nativeVirtualKeyCode: keyCode }, sessionId);
    }
  }
  for (;;) {
    const now = await frames();
    if (now.frames > before || now.error) return now;
    await sleep(50);
  }
}

(async () => {
  const { targetId } = await call('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true });
  await call('Runtime.enable', {}, sessionId);
  await call('Page.enable', {}, sessionId);
  // A viewport the canvas (640x400) and the status line fit in, so the screenshot is the whole page.
  await call('Emulation.setDeviceMetricsOverride', { width: 640, height: 420, deviceScaleFactor: 1, mobile: false }, sessionId);
  await call('Page.navigate', { url }, sessionId);
  let kvm = null;
  for (;;) {
    const answer = await call('Runtime.evaluate', { expression: 'JSON.stringify(window.mesimKvm || null)', returnByValue: true }, sessionId);
    kvm = lastKvm = JSON.parse(answer.result.value || 'null');
    if (kvm && (kvm.ready || kvm.error)) break;
    await sleep(100);
  }
  if (!kvm.ready) return finish({ error: 'the viewer failed: ' + kvm.error, kvm }, 1);
  const pixels = await call('Runtime.evaluate', { expression: 'window.mesimKvm.pixels()', returnByValue: true }, sessionId);
  const shot = await call('Page.captureScreenshot', { format: 'png' }, sessionId);
  fs.mkdirSync(path.dirname(screenshotPath), { recursive: true });
  fs.writeFileSync(screenshotPath, Buffer.from(shot.data, 'base64'));
  const typed = typeText ? await type(typeText, sessionId) : null;
  finish({ kvm, canvas: pixels.result.value, typed }, 0);
})().catch((e) => finish({ error: e.message }, 1));
