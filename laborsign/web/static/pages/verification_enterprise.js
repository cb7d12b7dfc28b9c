import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { ORG_TYPES as ORG } from "../js/labels.js";
import { escape, formData, formatTime, pageData, showError, toast } from "../js/ui.js";

const $ = function (id) { return document.getElementById(id); };
const ORDER = ["confirm_info", "operator", "organization", "done"];
let state = null;
let restarting = false;
function dl(el, rows) {
  el.innerHTML = rows.filter(function (r) { return r[1]; }).map(function (r) {
    return "<dt>" + escape(r[0]) + "</dt><dd>" + escape(r[1]) + "</dd>";
  }).join("");
}
function section(id) {
  ["ev-loading", "ev-info", "ev-operator", "ev-org", "ev-pending", "ev-failed", "ev-done"].forEach(function (s) { $(s).hidden = s !== id; });
}
function steps(step) {
  const at = ORDER.indexOf(step);
  document.querySelectorAll("#ev-steps span").forEach(function (s) {
    const i = ORDER.indexOf(s.dataset.step);
    s.className = i < at || step === "done" ? "done" : i === at ? "on" : "";
  });
}
function tab(method) {
  document.querySelectorAll("#ev-tabs button").forEach(function (b) { b.classList.toggle("active", b.dataset.tab === method); });
  document.querySelectorAll("#ev-org form").forEach(function (f) { f.hidden = f.dataset.method !== method; });
}
async function load() {
  const r = await api("GET", "/api/v1/enterprise/verification");
  if (!r.ok) { showError(null, r.data); return; }
  state = r.data;
  render();
}
function render() {
  const e = state.enterprise, a = state.attempt;
  steps(state.step);
  dl($("ev-info-list"), [["企业名称", e.name], ["统一社会信用代码", e.credit_code], ["组织类型", ORG[e.org_type] || e.org_type]]);
  $("ev-org-type").textContent = ORG[e.org_type] || e.org_type;
  const form = document.querySelector('#ev-form-corporate_payment [name="account_name"]');
  if (!form.value) form.value = e.name;
  if (state.step === "done") {
    section("ev-done");
    $("ev-done-detail").textContent = a ? "认证方式：" + a.method_label : "";
    return;
  }
  if (state.step === "confirm_info") return section("ev-info");
  if (state.step === "operator") return section("ev-operator");
  if (a && a.status === "pending" && !restarting) return pending(a);
  if (a && a.status === "failed" && !restarting) {
    section("ev-failed");
    $("ev-failed-reason").textContent = (a.method_label || "") + "：" + (a.reason || "");
    return;
  }
  section("ev-org");
  if (!document.querySelector("#ev-tabs button.active")) tab(pageData().defaultMethod);  // the first method the platform offers
}
function pending(a) {
  section("ev-pending");
  $("ev-pending-title").textContent = a.method_label + " · 进行中";
  const rows = [["认证方式", a.method_label], ["发起时间", formatTime(a.created_at)]];
  const cf = $("ev-confirm-form");
  cf.hidden = true;
  $("ev-pending-note").textContent = "";
  $("ev-pending-actions").innerHTML = "";
  if (a.method === "corporate_payment") {
    rows.push(["开户银行", a.bank_name], ["对公账号", a.bank_account_masked], ["账户名称", a.account_name]);
    cf.hidden = !a.payment_made; cf.dataset.field = "amount";
    $("ev-confirm-label").textContent = "收到的打款金额（元）";
    $("ev-confirm-input").placeholder = "例如 0.35";
    $("ev-pending-note").textContent = a.payment_made ? "平台已向该对公账户打款，请查询到账金额后回填；剩余可尝试 " + a.attempts_left + " 次。"
      : "平台将向该对公账户打一笔验证款，汇出后短信通知您，届时请回到本页回填到账金额。";
  } else if (a.method === "legal_rep") {
    rows.push(["法定代表人", a.legal_rep_name], ["身份证号", a.legal_rep_id_masked], ["手机号", a.legal_rep_phone_masked]);
    cf.hidden = false; cf.dataset.field = "code";
    $("ev-confirm-label").textContent = "法定代表人收到的短信验证码";
    $("ev-confirm-input").placeholder = "6位验证码";
  } else if (a.method === "authorization_letter") {
    rows.push(["授权书", a.letter_filename]);
    $("ev-pending-note").textContent = "授权书已提交，平台审核员审核后将短信通知您。";
    $("ev-pending-actions").innerHTML = '<a class="btn" target="_blank" href="/api/v1/enterprise/verification/letter">查看授权书</a> <button type="button" class="link" data-restart>更换认证方式</button>';
  } else if (a.method === "alipay") {
    $("ev-pending-note").textContent = "请在企业支付宝完成授权，完成后本页显示认证结果。";
    $("ev-pending-actions").innerHTML = '<a class="btn primary" id="ev-alipay-go" href="' + escape(a.redirect_url || "#") + '">前往企业支付宝认证</a> <button type="button" class="link" data-restart>更换认证方式</button>';
  }
  dl($("ev-pending-list"), rows);
  wireRestart();
}
function wireRestart() {
  document.querySelectorAll("[data-restart]").forEach(function (b) {
    b.onclick = function () { restarting = true; render(); };
  });
}
wireRestart();
$("ev-confirm-info").addEventListener("click", async function () {
  const r = await api("POST", "/api/v1/enterprise/verification/info");
  if (!r.ok) { showError(null, r.data); return; }
  state = r.data; render();
});
document.querySelectorAll("#ev-tabs button").forEach(function (b) { b.addEventListener("click", function () { tab(b.dataset.tab); }); });
document.querySelectorAll("#ev-org form").forEach(function (form) {
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    let body;
    if (form.dataset.method === "authorization_letter") {
      body = new FormData();
      body.append("method", "authorization_letter");
      const file = form.file.files[0];
      if (!file) { showError(form, { message: "请选择授权书文件", fields: { file: "请选择授权书文件" } }); return; }
      body.append("file", file, file.name);
    } else {
      body = Object.assign({ method: form.dataset.method }, formData(form));
    }
    const r = await api("POST", "/api/v1/enterprise/verification", body);
    if (!r.ok) { showError(form, r.data); if (r.status === 409) load(); return; }
    restarting = false;
    if (r.data.status === "pending" && r.data.redirect_url) { location.href = r.data.redirect_url; return; }
    if (r.data.method === "legal_rep" && r.data.status === "pending") toast("验证码已发送至法定代表人手机");
    load();
  });
});
$("ev-confirm-form").addEventListener("submit", async function (e) {
  e.preventDefault();
  const form = e.target;
  const body = {};
  body[form.dataset.field] = $("ev-confirm-input").value.trim();
  $("ev-confirm-input").name = form.dataset.field;
  const r = await api("POST", "/api/v1/enterprise/verification/confirm", body);
  if (!r.ok) { showError(form, r.data); if (r.data && r.data.status === "failed") setTimeout(load, 1500); else load(); return; }
  $("ev-confirm-input").value = "";
  load();
});
onMe(function () { load(); });
document.addEventListener("visibilitychange", function () { if (!document.hidden && state) load(); });
