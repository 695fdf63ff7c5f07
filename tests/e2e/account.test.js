// The whole account by SMS in Chromium against a live regd (issue 13): log
// in with a code, reset a forgotten password, change the password and the
// mobile on the account page, see and end sessions from another browser.
// Codes come from the fake phone. regd runs with --sms-resend-seconds 0 so
// one mobile can get a code for each step of a journey without waiting a
// minute (the countdown itself is register.test.js's).
'use strict';

const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const h = require('./support/harness');

let stack;
before(async () => {
  stack = await h.startStack({args: ['--sms-resend-seconds', '0']});
});
after(async () => {
  await stack?.stop();
});

// A Firefox on Windows, so two sessions of one account look different.
const FIREFOX_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

async function newUser() {
  const user = h.uniqueUser();
  await h.registerViaApi(stack, user);
  return user;
}

// Fills mobile + captcha of the form whose ids are prefixed by `ids`
// ({mobile, imageCode, getCode, note}) and presses "Get code". Resolves to
// {response, code}: the /sms_codes/ answer and, when it was a 200, the code
// the phone got.
async function requestCode(page, mobile, ids = {}) {
  const sel = {mobile: '#mobile', imageCode: '#image_code', getCode: '#get-code', ...ids};
  const before = stack.phone.inbox(mobile).length;
  await page.fill(sel.mobile, mobile);
  await page.fill(sel.imageCode, h.CAPTCHA);
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/sms_codes/'));
  await page.click(sel.getCode);
  const response = await answer;
  const code = response.status() === 200 ? await stack.phone.code(mobile, before + 1) : '';
  return {response, code};
}

async function openSmsLogin(page) {
  await page.goto(`${stack.url}/login.html`);
  await page.click('#tab-sms');
  await page.evaluate(() => regd.loadRules());
}

async function logInBySms(page, mobile) {
  await openSmsLogin(page);
  const {response, code} = await requestCode(page, mobile);
  assert.equal(response.status(), 200, await response.text());
  assert.equal(new URL(response.url()).searchParams.get('purpose'), 'login');
  await page.fill('#sms_code', code);
  await page.click('#sms-submit');
}

// Logs in on the password tab; resolves to the /login/ answer.
async function logInByPassword(page, login, password) {
  await page.goto(`${stack.url}/login.html`);
  await page.fill('#username', login);
  await page.fill('#password', password);
  const answer = page.waitForResponse((r) => r.url().endsWith('/login/'));
  await page.click('#submit');
  return answer;
}

async function expectSignedIn(page, user, mobile = user.mobile) {
  await page.waitForURL('**/user.html');
  await h.expectText(page, '#signed-in', await h.message(page, 'signed_in_as', {username: user.username}));
  await h.expectText(page, '#mobile', await h.message(page, 'mobile_is', {mobile}));
}

// A password login that the server refuses, shown above the button.
async function expectPasswordRefused(page, login, password) {
  const response = await logInByPassword(page, login, password);
  assert.equal(response.status(), 400, `${login} / ${password} is refused`);
  await h.expectText(page, '#form-error', (await response.json()).errmsg);
  assert.ok(page.url().endsWith('/login.html'));
}

const sessionCookie = async (page) => (await page.context().cookies()).find((c) => c.name === 'sessionid');

test('register, log out, log in again with an SMS code', async () => {
  const page = await stack.newPage();
  const user = h.uniqueUser();
  await page.goto(`${stack.url}/register.html`);
  await page.evaluate(() => regd.loadRules());
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.fill('#password2', user.password);
  const signup = await requestCode(page, user.mobile);
  assert.equal(new URL(signup.response.url()).searchParams.has('purpose'), false, 'register sends the seed request');
  await page.fill('#sms_code', signup.code);
  await page.check('#allow');
  await page.click('#submit');
  await expectSignedIn(page, user);
  await page.click('#logout');
  await page.waitForURL('**/login.html');

  // The SMS tab: its own captcha, fetched when the tab is first shown.
  assert.equal(await page.isVisible('#sms-form'), false);
  await page.click('#tab-sms');
  assert.equal(await page.getAttribute('#tab-sms', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#login-form'), false);
  await page.waitForFunction(() => document.getElementById('captcha-img').naturalWidth > 0);
  const {code} = await requestCode(page, user.mobile);
  const sms = stack.phone.inbox(user.mobile).at(-1);
  assert.equal(sms.purpose, 'login', 'the SMS says it is a login code');
  await h.expectText(page, '#sms_code-note', await h.message(page, 'sms_sent', {mobile: user.mobile}));
  await h.expectText(page, '#get-code', /^Resend in \d+ s$/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sms_code', 'ready to type the code');
  await page.keyboard.type(code);
  await page.check('#sms-remembered');
  await page.keyboard.press('Enter');
  await expectSignedIn(page, user);
  const cookie = await sessionCookie(page);
  assert.ok((cookie.expires - Date.now() / 1000) / 86400 > 13, '"remember me" keeps the session');
  await h.finish(page);
});

test('login.html#sms opens the SMS tab; the arrow keys switch tabs', async () => {
  const page = await stack.newPage();
  await page.goto(`${stack.url}/login.html#sms`);
  assert.equal(await page.isVisible('#sms-form'), true);
  assert.equal(await page.getAttribute('#tab-password', 'aria-selected'), 'false');
  await page.focus('#tab-sms');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-password');
  assert.equal(await page.isVisible('#login-form'), true);
  assert.equal(await page.isVisible('#sms-form'), false);
  assert.ok(!page.url().includes('#sms'));
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isVisible('#sms-form'), true);
  assert.ok(page.url().endsWith('#sms'));
  await h.finish(page);
});

test('SMS login errors show beside their field: a wrong code, an unregistered mobile', async () => {
  const user = await newUser();
  const page = await stack.newPage();
  await openSmsLogin(page);

  // Nothing typed: the page says what is missing, before asking the server.
  await page.click('#sms-submit');
  await h.expectText(page, '#mobile-error', await h.message(page, 'req_mobile'));
  await h.expectText(page, '#sms_code-error', await h.message(page, 'req_sms_code'));
  await page.fill('#mobile', user.mobile);
  await page.click('#get-code');
  await h.expectText(page, '#image_code-error', await h.message(page, 'req_image_code'));

  // A mobile no account uses gets no code.
  const stranger = h.uniqueUser().mobile;
  const refused = await requestCode(page, stranger);
  assert.equal(refused.response.status(), 400);
  const notRegistered = await refused.response.json();
  assert.equal(notRegistered.field, 'mobile');
  await h.expectText(page, '#mobile-error', notRegistered.errmsg);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'mobile');
  assert.equal(stack.phone.inbox(stranger).length, 0);
  assert.equal(await page.isDisabled('#get-code'), false, 'no countdown');

  // A wrong code: the server's message beside the code; then the right one.
  const {code} = await requestCode(page, user.mobile);
  await h.expectText(page, '#mobile-error', '');
  await page.fill('#sms_code', code === '000000' ? '111111' : '000000');
  const answer = page.waitForResponse((r) => r.url().endsWith('/login/sms/'));
  await page.click('#sms-submit');
  const wrong = await answer;
  assert.equal(wrong.status(), 400);
  await h.expectText(page, '#sms_code-error', (await wrong.json()).errmsg);
  await h.expectText(page, '#sms_code-note', '');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'sms_code');
  await page.fill('#sms_code', code);
  await h.expectText(page, '#sms_code-error', '');
  await page.click('#sms-submit');
  await expectSignedIn(page, user);
  await h.finish(page);
});

test('forgot password: reset by SMS signs in, ends the other sessions, and the old password is refused', async () => {
  const user = await newUser();
  const newPassword = 'another_pw2';
  // Signed in elsewhere before the reset.
  const elsewhere = await stack.newPage();
  await logInByPassword(elsewhere, user.username, user.password);
  await expectSignedIn(elsewhere, user);

  const page = await stack.newPage();
  await page.goto(`${stack.url}/login.html`);
  await page.click('#forgot');
  await page.waitForURL('**/reset.html');
  await page.evaluate(() => regd.loadRules());
  await page.waitForFunction(() => document.getElementById('captcha-img').naturalWidth > 0);

  // An unregistered mobile is refused beside the mobile.
  const stranger = await requestCode(page, h.uniqueUser().mobile);
  assert.equal(stranger.response.status(), 400);
  await h.expectText(page, '#mobile-error', (await stranger.response.json()).errmsg);

  const {response, code} = await requestCode(page, user.mobile);
  assert.equal(new URL(response.url()).searchParams.get('purpose'), 'reset');
  assert.equal(stack.phone.inbox(user.mobile).at(-1).purpose, 'reset');
  await h.expectText(page, '#mobile-error', '');
  await page.fill('#sms_code', code);
  // The page's own checks on the new password.
  await page.fill('#password', 'short');
  await page.fill('#password2', 'different');
  await page.click('#submit');
  await h.expectText(page, '#password-error', await h.message(page, 'err_password'));
  await h.expectText(page, '#password2-error', await h.message(page, 'err_password2'));
  await page.fill('#password', newPassword);
  await page.fill('#password2', newPassword);
  await h.expectText(page, '#password2-error', '');
  await page.click('#submit');
  await expectSignedIn(page, user);

  // The other browser's session ended with the reset.
  await elsewhere.reload();
  await elsewhere.waitForURL('**/login.html');
  await expectPasswordRefused(elsewhere, user.username, user.password);
  assert.equal((await logInByPassword(elsewhere, user.username, newPassword)).status(), 200);
  await expectSignedIn(elsewhere, user);
  await h.finish(elsewhere);
  await h.finish(page);
});

test('a wrong reset code shows beside the code and does not change the password', async () => {
  const user = await newUser();
  const page = await stack.newPage();
  await page.goto(`${stack.url}/reset.html`);
  await page.evaluate(() => regd.loadRules());
  const {code} = await requestCode(page, user.mobile);
  await page.fill('#sms_code', code === '000000' ? '111111' : '000000');
  await page.fill('#password', 'another_pw2');
  await page.fill('#password2', 'another_pw2');
  const answer = page.waitForResponse((r) => r.url().endsWith('/password/reset/'));
  await page.click('#submit');
  const response = await answer;
  assert.equal(response.status(), 400);
  await h.expectText(page, '#sms_code-error', (await response.json()).errmsg);
  assert.ok(page.url().endsWith('/reset.html'));
  await h.finish(page);
  const check = await stack.newPage();
  assert.equal((await logInByPassword(check, user.username, user.password)).status(), 200, 'old password still works');
  await h.finish(check);
});

test('change password: signed out everywhere, back at login, the new password works and the old is refused', async () => {
  const user = await newUser();
  const newPassword = 'changed_pw3';
  const other = await stack.newPage();
  await logInByPassword(other, user.username, user.password);
  await expectSignedIn(other, user);
  const page = await stack.newPage();
  await logInByPassword(page, user.username, user.password);
  await expectSignedIn(page, user);

  assert.equal(await page.isVisible('#old_password'), false, 'the form starts folded');
  await page.click('#password-section summary');
  // A wrong current password, beside it.
  await page.fill('#old_password', 'not_my_password');
  await page.fill('#new_password', newPassword);
  await page.fill('#new_password2', newPassword);
  const answer = page.waitForResponse((r) => r.url().endsWith('/password/'));
  await page.click('#password-submit');
  const wrong = await answer;
  assert.equal(wrong.status(), 400);
  const body = await wrong.json();
  assert.equal(body.field, 'old_password');
  await h.expectText(page, '#old_password-error', body.errmsg);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'old_password');
  // Repeat that does not match: the page's own check.
  await page.fill('#old_password', user.password);
  await page.fill('#new_password2', `${newPassword}x`);
  await page.click('#password-submit');
  await h.expectText(page, '#new_password2-error', await h.message(page, 'err_password2'));
  await page.fill('#new_password2', newPassword);
  await page.click('#password-submit');

  await page.waitForURL(/\/login\.html\?changed=password$/);
  await h.expectText(page, '#login-notice', await h.message(page, 'password_changed'));
  assert.equal(await sessionCookie(page), undefined, 'the session cookie is cleared');
  await expectPasswordRefused(page, user.username, user.password);
  assert.equal((await logInByPassword(page, user.username, newPassword)).status(), 200);
  await expectSignedIn(page, user);

  // The other browser was signed out too.
  await other.reload();
  await other.waitForURL('**/login.html');
  await h.finish(other);
  await h.finish(page);
});

test('change mobile: errors beside their fields, then the account moves and logs in by the new mobile only', async () => {
  const user = await newUser();
  const taken = await newUser();
  const newMobile = h.uniqueUser().mobile;
  const page = await stack.newPage();
  await logInByPassword(page, user.username, user.password);
  await expectSignedIn(page, user);
  await page.click('#mobile-section summary');
  await page.waitForFunction(() => document.getElementById('cm-captcha-img').naturalWidth > 0);
  const ids = {mobile: '#cm_mobile', imageCode: '#cm_image_code', getCode: '#cm-get-code'};

  // A mobile another account uses: 409 beside the new mobile, no code.
  const conflict = await requestCode(page, taken.mobile, ids);
  assert.equal(conflict.response.status(), 409);
  await h.expectText(page, '#cm_mobile-error', (await conflict.response.json()).errmsg);
  assert.equal(stack.phone.inbox(taken.mobile).length, 1, 'only its register code');

  const {response, code} = await requestCode(page, newMobile, ids);
  assert.equal(new URL(response.url()).searchParams.get('purpose'), 'change_mobile');
  await h.expectText(page, '#cm_mobile-error', '');
  await h.expectText(page, '#cm_sms_code-note', await h.message(page, 'sms_sent', {mobile: newMobile}));
  await page.fill('#cm_sms_code', code);
  // A wrong password, beside it; the code is still good afterwards.
  await page.fill('#cm_password', 'not_my_password');
  let answer = page.waitForResponse((r) => r.url().endsWith('/mobile/'));
  await page.click('#mobile-submit');
  const wrong = await answer;
  assert.equal(wrong.status(), 400);
  await h.expectText(page, '#cm_password-error', (await wrong.json()).errmsg);
  await page.fill('#cm_password', user.password);
  await h.expectText(page, '#cm_password-error', '');
  answer = page.waitForResponse((r) => r.url().endsWith('/mobile/'));
  await page.click('#mobile-submit');
  assert.equal((await answer).status(), 200);
  await h.expectText(page, '#mobile-form-done', await h.message(page, 'mobile_changed', {mobile: newMobile}));
  await h.expectText(page, '#mobile', await h.message(page, 'mobile_is', {mobile: newMobile}));
  assert.equal(await page.inputValue('#cm_mobile'), '', 'the form is emptied');
  // The old mobile is told.
  await stack.phone.code(user.mobile, 2);
  assert.equal(stack.phone.inbox(user.mobile).at(-1).purpose, 'mobile_changed');
  await page.reload();
  await expectSignedIn(page, user, newMobile);

  // Log out; the new mobile logs in by SMS and by password, the old does neither.
  await page.click('#logout');
  await page.waitForURL('**/login.html');
  await logInBySms(page, newMobile);
  await expectSignedIn(page, user, newMobile);
  await page.click('#logout');
  await page.waitForURL('**/login.html');
  await expectPasswordRefused(page, user.mobile, user.password);
  assert.equal((await logInByPassword(page, newMobile, user.password)).status(), 200);
  await expectSignedIn(page, user, newMobile);
  await page.click('#logout');
  await page.waitForURL('**/login.html');
  await openSmsLogin(page);
  const old = await requestCode(page, user.mobile);
  assert.equal(old.response.status(), 400);
  await h.expectText(page, '#mobile-error', (await old.response.json()).errmsg);
  await h.finish(page);
});

test('two browsers: the sessions list shows both, and ending one sends that browser to login', async () => {
  const user = h.uniqueUser();
  // Registering signed the API client in; that session is not part of this story.
  const apiSession = await h.registerViaApi(stack, user);
  const out = await fetch(`${stack.url}/logout/`, {method: 'DELETE', headers: {Cookie: apiSession}});
  assert.equal(out.status, 200);
  const phone = await stack.newPage({userAgent: FIREFOX_UA, viewport: {width: 390, height: 800}});
  await logInByPassword(phone, user.username, user.password);
  await expectSignedIn(phone, user);
  const desk = await stack.newPage();
  await logInByPassword(desk, user.username, user.password);
  await expectSignedIn(desk, user);

  // Newest first: this one (marked, no button), then the Firefox.
  await desk.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2);
  const rows = await desk.$$eval('#sessions li', (lis) =>
    lis.map((li) => ({
      device: li.querySelector('.session-device').textContent,
      meta: li.querySelector('.session-meta').textContent,
      current: li.classList.contains('current'),
      button: Boolean(li.querySelector('button')),
    })),
  );
  const thisDevice = await h.message(desk, 'session_current');
  assert.deepEqual(
    rows.map((r) => [r.device, r.current, r.button]),
    [
      [`Chrome on Linux ${thisDevice}`, true, false],
      ['Firefox on Windows', false, true],
    ],
  );
  assert.match(rows[1].meta, /^127\.0\.0\.\* · Active (just now|\d+ min ago)$/);
  assert.equal(await desk.isVisible('#sign-out-others'), true);

  // The phone sees it the other way round.
  await phone.reload();
  await phone.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2);
  assert.equal(await phone.textContent('#sessions li.current .session-device'), `Firefox on Windows ${thisDevice}`);

  // End the phone's session from the desk.
  const ended = desk.waitForResponse((r) => r.request().method() === 'DELETE');
  await desk.click('#sessions li:not(.current) button');
  assert.equal((await ended).status(), 200);
  await desk.waitForFunction(() => document.querySelectorAll('#sessions li').length === 1);
  assert.equal(await desk.isVisible('#sign-out-others'), false);
  await h.expectText(desk, '#sessions-only', await h.message(desk, 'sessions_only_this'));

  // The phone's next action (here: change password) finds its session gone.
  await phone.click('#password-section summary');
  await phone.fill('#old_password', user.password);
  await phone.fill('#new_password', 'never_used_1');
  await phone.fill('#new_password2', 'never_used_1');
  await phone.click('#password-submit');
  await phone.waitForURL('**/login.html');
  assert.equal((await logInByPassword(phone, user.username, user.password)).status(), 200, 'password unchanged');
  await expectSignedIn(phone, user);

  // "Sign out everywhere else": the phone and a third browser, at once.
  const third = await stack.newPage();
  await logInBySms(third, user.mobile);
  await expectSignedIn(third, user);
  await desk.reload();
  await desk.waitForFunction(() => document.querySelectorAll('#sessions li').length === 3);
  await desk.click('#sign-out-others');
  await desk.waitForFunction(() => document.querySelectorAll('#sessions li').length === 1);
  for (const other of [phone, third]) {
    await other.reload();
    await other.waitForURL('**/login.html');
  }
  await desk.reload();
  await expectSignedIn(desk, user);
  await h.finish(third);
  await h.finish(phone);
  await h.finish(desk);
});
