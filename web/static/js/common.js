// Shared by every page: the message tables, the field rules (fetched from the
// server), the JSON API helper, error display, the captcha + "Get code"
// countdown and the field checks of a form. Loaded (deferred) before the
// page's own script; exposes MESSAGES and the `regd` namespace as globals.
'use strict';

// Every user-visible string, one table per language; both tables have the
// same keys. The page speaks Chinese when navigator.language is zh* and
// English otherwise, and asks the server for errmsg in the same language.
// "{name}" is replaced by regd.t(key, {name: ...}).
const MESSAGES = {
  en: {
    brand: '{site}',
    title_register: 'Create account · {site}',
    title_login: 'Log in · {site}',
    title_user: 'Your account · {site}',
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
    label_allow_before: 'I have read and agree to ',
    label_allow_link: 'the user agreement',
    label_allow_after: '',
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
    title_reset: 'Reset password · {site}',
    reset_heading: 'Reset your password',
    reset_intro: 'We will send a code to the mobile number of your account.',
    tab_password: 'Password',
    tab_sms: 'SMS code',
    tabs_login: 'How to log in',
    link_forgot: 'Forgot password?',
    link_back_login: 'Back to log in',
    label_old_password: 'Current password',
    label_new_password: 'New password',
    label_new_password2: 'Repeat new password',
    label_new_mobile: 'New mobile number',
    req_old_password: 'Enter your current password',
    req_new_password: 'Enter a new password',
    req_new_password2: 'Enter the new password again',
    btn_reset: 'Reset password and log in',
    btn_change_password: 'Change password',
    btn_change_mobile: 'Change mobile number',
    btn_sign_out: 'Sign out',
    btn_sign_out_others: 'Sign out everywhere else',
    section_password: 'Change password',
    section_password_intro: 'You will be signed out everywhere, this device too, and log in again with the new password.',
    section_mobile: 'Change mobile number',
    section_mobile_intro: 'We send a code to the new number; your old number gets a notice.',
    section_sessions: 'Where you are signed in',
    sessions_only_this: 'You are signed in on this device only.',
    session_current: 'This device',
    device: '{browser} on {os}',
    device_unknown: 'Unknown device',
    browser_unknown: 'A browser',
    os_unknown: 'an unknown system',
    ip_unknown: 'unknown address',
    active_now: 'Active just now',
    active_minutes: 'Active {n} min ago',
    active_hours: 'Active {n} h ago',
    active_at: 'Active {time}',
    signed_in_at: 'Signed in {time}',
    mobile_changed: 'Your mobile number is now {mobile}.',
    password_changed: 'Your password was changed. Log in with the new one.',
  },
  zh: {
    brand: '{site}',
    title_register: '用户注册 · {site}',
    title_login: '用户登录 · {site}',
    title_user: '我的账户 · {site}',
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
    label_allow_before: '我已阅读并同意',
    label_allow_link: '用户协议',
    label_allow_after: '',
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
    title_reset: '找回密码 · {site}',
    reset_heading: '找回密码',
    reset_intro: '我们会向您账户绑定的手机号发送验证码。',
    tab_password: '密码登录',
    tab_sms: '验证码登录',
    tabs_login: '登录方式',
    link_forgot: '忘记密码？',
    link_back_login: '返回登录',
    label_old_password: '当前密码',
    label_new_password: '新密码',
    label_new_password2: '确认新密码',
    label_new_mobile: '新手机号',
    req_old_password: '请输入当前密码',
    req_new_password: '请输入新密码',
    req_new_password2: '请再次输入新密码',
    btn_reset: '重置密码并登录',
    btn_change_password: '修改密码',
    btn_change_mobile: '更换手机号',
    btn_sign_out: '退出',
    btn_sign_out_others: '退出其他设备',
    section_password: '修改密码',
    section_password_intro: '修改后所有设备（包括本设备）都将退出登录，请用新密码重新登录。',
    section_mobile: '更换手机号',
    section_mobile_intro: '验证码将发送到新手机号，原手机号会收到变更通知。',
    section_sessions: '登录设备',
    sessions_only_this: '目前只有本设备处于登录状态。',
    session_current: '本设备',
    device: '{os} 上的 {browser}',
    device_unknown: '未知设备',
    browser_unknown: '浏览器',
    os_unknown: '未知系统',
    ip_unknown: '未知地址',
    active_now: '刚刚活跃',
    active_minutes: '{n} 分钟前活跃',
    active_hours: '{n} 小时前活跃',
    active_at: '{time} 活跃',
    signed_in_at: '{time} 登录',
    mobile_changed: '您的手机号已更换为 {mobile}。',
    password_changed: '密码已修改，请使用新密码登录。',
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

  // The shop's name and terms link, put in the page's head by the server
  // (--site-name, --terms-url); a page without them (--web-root) is "regd".
  const meta = (name) => {
    const el = document.querySelector(`meta[name="${name}"]`);
    return el ? el.getAttribute('content') : '';
  };
  const site = {name: meta('regd-site-name') || 'regd', termsUrl: meta('regd-terms-url')};

  function t(key, vars) {
    const text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : MESSAGES.en[key] || key;
    const all = Object.assign({site: site.name}, vars);
    return text.replace(/\{(\w+)\}/g, (m, k) => (k in all ? String(all[k]) : m));
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

  // The captcha and "Get code" of a form that asks for an SMS code, shared
  // by every page that sends one. o: {button ("Get code"), note (where
  // "sent" is said), image (the captcha <img>), imageButton (the button
  // around it: a click shows a new captcha), imageInput, codeInput,
  // purpose (omitted for register, the seed's request), mobile() (the
  // number to send to), check() (true when mobile and captcha may be
  // sent; shows the page's own errors otherwise), onError(r) (shows a
  // failed request's error)}. The button counts down from the server's
  // Retry-After; Enter in the captcha field asks for the code. Returns
  // {request, renewCaptcha}; the page calls renewCaptcha() to show the
  // first captcha.
  function smsSender(o) {
    let imageCodeId = '';
    let inFlight = false;
    let countdownEnd = 0;
    let countdownTimer = 0;

    function renewCaptcha() {
      imageCodeId = uuid();
      o.image.src = `/image_codes/${imageCodeId}/`;
      o.imageInput.value = '';
    }

    function updateButton() {
      const left = Math.ceil((countdownEnd - Date.now()) / 1000);
      if (left > 0) {
        o.button.disabled = true;
        o.button.textContent = t('btn_resend_in', {n: left});
        return;
      }
      clearInterval(countdownTimer);
      o.button.disabled = inFlight;
      o.button.textContent = t(inFlight ? 'btn_sending' : 'btn_get_code');
    }

    function startCountdown(seconds) {
      countdownEnd = Date.now() + seconds * 1000;
      clearInterval(countdownTimer);
      countdownTimer = setInterval(updateButton, 1000);
      updateButton();
    }

    async function request() {
      if (inFlight || o.button.disabled) return;
      if (!o.check()) return;
      inFlight = true;
      updateButton();
      o.note.textContent = '';
      showError(o.codeInput, '');
      const mobile = o.mobile();
      const query = new URLSearchParams({image_code: o.imageInput.value.trim(), image_code_id: imageCodeId});
      if (o.purpose) query.set('purpose', o.purpose);
      const r = await api('GET', `/sms_codes/${encodeURIComponent(mobile)}/?${query}`);
      inFlight = false;
      // A captcha is spent by any attempt, right or wrong.
      renewCaptcha();
      if (r.ok) {
        o.note.textContent = t('sms_sent', {mobile});
        startCountdown(r.retryAfter || 60);
        o.codeInput.focus();
        return;
      }
      // A short wait (the per-mobile 60 s) counts down on the button; a long
      // one (a daily cap, a spent budget) is only explained by the message.
      if (r.status === 429 && (r.retryAfter || 60) <= 120) startCountdown(r.retryAfter || 60);
      updateButton();
      o.onError(r);
    }

    o.button.addEventListener('click', request);
    o.imageButton.addEventListener('click', () => {
      renewCaptcha();
      showError(o.imageInput, '');
      o.imageInput.focus();
    });
    o.imageInput.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      request();
    });
    return {request, renewCaptcha};
  }

  // The fields of one form, checked as the user leaves each and again on
  // submit, with the server's errors shown beside the field they name.
  // spec: {fields: {<server field name>: {input, check(value) -> '' or the
  // message}}, formError (the element for errors about no field)}. An error
  // the server reported for a value holds until the value changes (a
  // captcha's does not: each answer is a new question). Returns {value,
  // validate, validateAll, showServerError, reset}.
  function fieldSet(spec) {
    const fields = spec.fields;
    const serverErrors = {};  // name -> {value, msg}

    function value(name) {
      const el = fields[name].input;
      if (el.type === 'checkbox') return el.checked;
      return el.type === 'password' ? el.value : el.value.trim();
    }

    function fieldError(name) {
      const v = value(name);
      const known = serverErrors[name];
      if (known && known.value === v) return known.msg;
      return fields[name].check(v);
    }

    function validate(name) {
      const msg = fieldError(name);
      showError(fields[name].input, msg);
      return msg === '';
    }

    // Shows every error of `names` (default: all), focuses the first bad
    // field; true if none.
    function validateAll(names) {
      const bad = (names || Object.keys(fields)).filter((n) => !validate(n));
      if (bad.length) fields[bad[0]].input.focus();
      return bad.length === 0;
    }

    function setFormError(msg) {
      if (spec.formError) spec.formError.textContent = msg || '';
    }

    // Shows a failed request's errmsg beside the field the server names,
    // else beside `fallback` (a field name, or ''), else in the form's box.
    // Returns the field used, or ''.
    function showServerError(r, fallback) {
      let name = errorField(r);
      if (!(name in fields)) name = fallback || '';
      if (!name) {
        setFormError(r.errmsg);
        return '';
      }
      if (name !== 'image_code') serverErrors[name] = {value: value(name), msg: r.errmsg};
      showError(fields[name].input, r.errmsg);
      fields[name].input.focus();
      return name;
    }

    // Empties every field and forgets every error.
    function reset() {
      for (const [name, f] of Object.entries(fields)) {
        delete serverErrors[name];
        if (f.input.type === 'checkbox') f.input.checked = false;
        else f.input.value = '';
        showError(f.input, '');
      }
      setFormError('');
    }

    for (const [name, f] of Object.entries(fields)) {
      const el = f.input;
      // Errors appear when the user leaves a field and vanish as soon as it is fixed.
      el.addEventListener('blur', () => {
        // The captcha only matters for "Get code", which checks it itself.
        if (name === 'image_code' && value(name) === '') return;
        validate(name);
        for (const other of f.recheck || []) {
          if (value(other) !== '') validate(other);
        }
      });
      el.addEventListener('input', () => {
        if (el.getAttribute('aria-invalid') === 'true' && fieldError(name) === '') showError(el, '');
        for (const other of f.recheck || []) {
          if (fields[other].input.getAttribute('aria-invalid') === 'true') validate(other);
        }
        setFormError('');
      });
    }

    return {value, validate, validateAll, showServerError, reset};
  }

  // Check functions for fieldSet: a server rule ("password", "mobile"...)
  // with its own "required" message, and "the same as that field".
  function ruleCheck(rule, requiredKey) {
    return (v) => (v === '' ? t(requiredKey || `req_${rule}`) : checkRule(rule, v));
  }
  function sameCheck(otherInput, requiredKey, differKey) {
    return (v) => {
      if (v === '') return t(requiredKey);
      return v === otherInput.value ? '' : t(differKey);
    };
  }

  // A button that says "Please wait…" while `work` runs; resolves to its result.
  async function busy(button, work) {
    const label = button.textContent;
    button.disabled = true;
    button.textContent = t('btn_working');
    try {
      return await work();
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  applyI18n(document);

  return {
    lang,
    site,
    t,
    applyI18n,
    loadRules,
    checkRule,
    api,
    uuid,
    showError,
    showFormError,
    errorField,
    smsSender,
    fieldSet,
    ruleCheck,
    sameCheck,
    busy,
  };
})();
