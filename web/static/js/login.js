// Login page: username (or mobile) + password; on success go to /user.html.
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
})();
