import { api } from "../js/api.js";
import { GENDERS } from "../js/labels.js";
import { clearErrors, escape, formData, formatTime, pageData, showError } from "../js/ui.js";

/* The submitted record, as the worker reads it back (name, document, contact, when). */
function showDone(record) {
  document.getElementById("confirm").hidden = true;
  document.getElementById("join-form").hidden = true;
  document.getElementById("done").hidden = false;
  document.getElementById("done-title").textContent = record.status === "approved" ? "已通过审核" : "资料审核中";
  document.getElementById("done-text").textContent = record.status === "approved"
    ? "用人单位已审核通过您的入职资料。" : "您的入职资料已提交，用人单位审核后将通过短信通知您。";
  const c = record.emergency_contact || {};
  const rows = [["姓名", record.name], ["性别", GENDERS[record.gender] || ""], ["证件", record.id_type_label + " " + record.id_number_masked],
    ["出生日期", record.birth_date], ["手机号", record.phone || record.phone_masked || ""], ["现住址", record.address],
    ["紧急联系人", (c.name || "") + "（" + (c.relation || "") + "） " + (c.phone || c.phone_masked || "")], ["提交时间", formatTime(record.created_at)]];
  document.getElementById("done-summary").innerHTML = rows.map(function (r) { return "<dt>" + r[0] + "</dt><dd>" + escape(r[1]) + "</dd>"; }).join("");
}

async function start() {
  const TOKEN = pageData().token;
  const info = await api("GET", "/api/v1/join/" + encodeURIComponent(TOKEN), null, { allow401: true });
  if (!info.ok) { document.getElementById("confirm").innerHTML = "<h3>" + escape((info.data && info.data.message) || "邀请链接无效") + "</h3>"; return; }
  const form = document.getElementById("join-form");
  // A worker opening the link again sees what they submitted; after a rejection the form comes
  // back filled with it; a verified worker's name and ID number are filled in from the identity.
  const mine = info.data.mine || null;  // present when the person is logged in
  document.getElementById("enterprise-name").textContent = info.data.enterprise.name;
  if (mine && mine.record && mine.record.status !== "rejected") { showDone(mine.record); return; }
  function fill(values) {
    Object.keys(values).forEach(function (k) {
      const el = form.querySelector('[name="' + k + '"]:not([type=radio])');
      if (el && values[k] && !el.value) el.value = values[k];
    });
    if (values.gender) { const g = form.querySelector('input[name="gender"][value="' + values.gender + '"]'); if (g) g.checked = true; }
  }
  // The ID number already says when the worker was born and whether male or female.
  form.id_number.addEventListener("change", function () {
    const v = form.id_number.value.trim().toUpperCase();
    if (form.id_type.value === "resident_id" && /^\d{17}[\dX]$/.test(v)) {
      if (!form.birth_date.value) form.birth_date.value = v.slice(6, 10) + "-" + v.slice(10, 12) + "-" + v.slice(12, 14);
      const g = Number(v.charAt(16)) % 2 ? "male" : "female";
      form.querySelector('input[name="gender"][value="' + g + '"]').checked = true;
    }
  });
  document.getElementById("start").addEventListener("click", async function () {
    const me = await api("GET", "/api/v1/me", null, { allow401: true });
    if (!me.ok) { location.href = "/h5/login?next=" + encodeURIComponent(location.pathname); return; }
    const last = mine && mine.record;
    if (last) {
      const c = last.emergency_contact || {};
      fill({ name: last.name, gender: last.gender, id_type: last.id_type, id_number: last.id_number, birth_date: last.birth_date,
        phone: last.phone, address: last.address, contact_name: c.name, contact_relation: c.relation, contact_phone: c.phone });
      const banner = document.getElementById("rejected");
      banner.textContent = "上次提交的资料未通过审核" + (last.reject_reason ? "：" + last.reject_reason : "") + "。请修改后重新提交。";
      banner.hidden = false;
    } else if (mine && mine.prefill) {
      fill(mine.prefill);
      form.id_number.dispatchEvent(new Event("change"));  // birth date and gender from the number
    }
    if (!form.phone.value) form.phone.value = me.data.user.phone || "";
    if (!form.name.value && me.data.user.name) form.name.value = me.data.user.name;
    document.getElementById("confirm").hidden = true;
    form.hidden = false;
  });
  document.getElementById("start").disabled = false;
  if (new URLSearchParams(location.search).get("fill") === "1") document.getElementById("start").click();
  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    const d = formData(form);
    const body = {
      name: d.name, gender: d.gender || "", id_type: d.id_type, id_number: d.id_number, birth_date: d.birth_date,
      phone: d.phone, address: d.address,
      emergency_contact: { name: d.contact_name, relation: d.contact_relation, phone: d.contact_phone },
    };
    const r = await api("POST", "/api/v1/join/" + encodeURIComponent(TOKEN) + "/onboarding", body);
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    document.getElementById("rejected").hidden = true;
    const m = await api("GET", "/api/v1/me/onboarding/" + encodeURIComponent(r.data.id));
    if (m.ok) showDone(m.data);
    else { form.hidden = true; document.getElementById("done").hidden = false; }
    window.scrollTo(0, 0);
  });
}

start();
