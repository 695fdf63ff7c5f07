// The registration page in Chromium against a live regd: typing, clicking
// and the keyboard, every inline error, availability checks, the captcha,
// the SMS countdown and the server's own errors beside their fields.
'use strict';

const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const h = require('./support/harness');

let stack;
before(async () => {
  stack = await h.startStack();
});
after(async () => {
  await stack?.stop();
});

// Opens the register page and waits until it has the server's rules.
async function openRegister(options) {
  const page = await stack.newPage(options);
  await page.goto(`${stack.url}/register.html`);
  await page.evaluate(() => regd.loadRules());
  return page;
}

// Fills mobile + captcha and presses "Get code"; resolves to the response.
async function requestCode(page, mobile, captcha = h.CAPTCHA) {
  await page.fill('#mobile', mobile);
  await page.fill('#image_code', captcha);
  const response = page.waitForResponse((r) => r.url().includes('/sms_codes/'));
  await page.click('#get-code');
  return response;
}

async function fillAccount(page, user) {
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.fill('#password2', user.password);
}

// Counts the page's requests for an SMS code from now on.
function countSmsRequests(page) {
  const counter = {n: 0};
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/sms_codes/')) counter.n += 1;
  });
  return counter;
}

const captchaSrc = (page) => page.getAttribute('#captcha-img', 'src');
const isDisabled = (page, selector) => page.$eval(selector, (el) => el.disabled);

test('a new customer registers by typing and clicking and lands signed in', async () => {
  const page = await openRegister();
  const user = h.uniqueUser();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await isDisabled(page, '#submit'), true, 'submit starts disabled');
  // The captcha image is there and is a real image.
  await page.waitForFunction(() => document.getElementById('captcha-img').naturalWidth > 0);

  await page.click('#username');
  await page.keyboard.type(user.username);
  await page.click('#password');
  await page.keyboard.type(user.password);
  await page.click('#password2');
  await page.keyboard.type(user.password);
  await page.click('#mobile');
  await page.keyboard.type(user.mobile);
  await page.click('#image_code');
  await page.keyboard.type(h.CAPTCHA.toLowerCase());  // answers are case-insensitive
  await page.click('#get-code');

  const code = await stack.phone.code(user.mobile);
  await h.expectText(page, '#sms_code-note', await h.message(page, 'sms_sent', {mobile: user.mobile}));
  await page.click('#sms_code');
  await page.keyboard.type(code);
  assert.equal(await isDisabled(page, '#submit'), true, 'submit disabled until the agreement is ticked');
  await page.click('label[for=allow]');
  await page.waitForFunction(() => !document.getElementById('submit').disabled);
  for (const id of ['username', 'password', 'password2', 'mobile', 'sms_code', 'allow']) {
    assert.equal(await page.$eval(`#${id}-error`, (el) => el.textContent), '', `no error for ${id}`);
  }
  await page.click('#submit');

  await page.waitForURL('**/user.html');
  await h.expectText(page, '#signed-in', await h.message(page, 'signed_in_as', {username: user.username}));
  await h.expectText(page, '#mobile', await h.message(page, 'mobile_is', {mobile: user.mobile}));
  assert.equal(stack.phone.inbox(user.mobile).length, 1);
  await h.finish(page);
});

test('each field shows its inline error when left with bad input', async () => {
  const page = await openRegister();
  const msg = (key) => h.message(page, key);
  // Enter on the empty form (its button still disabled) lists what is missing.
  await page.focus('#username');
  await page.keyboard.press('Enter');
  for (const field of ['username', 'password', 'password2', 'mobile', 'sms_code']) {
    await h.expectText(page, `#${field}-error`, await msg(`req_${field}`));
  }
  await h.expectText(page, '#allow-error', await msg('err_allow'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'username');

  // [field, bad value, message key]; each checked as the user leaves the field.
  const cases = [
    ['username', '', 'req_username'],
    ['username', 'abc', 'err_username'],
    ['username', '1234567', 'err_username'],  // not all digits
    ['username', 'bad name!', 'err_username'],
    ['password', 'short', 'err_password'],
    ['password', 'no spaces here', 'err_password'],
    ['mobile', '12345678901', 'err_mobile'],
    ['mobile', '1381234567', 'err_mobile'],
    ['image_code', 'AB', 'err_image_code'],
    ['sms_code', '12ab56', 'err_sms_code'],
  ];
  for (const [field, bad, key] of cases) {
    await page.fill(`#${field}`, bad);
    await page.focus(`#${field}`);
    await page.keyboard.press('Tab');
    await h.expectText(page, `#${field}-error`, await msg(key));
    assert.equal(await page.getAttribute(`#${field}`, 'aria-invalid'), 'true', `${field} marked invalid`);
    assert.equal(await isDisabled(page, '#submit'), true);
  }

  // Repeat password: must equal the password; fixed as soon as it does.
  await page.fill('#password', 'good_password1');
  await page.fill('#password2', 'good_password2');
  await page.focus('#password2');
  await page.keyboard.press('Tab');
  await h.expectText(page, '#password2-error', await msg('err_password2'));
  await page.fill('#password2', 'good_password1');
  await h.expectText(page, '#password2-error', '');

  // The agreement: ticking and unticking it shows why it is needed.
  await page.check('#allow');
  await page.uncheck('#allow');
  await h.expectText(page, '#allow-error', await msg('err_allow'));

  // An error goes away as soon as the value is fixed, without leaving the field.
  await page.fill('#username', 'good_name');
  await h.expectText(page, '#username-error', '');
  assert.equal(await page.getAttribute('#username', 'aria-invalid'), 'false');
  // "Get code" with a bad mobile sends nothing and points at the mobile.
  await page.fill('#mobile', '123');
  await page.fill('#image_code', h.CAPTCHA);
  await page.click('#get-code');
  await h.expectText(page, '#mobile-error', await msg('err_mobile'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'mobile');
  assert.equal(await isDisabled(page, '#submit'), true);
  await h.finish(page);
});

test('a taken username and a taken mobile are shown before submitting', async () => {
  const taken = h.uniqueUser();
  await h.registerViaApi(stack, taken);
  const page = await openRegister();
  const user = h.uniqueUser();

  await page.fill('#username', taken.username);
  await page.focus('#username');
  await page.keyboard.press('Tab');
  await h.expectText(page, '#username-error', await h.message(page, 'err_username_taken'));
  await page.fill('#mobile', taken.mobile);
  await page.focus('#mobile');
  await page.keyboard.press('Tab');
  await h.expectText(page, '#mobile-error', await h.message(page, 'err_mobile_taken'));

  // No code is asked for a mobile that is already registered.
  const asked = countSmsRequests(page);
  await page.fill('#image_code', h.CAPTCHA);
  await page.click('#get-code');
  await h.expectText(page, '#mobile-error', await h.message(page, 'err_mobile_taken'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'mobile');
  assert.equal(asked.n, 0, 'no SMS request');

  // Free values clear the errors.
  await page.fill('#username', user.username);
  await page.focus('#username');
  await page.keyboard.press('Tab');
  await h.expectText(page, '#username-error', '');
  await page.fill('#mobile', user.mobile);
  await page.focus('#mobile');
  await page.keyboard.press('Tab');
  await h.expectText(page, '#mobile-error', '');
  await h.finish(page);
});

test('the captcha is renewed on click and after a failed SMS request, beside its field', async () => {
  const page = await openRegister();
  const user = h.uniqueUser();
  const first = await captchaSrc(page);
  await page.click('#captcha-btn');
  const second = await captchaSrc(page);
  assert.notEqual(second, first, 'a click shows a new captcha');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'image_code');

  const response = await requestCode(page, user.mobile, 'ZZZZ');
  assert.equal(response.status(), 400);
  const {errmsg} = await response.json();
  await h.expectText(page, '#image_code-error', errmsg);
  assert.notEqual(await captchaSrc(page), second, 'a failed request renews the captcha');
  assert.equal(await page.inputValue('#image_code'), '', 'the spent answer is cleared');
  assert.equal(await isDisabled(page, '#get-code'), false, 'no countdown after a wrong captcha');
  assert.equal(stack.phone.inbox(user.mobile).length, 0);

  // Typing a new answer clears the old complaint; the new captcha works.
  await page.fill('#image_code', h.CAPTCHA);
  await h.expectText(page, '#image_code-error', '');
  // A slow network: the button is disabled while the request is in flight.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route('**/sms_codes/**', async (route) => {
    await held;
    await route.continue();
  });
  const ok = page.waitForResponse((r) => r.url().includes('/sms_codes/'));
  await page.click('#get-code');
  await h.expectText(page, '#get-code', await h.message(page, 'btn_sending'));
  assert.equal(await isDisabled(page, '#get-code'), true, 'disabled while in flight');
  release();
  assert.equal((await ok).status(), 200);
  await stack.phone.code(user.mobile);
  await h.finish(page);
});

test('get code counts down from Retry-After and blocks a second send', async () => {
  const page = await openRegister();
  const user = h.uniqueUser();
  const response = await requestCode(page, user.mobile);
  assert.equal(response.status(), 200);
  const retryAfter = Number(response.headers()['retry-after']);
  assert.ok(retryAfter > 0, 'the server says when to ask again');
  await stack.phone.code(user.mobile);

  await h.expectText(page, '#get-code', /^Resend in \d+ s$/);
  assert.equal(await isDisabled(page, '#get-code'), true);
  const shown = Number((await page.textContent('#get-code')).match(/\d+/)[0]);
  assert.ok(shown <= retryAfter && shown >= retryAfter - 3, `countdown ${shown} starts at Retry-After ${retryAfter}`);
  await page.waitForFunction((n) => !document.getElementById('get-code').textContent.includes(String(n)), shown, {
    timeout: 2500,
  });
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sms_code', 'ready to type the code');

  // A second try on this page does nothing: the button is disabled and
  // Enter in the captcha field is ignored while counting down.
  const asked = countSmsRequests(page);
  await page.fill('#image_code', h.CAPTCHA);
  await page.press('#image_code', 'Enter');
  await page.click('#get-code', {force: true});
  await page.evaluate(() => new Promise(requestAnimationFrame));
  assert.equal(asked.n, 0, 'no second SMS request');

  // Another window: the server answers 429; its message shows beside the
  // SMS code and that window counts down too.
  const other = await openRegister();
  const before = await captchaSrc(other);
  const limited = await requestCode(other, user.mobile);
  assert.equal(limited.status(), 429);
  const {errmsg} = await limited.json();
  await h.expectText(other, '#sms_code-error', errmsg);
  await h.expectText(other, '#get-code', /^Resend in \d+ s$/);
  assert.equal(await isDisabled(other, '#get-code'), true);
  assert.notEqual(await captchaSrc(other), before, 'a failed request renews the captcha');
  assert.equal(stack.phone.inbox(user.mobile).length, 1);
  await h.finish(other);
  await h.finish(page);
});

test('a wrong SMS code shows the server message beside the code, then the right one registers', async () => {
  const page = await openRegister();
  const user = h.uniqueUser();
  await fillAccount(page, user);
  await requestCode(page, user.mobile);
  const code = await stack.phone.code(user.mobile);
  const wrong = code === '000000' ? '111111' : '000000';
  await page.fill('#sms_code', wrong);
  await page.check('#allow');

  const rejected = page.waitForResponse((r) => r.url().endsWith('/register/'));
  await page.click('#submit');
  const response = await rejected;
  assert.equal(response.status(), 400);
  const {errmsg} = await response.json();
  await h.expectText(page, '#sms_code-error', errmsg);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sms_code');
  assert.equal(await isDisabled(page, '#submit'), true, 'the same wrong code cannot be sent again');
  assert.ok(page.url().endsWith('/register.html'));

  await page.fill('#sms_code', code);
  await h.expectText(page, '#sms_code-error', '');
  await page.click('#submit');
  await page.waitForURL('**/user.html');
  await h.expectText(page, '#signed-in', await h.message(page, 'signed_in_as', {username: user.username}));
  await h.finish(page);
});

test('registration works with the keyboard alone, with a visible focus', async () => {
  const page = await openRegister();
  const user = h.uniqueUser();
  const focused = () => page.evaluate(() => document.activeElement.id);
  const tabTo = async (id) => {
    await page.keyboard.press('Tab');
    assert.equal(await focused(), id, `Tab reaches #${id}`);
  };

  await tabTo('username');
  await page.keyboard.type(user.username);
  await tabTo('password');
  await page.keyboard.type(user.password);
  await tabTo('password2');
  await page.keyboard.type(user.password);
  await tabTo('mobile');
  await page.keyboard.type(user.mobile);
  await tabTo('image_code');
  await page.keyboard.type(h.CAPTCHA);
  await tabTo('captcha-btn');
  await tabTo('sms_code');
  await tabTo('get-code');
  // The focused button is visibly marked.
  const outline = await page.$eval('#get-code', (el) => getComputedStyle(el).outlineStyle);
  assert.notEqual(outline, 'none', 'focused button has an outline');
  await page.keyboard.press('Enter');

  const code = await stack.phone.code(user.mobile);
  await page.waitForFunction(() => document.activeElement.id === 'sms_code');
  const ring = await page.$eval('#sms_code', (el) => getComputedStyle(el).boxShadow);
  assert.notEqual(ring, 'none', 'focused input has a focus ring');
  await page.keyboard.type(code);
  await tabTo('allow');  // "Get code" is counting down, so Tab skips it
  await page.keyboard.press('Space');
  await tabTo('submit');
  await page.keyboard.press('Enter');

  await page.waitForURL('**/user.html');
  await h.expectText(page, '#signed-in', await h.message(page, 'signed_in_as', {username: user.username}));
  await tabTo('logout');
  await page.keyboard.press('Enter');
  await page.waitForURL('**/login.html');
  await h.finish(page);
});

test('a username taken while the form was being filled is shown beside it after submitting', async () => {
  const page = await openRegister();
  const user = h.uniqueUser();
  await fillAccount(page, user);
  await requestCode(page, user.mobile);
  await page.fill('#sms_code', await stack.phone.code(user.mobile));
  await page.check('#allow');
  // Someone else takes the name after the page checked it.
  await h.registerViaApi(stack, {...h.uniqueUser(), username: user.username});

  const answer = page.waitForResponse((r) => r.url().endsWith('/register/'));
  await page.click('#submit');
  const response = await answer;
  assert.equal(response.status(), 409);
  const {errmsg} = await response.json();
  await h.expectText(page, '#username-error', errmsg);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'username');
  assert.equal(await isDisabled(page, '#submit'), true);

  // Another name; the same SMS code still works.
  await page.fill('#username', `${user.username}2`);
  await page.click('#submit');
  await page.waitForURL('**/user.html');
  await h.finish(page);
});

test('the page checks the rules the server serves at /rules.json, fetched once', async () => {
  const page = await stack.newPage();
  let fetched = 0;
  // A server whose usernames are lower-case letters only, 8 or more.
  await page.route('**/rules.json', async (route) => {
    fetched += 1;
    const response = await route.fetch();
    const rules = await response.json();
    await route.fulfill({response, json: {...rules, username: '^[a-z]{8,20}$'}});
  });
  await page.goto(`${stack.url}/register.html`);
  await page.evaluate(() => regd.loadRules());
  for (const [value, ok] of [['user_1', false], ['abcdefgh', true]]) {
    await page.fill('#username', value);
    await page.focus('#username');
    await page.keyboard.press('Tab');
    await h.expectText(page, '#username-error', ok ? '' : await h.message(page, 'err_username'));
  }
  assert.equal(fetched, 1);
  await h.finish(page);
});
