// The pages on a 360 px phone and a 1280 px desktop: nothing wider than the
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
  stack = await h.startStack();
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
  for (const path of ['/register.html', '/login.html', '/user.html']) {
    const {status, headers} = await head(path);
    assert.equal(status, 200, path);
    const csp = headers['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/, `${path} CSP`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, `${path} CSP allows no inline code or other origin`);
    assert.equal(headers['x-content-type-options'], 'nosniff', path);
  }
  for (const path of ['/css/main.css', '/js/common.js', '/js/register.js', '/favicon.svg']) {
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
