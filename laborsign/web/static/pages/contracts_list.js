import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { pager } from "../js/pager.js";
import { exportWith } from "../js/exports.js";
import { zipButton } from "../js/zipjob.js";
import { enterpriseSign } from "../js/signing.js";
import { CONTRACT_STATUS } from "../js/labels.js";
import { departmentOptions } from "../js/tree.js";
import { escape, formatTime, showError, toast } from "../js/ui.js";

const start = new URLSearchParams(location.search);
let view = start.get("view") || "all", page = 1, items = [], asked = 0;
/* The list's filters live in the URL: a reload, a shared link or Back finds the same list. */
const filters = document.getElementById("filters");
const NARROW = ["status", "department_id", "launched_from", "launched_to", "term_end_from", "term_end_to"];
filters.elements.status.insertAdjacentHTML("beforeend", Object.keys(CONTRACT_STATUS).map(function (k) {
  return '<option value="' + k + '">' + escape(CONTRACT_STATUS[k]) + "</option>";
}).join(""));
document.getElementById("q").value = start.get("q") || "";
NARROW.forEach(function (k) { filters.elements[k].value = start.get(k) || ""; });

function listQuery() {
  const query = new URLSearchParams({ view: view });
  const q = document.getElementById("q").value.trim();
  if (q) query.set("q", q);
  NARROW.forEach(function (k) { const v = filters.elements[k].value; if (v) query.set(k, v); });
  return query.toString();
}
const picked = new Set();

async function counts() {
  const r = await api("GET", "/api/v1/contracts/counts");
  if (!r.ok) return;
  ["all", "awaiting_others", "completed"].forEach(function (k) { document.getElementById("n-" + k).textContent = r.data[k]; });
  const n = document.getElementById("n-awaiting_me"); n.textContent = r.data.awaiting_me; n.hidden = !r.data.awaiting_me;
}

function row(c) {
  const parties = c.parties.map(function (p) {
    return escape(p.name) + ' <span class="badge' + (p.status === "signed" ? " ok" : p.status === "declined" ? " bad" : "") + '">' + p.status_label + "</span>";
  }).join("<br>");
  return "<tr><td>" + (c.awaiting_me ? '<input type="checkbox" data-pick="' + c.id + '"' + (picked.has(c.id) ? " checked" : "") + ">" : "") +
    "</td><td>" + escape(c.name) + "</td><td>" + escape(c.worker_name) + '<br><span class="muted">' + escape(c.worker_phone_masked) +
    "</span></td><td>" + parties + (c.signing_order !== "parallel" ? '<br><span class="muted text-12">' + escape(c.signing_order_label) + "</span>" : "") + '</td><td class="hide-sm">' + formatTime(c.launched_at) + "</td><td>" +
    (c.awaiting_me ? '<span class="badge warn">待我签署</span>' : '<span class="badge">' + c.status_label + "</span>") +
    '</td><td><a href="/dashboard/contracts/' + c.id + '">查看</a></td></tr>';
}

async function load() {
  document.querySelectorAll("[data-view]").forEach(function (b) { b.classList.toggle("active", b.dataset.view === view); });
  const mine = ++asked;
  const query = listQuery();
  history.replaceState(null, "", "?" + query);
  exportWith(query);
  const r = await api("GET", "/api/v1/contracts?" + query + "&page=" + page + "&per_page=20");
  if (mine !== asked) return;  // a newer tab, page or search was asked for meanwhile
  if (!r.ok) { showError(null, r.data); return; }
  items = r.data.items;
  document.getElementById("rows").innerHTML = items.map(row).join("") || '<tr><td colspan="7" class="muted">暂无合同</td></tr>';
  document.querySelectorAll("[data-pick]").forEach(function (box) {
    box.addEventListener("change", function () { if (box.checked) picked.add(box.dataset.pick); else picked.delete(box.dataset.pick); sync(); });
  });
  pager(document.getElementById("pager"), r.data, page, "份", function (p) { page = p; load(); });
}

function sync() {
  document.getElementById("picked").textContent = picked.size;
  document.getElementById("batch-sign").hidden = picked.size === 0;
}

document.getElementById("all-box").addEventListener("change", function (e) {
  items.filter(function (c) { return c.awaiting_me; }).forEach(function (c) { if (e.target.checked) picked.add(c.id); else picked.delete(c.id); });
  load(); sync();
});
document.querySelectorAll("[data-view]").forEach(function (b) {
  b.addEventListener("click", function () { view = b.dataset.view; page = 1; load(); });
});
let timer = null;
document.getElementById("q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { page = 1; load(); }, 300); });
document.getElementById("batch-sign").addEventListener("click", function () {
  enterpriseSign(Array.from(picked), function (result) {
    picked.clear(); sync(); counts(); load();
    toast("已签署 " + result.signed.length + " 份" + (result.failed.length ? "，失败 " + result.failed.length + " 份" : ""), result.failed.length > 0);
  });
});
filters.addEventListener("change", function () { page = 1; load(); });
filters.addEventListener("reset", function (e) {
  e.preventDefault();  // a reset would bring back the choice the page opened with
  NARROW.forEach(function (k) { filters.elements[k].value = ""; });
  page = 1; load();
});
async function loadDepartments() {
  const r = await api("GET", "/api/v1/departments");
  if (!r.ok) return;
  const select = filters.elements.department_id;
  const chosen = select.value || start.get("department_id") || "";
  select.innerHTML = departmentOptions(r.data.items, chosen, "全部部门");
}
onMe(async function () { await loadDepartments(); counts(); load(); });

zipButton(document.getElementById("zip-export"), document.getElementById("zip-progress"));
