// Password reset page: mobile, captcha, "Get code" (a reset code, common.js),
// the code and the new password twice -> POST /password/reset/, which ends
// every session of the account and signs this browser in; then /user.html.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const t = regd.t;
  const form = $('reset-form');
  const submitBtn = $('submit');
  const smsNote = $('sms_code-note');
  const SUBMIT_FIELDS = ['mobile', 'sms_code', 'password', 'password2'];
  const fields = regd.fieldSet({
    fields: {
      mobile: {input: $('mobile'), check: regd.ruleCheck('mobile')},
      image_code: {input: $('image_code'), check: regd.ruleCheck('image_code')},
      sms_code: {input: $('sms_code'), check: regd.ruleCheck('sms_code')},
      password: {input: $('password'), check: regd.ruleCheck('password', 'req_new_password'), recheck: ['password2']},
      password2: {input: $('password2'), check: regd.sameCheck($('password'), 'req_new_password2', 'err_password2')},
    },
    formError: $('form-error'),
  });
  const sms = regd.smsSender({
    button: $('get-code'),
    note: smsNote,
    image: $('captcha-img'),
    imageButton: $('captcha-btn'),
    imageInput: $('image_code'),
    codeInput: $('sms_code'),
    purpose: 'reset',
    mobile: () => fields.value('mobile'),
    check: () => fields.validateAll(['mobile', 'image_code']),
    onError: (r) => fields.showServerError(r, 'sms_code'),
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (submitBtn.disabled || !fields.validateAll(SUBMIT_FIELDS)) return;
    regd.showFormError('');
    const body = {};
    for (const n of SUBMIT_FIELDS) body[n] = fields.value(n);
    const r = await regd.busy(submitBtn, () => regd.api('POST', '/password/reset/', body));
    if (r.ok) {
      window.location.assign('/user.html');
      return;
    }
    if (fields.showServerError(r, '') === 'sms_code') smsNote.textContent = '';
  });

  sms.renewCaptcha();
  regd.loadRules().then((loaded) => {
    // Without the rules the server's own checks still guard every request.
    if (!loaded) regd.showFormError(t('err_rules'));
  });
})();
