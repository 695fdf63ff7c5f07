// The login and signed-in pages in Chromium against a live regd: log in
// with the username or the mobile, "remember me", a wrong password, the
// signed-in page and logging out.
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

async function newUser() {
  const user = h.uniqueUser();
  await h.registerViaApi(stack, user);
  return user;
}

async function logIn(page, login, password, {remember = false} = {}) {
  await page.goto(`${stack.url}/login.html`);
  await page.fill('#username', login);
  await page.fill('#password', password);
  if (remember) await page.check('#remembered');
  await page.click('#submit');
}

async function expectSignedIn(page, user) {
  await page.waitForURL('**/user.html');
  await h.expectText(page, '#signed-in', await h.message(page, 'signed_in_as', {username: user.username}));
  await h.expectText(page, '#mobile', await h.message(page, 'mobile_is', {mobile: user.mobile}));
}

const sessionCookie = async (page) => (await page.context().cookies()).find((c) => c.name === 'sessionid');

test('log in with the username; without "remember me" the cookie ends with the browser', async () => {
  const user = await newUser();
  const page = await stack.newPage();
  await logIn(page, user.username, user.password);
  await expectSignedIn(page, user);
  const cookie = await sessionCookie(page);
  assert.ok(cookie, 'a session cookie is set');
  assert.equal(cookie.expires, -1, 'a browser-session cookie');
  assert.equal(cookie.httpOnly, true);
  await h.finish(page);
});

test('log in with the mobile and "remember me" keeps the session for two weeks', async () => {
  const user = await newUser();
  const page = await stack.newPage();
  await logIn(page, user.mobile, user.password, {remember: true});
  await expectSignedIn(page, user);
  const cookie = await sessionCookie(page);
  const days = (cookie.expires - Date.now() / 1000) / 86400;
  assert.ok(days > 13 && days <= 14.01, `remembered for ${days.toFixed(2)} days`);
  await h.finish(page);
});

test('a wrong password shows the server message and the password is ready to retype', async () => {
  const user = await newUser();
  const page = await stack.newPage();
  const answer = page.waitForResponse((r) => r.url().endsWith('/login/'));
  await logIn(page, user.username, 'wrong_password');
  const response = await answer;
  assert.equal(response.status(), 400);
  const {errmsg} = await response.json();
  await h.expectText(page, '#form-error', errmsg);
  assert.ok(page.url().endsWith('/login.html'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  assert.equal(await page.$eval('#submit', (el) => el.disabled), false);

  // Empty fields are caught before asking the server.
  await page.fill('#username', '');
  await page.fill('#password', '');
  await page.click('#submit');
  await h.expectText(page, '#username-error', await h.message(page, 'err_login_username'));
  await h.expectText(page, '#password-error', await h.message(page, 'err_login_password'));

  // Typing clears the message; the right password then works.
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await h.expectText(page, '#form-error', '');
  await page.keyboard.press('Enter');
  await expectSignedIn(page, user);
  await h.finish(page);
});

test('log out ends the session; the signed-in page then sends you to log in', async () => {
  const user = await newUser();
  const page = await stack.newPage();
  await logIn(page, user.username, user.password, {remember: true});
  await expectSignedIn(page, user);
  await page.click('#logout');
  await page.waitForURL('**/login.html');
  assert.equal(await sessionCookie(page), undefined, 'the session cookie is cleared');

  await page.goto(`${stack.url}/user.html`);
  await page.waitForURL('**/login.html');
  const info = await page.evaluate(() => fetch('/info/').then((r) => r.status));
  assert.equal(info, 401);
  await h.finish(page);
});
