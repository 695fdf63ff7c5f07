// Languages: a browser set to Chinese (zh-CN) gets the pages and the
// server's errmsg in Simplified Chinese; any other locale gets English.
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

const HAN = /[\u4e00-\u9fff]/;
const ZH = {locale: 'zh-CN'};
const text = (page, selector) => page.$eval(selector, (el) => el.textContent.trim());

test('in a zh-CN browser the register page speaks Chinese', async () => {
  const page = await stack.newPage(ZH);
  await page.goto(`${stack.url}/register.html`);
  await page.evaluate(() => regd.loadRules());
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await page.title(), '用户注册 · regd');
  const labels = {
    'label[for=username]': '用户名',
    'label[for=password]': '密码',
    'label[for=password2]': '确认密码',
    'label[for=mobile]': '手机号',
    'label[for=image_code]': '图形验证码',
    'label[for=sms_code]': '短信验证码',
    'label[for=allow]': '我已阅读并同意用户协议',
    '#get-code': '获取验证码',
    '#submit': '注册',
  };
  for (const [selector, expected] of Object.entries(labels)) {
    assert.equal(await text(page, selector), expected, selector);
  }
  // Every text the page shows comes from the Chinese table.
  const english = await page.evaluate(() =>
    Array.from(document.querySelectorAll('[data-i18n]'))
      .map((el) => el.textContent)
      .filter((s) => /[A-Za-z]{3,}/.test(s.replace(/regd/g, ''))),
  );
  assert.deepEqual(english, [], 'no English left on the page');

  // The page's own inline error, in Chinese.
  await page.fill('#username', 'abc');
  await page.focus('#username');
  await page.keyboard.press('Tab');
  await h.expectText(page, '#username-error', await h.message(page, 'err_username'));
  assert.match(await text(page, '#username-error'), HAN);
  await h.finish(page);
});

test('in a zh-CN browser the server errmsg is Chinese too', async () => {
  const page = await stack.newPage(ZH);
  const user = h.uniqueUser();
  await page.goto(`${stack.url}/register.html`);
  await page.evaluate(() => regd.loadRules());
  await page.fill('#mobile', user.mobile);
  await page.fill('#image_code', 'ZZZZ');
  const answer = page.waitForResponse((r) => r.url().includes('/sms_codes/'));
  await page.click('#get-code');
  const response = await answer;
  assert.equal(response.status(), 400);
  const {errmsg} = await response.json();
  await h.expectText(page, '#image_code-error', errmsg);
  assert.match(errmsg, HAN, `server errmsg in Chinese (got ${JSON.stringify(errmsg)})`);

  // Login: the wrong-password message as well, and the page around it.
  await page.goto(`${stack.url}/login.html`);
  assert.equal(await text(page, 'label[for=remembered]'), '记住我');
  assert.equal(await text(page, '#submit'), '登录');
  await page.fill('#username', 'nobody_here');
  await page.fill('#password', 'wrong_password');
  await page.click('#submit');
  await h.expectText(page, '#form-error', HAN);
  await h.finish(page);
});

test('the signed-in page speaks Chinese and logs out with 退出登录', async () => {
  const user = h.uniqueUser();
  await h.registerViaApi(stack, user);
  const page = await stack.newPage(ZH);
  await page.goto(`${stack.url}/login.html`);
  await page.fill('#username', user.mobile);
  await page.fill('#password', user.password);
  await page.click('#submit');
  await page.waitForURL('**/user.html');
  await h.expectText(page, '#mobile', `手机号：${user.mobile}`);
  assert.equal(await text(page, '#logout'), '退出登录');
  await page.click('#logout');
  await page.waitForURL('**/login.html');
  await h.finish(page);
});

test('any other browser language gets English', async () => {
  for (const locale of ['en-GB', 'fr-FR']) {
    const page = await stack.newPage({locale});
    await page.goto(`${stack.url}/register.html`);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await text(page, 'label[for=username]'), 'Username');
    assert.equal(await text(page, '#get-code'), 'Get code');
    await h.finish(page);
  }
});

test('in a zh-CN browser the SMS login tab, the reset page and the account page speak Chinese', async () => {
  const user = h.uniqueUser();
  await h.registerViaApi(stack, user);
  const page = await stack.newPage(ZH);
  // Every [data-i18n] text and translated attribute on the page, if English.
  const englishLeft = () =>
    page.evaluate(() => {
      // #signed-in ends up holding the (English) username.
      const texts = Array.from(document.querySelectorAll('[data-i18n]:not(#signed-in)'), (el) => el.textContent);
      for (const attr of ['placeholder', 'alt', 'title', 'aria-label']) {
        document.querySelectorAll(`[data-i18n-${attr}]`).forEach((el) => texts.push(el.getAttribute(attr)));
      }
      return texts.filter((s) => /[A-Za-z]{3,}/.test(s.replace(/regd/g, '')));
    });

  await page.goto(`${stack.url}/login.html#sms`);
  assert.equal(await text(page, '#tab-sms'), '验证码登录');
  assert.equal(await text(page, '#tab-password'), '密码登录');
  assert.equal(await text(page, '#forgot'), '忘记密码？');
  assert.deepEqual(await englishLeft(), [], 'login page');

  await page.goto(`${stack.url}/reset.html`);
  assert.equal(await page.title(), '找回密码 · regd');
  assert.equal(await text(page, '#submit'), '重置密码并登录');
  assert.deepEqual(await englishLeft(), [], 'reset page');

  await page.goto(`${stack.url}/login.html`);
  await page.fill('#username', user.username);
  await page.fill('#password', user.password);
  await page.click('#submit');
  await page.waitForURL('**/user.html');
  await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2);
  assert.deepEqual(await englishLeft(), [], 'account page');
  assert.equal(await text(page, '#sessions li.current .badge'), '本设备');
  assert.equal(await text(page, '#sessions li.current .session-device'), 'Linux 上的 Chrome 本设备');
  assert.match(await text(page, '#sessions li.current time'), /^刚刚活跃$/);
  assert.equal(await text(page, '#sign-out-others'), '退出其他设备');
  // The server's errmsg beside the current password, in Chinese.
  await page.click('#password-section summary');
  await page.fill('#old_password', 'wrong_password');
  await page.fill('#new_password', 'another_pw2');
  await page.fill('#new_password2', 'another_pw2');
  await page.click('#password-submit');
  await h.expectText(page, '#old_password-error', '原密码错误');
  await h.finish(page);
});
