import { api } from "../js/api.js";
import { clearErrors, escape, formData, pageData, showError } from "../js/ui.js";

async function start() {
  const TOKEN = pageData().token;
  const info = await api("GET", "/api/v1/join/" + encodeURIComponent(TOKEN), null, { allow401: true });
  if (!info.ok) { document.getElementById("confirm").innerHTML = "<h3>" + escape((info.data && info.data.message) || "邀请链接无效") + "</h3>"; return; }
  document.getElementById("enterprise-name").textContent = info.data.enterprise.name;
  const form = document.getElementById("join-form");
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
    if (!form.phone.value) form.phone.value = me.data.user.phone || "";
    if (!form.name.value && me.data.user.name) form.name.value = me.data.user.name;
    document.getElementById("confirm").hidden = true;
    form.hidden = false;
  });
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
    form.hidden = true;
    document.getElementById("done").hidden = false;
    window.scrollTo(0, 0);
  });
}

start();
