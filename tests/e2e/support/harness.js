// Shared by every e2e test file: a live regd on an ephemeral port with a
// fresh data dir, a fake phone (the webhook SMS provider's target) that
// records each SMS, Debian's Chromium through playwright-core, and small
// helpers to read the page the way a person would.
//
// Environment:
//   REGD_BINARY         the regd to test (default: build/app/regd of this repo)
//   REGD_WEB_ROOT       serve the page from this dir (--web-root) instead of
//                       the copy built into the binary
//   E2E_SCREENSHOT_DIR  where screenshots go (default: build/e2e-screenshots)
//   CHROMIUM            the browser (default: /usr/bin/chromium); never downloaded
'use strict';

const assert = require('node:assert/strict');
const {spawn} = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const {chromium} = require('playwright-core');

const REPO_ROOT = path.join(__dirname, '../../..');
const REGD_BINARY = process.env.REGD_BINARY || path.join(REPO_ROOT, 'build/app/regd');
const SCREENSHOT_DIR = process.env.E2E_SCREENSHOT_DIR || path.join(REPO_ROOT, 'build/e2e-screenshots');
const CAPTCHA = 'ACDE';  // every captcha's answer (--dev-fixed-captcha)
// The JSON API's paths, whose 4xx answers are expected in these tests.
const API_PATH = /^\/(sms_codes|usernames|mobiles|sessions)\/|^\/(register|login|login\/sms|logout|info|password|password\/reset|mobile)\/$/;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

// The fake phone: an HTTP server that takes the webhook provider's POSTs
// {"mobile","code","ttl_minutes","purpose"} and keeps them in order of
// arrival (a "mobile_changed" notice has an empty code).
async function startPhone() {
  const messages = [];
  const waiters = new Set();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        const sms = JSON.parse(body);
        messages.push(sms);
        for (const w of waiters) w();
      } catch (e) {
        // A body that is not JSON is recorded nowhere; the test waiting for it fails.
      }
      res.writeHead(200, {'Content-Type': 'application/json'});
      res.end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/sms`,
    // Every SMS sent to `mobile` so far.
    inbox(mobile) {
      return messages.filter((m) => m.mobile === mobile);
    },
    // Resolves to the code of the n-th (1-based) SMS to `mobile`.
    async code(mobile, n = 1, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const inbox = this.inbox(mobile);
        if (inbox.length >= n) return inbox[n - 1].code;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no SMS #${n} to ${mobile} within ${timeoutMs} ms`);
        await new Promise((resolve) => {
          const done = () => {
            waiters.delete(done);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(done, left);
          waiters.add(done);
        });
      }
    },
    close() {
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

// Starts regd on port 0 and resolves to {url, log(), stop()} once it prints
// its "listening on" line. options.webRoot: serve the page from this dir
// (--web-root; default REGD_WEB_ROOT); options.args: more flags.
async function startRegd(phoneUrl, options = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'regd-e2e-'));
  const args = [
    '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir,
    '--sms-provider', 'webhook', '--sms-webhook-url', phoneUrl,
    '--dev-fixed-captcha', CAPTCHA, '--pwhash', 'min', '--sms-rate', 'off',
  ];
  const webRoot = options.webRoot || process.env.REGD_WEB_ROOT;
  if (webRoot) args.push('--web-root', webRoot);
  args.push(...(options.args || []));
  const child = spawn(REGD_BINARY, args, {stdio: ['ignore', 'pipe', 'pipe']});
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('regd did not start within 10 s')), 10000);
    function fail(err) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n--- regd log ---\n${log}`));
    }
    child.on('error', fail);
    child.on('exit', (code) => fail(new Error(`regd exited with ${code} before listening`)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve(m[1].replace(/\/$/, ''));
      }
    });
  });
  return {
    url,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dataDir, {recursive: true, force: true});
    },
  };
}

// One regd + phone + browser for a test file. Call in before(); stop() in
// after(). options: as startRegd's ({webRoot, args}).
async function startStack(options = {}) {
  const phone = await startPhone();
  let regd;
  try {
    regd = await startRegd(phone.url, options);
  } catch (e) {
    await phone.close();
    throw e;
  }
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    });
  } catch (e) {
    await regd.stop();
    await phone.close();
    throw e;
  }
  return {
    phone,
    regd,
    browser,
    url: regd.url,
    // A fresh browser context (own cookies) and a page in it that records
    // console errors, uncaught exceptions and CSP violations in page.errors.
    async newPage(options = {}) {
      const context = await browser.newContext({locale: 'en-US', viewport: {width: 1280, height: 800}, ...options});
      context.setDefaultTimeout(5000);
      const page = await context.newPage();
      page.errors = [];
      page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        // The browser logs every 4xx answer of fetch(); the API answers
        // 400/401/404/409/429 by design and the tests provoke them. Anything
        // else (a missing asset, a CSP violation) is an error.
        if (
          /^Failed to load resource: the server responded with a status of 4(00|01|04|09|29)\b/.test(msg.text()) &&
          API_PATH.test(new URL(msg.location().url || 'http://x/').pathname)
        ) {
          return;
        }
        page.errors.push(`console: ${msg.text()}`);
      });
      page.on('pageerror', (err) => page.errors.push(`pageerror: ${err.message}`));
      return page;
    },
    async stop() {
      await browser.close().catch(() => {});
      await regd.stop();
      await phone.close();
    },
  };
}

// Closes the page's context after checking that nothing went wrong in it.
async function finish(page) {
  const errors = page.errors.slice();
  await page.context().close();
  assert.deepEqual(errors, [], 'no console errors, CSP violations or uncaught exceptions');
}

let serial = 0;
// A username and mobile no other test uses (mobiles: 1 + [3-9] + 9 digits).
function uniqueUser() {
  serial += 1;
  const tag = `${process.pid % 100000}`.padStart(5, '0') + `${serial}`.padStart(3, '0');
  return {
    username: `user_${Date.now().toString(36).slice(-5)}${serial}`,
    password: 'secret_pw1',
    mobile: `139${tag}`,
  };
}

// Registers `user` through the JSON API (for tests about other pages).
// Registering signs in: resolves to that session's "sessionid=..." cookie
// (its user agent is "node").
async function registerViaApi(stack, user) {
  const id = require('node:crypto').randomUUID();
  let r = await fetch(`${stack.url}/image_codes/${id}/`);
  assert.equal(r.status, 200);
  r = await fetch(`${stack.url}/sms_codes/${user.mobile}/?image_code=${CAPTCHA}&image_code_id=${id}`);
  assert.equal(r.status, 200, await r.text());
  const smsCode = await stack.phone.code(user.mobile);
  r = await fetch(`${stack.url}/register/`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({...user, password2: user.password, sms_code: smsCode, allow: true}),
  });
  assert.equal(r.status, 200, await r.text());
  return r.headers.getSetCookie().find((c) => c.startsWith('sessionid=')).split(';')[0];
}

// Waits until the element's text equals `expected` (a string) or matches it
// (a RegExp); fails with what it saw instead.
async function expectText(page, selector, expected, timeout = 5000) {
  const isRe = expected instanceof RegExp;
  const arg = {selector, src: isRe ? expected.source : expected, flags: isRe ? expected.flags : null};
  try {
    await page.waitForFunction(
      ({selector, src, flags}) => {
        const el = document.querySelector(selector);
        if (!el) return false;
        const text = el.textContent.trim();
        return flags === null ? text === src : new RegExp(src, flags).test(text);
      },
      arg,
      {timeout},
    );
  } catch (e) {
    const actual = await page.$eval(selector, (el) => el.textContent.trim()).catch(() => '(no such element)');
    assert.fail(`${selector}: expected ${isRe ? expected : JSON.stringify(expected)}, saw ${JSON.stringify(actual)}`);
  }
}

// A message from the page's own table (MESSAGES in js/common.js), in the
// page's language, with {vars} filled in.
function message(page, key, vars) {
  return page.evaluate(([key, vars]) => regd.t(key, vars), [key, vars || {}]);
}

// Saves a full-page screenshot as <dir>/<name>.png and returns its path.
async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, {recursive: true});
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  return file;
}

module.exports = {
  CAPTCHA,
  SCREENSHOT_DIR,
  startStack,
  finish,
  uniqueUser,
  registerViaApi,
  expectText,
  message,
  screenshot,
};
