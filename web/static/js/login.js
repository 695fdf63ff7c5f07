// Login page, two tabs: username (or mobile) + password, or mobile + SMS
// code (POST /login/sms/, the captcha and "Get code" of common.js). On
// success go to /user.html. login.html#sms opens the SMS tab;
// ?changed=password says the password was just changed.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const t = regd.t;
  const form = $('login-form');
  const submitBtn = $('submit');
  const remembered = $('remembered');
  // Input element -> message when it is left empty. Login checks no format:
  // the field may hold a username or a mobile number.
  const fields = [
    [$('username'), 'err_login_username'],
    [$('password'), 'err_login_password'],
  ];

  function value(el) {
    return el.type === 'password' ? el.value : el.value.trim();
  }

  function validate(el, message) {
    const msg = value(el) === '' ? t(message) : '';
    regd.showError(el, msg);
    return msg === '';
  }

  for (const [el, message] of fields) {
    el.addEventListener('blur', () => validate(el, message));
    el.addEventListener('input', () => {
      if (el.getAttribute('aria-invalid') === 'true' && value(el) !== '') regd.showError(el, '');
      regd.showFormError('');
    });
  }

  let submitting = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submitting) return;
    const bad = fields.filter(([el, message]) => !validate(el, message));
    if (bad.length) {
      bad[0][0].focus();
      return;
    }
    submitting = true;
    submitBtn.disabled = true;
    submitBtn.textContent = t('btn_working');
    regd.showFormError('');
    const r = await regd.api('POST', '/login/', {
      username: value(fields[0][0]),
      password: value(fields[1][0]),
      remembered: remembered.checked,
    });
    if (r.ok) {
      window.location.assign('/user.html');
      return;
    }
    submitting = false;
    submitBtn.disabled = false;
    submitBtn.textContent = t('btn_login');
    regd.showFormError(r.errmsg);
    // Most often the password was mistyped: ready to type it again.
    if (r.status === 400) fields[1][0].select();
  });

  // Tabs (the WAI-ARIA pattern): a click or the arrow keys switch; only the
  // selected tab is in the Tab order.
  const tabs = [
    [$('tab-password'), form],
    [$('tab-sms'), $('sms-form')],
  ];
  let smsStarted = false;

  function selectTab(index, focus) {
    tabs.forEach(([tab, panel], i) => {
      const on = i === index;
      tab.setAttribute('aria-selected', on ? 'true' : 'false');
      tab.tabIndex = on ? 0 : -1;
      panel.hidden = !on;
    });
    if (focus) tabs[index][0].focus();
    if (index === 1 && !smsStarted) startSms();
    history.replaceState(null, '', index === 1 ? '#sms' : window.location.pathname + window.location.search);
  }

  tabs.forEach(([tab], i) => {
    tab.addEventListener('click', () => selectTab(i, false));
    tab.addEventListener('keydown', (event) => {
      const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[event.key];
      if (event.key === 'Home' || event.key === 'End') {
        event.preventDefault();
        selectTab(event.key === 'Home' ? 0 : tabs.length - 1, true);
      } else if (step) {
        event.preventDefault();
        selectTab((i + step + tabs.length) % tabs.length, true);
      }
    });
  });

  // The SMS tab. Its captcha is fetched only when the tab is first shown.
  const smsForm = $('sms-form');
  const smsSubmit = $('sms-submit');
  const smsNote = $('sms_code-note');
  const smsFields = regd.fieldSet({
    fields: {
      mobile: {input: $('mobile'), check: regd.ruleCheck('mobile')},
      image_code: {input: $('image_code'), check: regd.ruleCheck('image_code')},
      sms_code: {input: $('sms_code'), check: regd.ruleCheck('sms_code')},
    },
    formError: $('sms-form-error'),
  });
  const sms = regd.smsSender({
    button: $('get-code'),
    note: smsNote,
    image: $('captcha-img'),
    imageButton: $('captcha-btn'),
    imageInput: $('image_code'),
    codeInput: $('sms_code'),
    purpose: 'login',
    mobile: () => smsFields.value('mobile'),
    check: () => smsFields.validateAll(['mobile', 'image_code']),
    onError: (r) => smsFields.showServerError(r, 'sms_code'),
  });

  function startSms() {
    smsStarted = true;
    sms.renewCaptcha();
    regd.loadRules();
  }

  smsForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (smsSubmit.disabled || !smsFields.validateAll(['mobile', 'sms_code'])) return;
    $('sms-form-error').textContent = '';
    const r = await regd.busy(smsSubmit, () =>
      regd.api('POST', '/login/sms/', {
        mobile: smsFields.value('mobile'),
        sms_code: smsFields.value('sms_code'),
        remembered: $('sms-remembered').checked,
      }),
    );
    if (r.ok) {
      window.location.assign('/user.html');
      return;
    }
    if (smsFields.showServerError(r, '') === 'sms_code') smsNote.textContent = '';
  });

  if (new URLSearchParams(window.location.search).get('changed') === 'password') {
    $('login-notice').textContent = t('password_changed');
  }
  if (window.location.hash === '#sms') selectTab(1, false);
})();
