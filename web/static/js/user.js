// Signed-in page: shows who is signed in (GET /info/) and logs out
// (DELETE /logout/). Without a session it goes to the login page.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const t = regd.t;
  const logoutBtn = $('logout');

  async function load() {
    const r = await regd.api('GET', '/info/');
    if (r.status === 401) {
      window.location.replace('/login.html');
      return;
    }
    if (!r.ok) {
      $('profile').hidden = true;
      regd.showFormError(r.errmsg);
      return;
    }
    const info = r.data.info_data || {};
    const username = String(info.username || '');
    $('avatar').textContent = username.charAt(0).toUpperCase();
    $('signed-in').textContent = t('signed_in_as', {username});
    $('mobile').textContent = info.mobile ? t('mobile_is', {mobile: info.mobile}) : '';
  }

  logoutBtn.addEventListener('click', async () => {
    logoutBtn.disabled = true;
    logoutBtn.textContent = t('btn_working');
    regd.showFormError('');
    const r = await regd.api('DELETE', '/logout/');
    if (r.ok || r.status === 401) {
      window.location.assign('/login.html');
      return;
    }
    logoutBtn.disabled = false;
    logoutBtn.textContent = t('btn_logout');
    regd.showFormError(r.errmsg);
  });

  load();
})();
