// Shared by every page: the message table, the field rules, the JSON API
// helper and error display. Loaded (deferred) before the page's own script;
// exposes MESSAGES, RULES and the `regd` namespace as globals.
'use strict';

// Every user-visible string. To translate, add a table with the same keys
// (e.g. `zh: {...}`); the first of navigator.languages that has a table wins.
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
    label_allow: 'I agree to the terms',
    label_login_username: 'Username or mobile',
    label_remember: 'Remember me',
    hint_username: '5–20 letters, digits, _ or -',
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
    sms_sent: 'Code sent. It may take a moment to arrive.',
    err_username: 'Username must be 5–20 letters, digits, _ or -, not only digits',
    err_password: 'Password must be 8–20 letters, digits or _',
    err_password2: 'Passwords do not match',
    err_mobile: 'Enter a valid mobile number',
    err_sms_code: 'Enter the 6-digit code from the SMS',
    err_image_code: 'Enter the 4 characters shown in the image',
    err_allow: 'Please agree to the terms',
    err_username_taken: 'This username is already taken',
    err_mobile_taken: 'This mobile number is already registered',
    err_login_username: 'Enter your username or mobile number',
    err_login_password: 'Enter your password',
    err_network: 'Cannot reach the server. Check your connection and try again.',
    err_server: 'Something went wrong. Please try again.',
    err_retry_after: 'Too many requests. Try again in {n} s.',
  },
};

// Field rules, shaped as plain JSON so the server can serve them later.
// A value is valid if it matches `pattern` and does not match `forbid`;
// otherwise `message` (a MESSAGES key) is shown.
const RULES = {
  username: {pattern: '^[A-Za-z0-9_-]{5,20}$', forbid: '^[0-9]+$', message: 'err_username'},
  password: {pattern: '^[A-Za-z0-9_]{8,20}$', message: 'err_password'},
  mobile: {pattern: '^1[3-9][0-9]{9}$', message: 'err_mobile'},
  sms_code: {pattern: '^[0-9]{6}$', message: 'err_sms_code'},
  image_code: {pattern: '^[A-Za-z0-9]{4}$', message: 'err_image_code'},
  login_username: {pattern: '\\S', message: 'err_login_username'},
  login_password: {pattern: '.', message: 'err_login_password'},
};

const regd = (() => {
  const lang =
    (navigator.languages || [navigator.language || 'en'])
      .map((l) => String(l).toLowerCase().split('-')[0])
      .find((l) => Object.prototype.hasOwnProperty.call(MESSAGES, l)) || 'en';
  const table = MESSAGES[lang];
  document.documentElement.lang = lang;

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

  const compiled = {};
  function regex(src) {
    return compiled[src] || (compiled[src] = new RegExp(src));
  }

  // Returns '' if `value` satisfies RULES[name], else the translated message.
  function checkRule(name, value) {
    const rule = RULES[name];
    if (!regex(rule.pattern).test(value) || (rule.forbid && regex(rule.forbid).test(value))) {
      return t(rule.message);
    }
    return '';
  }

  // Seconds from a Retry-After header (delta-seconds or HTTP-date); 0 if absent.
  function parseRetryAfter(header) {
    if (!header) return 0;
    const n = Number(header);
    if (Number.isFinite(n)) return Math.max(0, Math.ceil(n));
    const when = Date.parse(header);
    return Number.isNaN(when) ? 0 : Math.max(0, Math.ceil((when - Date.now()) / 1000));
  }

  // Calls the JSON API. Never throws; resolves to
  // {ok, status, data, errmsg, retryAfter}. ok means HTTP 2xx and code 0;
  // status is 0 when the server could not be reached. errmsg is the
  // server's text, or a generic translated one.
  async function api(method, path, body) {
    const init = {method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      return {ok: false, status: 0, data: {}, errmsg: t('err_network'), retryAfter: 0};
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
    return {ok, status: res.status, data, errmsg, retryAfter};
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

  // Which field a server error message is about, or '' if it is unclear.
  // Checked in order: the first match wins.
  const ERROR_FIELDS = [
    [/sms/i, 'sms_code'],
    [/image|captcha/i, 'image_code'],
    [/password2|repeat|confirm|do not match|don't match|mismatch/i, 'password2'],
    [/password/i, 'password'],
    [/mobile|phone/i, 'mobile'],
    [/user ?name/i, 'username'],
    [/allow|agree|terms/i, 'allow'],
  ];
  function guessField(errmsg) {
    const hit = ERROR_FIELDS.find(([re]) => re.test(errmsg));
    return hit ? hit[1] : '';
  }

  applyI18n(document);

  return {t, applyI18n, checkRule, api, uuid, showError, showFormError, guessField};
})();
