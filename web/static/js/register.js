// Register page: checks each field with the server's rules (GET /rules.json)
// as the user leaves it, asks the server whether the username / mobile is
// free, fetches the captcha image and the SMS code, and posts the form.
// Errors, the page's own and the server's, appear under the field they
// concern; the submit button stays disabled until every field is valid.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const t = regd.t;
  const form = $('register-form');
  const submitBtn = $('submit');
  const smsBtn = $('get-code');
  const captchaImg = $('captcha-img');
  const smsNote = $('sms_code-note');
  // With --terms-url, "the user agreement" is a link to the shop's terms.
  if (regd.site.termsUrl) {
    const label = document.querySelector('label[for="allow"]');
    const link = document.createElement('a');
    link.href = regd.site.termsUrl;
    link.target = '_blank';
    link.rel = 'noopener';
    link.id = 'terms-link';
    link.textContent = t('label_allow_link');
    label.replaceChildren(t('label_allow_before'), link, t('label_allow_after'));
  }
  const fields = {};
  for (const name of ['username', 'password', 'password2', 'mobile', 'image_code', 'sms_code', 'allow']) {
    fields[name] = $(name);
  }
  // The fields POST /register/ needs, in page order; the captcha is only
  // for "Get code".
  const SUBMIT_FIELDS = ['username', 'password', 'password2', 'mobile', 'sms_code', 'allow'];
  const SMS_FIELDS = ['mobile', 'image_code', 'sms_code'];
  const COUNT_PATHS = {username: '/usernames/', mobile: '/mobiles/'};
  const TAKEN_MESSAGES = {username: 'err_username_taken', mobile: 'err_mobile_taken'};

  // An error the server reported for a value; it holds until the value changes.
  const serverErrors = {};  // name -> {value, msg}
  const lastCounted = {};   // name -> value last sent to the count endpoint
  let ready = false;        // rules loaded, handlers wired
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
    if (name === 'password2') {
      if (v === '') return t('req_password2');
      return v === value('password') ? '' : t('err_password2');
    }
    if (name === 'allow') return v ? '' : t('err_allow');
    return regd.checkRule(name, v);
  }

  function validate(name) {
    const msg = fieldError(name);
    regd.showError(fields[name], msg);
    return msg === '';
  }

  // Shows every error of `names`, focuses the first bad field; true if none.
  function validateAll(names) {
    const bad = names.filter((n) => !validate(n));
    if (bad.length) fields[bad[0]].focus();
    return bad.length === 0;
  }

  function refreshSubmit() {
    submitBtn.disabled = !ready || submitting || SUBMIT_FIELDS.some((n) => fieldError(n) !== '');
  }

  // Shows a failed request's errmsg beside the field the server names (if it
  // is one of `allowed`), else beside `fallback`, else above the button.
  // Returns the field used, or ''.
  function showServerError(r, allowed, fallback) {
    let name = regd.errorField(r);
    if (!allowed.includes(name)) name = fallback;
    if (!name) {
      regd.showFormError(r.errmsg);
      return '';
    }
    if (name !== 'image_code') serverErrors[name] = {value: value(name), msg: r.errmsg};
    regd.showError(fields[name], r.errmsg);
    fields[name].focus();
    return name;
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

  // The captcha and "Get code" (common.js); the register code is the
  // seed's request, without a purpose.
  const sms = regd.smsSender({
    button: smsBtn,
    note: smsNote,
    image: captchaImg,
    imageButton: $('captcha-btn'),
    imageInput: fields.image_code,
    codeInput: fields.sms_code,
    mobile: () => value('mobile'),
    check: () => ready && validateAll(['mobile', 'image_code']),
    onError: (r) => {
      showServerError(r, SMS_FIELDS, 'sms_code');
      refreshSubmit();
    },
  });

  async function submit(event) {
    event.preventDefault();
    if (!ready || submitting) return;
    if (!validateAll(SUBMIT_FIELDS)) {
      refreshSubmit();
      return;
    }
    submitting = true;
    refreshSubmit();
    submitBtn.textContent = t('btn_working');
    regd.showFormError('');
    const body = {};
    for (const n of SUBMIT_FIELDS) body[n] = value(n);
    const r = await regd.api('POST', '/register/', body);
    if (r.ok) {
      window.location.assign('/user.html');
      return;
    }
    submitting = false;
    submitBtn.textContent = t('btn_register');
    if (showServerError(r, SUBMIT_FIELDS, '') === 'sms_code') smsNote.textContent = '';
    refreshSubmit();
  }

  // Field checks start once the server's rules are known.
  function wireFields() {
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
        if (name === 'password' && fields.password2.value !== '') validate('password2');
        if (name in COUNT_PATHS) checkTaken(name);
        refreshSubmit();
      });
      el.addEventListener('input', () => {
        if (el.getAttribute('aria-invalid') === 'true' && fieldError(name) === '') regd.showError(el, '');
        if (name === 'password' && fields.password2.getAttribute('aria-invalid') === 'true') validate('password2');
        refreshSubmit();
      });
    }
  }

  // Enter in the captcha asks for the code (smsSender); Enter elsewhere
  // while the form is incomplete shows what is missing (a disabled button
  // would ignore it).
  form.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.target.tagName !== 'INPUT') return;
    if (event.target === fields.image_code) return;
    if (submitBtn.disabled) {
      event.preventDefault();
      if (ready && !submitting) validateAll(SUBMIT_FIELDS);
    }
  });
  // Bound before the rules arrive: the form must never submit natively.
  form.addEventListener('submit', submit);

  sms.renewCaptcha();
  refreshSubmit();
  regd.loadRules().then((loaded) => {
    // Without the rules the server's own checks still guard every request.
    if (!loaded) regd.showFormError(t('err_rules'));
    ready = true;
    wireFields();
    refreshSubmit();
  });
})();
