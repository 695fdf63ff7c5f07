// The shop's own name and terms on the built-in pages (--site-name,
// --terms-url), in Chromium: every page's title and header carry the name,
// in both languages, and the register page's "user agreement" is a link.
'use strict';

const assert = require('node:assert/strict');
const {after, before, test} = require('node:test');
const h = require('./support/harness');

const NAME = 'Tea & Co <茶>';
const TERMS = 'https://shop.example/terms?v=2&lang=en';
let stack;
before(async () => {
  stack = await h.startStack({args: ['--site-name', NAME, '--terms-url', TERMS]});
});
after(async () => {
  await stack?.stop();
});

for (const locale of ['en-US', 'zh-CN']) {
  test(`every page names the shop (${locale}), never "regd"`, async () => {
    const page = await stack.newPage({locale});
    for (const path of ['/register.html', '/login.html', '/reset.html']) {
      await page.goto(`${stack.url}${path}`);
      const title = await page.title();
      assert.ok(title.endsWith(` · ${NAME}`), `${path} title: ${title}`);
      assert.equal((await page.textContent('.brand')).trim(), NAME, `${path} header`);
      assert.ok(!(await page.textContent('body')).includes('regd'), `${path} says regd`);
    }
    await h.finish(page);
  });
}

test('the user agreement links to --terms-url and the box still ticks', async () => {
  const page = await stack.newPage();
  await page.goto(`${stack.url}/register.html`);
  const link = page.locator('label[for="allow"] a#terms-link');
  assert.equal(await link.getAttribute('href'), TERMS);
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal((await link.textContent()).trim(), 'the user agreement');
  assert.equal(
    (await page.textContent('label[for="allow"]')).trim(),
    'I have read and agree to the user agreement',
  );
  await page.click('#allow');  // the box, not the link
  assert.equal(await page.isChecked('#allow'), true);
  await h.screenshot(page, 'register-site-name');
  await h.finish(page);
});

test('a signed-in customer sees the shop name on the account page', async () => {
  const user = h.uniqueUser();
  const cookie = await h.registerViaApi(stack, user);
  const page = await stack.newPage();
  const [name, value] = cookie.split(';')[0].split('=');
  await page.context().addCookies([{name, value, url: stack.url}]);
  await page.goto(`${stack.url}/user.html`);
  await h.expectText(page, '#signed-in', await h.message(page, 'signed_in_as', {username: user.username}));
  assert.ok((await page.title()).endsWith(` · ${NAME}`));
  await h.finish(page);
});
