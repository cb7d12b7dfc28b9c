import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { drawTree } from "../js/tree.js";
import { clearErrors, escape, filledValues, formData, showError } from "../js/ui.js";

let me = null;
let templates = [], chosen = [], details = [], departments = [], people = [], dept = null;
const picked = new Map();
let lastFailed = [];
let prefill = null; // a withdrawn contract initiated again, or a contract renewed: its templates, worker and values
let renewing = null; // the id of the contract being renewed

/* The wizard's state lives in sessionStorage (a reload or the browser's Back from another page
   finds it again) and each step is a history entry (Back goes to the step before). */
const KEY = "laborsign:contracts-new";
let step = 1;

function show(n) {
  step = n;
  document.querySelectorAll("[data-pane]").forEach(function (p) { p.hidden = Number(p.dataset.pane) !== n; });
  document.querySelectorAll("[data-step]").forEach(function (s) { s.classList.toggle("on", Number(s.dataset.step) === n); });
  save();
}

function go(n) {
  show(n);
  history.pushState({ step: n }, "", "#step-" + n);
}

function save() {
  if (step >= 5) { sessionStorage.removeItem(KEY); return; }
  const party = document.getElementById("party-form");
  sessionStorage.setItem(KEY, JSON.stringify({
    step: step, chosen: chosen, picked: Array.from(picked.values()),
    party: { name: party.name.value, operator_name: party.operator_name.value, operator_phone: party.operator_phone.value, seal_type: party.seal_type.value },
    fields: filledValues(document.getElementById("fields-form")), deadline: document.getElementById("deadline").value,
    term_type: document.getElementById("term-type").value, signing_order: document.getElementById("signing-order").value,
  }));
}

function saved() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
}

function slot(name, text) {
  document.querySelectorAll('[data-error-for="' + name + '"]').forEach(function (el) { el.textContent = text; });
}

document.querySelectorAll("[data-back]").forEach(function (b) { b.addEventListener("click", function () { go(Number(b.dataset.back)); }); });
window.addEventListener("popstate", function (e) { show((e.state && e.state.step) || 1); });
document.addEventListener("input", function () { if (step < 5) save(); });
document.addEventListener("change", function () { if (step < 5) save(); });

async function loadTemplates() {
  const r = await api("GET", "/api/v1/templates?scope=all&status=enabled&per_page=100");
  if (!r.ok) { showError(null, r.data); return; }
  templates = r.data.items;
  document.getElementById("templates").innerHTML = templates.map(function (t) {
    return '<label class="list-item"><span>' + escape(t.name) + ' <span class="badge">' + (t.scope === "public" ? "公共模板" : "本企业") +
      '</span> <span class="muted">' + escape(t.type_label) + '</span></span><input type="checkbox" data-template="' + t.id + '"' +
      (prefill && prefill.template_ids.indexOf(t.id) >= 0 ? " checked" : "") + '></label>';
  }).join("") || '<p class="muted empty">暂无已开启的模板，请先在“模板管理”中创建并开启模板。</p>';
}

async function enter2(party) {
  details = await Promise.all(chosen.map(async function (id) { return (await api("GET", "/api/v1/templates/" + id)).data; }));
  details = details.filter(Boolean);
  if (!details.length) return false;
  const form = document.getElementById("party-form");
  if (party) Object.keys(party).forEach(function (k) { if (form[k] && party[k]) form[k].value = party[k]; });
  if (!form.name.value) form.name.value = prefill ? prefill.name : details[0].name;
  form.enterprise_name.value = me.enterprise.name;
  if (!form.operator_name.value) form.operator_name.value = me.user.name || "";
  if (!form.operator_phone.value) form.operator_phone.value = me.user.phone || "";
  const d = await api("GET", "/api/v1/departments");
  departments = d.ok ? d.data.items : [];
  tree(); loadPeople(); count();
  return true;
}

document.getElementById("to-2").addEventListener("click", async function () {
  chosen = Array.from(document.querySelectorAll("[data-template]:checked")).map(function (b) { return b.dataset.template; });
  if (!chosen.length) { slot("template_ids", "请至少选择一个模板"); return; }
  slot("template_ids", "");
  if (await enter2(null)) go(2);
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
      count(); save();
    });
  });
}

function count() {
  document.getElementById("picked-count").textContent = picked.size ? "已选 " + picked.size + " 人" : "";
  if (picked.size) slot("employee_ids", "");
}
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

function enter3(values) {
  const form = document.getElementById("fields-form");
  form.innerHTML = initiatorControls().map(function (c) {
    const input = c.kind === "choice" ? '<select name="' + c.key + '"><option value="">请选择</option>' + c.options.map(function (o) {
      return "<option>" + escape(o) + "</option>"; }).join("") + "</select>"
      : '<input name="' + c.key + '" type="' + (c.kind === "date" ? "date" : c.kind === "number" ? "number" : "text") + '" step="any">';
    return "<label>" + escape(c.label) + (c.required ? " *" : "") + "</label>" + input + '<div class="field-error" data-error-for="fields.' + c.key + '"></div>';
  }).join("") || '<p class="muted">所选模板没有需要发起方填写的内容。</p>';
  Object.keys(values || {}).forEach(function (k) { const el = form.querySelector('[name="' + k + '"]'); if (el) el.value = values[k]; });
  // 甲方's own facts come from the enterprise (the server fills them too when left blank).
  const own = { enterprise_name: me.enterprise.name, enterprise_credit_code: me.enterprise.credit_code };
  Object.keys(own).forEach(function (k) { const el = form.querySelector('[name="' + k + '"]'); if (el && !el.value) el.value = own[k] || ""; });
  if (prefill) {
    Object.keys(prefill.fields).forEach(function (k) {
      const input = form.querySelector('[name="' + k + '"]');
      if (input && !input.value) input.value = prefill.fields[k];
    });
    if (prefill.term_type && !document.getElementById("term-type").value) document.getElementById("term-type").value = prefill.term_type;
  }
}

document.getElementById("to-3").addEventListener("click", function () {
  const form = document.getElementById("party-form");
  const errors = {};
  if (!form.name.value.trim()) errors.name = "请填写合同名称";
  if (Object.keys(errors).length) showError(form, { message: "请填写合同名称", fields: errors }); else clearErrors(form);
  slot("employee_ids", picked.size ? "" : "请至少选择一名劳动者");
  if (Object.keys(errors).length || !picked.size) return;
  const before = filledValues(document.getElementById("fields-form"));
  enter3(before);
  go(3);
});

/* Every required item filled before the review: the review never shows a contract half blank. */
function fieldsMissing() {
  const form = document.getElementById("fields-form");
  const values = filledValues(form);
  const errors = {};
  initiatorControls().forEach(function (c) {
    if (c.required && !values[c.key]) errors["fields." + c.key] = (c.kind === "choice" ? "请选择" : "请填写") + c.label;
  });
  if (Object.keys(errors).length) showError(form, { message: "请填写必填项", fields: errors }); else clearErrors(form);
  return Object.keys(errors).length > 0;
}

function body() {
  const party = formData(document.getElementById("party-form"));
  const deadline = document.getElementById("deadline").value;
  return {
    name: party.name, template_ids: chosen, employee_ids: Array.from(picked.keys()),
    enterprise_party: { operator_name: party.operator_name, operator_phone: party.operator_phone, seal_type: party.seal_type },
    fields: filledValues(document.getElementById("fields-form")), sign_deadline: deadline ? deadline + ":00+08:00" : null,
    term_type: document.getElementById("term-type").value || null,
    confirm_warnings: document.getElementById("confirm-warnings").checked,
    signing_order: document.getElementById("signing-order").value,
  };
}

/* The labor-law checks of each worker's contract, shown before anything is sent. */
function checks(workers) {
  const named = workers.filter(function (w) { return w.errors.length || w.warnings.length; });
  const warned = named.some(function (w) { return w.warnings.length; });
  document.getElementById("checks").innerHTML = named.map(function (w) {
    const p = picked.get(w.employee_id);
    const who = escape(w.worker_name || (p ? p.name : w.employee_id));
    return '<div class="banner mt-10" data-check="' + w.employee_id + '"><b>' + who + "：</b>" +
      w.errors.map(function (e) { return '<div class="field-error" data-code="' + escape(e.code) + '">不能发起：' + escape(e.message) + "</div>"; }).join("") +
      w.warnings.map(function (x) { return '<div data-code="' + escape(x.code) + '">' + escape(x.message) + (x.article ? '<span class="muted">（' + escape(x.article) + "）</span>" : "") + "</div>"; }).join("") +
      "</div>";
  }).join("");
  document.getElementById("confirm-row").hidden = !warned;
  if (!warned) document.getElementById("confirm-warnings").checked = false;
}

async function runChecks(b) {
  const box = document.getElementById("checks");
  box.innerHTML = '<p class="muted">正在进行劳动法检查…</p>';
  delete box.dataset.done;
  document.getElementById("confirm-row").hidden = true;
  const r = await api("POST", "/api/v1/contracts/check", b);
  if (!r.ok) { box.innerHTML = ""; showError(null, r.data); return; }
  checks(r.data.workers);
  box.dataset.done = "1";
}

function enter4() {
  const b = body();
  runChecks(b);
  const names = Array.from(picked.values()).map(function (p) { return escape(p.name); }).join("、");
  document.getElementById("review").innerHTML = "<p><b>合同名称：</b>" + escape(b.name) + "</p><p><b>模板：</b>" +
    details.map(function (t) { return escape(t.name); }).join("、") + "</p><p><b>企业签约方：</b>" + escape(me.enterprise.name) +
    "（经办人 " + escape(b.enterprise_party.operator_name) + "）</p><p><b>劳动者（" + picked.size + " 人，每人一份合同）：</b>" + names + "</p>" +
    "<p><b>合同信息：</b>" + (Object.keys(b.fields).map(function (k) {
      const input = document.querySelector('#fields-form [name="' + k + '"]');
      const label = input && input.previousElementSibling ? input.previousElementSibling.textContent.replace(/ \*$/, "") : k;
      return escape(label) + "：" + escape(b.fields[k]);
    }).join("；") || '<span class="muted">所选模板没有需要发起方填写的内容</span>') + "</p>" +
    (b.sign_deadline ? "<p><b>签署截止：</b>" + escape(document.getElementById("deadline").value.replace("T", " ")) + "</p>" : "");
}

document.getElementById("to-4").addEventListener("click", function () {
  if (fieldsMissing()) return;
  enter4();
  go(4);
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
  if (renewing) initiatorControls().forEach(function (c) { if (!(c.key in b.fields)) b.fields[c.key] = ""; }); // blank: not the old value
  const r = renewing
    ? await api("POST", "/api/v1/contracts/" + encodeURIComponent(renewing) + "/renew",
      { fields: b.fields, confirm_warnings: b.confirm_warnings, term_type: b.term_type, sign_deadline: b.sign_deadline })
    : await api("POST", "/api/v1/contracts", b);
  button.disabled = false; button.textContent = "发起签署";
  if (!r.ok && r.data && r.data.error === "labor_law_warnings") {
    checks(r.data.workers);
    showError(null, { message: "请确认劳动法提示：阅读上方各项后勾选“我已知悉”，再发起签署" });
    return;
  }
  if (!r.ok) {
    showError(document.getElementById("party-form"), r.data);
    showError(document.getElementById("fields-form"), r.data);
    if (r.data && r.data.fields) {
      const keys = Object.keys(r.data.fields);
      go(keys.some(function (k) { return k.indexOf("fields.") === 0 || k === "sign_deadline" || k === "signing_order"; }) ? 3 : 2);
    }
    return;
  }
  lastFailed = r.data.failed.map(function (f) { return f.employee_id; });
  document.getElementById("result").innerHTML = result(r.data);
  document.getElementById("retry").hidden = !lastFailed.length;
  show(5);  // done: the saved wizard is dropped, a new visit starts afresh
}
document.getElementById("launch").addEventListener("click", function () { launch(null); });
document.getElementById("retry").addEventListener("click", function () { launch(lastFailed); });
async function restore(state) {
  chosen = (state.chosen || []).filter(function (id) { return templates.some(function (t) { return t.id === id; }); });
  chosen.forEach(function (id) { const box = document.querySelector('[data-template="' + id + '"]'); if (box) box.checked = true; });
  (state.picked || []).forEach(function (p) { picked.set(p.id, p); });
  let reached = 1;
  if (state.step >= 2 && chosen.length && await enter2(state.party)) reached = 2;
  if (reached === 2 && state.step >= 3 && picked.size) {
    document.getElementById("deadline").value = state.deadline || "";
    document.getElementById("term-type").value = state.term_type || "";
    document.getElementById("signing-order").value = state.signing_order || "parallel";
    enter3(state.fields); reached = 3;
  }
  if (reached === 3 && state.step >= 4) { enter4(); reached = 4; }
  return reached;
}

async function loadPrefill() {
  const query = new URLSearchParams(location.search);
  renewing = query.get("renew");
  const from = query.get("from") || renewing;
  if (!from) return;
  const r = await api("GET", "/api/v1/contracts/" + encodeURIComponent(from));
  if (!r.ok) { showError(null, r.data); return; }
  const c = r.data;
  const values = {};
  c.controls.forEach(function (ctl) { if (ctl.filled_by === "initiator" && ctl.value != null) values[ctl.key] = ctl.value; });
  prefill = { name: c.name, template_ids: c.template_ids || [], fields: values, term_type: c.term ? c.term.type : null };
  if (renewing) {
    // The new term starts the day after the old one ends; a second probation is not allowed.
    if (c.term && c.term.end_date) {
      const next = new Date(c.term.end_date + "T00:00:00Z");
      next.setUTCDate(next.getUTCDate() + 1);
      values.contract_start_date = next.toISOString().slice(0, 10);
    }
    ["contract_end_date", "end_date", "probation_end_date", "probation_months", "probation_wage"].forEach(function (k) { delete values[k]; });
    document.getElementById("prefill-note").textContent = "正在续签《" + c.name + "》（" + c.worker_name + "）：使用原合同的模板和劳动者，请填写新的合同期限。";
  }
  picked.set(c.employee_id, { id: c.employee_id, name: c.worker_name });
  count();
  document.getElementById("prefill-note").hidden = false;
}

onMe(async function (person) {
  me = person;
  await loadPrefill();
  await loadTemplates();
  // A contract opened again (重新发起, 续签) starts from its own data, not from a wizard left earlier.
  const state = prefill ? null : saved();
  const reached = state ? await restore(state) : 1;
  show(reached);
  history.replaceState({ step: reached }, "", "#step-" + reached);
  document.getElementById("wizard").dataset.ready = "1";
});
