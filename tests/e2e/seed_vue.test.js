// The seed course's own kind of front end through --web-root: a register.html
// written with Vue 2's full build (templates in the HTML, compiled in the
// browser, which needs eval) and axios, served from a temporary web root with
// the real vue@2 and axios from npm. regd used to send its strict CSP with
// every page, so Vue could not compile the template and the form stayed blank.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {after, before, test} = require('node:test');
const h = require('./support/harness');

const FIXTURE = path.join(__dirname, 'fixtures/seed-vue');
const NODE_MODULES = path.join(__dirname, 'node_modules');

// The fixture plus vue.js and axios.min.js from node_modules, in a new dir.
function makeWebRoot() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'regd-seed-vue-'));
  fs.cpSync(FIXTURE, root, {recursive: true});
  // By path: axios's package "exports" do not list its browser build.
  fs.copyFileSync(path.join(NODE_MODULES, 'vue/dist/vue.js'), path.join(root, 'js/vue.js'));
  fs.copyFileSync(path.join(NODE_MODULES, 'axios/dist/axios.min.js'), path.join(root, 'js/axios.min.js'));
  return root;
}

let webRoot;
let stack;
before(async () => {
  webRoot = makeWebRoot();
  stack = await h.startStack({webRoot});
});
after(async () => {
  await stack?.stop();
  if (webRoot) fs.rmSync(webRoot, {recursive: true, force: true});
});

test('the seed\'s Vue 2 page mounts, gets a captcha and a code, and registers (was blank under the strict CSP)', async () => {
  const page = await stack.newPage();
  const user = {...h.uniqueUser(), password: 'secretpw12'};  // the seed's page allows letters and digits

  const response = await page.goto(`${stack.url}/register.html`);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-security-policy'], undefined, 'a --web-root page gets no CSP by default');
  assert.equal(response.headers()['x-frame-options'], 'DENY');

  // Mounted: Vue compiled the in-HTML template (v-cloak is gone, no [[ ]] left)
  // and its mounted() asked for a captcha, which loaded as an image.
  await page.waitForSelector('#reg_form', {state: 'visible'});
  assert.equal(await page.$('[v-cloak]'), null);
  assert.ok(!(await page.textContent('#app')).includes('[['), 'the template was compiled');
  await page.waitForFunction(() => {
    const img = document.querySelector('img.pic_code');
    return img && /\/image_codes\/[0-9a-f-]{36}\/$/.test(img.src) && img.complete && img.naturalWidth > 0;
  });

  await page.fill('#user_name', user.username);
  await page.fill('#pwd', user.password);
  await page.fill('#cpwd', user.password);
  await page.fill('#phone', user.mobile);
  await page.fill('#pic_code', h.CAPTCHA);

  // The SMS code is requested with the captcha and reaches the phone; the
  // page starts its countdown.
  const smsAnswer = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/sms_codes/'));
  await page.click('a.get_msg_code');
  assert.equal((await smsAnswer).status(), 200);
  const code = await stack.phone.code(user.mobile);
  await h.expectText(page, 'a.get_msg_code', /^\d+秒$/);

  await page.fill('#msg_code', code);
  await page.check('#allow');
  const registerRequest = page.waitForRequest((r) => new URL(r.url()).pathname === '/register/');
  const registerAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === '/register/');
  await page.click('.reg_sub input[type=submit]');
  const sent = (await registerRequest).postDataJSON();
  assert.strictEqual(sent.allow, true, 'the checkbox\'s v-model sends allow as a JSON boolean');
  assert.equal((await registerAnswer).status(), 200);

  // The page went on as the seed's does on {"code": 0}, signed in: the next
  // page greets the user from the username cookie.
  await page.waitForURL(/\/index\.html$/);
  await h.expectText(page, '#welcome', user.username);
  await h.screenshot(page, 'seed-vue-registered');
  await h.finish(page);
});
