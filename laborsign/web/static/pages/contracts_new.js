import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { drawTree } from "../js/tree.js";
import { escape, filledValues, formData, showError, toast } from "../js/ui.js";

let me = null;
let templates = [], chosen = [], details = [], departments = [], people = [], dept = null;
const picked = new Map();
let lastFailed = [];

function show(step) {
  document.querySelectorAll("[data-pane]").forEach(function (p) { p.hidden = Number(p.dataset.pane) !== step; });
  document.querySelectorAll("[data-step]").forEach(function (s) { s.classList.toggle("on", Number(s.dataset.step) === step); });
}
document.querySelectorAll("[data-back]").forEach(function (b) { b.addEventListener("click", function () { show(Number(b.dataset.back)); }); });

async function loadTemplates() {
  const r = await api("GET", "/api/v1/templates?scope=all&status=enabled&per_page=100");
  if (!r.ok) { showError(null, r.data); return; }
  templates = r.data.items;
  document.getElementById("templates").innerHTML = templates.map(function (t) {
    return '<label class="list-item"><span>' + escape(t.name) + ' <span class="badge">' + (t.scope === "public" ? "公共模板" : "本企业") +
      '</span> <span class="muted">' + escape(t.type_label) + '</span></span><input type="checkbox" data-template="' + t.id + '"></label>';
  }).join("") || '<p class="muted empty">暂无已开启的模板，请先在“模板管理”中创建并开启模板。</p>';
}

document.getElementById("to-2").addEventListener("click", async function () {
  chosen = Array.from(document.querySelectorAll("[data-template]:checked")).map(function (b) { return b.dataset.template; });
  if (!chosen.length) { toast("请至少选择一个模板", true); return; }
  details = await Promise.all(chosen.map(async function (id) { return (await api("GET", "/api/v1/templates/" + id)).data; }));
  const form = document.getElementById("party-form");
  if (!form.name.value) form.name.value = details[0].name;
  form.enterprise_name.value = me.enterprise.name;
  if (!form.operator_name.value) form.operator_name.value = me.user.name || "";
  if (!form.operator_phone.value) form.operator_phone.value = me.user.phone || "";
  const d = await api("GET", "/api/v1/departments");
  departments = d.ok ? d.data.items : [];
  tree(); loadPeople();
  show(2);
});

function tree() {
  drawTree(document.getElementById("tree"), departments, dept, function (id) { dept = id || null; tree(); loadPeople(); });
}

async function loadPeople() {
  const q = document.getElementById("q").value.trim();
  const r = await api("GET", "/api/v1/employees?status=active&per_page=100" + (dept ? "&department_id=" + dept : "") + (q ? "&q=" + encodeURIComponent(q) : ""));
  people = r.ok ? r.data.items : [];
  document.getElementById("people").innerHTML = people.map(function (p) {
    return '<tr><td><input type="checkbox" data-person="' + p.id + '"' + (picked.has(p.id) ? " checked" : "") + "></td><td>" + escape(p.name) +
      "</td><td>" + escape(p.phone_masked) + "</td><td>" + escape(p.department_name || "") + "</td></tr>";
  }).join("") || '<tr><td colspan="4" class="muted">没有在职员工</td></tr>';
  document.querySelectorAll("[data-person]").forEach(function (box) {
    box.addEventListener("change", function () {
      const p = people.find(function (x) { return x.id === box.dataset.person; });
      if (box.checked) picked.set(p.id, p); else picked.delete(p.id);
      count();
    });
  });
}

function count() { document.getElementById("picked-count").textContent = picked.size ? "已选 " + picked.size + " 人" : ""; }
document.getElementById("pick-all").addEventListener("change", function (e) {
  people.forEach(function (p) { if (e.target.checked) picked.set(p.id, p); else picked.delete(p.id); });
  loadPeople(); count();
});
let timer = null;
document.getElementById("q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(loadPeople, 300); });

/* The initiator's controls of the chosen templates, once per key; worker_ fields come from the roster. */
function initiatorControls() {
  const seen = {};
  const controls = [];
  details.forEach(function (t) {
    t.controls.forEach(function (c) {
      if (c.filled_by === "initiator" && !seen[c.key] && c.key.indexOf("worker_") !== 0) { seen[c.key] = 1; controls.push(c); }
    });
  });
  return controls;
}

document.getElementById("to-3").addEventListener("click", function () {
  if (!picked.size) { toast("请至少选择一名劳动者", true); return; }
  document.getElementById("fields-form").innerHTML = initiatorControls().map(function (c) {
    const input = c.kind === "choice" ? '<select name="' + c.key + '"><option value="">请选择</option>' + c.options.map(function (o) {
      return "<option>" + escape(o) + "</option>"; }).join("") + "</select>"
      : '<input name="' + c.key + '" type="' + (c.kind === "date" ? "date" : c.kind === "number" ? "number" : "text") + '" step="any">';
    return "<label>" + escape(c.label) + (c.required ? " *" : "") + "</label>" + input + '<div class="field-error" data-error-for="fields.' + c.key + '"></div>';
  }).join("") || '<p class="muted">所选模板没有需要发起方填写的内容。</p>';
  show(3);
});

function body() {
  const party = formData(document.getElementById("party-form"));
  const deadline = document.getElementById("deadline").value;
  return {
    name: party.name, template_ids: chosen, employee_ids: Array.from(picked.keys()),
    enterprise_party: { operator_name: party.operator_name, operator_phone: party.operator_phone, seal_type: party.seal_type },
    fields: filledValues(document.getElementById("fields-form")), sign_deadline: deadline ? deadline + ":00+08:00" : null,
    signing_order: document.getElementById("signing-order").value,
  };
}

document.getElementById("to-4").addEventListener("click", function () {
  const b = body();
  const names = Array.from(picked.values()).map(function (p) { return escape(p.name); }).join("、");
  document.getElementById("review").innerHTML = "<p><b>合同名称：</b>" + escape(b.name) + "</p><p><b>模板：</b>" +
    details.map(function (t) { return escape(t.name); }).join("、") + "</p><p><b>企业签约方：</b>" + escape(me.enterprise.name) +
    "（经办人 " + escape(b.enterprise_party.operator_name) + "）</p><p><b>劳动者（" + picked.size + " 人，每人一份合同）：</b>" + names + "</p>" +
    "<p><b>合同信息：</b>" + (Object.keys(b.fields).map(function (k) {
      const input = document.querySelector('#fields-form [name="' + k + '"]');
      const label = input && input.previousElementSibling ? input.previousElementSibling.textContent.replace(/ \*$/, "") : k;
      return escape(label) + "：" + escape(b.fields[k]);
    }).join("；") || "无") + "</p>";
  show(4);
});

function result(data) {
  return "<p>成功发起 <b>" + data.contracts.length + "</b> 份，失败 <b>" + data.failed.length + "</b> 份。</p>" +
    (data.failed.length ? "<table><tr><th>劳动者</th><th>原因</th></tr>" + data.failed.map(function (f) {
      const p = picked.get(f.employee_id);
      return "<tr><td>" + escape(p ? p.name : f.employee_id) + "</td><td>" + escape(f.message) + "</td></tr>"; }).join("") + "</table>" : "") +
    (data.warnings.length ? '<div class="banner mt-10"><b>劳动法提示：</b><br>' + Array.from(new Set(data.warnings.map(function (w) { return w.message; })))
      .map(escape).join("<br>") + "</div>" : "");
}

async function launch(ids) {
  const b = body();
  if (ids) b.employee_ids = ids;
  const button = document.getElementById("launch");
  button.disabled = true; button.textContent = "发起中…";
  const r = await api("POST", "/api/v1/contracts", b);
  button.disabled = false; button.textContent = "发起签署";
  if (!r.ok) {
    showError(document.getElementById("party-form"), r.data);
    showError(document.getElementById("fields-form"), r.data);
    if (r.data && r.data.fields) {
      const keys = Object.keys(r.data.fields);
      show(keys.some(function (k) { return k.indexOf("fields.") === 0 || k === "sign_deadline" || k === "signing_order"; }) ? 3 : 2);
    }
    return;
  }
  lastFailed = r.data.failed.map(function (f) { return f.employee_id; });
  document.getElementById("result").innerHTML = result(r.data);
  document.getElementById("retry").hidden = !lastFailed.length;
  show(5);
}
document.getElementById("launch").addEventListener("click", function () { launch(null); });
document.getElementById("retry").addEventListener("click", function () { launch(lastFailed); });
onMe(function (person) { me = person; loadTemplates(); show(1); });
