// The account page: who is signed in (GET /info/), change password
// (PUT /password/: every session ends, so on to the login page), change
// mobile (a change_mobile code to the new number, then PUT /mobile/), the
// sessions list (GET /sessions/) with "Sign out" per session and "Sign out
// everywhere else", and log out. Any 401 means this session has ended
// (here or elsewhere): go to the login page.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const t = regd.t;
  const logoutBtn = $('logout');
  let leaving = false;

  function toLogin(query) {
    leaving = true;
    window.location.replace(`/login.html${query || ''}`);
  }

  // regd.api, but a 401 leaves for the login page (the caller then stops:
  // `leaving` is set).
  async function call(method, path, body) {
    const r = await regd.api(method, path, body);
    if (r.status === 401) toLogin();
    return r;
  }

  function showInfo(info) {
    const username = String(info.username || '');
    $('avatar').textContent = username.charAt(0).toUpperCase();
    $('signed-in').textContent = t('signed_in_as', {username});
    $('mobile').textContent = info.mobile ? t('mobile_is', {mobile: info.mobile}) : '';
    $('password-username').value = username;
  }

  async function loadInfo() {
    const r = await call('GET', '/info/');
    if (leaving) return;
    if (!r.ok) {
      $('profile').hidden = true;
      regd.showFormError(r.errmsg);
      return;
    }
    showInfo(r.data.info_data || {});
  }

  // ---- Sessions ----

  // "Chrome on Linux" from a User-Agent header; the common browsers and
  // systems only, most specific first.
  const BROWSERS = [
    [/\bEdg(e|A|iOS)?\//, 'Edge'],
    [/\bOPR\/|\bOpera\b/, 'Opera'],
    [/\bMicroMessenger\//, 'WeChat'],
    [/\bUCBrowser\//, 'UC Browser'],
    [/\bSamsungBrowser\//, 'Samsung Internet'],
    [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
    [/\b(Headless)?Chrome\/|\bCriOS\/|\bChromium\//, 'Chrome'],
    [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
  ];
  const SYSTEMS = [
    [/\biPhone\b/, 'iPhone'],
    [/\biPad\b/, 'iPad'],
    [/\bAndroid\b/, 'Android'],
    [/\bCrOS\b/, 'ChromeOS'],
    [/\bWindows\b/, 'Windows'],
    [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
    [/\bLinux\b/, 'Linux'],
  ];

  function deviceName(ua) {
    if (!ua) return t('device_unknown');
    const browser = BROWSERS.find(([re]) => re.test(ua));
    const system = SYSTEMS.find(([re]) => re.test(ua));
    if (!browser && !system) {
      // A tool (curl/8.5.0, python-requests/2.31, node): its product name.
      const product = /^([A-Za-z][\w.-]{0,30})(\/|$)/.exec(ua);
      return product && product[1] !== 'Mozilla' ? product[1] : t('device_unknown');
    }
    return t('device', {
      browser: browser ? browser[1] : t('browser_unknown'),
      os: system ? system[1] : t('os_unknown'),
    });
  }

  const locale = regd.lang === 'zh' ? 'zh-CN' : 'en';
  function localTime(ms) {
    return new Date(ms).toLocaleString(locale, {dateStyle: 'medium', timeStyle: 'short'});
  }

  // When the session was last used: relative within a day, else local time.
  // last_seen_at is written at most once a minute, so "just now" covers 2 min.
  function activeText(ms, current) {
    const minutes = Math.floor((Date.now() - ms) / 60000);
    if (current || minutes < 2) return t('active_now');
    if (minutes < 60) return t('active_minutes', {n: minutes});
    if (minutes < 24 * 60) return t('active_hours', {n: Math.floor(minutes / 60)});
    return t('active_at', {time: localTime(ms)});
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // One <li>: the device (and "This device"), where and when, since when,
  // and "Sign out" unless it is this session. Flat, so the CSS grid can
  // give the details the full width on a phone.
  function sessionItem(s) {
    const li = el('li', s.current ? 'session current' : 'session');
    li.dataset.id = s.id;
    const name = el('p', 'session-device', deviceName(String(s.user_agent || '')));
    if (s.current) name.append(' ', el('span', 'badge', t('session_current')));
    const seen = Date.parse(s.last_seen_at);
    const created = Date.parse(s.created_at);
    const meta = el('p', 'session-meta');
    meta.append(String(s.ip || t('ip_unknown')));
    if (!Number.isNaN(seen)) {
      const when = el('time', '', activeText(seen, s.current));
      when.dateTime = s.last_seen_at;
      when.title = localTime(seen);
      meta.append(' · ', when);
    }
    li.append(name, meta);
    if (!Number.isNaN(created)) {
      li.append(el('p', 'session-meta', t('signed_in_at', {time: localTime(created)})));
    }
    if (!s.current) {
      const btn = el('button', 'btn-small session-end', t('btn_sign_out'));
      btn.type = 'button';
      btn.addEventListener('click', () => endSession(btn, s.id));
      li.append(btn);
    }
    return li;
  }

  const othersBtn = $('sign-out-others');
  const sessionsError = $('sessions-error');

  async function loadSessions() {
    const r = await call('GET', '/sessions/');
    if (leaving) return;
    $('sessions-loading').hidden = true;
    if (!r.ok) {
      sessionsError.textContent = r.errmsg;
      return;
    }
    sessionsError.textContent = '';
    const list = Array.isArray(r.data.sessions) ? r.data.sessions : [];
    $('sessions').replaceChildren(...list.map(sessionItem));
    const others = list.filter((s) => !s.current).length;
    othersBtn.hidden = others === 0;
    $('sessions-only').hidden = others !== 0;
  }

  async function endSession(btn, id) {
    sessionsError.textContent = '';
    const r = await regd.busy(btn, () => call('DELETE', `/sessions/${encodeURIComponent(id)}/`));
    if (leaving) return;
    await loadSessions();
    // 404: that session had already ended; the new list shows it is gone.
    if (!r.ok && r.status !== 404) sessionsError.textContent = r.errmsg;
  }

  othersBtn.addEventListener('click', async () => {
    sessionsError.textContent = '';
    const r = await regd.busy(othersBtn, () => call('DELETE', '/sessions/'));
    if (leaving) return;
    await loadSessions();
    if (!r.ok) sessionsError.textContent = r.errmsg;
  });

  // Back to this tab: the list may have changed, or this session ended.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !leaving) loadSessions();
  });

  // ---- Change password ----

  const passwordSubmit = $('password-submit');
  const passwordFields = regd.fieldSet({
    fields: {
      old_password: {input: $('old_password'), check: (v) => (v === '' ? t('req_old_password') : '')},
      new_password: {
        input: $('new_password'),
        check: regd.ruleCheck('password', 'req_new_password'),
        recheck: ['new_password2'],
      },
      new_password2: {
        input: $('new_password2'),
        check: regd.sameCheck($('new_password'), 'req_new_password2', 'err_password2'),
      },
    },
    formError: $('password-form-error'),
  });

  $('password-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (passwordSubmit.disabled || !passwordFields.validateAll()) return;
    const body = {};
    for (const n of ['old_password', 'new_password', 'new_password2']) body[n] = passwordFields.value(n);
    const r = await regd.busy(passwordSubmit, () => call('PUT', '/password/', body));
    if (leaving) return;
    // Every session has ended, this one too, and the cookies are cleared.
    if (r.ok) return toLogin('?changed=password');
    passwordFields.showServerError(r, '');
  });

  // ---- Change mobile ----

  const mobileSubmit = $('mobile-submit');
  const mobileNote = $('cm_sms_code-note');
  const mobileDone = $('mobile-form-done');
  // Keyed by the server's field names; the inputs are cm_* on this page.
  const mobileFields = regd.fieldSet({
    fields: {
      mobile: {input: $('cm_mobile'), check: regd.ruleCheck('mobile')},
      image_code: {input: $('cm_image_code'), check: regd.ruleCheck('image_code')},
      sms_code: {input: $('cm_sms_code'), check: regd.ruleCheck('sms_code')},
      password: {input: $('cm_password'), check: (v) => (v === '' ? t('req_old_password') : '')},
    },
    formError: $('mobile-form-error'),
  });
  const sms = regd.smsSender({
    button: $('cm-get-code'),
    note: mobileNote,
    image: $('cm-captcha-img'),
    imageButton: $('cm-captcha-btn'),
    imageInput: $('cm_image_code'),
    codeInput: $('cm_sms_code'),
    purpose: 'change_mobile',
    mobile: () => mobileFields.value('mobile'),
    check: () => {
      mobileDone.textContent = '';
      return mobileFields.validateAll(['mobile', 'image_code']);
    },
    onError: (r) => {
      if (r.status === 401) return toLogin();
      mobileFields.showServerError(r, 'sms_code');
    },
  });

  // The captcha is fetched when the section is first opened.
  let captchaShown = false;
  $('mobile-section').addEventListener('toggle', () => {
    if (!$('mobile-section').open || captchaShown) return;
    captchaShown = true;
    sms.renewCaptcha();
  });

  $('mobile-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    mobileDone.textContent = '';
    if (mobileSubmit.disabled || !mobileFields.validateAll(['mobile', 'sms_code', 'password'])) return;
    const mobile = mobileFields.value('mobile');
    const body = {mobile, sms_code: mobileFields.value('sms_code'), password: mobileFields.value('password')};
    const r = await regd.busy(mobileSubmit, () => call('PUT', '/mobile/', body));
    if (leaving) return;
    if (!r.ok) {
      if (mobileFields.showServerError(r, '') === 'sms_code') mobileNote.textContent = '';
      return;
    }
    mobileFields.reset();
    mobileNote.textContent = '';
    sms.renewCaptcha();
    mobileDone.textContent = t('mobile_changed', {mobile});
    $('mobile').textContent = t('mobile_is', {mobile});
    loadInfo();
  });

  // ---- Log out ----

  logoutBtn.addEventListener('click', async () => {
    regd.showFormError('');
    const r = await regd.busy(logoutBtn, () => regd.api('DELETE', '/logout/'));
    if (r.ok || r.status === 401) {
      window.location.assign('/login.html');
      return;
    }
    regd.showFormError(r.errmsg);
  });

  regd.loadRules();
  loadInfo();
  loadSessions();
})();
