/* LaborSign page helpers: JSON API calls with the CSRF token, form errors, SMS countdown. */
(function () {
  "use strict";
  const LS = {};
  LS.csrf = sessionStorage.getItem("ls_csrf") || null;

  LS.setCsrf = function (token) {
    if (token) { LS.csrf = token; sessionStorage.setItem("ls_csrf", token); }
  };

  LS.api = async function (method, path, body, opts) {
    opts = opts || {};
    const headers = { "Accept": "application/json" };
    let payload = body;
    if (body !== undefined && body !== null && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    if (method !== "GET" && LS.csrf) headers["X-CSRF-Token"] = LS.csrf;
    let resp;
    try {
      resp = await fetch(path, { method: method, headers: headers, body: payload, credentials: "same-origin" });
    } catch (e) {
      LS.toast("网络连接失败，请检查网络后重试", true);
      throw e;
    }
    let data = null;
    const type = resp.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") >= 0) data = await resp.json();
    if (data && data.csrf) LS.setCsrf(data.csrf);
    if (resp.status === 401 && !opts.allow401) { LS.toLogin(); }
    if (resp.status === 403 && data && data.error === "csrf_failed" && !opts.retried) {
      const me = await LS.api("GET", "/api/v1/me", null, { allow401: true });
      if (me.ok) return LS.api(method, path, body, Object.assign({}, opts, { retried: true }));
    }
    return { ok: resp.ok, status: resp.status, data: data };
  };

  LS.loginPath = function () {
    return document.body.classList.contains("h5") ? "/h5/login" : "/login";
  };

  LS.toLogin = function () {
    const here = location.pathname + location.search;
    location.href = LS.loginPath() + "?next=" + encodeURIComponent(here);
  };

  LS.next = function (fallback) {
    const n = new URLSearchParams(location.search).get("next");
    return n && n.charAt(0) === "/" && n.charAt(1) !== "/" ? n : fallback;
  };

  LS.me = async function () {
    const r = await LS.api("GET", "/api/v1/me");
    return r.ok ? r.data : null;
  };

  let toastTimer = null;
  LS.toast = function (text, bad) {
    const el = document.getElementById("toast");
    if (!el) { alert(text); return; }
    el.textContent = text;
    el.className = "toast" + (bad ? " bad" : "");
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 3200);
  };

  /* Shows an API error: per-field messages next to inputs named like the fields. */
  LS.showError = function (form, data) {
    if (form) {
      form.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
      form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
    }
    if (!data) { LS.toast("操作失败，请稍后重试", true); return; }
    const fields = data.fields || {};
    let shown = false;
    Object.keys(fields).forEach(function (name) {
      if (!form) return;
      const input = form.querySelector('[name="' + name + '"]');
      const slot = form.querySelector('[data-error-for="' + name + '"]');
      if (input) input.classList.add("invalid");
      if (slot) { slot.textContent = fields[name]; shown = true; }
    });
    let message = data.message || "操作失败";
    if (data.retry_after) message += "（" + data.retry_after + " 秒后可重试）";
    if (!shown || !Object.keys(fields).length) LS.toast(message, true);
  };

  LS.formData = function (form) {
    const out = {};
    new FormData(form).forEach(function (value, key) { out[key] = typeof value === "string" ? value.trim() : value; });
    form.querySelectorAll('input[type=checkbox][name]').forEach(function (el) { out[el.name] = el.checked; });
    return out;
  };

  /* The image captcha the API asks for (428) after many codes from one network: resolves
     with {captcha_id, captcha_answer}, or null when the person closes the dialog. */
  LS.captcha = function (again) {
    return new Promise(function (resolve) {
      const back = LS.modal('<h3>请输入图形验证码</h3><form id="captcha-form" novalidate>' +
        '<p class="muted">' + (again ? "图形验证码错误或已失效，请重新输入。" : "当前网络获取短信验证码较频繁，请先输入图中的字符。") + "</p>" +
        '<p><img id="captcha-image" alt="图形验证码" width="160" height="60"> <button type="button" id="captcha-new">换一张</button></p>' +
        '<input id="captcha-answer" name="captcha_answer" maxlength="8" autocomplete="off" placeholder="图中字符">' +
        '<div class="row"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">确定</button></div></form>');
      let id = null;
      async function load() {
        const r = await LS.api("GET", "/api/v1/captcha");
        if (!r.ok) { LS.showError(null, r.data); return; }
        id = r.data.id;
        back.querySelector("#captcha-image").src = r.data.image;
      }
      back.querySelector("#captcha-new").addEventListener("click", load);
      back.querySelectorAll("[data-close]").forEach(function (b) { b.addEventListener("click", function () { resolve(null); }); });
      back.addEventListener("click", function (e) { if (e.target === back) resolve(null); });
      back.querySelector("form").addEventListener("submit", function (e) {
        e.preventDefault();
        back.remove();
        resolve({ captcha_id: id, captcha_answer: back.querySelector("#captcha-answer").value.trim() });
      });
      load();
      back.querySelector("#captcha-answer").focus();
    });
  };

  /* Sends a code, through the captcha when the API asks for one. */
  LS.sendCode = async function (phone, purpose) {
    const body = { phone: phone, purpose: purpose };
    let r = await LS.api("POST", "/api/v1/sms/codes", body);
    while (r.status === 428 || (r.status === 422 && r.data && r.data.error === "captcha_wrong")) {
      const solved = await LS.captcha(r.status === 422);
      if (!solved) break;
      r = await LS.api("POST", "/api/v1/sms/codes", Object.assign({}, body, solved));
    }
    return r;
  };

  /* Wires a "获取验证码" button: sends the code and counts down before a resend. */
  LS.codeButton = function (button, phoneInput, purpose, form) {
    button.addEventListener("click", async function () {
      const phone = (typeof phoneInput === "function" ? phoneInput() : phoneInput.value).trim();
      button.disabled = true;
      const r = await LS.sendCode(phone, purpose);
      let wait = 60;
      if (r.ok) {
        wait = r.data.resend_after || 60;
        LS.toast("验证码已发送，5分钟内有效");
      } else {
        LS.showError(form || null, r.data);
        if (r.status !== 429) { button.disabled = false; return; }
        wait = (r.data && r.data.retry_after) || 60;
      }
      const label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      const timer = setInterval(function () {
        wait -= 1;
        button.textContent = wait + "秒后重发";
        if (wait <= 0) { clearInterval(timer); button.textContent = label; button.disabled = false; }
      }, 1000);
      button.textContent = wait + "秒后重发";
    });
  };

  /* Brings login_form.html to life: the code / password tabs (the submit button's label follows
     them), the code button and the login call; `done(data, fields)` takes over once logged in. */
  LS.loginForm = function (form, side, done) {
    const submit = form.querySelector("button[type=submit]");
    let mode = "code";
    document.querySelectorAll("[data-tab]").forEach(function (tab) {
      tab.addEventListener("click", function () {
        mode = tab.dataset.tab;
        document.querySelectorAll("[data-tab]").forEach(function (t) { t.classList.toggle("active", t === tab); });
        document.querySelectorAll("[data-pane]").forEach(function (p) { p.hidden = p.dataset.pane !== mode; });
        submit.textContent = mode === "code" ? submit.dataset.labelCode : submit.dataset.labelPassword;
      });
    });
    LS.codeButton(form.querySelector("#send-code"), form.querySelector("#phone"), "login", form);
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      const d = LS.formData(form);
      const body = { side: side, phone: d.phone, agree_terms: d.agree_terms };
      if (mode === "code") body.code = d.code; else body.password = d.password;
      const r = await LS.api("POST", "/api/v1/auth/login", body, { allow401: true });
      if (!r.ok) { LS.showError(form, r.data); return; }
      done(r.data, d);
    });
  };

  LS.escape = function (text) {
    return String(text === null || text === undefined ? "" : text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };

  LS.formatTime = function (iso) {
    if (!iso) return "";
    return iso.replace("T", " ").slice(0, 16);
  };

  LS.modal = function (html) {
    const back = document.createElement("div");
    back.className = "modal-backdrop";
    back.innerHTML = '<div class="modal" role="dialog">' + html + "</div>";
    document.body.appendChild(back);
    back.addEventListener("click", function (e) { if (e.target === back) back.remove(); });
    back.querySelectorAll("[data-close]").forEach(function (b) { b.addEventListener("click", function () { back.remove(); }); });
    return back;
  };

  LS.ROLE = { admin: "管理员", member: "成员" };
  LS.PERMISSIONS = { templates: "模板管理", contracts: "合同管理", onboarding: "入职与花名册" };
  LS.VERIFICATION = { unverified: "未认证", pending: "认证中", verified: "已认证", failed: "认证失败" };

  /* Employer pages: header with enterprise name, nav from the registered home entries. */
  LS.dashboardChrome = async function () {
    const me = await LS.me();
    if (!me) return;
    if (!me.enterprise) { location.href = me.enterprises.length ? "/choose" : "/register"; return; }
    LS.current = me;
    const ent = document.getElementById("who-enterprise");
    ent.textContent = me.enterprise.name;
    ent.title = me.enterprise.name;
    document.getElementById("who-name").textContent = (me.user && (me.user.name || me.user.phone_masked)) || "";
    if (me.enterprises.length > 1) document.getElementById("switch-enterprise").hidden = false;
    document.getElementById("logout").addEventListener("click", async function () {
      await LS.api("POST", "/api/v1/auth/logout", null, { allow401: true });
      sessionStorage.removeItem("ls_csrf");
      location.href = "/login";
    });
    const nav = document.getElementById("topnav");
    (window.LS_NAV || []).forEach(function (item) {
      const a = document.createElement("a");
      a.href = item.href; a.textContent = item.title;
      nav.appendChild(a);
    });
    document.dispatchEvent(new CustomEvent("ls:me", { detail: me }));
  };

  /* Runs fn(me) once the dashboard chrome has loaded the current user. */
  LS.onMe = function (fn) {
    if (LS.current) fn(LS.current);
    else document.addEventListener("ls:me", function (e) { fn(e.detail); }, { once: true });
  };

  window.LS = LS;
})();
