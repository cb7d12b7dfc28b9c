import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { GENDERS } from "../js/labels.js";
import { pager } from "../js/pager.js";
import { departmentOptions } from "../js/tree.js";
import { clearErrors, escape, formatTime, formData, modal, pageData, showError, toast } from "../js/ui.js";

let status = "pending_review", page = 1, departments = [];
let loading = 0;

async function load() {
  document.querySelectorAll("[data-status]").forEach(function (b) { b.classList.toggle("active", b.dataset.status === status); });
  const mine = ++loading;
  const r = await api("GET", "/api/v1/onboarding?page=" + page + "&per_page=20" + (status ? "&status=" + status : ""));
  if (mine !== loading) return;  // a newer tab was chosen while this answer was on its way
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("rows").innerHTML = r.data.items.map(function (x) {
    return "<tr><td>" + escape(x.name) + "</td><td>" + escape(x.phone_masked) + '</td><td class="hide-sm">' + escape(x.id_number_masked) +
      '</td><td class="hide-sm">' + formatTime(x.created_at) + '</td><td><span class="badge">' + x.status_label + '</span></td><td><button class="link" data-open="' + x.id + '">' +
      (x.status === "pending_review" ? "审核" : "查看") + "</button></td></tr>";
  }).join("") || '<tr><td colspan="6" class="muted">暂无记录</td></tr>';
  document.querySelectorAll("[data-open]").forEach(function (b) { b.addEventListener("click", function () { open(b.dataset.open); }); });
  pager(document.getElementById("pager"), r.data, page, "条", function (p) { page = p; load(); });
}

async function open(id) {
  const r = await api("GET", "/api/v1/onboarding/" + id);
  if (!r.ok) { showError(null, r.data); return; }
  const x = r.data, pending = x.status === "pending_review";
  const ro = pending ? "" : " disabled";
  const back = modal("<h3>入职资料 · " + escape(x.name) + '</h3><form id="review-form" novalidate>' +
    "<p>性别：" + (GENDERS[x.gender] || "") + "　出生日期：" + x.birth_date + "<br>证件：" + escape(x.id_type_label) + " " + escape(x.id_number_masked) +
    "<br>手机号：" + escape(x.phone_masked) + "</p>" +
    '<label>现住址</label><input name="address" value="' + escape(x.address) + '"' + ro + '><div class="field-error" data-error-for="address"></div>' +
    '<label>紧急联系人</label><input name="contact_name" value="' + escape(x.emergency_contact.name) + '"' + ro + ">" +
    '<div class="field-error" data-error-for="emergency_contact.name"></div>' +
    '<label>关系</label><input name="contact_relation" value="' + escape(x.emergency_contact.relation) + '"' + ro + ">" +
    '<div class="field-error" data-error-for="emergency_contact.relation"></div>' +
    '<p class="muted">紧急联系人电话：' + escape(x.emergency_contact.phone_masked) + "</p>" +
    (pending ? '<label>入职部门</label><select name="department_id">' + departmentOptions(departments, null, "不指定") + "</select>" +
      '<label>入职日期</label><input type="date" name="hire_date"><label>拒绝原因（拒绝时填写）</label><input name="reason" maxlength="200"><div class="field-error" data-error-for="reason"></div>' : "") +
    (x.reject_reason ? "<p>拒绝原因：" + escape(x.reject_reason) + "</p>" : "") +
    '<div class="row mt-14"><span class="spacer"></span><button type="button" data-close>关闭</button>' +
    (pending ? '<button type="button" id="reject">拒绝</button><button type="button" class="primary" id="approve">通过</button>' : "") + "</div></form>");
  if (!pending) return;
  const form = back.querySelector("form");
  async function saveCorrections() {
    const d = formData(form);
    const changes = {};
    if (d.address !== x.address) changes.address = d.address;
    const contact = {};
    if (d.contact_name !== x.emergency_contact.name) contact.name = d.contact_name;
    if (d.contact_relation !== x.emergency_contact.relation) contact.relation = d.contact_relation;
    if (Object.keys(contact).length) changes.emergency_contact = contact;
    if (!Object.keys(changes).length) return true;
    const r2 = await api("PATCH", "/api/v1/onboarding/" + id, changes);
    if (!r2.ok) { showError(form, r2.data); return false; }
    return true;
  }
  back.querySelector("#approve").addEventListener("click", async function () {
    if (!(await saveCorrections())) return;
    const d = formData(form);
    const r2 = await api("POST", "/api/v1/onboarding/" + id + "/approve", { department_id: d.department_id || null, hire_date: d.hire_date || null });
    if (!r2.ok) { showError(form, r2.data); return; }
    clearErrors(form);
    back.remove(); toast("已通过，员工已加入花名册"); load();
  });
  back.querySelector("#reject").addEventListener("click", async function () {
    const r2 = await api("POST", "/api/v1/onboarding/" + id + "/reject", { reason: form.reason.value.trim() });
    if (!r2.ok) { showError(form, r2.data); return; }
    clearErrors(form);
    back.remove(); toast("已拒绝，结果已短信通知劳动者"); load();
  });
}
document.querySelectorAll("[data-status]").forEach(function (b) { b.addEventListener("click", function () { status = b.dataset.status; page = 1; load(); }); });
onMe(async function () {
  const d = await api("GET", "/api/v1/departments");
  departments = d.ok ? d.data.items : [];
  load();
  const linked = pageData().recordId;
  if (linked) open(linked);
});
