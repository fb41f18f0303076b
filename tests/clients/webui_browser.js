// Drives headless Chromium over the DevTools protocol (--remote-debugging-pipe: requests on fd 3, answers on fd 4,
// NUL-ended JSON) through the firmware web UI as a person would: opens /, follows the redirect to the logon page,
// presses "Log On...", answers the Digest challenge (Fetch.authRequired: credentials in the URL do not reach
// Digest in current Chromium), reads the status page, powers the host off from the remote-control page (accepting
// its confirm), adds a user on the user-accounts page and logs on as that user in a fresh browser context.
// Screenshots go to ARTIFACTS/webui-*.png; what each page said goes, as JSON, to RESULT.json.
// Usage: node webui_browser.js CHROMIUM BASE_URL ADMIN_PASSWORD ARTIFACTS_DIR RESULT.json [TIMEOUT_SECONDS]
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [chromiumPath, baseUrl, adminPassword, artifactsDir, resultPath, timeoutArg] = process.argv.slice(2);
if (!chromiumPath || !baseUrl || !adminPassword || !artifactsDir || !resultPath) {
  console.error('usage: node webui_browser.js CHROMIUM BASE_URL ADMIN_PASSWORD ARTIFACTS_DIR RESULT.json [TIMEOUT_SECONDS]');
  process.exit(2);
}
const timeoutMs = Number(timeoutArg || 60) * 1000;
const newUser = { name: 'webviewer', password: 'W3b!viewer' };
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'mesim-chromium-'));
const browser = spawn(chromiumPath, [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--no-default-browser-check', '--disable-extensions', '--remote-debugging-pipe', '--user-data-dir=' + profile,
  '--window-size=900,700', 'about:blank'], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let browserErrors = '';
browser.stderr.on('data', (d) => { browserErrors = (browserErrors + d).slice(-4000); });
for (const stream of [browser.stdio[3], browser.stdio[4]]) stream.on('error', () => {});

const pending = new Map();
const handlers = [];  // (message) => void, for events
let nextId = 1, received = '';
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
    } else if (message.method) {
      for (const h of handlers) h(message);
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

const result = { steps: [] };
let finished = false;
function finish(code) {
  if (finished) return;
  finished = true;
  if (code !== 0) result.browser_stderr = browserErrors;
  fs.writeFileSync(resultPath, JSON.stringify(result));
  if (result.error) console.error(result.error);
  try { browser.kill('SIGKILL'); } catch (e) { /* already gone */ }
  // Chromium may still be writing its profile as it dies: retry, and never fail the run over a temp dir.
  setTimeout(() => {
    try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }); } catch (e) { /* left */ }
    process.exit(code);
  }, 300);
}
browser.on('exit', (code, signal) => { result.error = result.error || `chromium exited (${code ?? signal})`; finish(1); });
browser.on('error', (e) => { result.error = 'cannot start chromium: ' + e.message; finish(1); });
setTimeout(() => { result.error = `not done within ${timeoutMs / 1000} s`; finish(1); }, timeoutMs).unref();

// A tab in its own browser context (its own Digest cache), answering Digest with `credentials` and every JS
// dialog with OK.
async function openTab(credentials) {
  const { browserContextId } = await call('Target.createBrowserContext', {});
  const { targetId } = await call('Target.createTarget', { url: 'about:blank', browserContextId });
  const { sessionId } = await call('Target.attachToTarget', { targetId, flatten: true });
  const tab = { sessionId, dialogs: [], authAnswers: 0 };
  handlers.push((m) => {
    if (m.sessionId !== sessionId) return;
    if (m.method === 'Fetch.requestPaused') {
      call('Fetch.continueRequest', { requestId: m.params.requestId }, sessionId).catch(() => {});
    } else if (m.method === 'Fetch.authRequired') {
      tab.authAnswers++;
      // Once per page load is a logon; a second challenge for the same request means the password was refused.
      const give = tab.authAnswers < 20;
      call('Fetch.continueWithAuth', { requestId: m.params.requestId, authChallengeResponse: give
        ? { response: 'ProvideCredentials', username: credentials.user, password: credentials.password }
        : { response: 'CancelAuth' } }, sessionId).catch(() => {});
    } else if (m.method === 'Page.javascriptDialogOpening') {
      tab.dialogs.push(m.params.message);
      call('Page.handleJavaScriptDialog', { accept: true }, sessionId).catch(() => {});
    }
  });
  await call('Page.enable', {}, sessionId);
  await call('Runtime.enable', {}, sessionId);
  await call('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: '*' }] }, sessionId);
  await call('Emulation.setDeviceMetricsOverride', { width: 900, height: 700, deviceScaleFactor: 1, mobile: false }, sessionId);
  return tab;
}

async function evaluate(tab, expression) {
  const answer = await call('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, tab.sessionId);
  if (answer.exceptionDetails) throw new Error('page script failed: ' + JSON.stringify(answer.exceptionDetails));
  return answer.result.value;
}

// Waits until the page at a path ending in `pathEnd` has loaded, after `action` (which starts a navigation).
async function loaded(tab, pathEnd, action) {
  await evaluate(tab, 'window.__mesimOld = true');
  await action();
  for (;;) {
    let state = null;
    try {
      state = await evaluate(tab, 'JSON.stringify({old: !!window.__mesimOld, ready: document.readyState, path: location.pathname})');
    } catch (e) { /* between documents */ }
    if (state) {
      const s = JSON.parse(state);
      if (!s.old && s.ready === 'complete' && s.path.endsWith(pathEnd)) return;
    }
    await sleep(100);
  }
}

async function page(tab, name) {
  const text = await evaluate(tab, 'document.body ? document.body.innerText : ""');
  const shot = await call('Page.captureScreenshot', { format: 'png' }, tab.sessionId);
  fs.mkdirSync(artifactsDir, { recursive: true });
  fs.writeFileSync(path.join(artifactsDir, `webui-${name}.png`), Buffer.from(shot.data, 'base64'));
  const url = await evaluate(tab, 'location.pathname');
  result.steps.push(name);
  return { url, text };
}

(async () => {
  const admin = await openTab({ user: 'admin', password: adminPassword });
  const go = (tab, url) => () => call('Page.navigate', { url }, tab.sessionId);
  const click = (tab, selector) => () => evaluate(tab, `document.querySelector(${JSON.stringify(selector)}).click()`);

  await loaded(admin, '/logon.htm', go(admin, baseUrl + '/'));
  result.logon = await page(admin, 'logon');
  await loaded(admin, '/index.htm', click(admin, 'input[type=submit]'));
  result.index = await page(admin, 'index');

  await loaded(admin, '/remote.htm', go(admin, baseUrl + '/remote.htm'));
  result.remoteBefore = await page(admin, 'remote-before');
  await evaluate(admin, 'document.querySelector("input[name=amt_html_rc_radio_group][value=\'1\']").checked = true');
  await loaded(admin, '/remote.htm', click(admin, 'input[type=submit][value="Send Command"]'));
  result.remoteAfter = await page(admin, 'remote');
  result.dialogs = admin.dialogs;

  await loaded(admin, '/acl.htm', go(admin, baseUrl + '/acl.htm'));
  await loaded(admin, '/user.htm', click(admin, 'input[name=UserSubmit][value*="New"]'));
  result.userForm = await page(admin, 'user-form');
  await evaluate(admin, `(() => {
    document.querySelector('input[name=UserName]').value = ${JSON.stringify(newUser.name)};
    document.querySelector('input[name=UserPwd]').value = ${JSON.stringify(newUser.password)};
    document.querySelector('input[name=UserPwd2]').value = ${JSON.stringify(newUser.password)};
    for (const realm of ['13', '4']) document.querySelector('input[name=Realm][value="' + realm + '"]').checked = true;
  })()`);
  await loaded(admin, '/userform', click(admin, 'input[name=UserSubmit][value=Submit]'));
  result.acl = await page(admin, 'acl');

  const viewer = await openTab({ user: newUser.name, password: newUser.password });
  await loaded(viewer, '/index.htm', go(viewer, baseUrl + '/index.htm'));
  result.viewerIndex = await page(viewer, 'viewer-index');
  await loaded(viewer, '/acl.htm', go(viewer, baseUrl + '/acl.htm'));
  result.viewerAcl = await page(viewer, 'viewer-acl');
  finish(0);
})().catch((e) => { result.error = e.message; finish(1); });
