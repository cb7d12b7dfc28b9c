import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { exportWith } from "../js/exports.js";
import { RESIGN_REASON_TYPES } from "../js/labels.js";
import { pager } from "../js/pager.js";
import { departmentOptions, drawTree, subtree } from "../js/tree.js";
import { clearErrors, escape, formData, modal, showError, toast } from "../js/ui.js";

/* The roster's filters live in the URL, as the contract list's: a reload or a shared link
 * finds the same people. An absent status is the page's default (在职); "status=" is 全部状态. */
const start = new URLSearchParams(location.search);
const filters = document.getElementById("filters");
const DAYS = ["hired_from", "hired_to", "left_from", "left_to"];
let departments = [], dept = start.get("department_id"), page = 1;
if (start.has("status")) document.getElementById("status").value = start.get("status");
document.getElementById("q").value = start.get("q") || "";
DAYS.forEach(function (k) { filters.elements[k].value = start.get(k) || ""; });

function listQuery() {
  const query = new URLSearchParams({ status: document.getElementById("status").value });
  const q = document.getElementById("q").value.trim();
  if (dept) query.set("department_id", dept);
  if (q) query.set("q", q);
  DAYS.forEach(function (k) { const v = filters.elements[k].value; if (v) query.set(k, v); });
  return query.toString();
}
async function loadTree() {
  const r = await api("GET", "/api/v1/departments");
  departments = r.ok ? r.data.items : [];
  drawTree(document.getElementById("tree"), departments, dept, function (id) { dept = id || null; page = 1; loadTree(); load(); }, {
    rename: async function (id) {
      const name = prompt("新的部门名称"); if (!name) return;
      const r2 = await api("PATCH", "/api/v1/departments/" + id, { name: name }); if (!r2.ok) showError(null, r2.data); loadTree();
    },
    sub: function (id) { addDept(id); },
    move: function (id) { moveDept(id); },
    del: async function (id) {
      if (!confirm("确定删除该部门？")) return;
      const r2 = await api("DELETE", "/api/v1/departments/" + id); if (!r2.ok) { showError(null, r2.data); return; }
      if (dept === id) dept = null; loadTree(); load();
    },
  });
}

function moveDept(id) {
  // A department cannot move under itself or one of its own sub-departments.
  const below = subtree(departments, id);
  const current = departments.find(function (d) { return d.id === id; }) || {};
  const back = modal("<h3>移动部门 · " + escape(current.name || "") + '</h3><form id="move-form" novalidate><label>上级部门</label><select name="parent_id">' +
    departmentOptions(departments.filter(function (d) { return !below[d.id]; }), current.parent_id, "无（顶级部门）") + '</select><div class="field-error" data-error-for="parent_id"></div><div class="row mt-14"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">确定</button></div></form>');
  back.querySelector("form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const r = await api("PATCH", "/api/v1/departments/" + id, { parent_id: ev.target.parent_id.value || null });
    if (!r.ok) { showError(ev.target, r.data); return; }
    clearErrors(ev.target);
    back.remove(); toast("部门已移动"); loadTree(); load();
  });
}
async function addDept(parent) {
  const name = prompt(parent ? "子部门名称" : "部门名称"); if (!name) return;
  const r = await api("POST", "/api/v1/departments", { name: name, parent_id: parent || null });
  if (!r.ok) { showError(null, r.data); return; }
  loadTree();
}
document.getElementById("add-dept").addEventListener("click", function () { addDept(null); });
let loading = 0;
async function load() {
  const mine = ++loading;
  const query = listQuery();
  history.replaceState(null, "", "?" + query);
  exportWith(query);
  const r = await api("GET", "/api/v1/employees?page=" + page + "&per_page=20&" + query);
  if (mine !== loading) return;  // a newer filter was chosen while this answer was on its way
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("rows").innerHTML = r.data.items.map(function (e) {
    return "<tr><td>" + escape(e.name) + "</td><td>" + escape(e.phone_masked) + "</td><td>" + escape(e.department_name || "-") + '</td><td class="hide-sm">' +
      (e.hire_date || "-") + '</td><td><span class="badge' + (e.status === "active" ? " ok" : e.status === "resigning" ? " warn" : "") + '">' + e.status_label +
      '</span></td><td><button class="link" data-emp="' + e.id + '">详情</button></td></tr>';
  }).join("") || '<tr><td colspan="6" class="muted">暂无员工。可在“扫码入职”邀请劳动者。</td></tr>';
  document.querySelectorAll("[data-emp]").forEach(function (b) { b.addEventListener("click", function () { detail(b.dataset.emp); }); });
  pager(document.getElementById("pager"), r.data, page, "人", function (p) { page = p; load(); });
}
async function detail(id) {
  const r = await api("GET", "/api/v1/employees/" + id);
  if (!r.ok) { showError(null, r.data); return; }
  const e = r.data;
  const back = modal("<h3>" + escape(e.name) + ' <span class="badge">' + e.status_label + "</span></h3>" +
    "<p>手机号：" + escape(e.phone_masked) + "<br>证件号：" + escape(e.id_number_masked || "-") + "<br>出生日期：" + (e.birth_date || "-") +
    "<br>住址：" + escape(e.address || "-") + (e.resign_reason ? "<br>离职原因：" + escape(e.resign_reason) : "") + (e.handover_to ? "<br>交接人：" + escape(e.handover_to) : "") + "</p>" +
    '<form id="emp-form" novalidate><label>岗位</label><input name="position" value="' + escape(e.position || "") + '"><label>入职日期</label><input type="date" name="hire_date" value="' + (e.hire_date || "") + '">' +
    '<label>调整部门</label><select name="department_id">' + departmentOptions(departments, e.department_id, "不指定") + "</select>" +
    '<div class="row mt-14"><button type="button" data-close>关闭</button><span class="spacer"></span>' +
    (e.status === "active" ? '<button type="button" id="resign">办理离职</button>' : "") +
    (e.status === "resigning" ? '<button type="button" id="confirm-resign">确认离职</button>' : "") +
    (e.status !== "resigned" ? '<button class="primary">保存</button>' : "") + "</div></form>");
  const form = back.querySelector("form");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const d = formData(form);
    const r1 = await api("PATCH", "/api/v1/employees/" + id, { position: d.position, hire_date: d.hire_date || null });
    if (!r1.ok) { showError(form, r1.data); return; }
    clearErrors(form);
    if ((d.department_id || null) !== (e.department_id || null)) {
      const r2 = await api("POST", "/api/v1/employees/" + id + "/department", { department_id: d.department_id || null });
      if (!r2.ok) { showError(form, r2.data); return; }
      clearErrors(form);
    }
    back.remove(); toast("已保存"); load();
  });
  const resign = back.querySelector("#resign");
  if (resign) resign.addEventListener("click", function () { back.remove(); step(id, "resignation", "办理离职", '<label>离职原因 *</label><input name="reason"><div class="field-error" data-error-for="reason"></div><label>离职备注</label><input name="remark">'); });
  const confirmIt = back.querySelector("#confirm-resign");
  if (confirmIt) confirmIt.addEventListener("click", function () {
    back.remove();
    const reasons = Object.keys(RESIGN_REASON_TYPES).map(function (k) { return '<option value="' + k + '">' + escape(RESIGN_REASON_TYPES[k]) + "</option>"; }).join("");
    step(id, "resignation/confirm", "确认离职", '<label>离职交接人 *</label><input name="handover_to"><div class="field-error" data-error-for="handover_to"></div><label>离职备注</label><input name="remark">' +
      '<label>最后工作日</label><input type="date" name="last_day"><div class="field-error" data-error-for="last_day"></div>' +
      '<label>解除（终止）原因</label><select name="reason_type">' + reasons + '</select><div class="field-error" data-error-for="reason_type"></div>' +
      '<p class="muted text-12">确认后将生成《解除（终止）劳动合同证明》，由企业盖章后发送给劳动者；其签署中的合同将被撤回。</p>',
    function (data) { if (data.certificate_contract_id) toast("确认离职成功，已生成《解除（终止）劳动合同证明》，请在“合同管理 · 待我操作”中盖章"); });
  });
}
function step(id, path, title, fields, after) {
  const back = modal("<h3>" + title + '</h3><form novalidate>' + fields + '<div class="row mt-14"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">确定</button></div></form>');
  back.querySelector("form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const r = await api("POST", "/api/v1/employees/" + id + "/" + path, formData(ev.target));
    if (!r.ok) { showError(ev.target, r.data); return; }
    clearErrors(ev.target);
    back.remove(); toast(title + "成功"); load();
    if (after) after(r.data);
  });
}
document.getElementById("status").addEventListener("change", function () { page = 1; load(); });
filters.addEventListener("change", function () { page = 1; load(); });
filters.addEventListener("reset", function (e) {
  e.preventDefault();
  DAYS.forEach(function (k) { filters.elements[k].value = ""; });
  page = 1; load();
});
let timer = null;
document.getElementById("q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { page = 1; load(); }, 300); });
onMe(function () { loadTree(); load(); });
