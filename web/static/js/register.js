// Register page: checks each field as the user leaves it, asks the server
// whether the username / mobile is free, fetches the captcha image and the
// SMS code, and posts the form. Errors appear under the field they concern.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const t = regd.t;
  const form = $('register-form');
  const submitBtn = $('submit');
  const smsBtn = $('get-code');
  const captchaImg = $('captcha-img');
  const smsNote = $('sms_code-note');
  const fields = {};
  for (const name of ['username', 'password', 'password2', 'mobile', 'image_code', 'sms_code', 'allow']) {
    fields[name] = $(name);
  }
  // The fields POST /register/ needs; the captcha is only for "Get code".
  const SUBMIT_FIELDS = ['username', 'password', 'password2', 'mobile', 'sms_code', 'allow'];
  const COUNT_PATHS = {username: '/usernames/', mobile: '/mobiles/'};
  const TAKEN_MESSAGES = {username: 'err_username_taken', mobile: 'err_mobile_taken'};

  // An error the server reported for a value; it holds until the value changes.
  const serverErrors = {};  // name -> {value, msg}
  const lastCounted = {};   // name -> value last sent to the count endpoint
  let imageCodeId = '';
  let smsInFlight = false;
  let countdownEnd = 0;
  let countdownTimer = 0;
  let submitting = false;

  function value(name) {
    const el = fields[name];
    if (el.type === 'checkbox') return el.checked;
    return el.type === 'password' ? el.value : el.value.trim();
  }

  // '' if the field is valid, else the message to show.
  function fieldError(name) {
    const v = value(name);
    const known = serverErrors[name];
    if (known && known.value === v) return known.msg;
    if (name === 'password2') return v !== '' && v === value('password') ? '' : t('err_password2');
    if (name === 'allow') return v ? '' : t('err_allow');
    return regd.checkRule(name, v);
  }

  function validate(name) {
    const msg = fieldError(name);
    regd.showError(fields[name], msg);
    return msg === '';
  }

  function refreshSubmit() {
    submitBtn.disabled = submitting || SUBMIT_FIELDS.some((n) => fieldError(n) !== '');
  }

  async function checkTaken(name) {
    const v = value(name);
    if (regd.checkRule(name, v) || lastCounted[name] === v) return;
    lastCounted[name] = v;
    const r = await regd.api('GET', `${COUNT_PATHS[name]}${encodeURIComponent(v)}/count/`);
    // On failure say nothing: the server checks again when the form is posted.
    if (!r.ok || !(r.data.count > 0)) return;
    serverErrors[name] = {value: v, msg: t(TAKEN_MESSAGES[name])};
    if (value(name) === v) validate(name);
    refreshSubmit();
  }

  function renewCaptcha() {
    imageCodeId = regd.uuid();
    captchaImg.src = `/image_codes/${imageCodeId}/`;
  }

  function updateSmsButton() {
    const left = Math.ceil((countdownEnd - Date.now()) / 1000);
    if (left > 0) {
      smsBtn.disabled = true;
      smsBtn.textContent = t('btn_resend_in', {n: left});
      return;
    }
    clearInterval(countdownTimer);
    smsBtn.disabled = smsInFlight;
    smsBtn.textContent = t(smsInFlight ? 'btn_sending' : 'btn_get_code');
  }

  function startCountdown(seconds) {
    countdownEnd = Date.now() + seconds * 1000;
    clearInterval(countdownTimer);
    countdownTimer = setInterval(updateSmsButton, 1000);
    updateSmsButton();
  }

  async function requestSmsCode() {
    if (smsInFlight || smsBtn.disabled) return;
    const mobileOk = validate('mobile');
    const captchaOk = validate('image_code');
    if (!mobileOk || !captchaOk) {
      fields[mobileOk ? 'image_code' : 'mobile'].focus();
      return;
    }
    smsInFlight = true;
    updateSmsButton();
    smsNote.textContent = '';
    regd.showError(fields.sms_code, '');
    const query = new URLSearchParams({image_code: value('image_code'), image_code_id: imageCodeId});
    const r = await regd.api('GET', `/sms_codes/${encodeURIComponent(value('mobile'))}/?${query}`);
    smsInFlight = false;
    // A captcha is spent by any attempt, right or wrong.
    renewCaptcha();
    fields.image_code.value = '';
    if (r.ok) {
      smsNote.textContent = t('sms_sent');
      startCountdown(r.retryAfter || 60);
      fields.sms_code.focus();
      return;
    }
    if (r.status === 429) startCountdown(r.retryAfter || 60);
    updateSmsButton();
    const field = r.status === 400 ? regd.guessField(r.errmsg) : '';
    const target = field === 'mobile' || field === 'image_code' ? field : 'sms_code';
    regd.showError(fields[target], r.errmsg);
    if (target === 'mobile') serverErrors.mobile = {value: value('mobile'), msg: r.errmsg};
    fields[target].focus();
    refreshSubmit();
  }

  async function submit(event) {
    event.preventDefault();
    const bad = SUBMIT_FIELDS.filter((n) => !validate(n));
    if (bad.length || submitting) {
      if (bad.length) fields[bad[0]].focus();
      refreshSubmit();
      return;
    }
    submitting = true;
    refreshSubmit();
    submitBtn.textContent = t('btn_working');
    regd.showFormError('');
    const body = {};
    for (const n of SUBMIT_FIELDS) body[n] = value(n);
    body.allow = true;
    const r = await regd.api('POST', '/register/', body);
    if (r.ok) {
      window.location.assign('/user.html');
      return;
    }
    submitting = false;
    submitBtn.textContent = t('btn_register');
    const field = r.status === 400 || r.status === 409 ? regd.guessField(r.errmsg) : '';
    if (SUBMIT_FIELDS.includes(field)) {
      if (field === 'sms_code') smsNote.textContent = '';
      serverErrors[field] = {value: value(field), msg: r.errmsg};
      validate(field);
      fields[field].focus();
    } else {
      regd.showFormError(r.errmsg);
    }
    refreshSubmit();
  }

  for (const [name, el] of Object.entries(fields)) {
    if (el.type === 'checkbox') {
      el.addEventListener('change', () => {
        validate(name);
        refreshSubmit();
      });
      continue;
    }
    // Errors appear when the user leaves a field and vanish as soon as it is fixed.
    el.addEventListener('blur', () => {
      // The captcha only matters for "Get code", which checks it itself.
      if (name === 'image_code' && value(name) === '') return;
      validate(name);
      if (name in COUNT_PATHS) checkTaken(name);
      refreshSubmit();
    });
    el.addEventListener('input', () => {
      if (el.getAttribute('aria-invalid') === 'true' && fieldError(name) === '') regd.showError(el, '');
      if (name === 'password' && fields.password2.value !== '') validate('password2');
      refreshSubmit();
    });
  }
  fields.image_code.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      requestSmsCode();
    }
  });
  $('captcha-btn').addEventListener('click', () => {
    renewCaptcha();
    fields.image_code.value = '';
    fields.image_code.focus();
  });
  smsBtn.addEventListener('click', requestSmsCode);
  form.addEventListener('submit', submit);

  renewCaptcha();
  refreshSubmit();
})();
