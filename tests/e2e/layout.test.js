// The pages (register, login and its SMS tab, reset, the account page) on a
// 360 px phone and a 1280 px desktop: nothing wider than the
// screen, every control reachable, screenshots saved for a person to look at
// (E2E_SCREENSHOT_DIR, default build/e2e-screenshots). Also the headers that
// keep the page's files safe and cheap to load.
'use strict';

const assert = require('node:assert/strict');
const http = require('node:http');
const {after, before, test} = require('node:test');
const h = require('./support/harness');

let stack;
before(async () => {
  // One mobile gets its register code and then a login code at once.
  stack = await h.startStack({args: ['--sms-resend-seconds', '0']});
});
after(async () => {
  await stack?.stop();
});

const SIZES = {phone: {width: 360, height: 740}, desktop: {width: 1280, height: 800}};

// Fails if the page scrolls sideways or a visible control sticks out of it.
async function assertFits(page, what) {
  const problems = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > width) out.push(`page is ${document.documentElement.scrollWidth}px wide`);
    for (const el of document.querySelectorAll('input, button, label, a, .error, .note, h1')) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < 0 || r.right > width + 0.5) out.push(`#${el.id || el.tagName} spans ${r.left}..${r.right}`);
      // Text that does not fit its box (e.g. a button label cut off).
      if (el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 1) out.push(`#${el.id} text overflows`);
    }
    return out;
  });
  assert.deepEqual(problems, [], what);
}

for (const [size, viewport] of Object.entries(SIZES)) {
  for (const locale of ['en-US', 'zh-CN']) {
    const lang = locale.slice(0, 2);
    test(`register, login and signed-in pages fit a ${viewport.width} px screen (${lang})`, async () => {
      const page = await stack.newPage({viewport, locale});
      const user = h.uniqueUser();
      await page.goto(`${stack.url}/register.html`);
      await page.evaluate(() => regd.loadRules());
      await page.waitForFunction(() => document.getElementById('captcha-img').naturalWidth > 0);
      await assertFits(page, `register, ${size}, empty`);
      await h.screenshot(page, `register-${viewport.width}-${lang}`);

      // The busy state: some errors, a code sent and counting down.
      await page.fill('#username', '12345');
      await page.fill('#password', user.password);
      await page.fill('#password2', 'different_1');
      await page.fill('#mobile', user.mobile);
      await page.fill('#image_code', h.CAPTCHA);
      await page.click('#get-code');
      await stack.phone.code(user.mobile);
      await h.expectText(page, '#get-code', /\d/);
      await page.focus('#sms_code');
      await page.keyboard.type('12');
      await page.keyboard.press('Tab');
      await h.expectText(page, '#password2-error', await h.message(page, 'err_password2'));
      await page.focus('#sms_code');
      await assertFits(page, `register, ${size}, with errors`);
      await h.screenshot(page, `register-${viewport.width}-${lang}-errors`);

      await page.goto(`${stack.url}/login.html`);
      await page.click('#submit');
      await h.expectText(page, '#username-error', await h.message(page, 'err_login_username'));
      await assertFits(page, `login, ${size}`);
      await h.screenshot(page, `login-${viewport.width}-${lang}`);

      await h.registerViaApi(stack, {...user, mobile: h.uniqueUser().mobile, username: `${user.username}x`});
      await page.fill('#username', `${user.username}x`);
      await page.fill('#password', user.password);
      await page.click('#submit');
      await page.waitForURL('**/user.html');
      await h.expectText(page, '#mobile', /\d{11}/);
      await assertFits(page, `signed-in page, ${size}`);
      await h.screenshot(page, `user-${viewport.width}-${lang}`);
      await h.finish(page);
    });
  }
}

// The issue 13 pages: the login page's SMS tab, the reset page and the
// account page with both forms open, errors beside fields and two sessions.
for (const [size, viewport] of Object.entries(SIZES)) {
  for (const locale of ['en-US', 'zh-CN']) {
    const lang = locale.slice(0, 2);
    test(`SMS login, reset and account pages fit a ${viewport.width} px screen (${lang})`, async () => {
      const page = await stack.newPage({viewport, locale});
      const user = h.uniqueUser();
      const apiSession = await h.registerViaApi(stack, user);

      // Login by SMS: a code sent (counting down), a wrong code refused.
      await page.goto(`${stack.url}/login.html#sms`);
      await page.evaluate(() => regd.loadRules());
      await page.waitForFunction(() => document.getElementById('captcha-img').naturalWidth > 0);
      await assertFits(page, `login by SMS, ${size}, empty`);
      await h.screenshot(page, `login-sms-${viewport.width}-${lang}`);
      await page.fill('#mobile', user.mobile);
      await page.fill('#image_code', h.CAPTCHA);
      await page.click('#get-code');
      const code = await stack.phone.code(user.mobile, 2);
      await h.expectText(page, '#get-code', /\d/);
      await page.fill('#sms_code', code === '000000' ? '111111' : '000000');
      await page.click('#sms-submit');
      await h.expectText(page, '#sms_code-error', /./);
      await assertFits(page, `login by SMS, ${size}, with errors`);
      await h.screenshot(page, `login-sms-${viewport.width}-${lang}-errors`);

      // Reset: the page's own errors on every field.
      await page.goto(`${stack.url}/reset.html`);
      await page.evaluate(() => regd.loadRules());
      await page.waitForFunction(() => document.getElementById('captcha-img').naturalWidth > 0);
      await assertFits(page, `reset, ${size}, empty`);
      await h.screenshot(page, `reset-${viewport.width}-${lang}`);
      await page.fill('#mobile', '1381234');
      await page.fill('#password', 'short');
      await page.fill('#password2', 'other');
      await page.click('#submit');
      await h.expectText(page, '#password2-error', await h.message(page, 'err_password2'));
      await assertFits(page, `reset, ${size}, with errors`);
      await h.screenshot(page, `reset-${viewport.width}-${lang}-errors`);

      // The account page, signed in twice (the API's session is a "node").
      await page.goto(`${stack.url}/login.html`);
      await page.fill('#username', user.username);
      await page.fill('#password', user.password);
      await page.click('#submit');
      await page.waitForURL('**/user.html');
      await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2);
      await assertFits(page, `account, ${size}, folded`);
      await h.screenshot(page, `account-${viewport.width}-${lang}`);
      await page.click('#password-section summary');
      await page.click('#mobile-section summary');
      await page.waitForFunction(() => document.getElementById('cm-captcha-img').naturalWidth > 0);
      await page.fill('#old_password', 'wrong_password');
      await page.fill('#new_password', 'another_pw2');
      await page.fill('#new_password2', 'another_pw2');
      await page.click('#password-submit');
      await h.expectText(page, '#old_password-error', /./);
      await page.fill('#cm_mobile', h.uniqueUser().mobile);
      await page.fill('#cm_image_code', h.CAPTCHA);
      await page.click('#cm-get-code');
      await h.expectText(page, '#cm_sms_code-note', /./);
      await page.click('#mobile-submit');
      await h.expectText(page, '#cm_sms_code-error', /./);
      await assertFits(page, `account, ${size}, open with errors`);
      await h.screenshot(page, `account-${viewport.width}-${lang}-open`);
      await fetch(`${stack.url}/logout/`, {method: 'DELETE', headers: {Cookie: apiSession}});
      await h.finish(page);
    });
  }
}

// GET `path` with the given headers; resolves to {status, headers} without
// decoding the body.
function head(path, headers = {}) {
  return new Promise((resolve, reject) => {
    http
      .get(`${stack.url}${path}`, {headers}, (res) => {
        res.resume();
        res.on('end', () => resolve({status: res.statusCode, headers: res.headers}));
      })
      .on('error', reject);
  });
}

test('the page files carry CSP, nosniff, a cache validator and gzip', async () => {
  for (const path of ['/register.html', '/login.html', '/reset.html', '/user.html']) {
    const {status, headers} = await head(path);
    assert.equal(status, 200, path);
    const csp = headers['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/, `${path} CSP`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, `${path} CSP allows no inline code or other origin`);
    assert.equal(headers['x-content-type-options'], 'nosniff', path);
  }
  for (const path of ['/css/main.css', '/js/common.js', '/js/register.js', '/js/login.js', '/js/reset.js', '/js/user.js', '/favicon.svg']) {
    const {status, headers} = await head(path);
    assert.equal(status, 200, path);
    assert.equal(headers['x-content-type-options'], 'nosniff', path);
    assert.ok(headers.etag || headers['cache-control'], `${path} has ETag or Cache-Control`);
    if (headers.etag) {
      const again = await head(path, {'If-None-Match': headers.etag});
      assert.equal(again.status, 304, `${path} revalidates`);
    }
  }
  const css = await head('/css/main.css', {'Accept-Encoding': 'gzip'});
  assert.equal(css.headers['content-encoding'], 'gzip');
  const plain = await head('/css/main.css');
  assert.equal(plain.headers['content-encoding'], undefined, 'no gzip unless asked for');
});
