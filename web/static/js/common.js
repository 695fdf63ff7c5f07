// Shared by every page: the message tables, the field rules (fetched from the
// server), the JSON API helper and error display. Loaded (deferred) before the
// page's own script; exposes MESSAGES and the `regd` namespace as globals.
'use strict';

// Every user-visible string, one table per language; both tables have the
// same keys. The page speaks Chinese when navigator.language is zh* and
// English otherwise, and asks the server for errmsg in the same language.
// "{name}" is replaced by regd.t(key, {name: ...}).
const MESSAGES = {
  en: {
    brand: 'regd',
    title_register: 'Create account · regd',
    title_login: 'Log in · regd',
    title_user: 'Your account · regd',
    register_heading: 'Create your account',
    register_intro: 'It only takes a minute.',
    login_heading: 'Welcome back',
    login_intro: 'Log in to continue.',
    user_heading: 'Your account',
    label_username: 'Username',
    label_password: 'Password',
    label_password2: 'Repeat password',
    label_mobile: 'Mobile number',
    label_image_code: 'Image code',
    label_sms_code: 'SMS code',
    label_allow: 'I have read and agree to the user agreement',
    label_login_username: 'Username or mobile number',
    label_remember: 'Remember me',
    hint_username: '5–20 letters, digits, _ or -; not only digits',
    hint_password: '8–20 letters, digits or _',
    ph_mobile: '11 digits',
    ph_image_code: '4 characters',
    ph_sms_code: '6 digits',
    alt_captcha: 'Image code',
    title_captcha: 'Show a new image',
    btn_get_code: 'Get code',
    btn_sending: 'Sending…',
    btn_resend_in: 'Resend in {n} s',
    btn_register: 'Register',
    btn_login: 'Log in',
    btn_logout: 'Log out',
    btn_working: 'Please wait…',
    have_account: 'Already have an account?',
    link_login: 'Log in',
    no_account: 'New here?',
    link_register: 'Create an account',
    loading: 'Loading…',
    signed_in_as: 'Signed in as {username}',
    mobile_is: 'Mobile: {mobile}',
    sms_sent: 'Code sent to {mobile}. It may take a moment to arrive.',
    req_username: 'Enter a username',
    req_password: 'Enter a password',
    req_password2: 'Enter the password again',
    req_mobile: 'Enter your mobile number',
    req_image_code: 'Enter the characters shown in the image',
    req_sms_code: 'Enter the code from the SMS',
    err_username: 'Username must be 5–20 letters, digits, _ or -, not only digits',
    err_password: 'Password must be 8–20 letters, digits or _',
    err_password2: 'Passwords do not match',
    err_mobile: 'Enter a valid 11-digit mobile number',
    err_sms_code: 'Enter the 6-digit code from the SMS',
    err_image_code: 'Enter the 4 characters shown in the image',
    err_allow: 'Please agree to the user agreement',
    err_username_taken: 'This username is already taken',
    err_mobile_taken: 'This mobile number is already registered',
    err_login_username: 'Enter your username or mobile number',
    err_login_password: 'Enter your password',
    err_rules: 'The page could not load from the server. Check your connection and reload.',
    err_network: 'Cannot reach the server. Check your connection and try again.',
    err_server: 'Something went wrong. Please try again.',
    err_retry_after: 'Too many requests. Try again in {n} s.',
  },
  zh: {
    brand: 'regd',
    title_register: '用户注册 · regd',
    title_login: '用户登录 · regd',
    title_user: '我的账户 · regd',
    register_heading: '用户注册',
    register_intro: '只需一分钟，即可完成注册。',
    login_heading: '欢迎回来',
    login_intro: '请登录您的账户。',
    user_heading: '我的账户',
    label_username: '用户名',
    label_password: '密码',
    label_password2: '确认密码',
    label_mobile: '手机号',
    label_image_code: '图形验证码',
    label_sms_code: '短信验证码',
    label_allow: '我已阅读并同意用户协议',
    label_login_username: '用户名或手机号',
    label_remember: '记住我',
    hint_username: '5–20 个字符，可用字母、数字、_ 或 -，不能全为数字',
    hint_password: '8–20 个字符，可用字母、数字或 _',
    ph_mobile: '11 位手机号',
    ph_image_code: '4 位字符',
    ph_sms_code: '6 位数字',
    alt_captcha: '图形验证码',
    title_captcha: '看不清？换一张',
    btn_get_code: '获取验证码',
    btn_sending: '发送中…',
    btn_resend_in: '{n} 秒后重新获取',
    btn_register: '注册',
    btn_login: '登录',
    btn_logout: '退出登录',
    btn_working: '请稍候…',
    have_account: '已有账户？',
    link_login: '立即登录',
    no_account: '还没有账户？',
    link_register: '立即注册',
    loading: '加载中…',
    signed_in_as: '您好，{username}',
    mobile_is: '手机号：{mobile}',
    sms_sent: '验证码已发送至 {mobile}，请注意查收短信。',
    req_username: '请输入用户名',
    req_password: '请输入密码',
    req_password2: '请再次输入密码',
    req_mobile: '请输入手机号',
    req_image_code: '请输入图形验证码',
    req_sms_code: '请输入短信验证码',
    err_username: '用户名须为 5–20 个字母、数字、_ 或 -，且不能全为数字',
    err_password: '密码须为 8–20 个字母、数字或 _',
    err_password2: '两次输入的密码不一致',
    err_mobile: '请输入正确的 11 位手机号',
    err_sms_code: '请输入短信中的 6 位验证码',
    err_image_code: '请输入图中的 4 个字符',
    err_allow: '请阅读并勾选同意用户协议',
    err_username_taken: '该用户名已被注册',
    err_mobile_taken: '该手机号已被注册',
    err_login_username: '请输入用户名或手机号',
    err_login_password: '请输入密码',
    err_rules: '页面加载失败，请检查网络后刷新重试。',
    err_network: '无法连接服务器，请检查网络后重试。',
    err_server: '出错了，请稍后重试。',
    err_retry_after: '请求过于频繁，请 {n} 秒后再试。',
  },
};

// The message shown when a value breaks the server's rule of that name
// (GET /rules.json gives the rules themselves).
const RULE_MESSAGES = {
  username: 'err_username',
  password: 'err_password',
  mobile: 'err_mobile',
  sms_code: 'err_sms_code',
  image_code: 'err_image_code',
};

const regd = (() => {
  const lang = /^zh\b/i.test(navigator.language || '') ? 'zh' : 'en';
  const table = MESSAGES[lang];
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';

  function t(key, vars) {
    const text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : MESSAGES.en[key] || key;
    return text.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  }

  // Fills [data-i18n] text and [data-i18n-<attr>] attributes from the table.
  function applyI18n(root) {
    root.querySelectorAll('[data-i18n]').forEach((el) => {
      el.textContent = t(el.dataset.i18n);
    });
    for (const attr of ['placeholder', 'alt', 'title', 'aria-label']) {
      root.querySelectorAll(`[data-i18n-${attr}]`).forEach((el) => {
        el.setAttribute(attr, t(el.getAttribute(`data-i18n-${attr}`)));
      });
    }
  }

  // Seconds from a Retry-After header (delta-seconds or HTTP-date); 0 if absent.
  function parseRetryAfter(header) {
    if (!header) return 0;
    const n = Number(header);
    if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
    const when = Date.parse(header);
    return Number.isNaN(when) ? 0 : Math.max(0, Math.ceil((when - Date.now()) / 1000));
  }

  // Calls the JSON API in the page's language. Never throws; resolves to
  // {ok, status, data, errmsg, field, retryAfter}. ok means HTTP 2xx and
  // code 0; status is 0 when the server could not be reached. errmsg is the
  // server's text, or a generic translated one; field is the form field the
  // server says the error concerns ('' if none).
  async function api(method, path, body) {
    const init = {
      method,
      credentials: 'same-origin',
      headers: {Accept: 'application/json', 'Accept-Language': lang === 'zh' ? 'zh-CN,zh;q=0.9' : 'en'},
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return {ok: false, status: 0, data: {}, errmsg: t('err_network'), field: '', retryAfter: 0};
    }
    let data = {};
    try {
      data = (await res.json()) || {};
    } catch (e) {
      data = {};
    }
    const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
    const ok = res.ok && (data.code === 0 || data.code === undefined);
    let errmsg = '';
    if (!ok) {
      if (typeof data.errmsg === 'string' && data.errmsg) errmsg = data.errmsg;
      else if (retryAfter) errmsg = t('err_retry_after', {n: retryAfter});
      else errmsg = t('err_server');
    }
    const field = !ok && typeof data.field === 'string' ? data.field : '';
    return {ok, status: res.status, data, errmsg, field, retryAfter};
  }

  // The server's field rules, compiled once: name -> RegExp. Filled by
  // loadRules(); until then (or if the server could not be reached) no rule
  // is checked here and the server's own check is the only one.
  const rules = {};
  let rulesPromise = null;

  // Fetches GET /rules.json once. Resolves to true when the rules are known.
  function loadRules() {
    if (!rulesPromise) {
      rulesPromise = api('GET', '/rules.json').then((r) => {
        if (!r.ok) return false;
        for (const [name, src] of Object.entries(r.data)) {
          if (typeof src !== 'string') continue;
          try {
            rules[name] = new RegExp(src);
          } catch (e) {
            // A pattern this browser cannot compile is left to the server.
          }
        }
        return Object.keys(rules).length > 0;
      });
    }
    return rulesPromise;
  }

  // Returns '' if `value` satisfies the server's rule `name`, else the
  // translated message. An empty value gets the "req_<name>" message.
  function checkRule(name, value) {
    if (value === '') return t(`req_${name}`);
    const re = rules[name];
    if (!re || re.test(value)) return '';
    return t(RULE_MESSAGES[name] || 'err_server');
  }

  // A fresh UUID v4 (crypto.randomUUID needs a secure context).
  function uuid() {
    if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // Shows `msg` (or clears it when empty) in the element "<input id>-error".
  function showError(input, msg) {
    const el = document.getElementById(`${input.id}-error`);
    if (el) el.textContent = msg || '';
    input.setAttribute('aria-invalid', msg ? 'true' : 'false');
  }

  // Form-level error box: an element with id "form-error".
  function showFormError(msg) {
    const el = document.getElementById('form-error');
    if (el) el.textContent = msg || '';
  }

  // Which field an error is about, for a server that does not send `field`:
  // a guess from its English errmsg, first match wins; '' if unclear.
  const ERROR_FIELDS = [
    [/sms/i, 'sms_code'],
    [/image|captcha/i, 'image_code'],
    [/password2|repeat|confirm|do not match|don't match|mismatch/i, 'password2'],
    [/password/i, 'password'],
    [/mobile|phone/i, 'mobile'],
    [/user ?name/i, 'username'],
    [/allow|agree|terms/i, 'allow'],
  ];
  function errorField(r) {
    if (r.field) return r.field;
    const hit = ERROR_FIELDS.find(([re]) => re.test(r.errmsg));
    return hit ? hit[1] : '';
  }

  applyI18n(document);

  return {lang, t, applyI18n, loadRules, checkRule, api, uuid, showError, showFormError, errorField};
})();
