import { api, me, next } from "../js/api.js";
import { PERSON_METHODS as METHODS } from "../js/labels.js";
import { clearErrors, escape, formData, modal, pageData, showError, toast } from "../js/ui.js";

/* A code sent for a phone check survives a reload: the verification's id and when the code was
   sent are kept for this tab, and the code dialog opens again while the code is still valid. */
const PENDING = "laborsign:h5-verify-code";
function remember(v) { sessionStorage.setItem(PENDING, JSON.stringify({ id: v.id, sent: Date.now() })); }
function forget() { sessionStorage.removeItem(PENDING); }
function pending() { try { return JSON.parse(sessionStorage.getItem(PENDING) || "null"); } catch (e) { return null; } }

/* The methods the platform offers (a disabled one is not on the page at all), in its order. */
const OFFERED = pageData().methods.split(",").filter(function (m) { return m in METHODS; });

async function start() {
  const params = new URLSearchParams(location.search);
  const nextPage = next("");
  const isPhone = window.matchMedia("(max-width: 700px)").matches || /Mobile|MicroMessenger|Android|iPhone/.test(navigator.userAgent);
  let method = "carrier3";
  const $ = function (id) { return document.getElementById(id); };
  function show(section) {
    ["v-loading", "v-consent", "v-method", "v-face", "v-result"].forEach(function (id) { $(id).hidden = id !== section; });
    const step = section === "v-consent" ? "consent" : section === "v-result" ? "result" : "method";
    document.querySelectorAll("#v-steps span").forEach(function (s) { s.classList.toggle("on", s.dataset.step === step); });
  }
  function useMethod(m) {
    method = m;
    $("method-label").textContent = METHODS[m];
    document.querySelectorAll("form[data-method]").forEach(function (f) { f.hidden = f.dataset.method !== m; });
  }
  function result(ok, title, detail) {
    show("v-result");
    $("v-result").classList.toggle("bad", !ok);
    $("result-mark").textContent = ok ? "✓" : "!";
    $("result-title").textContent = title;
    $("result-detail").textContent = detail || "";
    $("result-retry").hidden = ok;
    $("result-next").hidden = !ok;
    $("result-next").href = nextPage || "/h5";
    $("result-next").textContent = nextPage ? "继续办理" : "返回首页";
  }
  function showVerification(v) {
    if (v.status === "verified") result(true, "实名认证成功", v.name + "  " + v.id_number_masked);
    else if (v.status === "failed") result(false, "实名认证未通过", v.reason || "");
    else if (v.status === "redirect") faceWait(v);
  }
  let poll = null;
  function faceWait(v) {
    show("v-face");
    $("face-qr").src = v.qr_png;
    $("face-open").href = v.redirect_url;
    clearInterval(poll);
    poll = setInterval(async function () {
      const r = await api("GET", "/api/v1/me/verifications/" + v.id);
      if (r.ok && r.data.status !== "redirect") { clearInterval(poll); showVerification(r.data); }
    }, 2000);
  }

  const person = await me();
  if (!person) return;
  const state = await api("GET", "/api/v1/me/verification");
  if (!state.ok) { showError(null, state.data); return; }
  if (params.get("vid")) {
    const r = await api("GET", "/api/v1/me/verifications/" + encodeURIComponent(params.get("vid")));
    if (r.ok) { showVerification(r.data); return; }
  }
  if (state.data.verified) {
    result(true, "您已完成实名认证", state.data.name + "  " + (state.data.id_type_label || "") + " " + state.data.id_number_masked +
      "（" + (METHODS[state.data.method] || "") + "）一次认证，在所有用人单位通用");
    return;
  }
  $("c-phone").value = person.user.phone || "";
  useMethod(pageData().defaultMethod);
  show("v-consent");
  const open = pending();
  if (open) {
    const r = await api("GET", "/api/v1/me/verifications/" + encodeURIComponent(open.id));
    if (r.ok && r.data.status === "code_sent") {
      $("consent").checked = true;
      useMethod(r.data.method);
      show("v-method");
      askCode(r.data, open.sent);
    } else {
      forget();
      if (r.ok && r.data.status !== "code_sent") showVerification(r.data);
    }
  }

  $("agree").addEventListener("click", function () {
    if (!$("consent").checked) { $("consent-error").textContent = "请阅读并勾选同意《实名认证服务协议》"; return; }
    $("consent-error").textContent = "";
    show("v-method");
  });
  $("change-method").addEventListener("click", function () {
    const back = modal("<h3>更换认证方式</h3><div class=\"method-list\">" + OFFERED.map(function (m) {
      return '<button type="button" class="list-item" data-pick="' + m + '"><span>' + escape(METHODS[m]) + "</span><span>" + (m === method ? "当前" : "›") + "</span></button>";
    }).join("") + '</div><button type="button" class="block" data-close>取消</button>');
    back.querySelectorAll("[data-pick]").forEach(function (b) {
      b.addEventListener("click", function () { useMethod(b.dataset.pick); back.remove(); });
    });
  });
  $("result-retry").addEventListener("click", function () { show("v-method"); });

  document.querySelectorAll("form[data-method]").forEach(function (form) {
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      const d = formData(form);
      const body = Object.assign({ method: form.dataset.method, consent: $("consent").checked, id_type: "resident_id" }, d);
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      const r = await api("POST", "/api/v1/me/verifications", body);
      button.disabled = false;
      if (!r.ok) {
        if (r.data && r.data.fields && r.data.fields.consent) { show("v-consent"); $("consent-error").textContent = r.data.fields.consent; }
        showError(form, r.data);
        return;
      }
      form.querySelectorAll(".field-error").forEach(function (el) { el.textContent = ""; });
      form.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
      const v = r.data;
      if (v.status === "code_sent") { remember(v); return askCode(v, Date.now()); }
      if (v.status === "redirect") {
        if (isPhone) { location.href = v.redirect_url; return; }
        return faceWait(v);
      }
      showVerification(v);
    });
  });

  function askCode(v, sentAt) {
    const back = modal('<h3>短信验证</h3><p class="muted">验证码已发送至 ' + escape(v.phone_masked) + '</p><form id="code-form" novalidate>' +
      '<div class="input-with-button"><input name="code" id="v-code" type="text" inputmode="numeric" maxlength="6" placeholder="6位验证码" autocomplete="one-time-code">' +
      '<button type="button" id="v-resend" disabled>60秒后重发</button></div><div class="field-error" data-error-for="code"></div>' +
      '<button class="primary block" id="v-confirm">立即确认</button></form>');
    const form = back.querySelector("form");
    const resend = back.querySelector("#v-resend");
    let wait = 0, timer = null;
    function tick() {
      resend.textContent = wait > 0 ? wait + "秒后重发" : "重新发送";
      resend.disabled = wait > 0;
      if (wait <= 0) clearInterval(timer);
      wait -= 1;
    }
    function countFrom(at) {
      wait = Math.max(0, 60 - Math.floor((Date.now() - at) / 1000));
      clearInterval(timer); tick(); timer = setInterval(tick, 1000);
    }
    countFrom(sentAt);
    resend.addEventListener("click", async function () {
      const r = await api("POST", "/api/v1/me/verifications/" + v.id + "/resend");
      if (!r.ok) { showError(form, r.data); return; }
      clearErrors(form);
      remember(v); countFrom(Date.now());
      toast("验证码已重新发送");
    });
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      const r = await api("POST", "/api/v1/me/verifications/" + v.id + "/confirm", { code: form.code.value.trim() });
      if (!r.ok) {
        showError(form, r.data);
        if (r.status === 409) { clearInterval(timer); forget(); back.remove(); show("v-method"); }
        return;
      }
      clearInterval(timer);
      forget();
      back.remove();
      showVerification(r.data);
    });
  }
}

start();
