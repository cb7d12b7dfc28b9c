import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { clearErrors, escape, showError } from "../js/ui.js";

const SPOTS = { br: "右下角", bl: "左下角", tr: "右上角", tl: "左上角" };
const form = document.getElementById("upload-form");
let sizes = [], people = [];
const picked = new Set();

["worker_spot", "seal_spot"].forEach(function (name, i) {
  form[name].innerHTML = Object.keys(SPOTS).map(function (k) { return '<option value="' + k + '">' + SPOTS[k] + "</option>"; }).join("");
  form[name].value = i === 0 ? "br" : "bl";
});

form.file.addEventListener("change", async function () {
  const file = form.file.files[0];
  if (!file) return;
  if (!form.name.value) form.name.value = file.name.replace(/\.pdf$/i, "").slice(0, 50);
  const fd = new FormData(); fd.append("file", file, file.name);
  const r = await api("POST", "/api/v1/contracts/upload/inspect", fd);
  if (!r.ok) { sizes = []; showError(form, r.data); return; }
  sizes = r.data.pages;
  document.getElementById("pages-info").textContent = "共 " + sizes.length + " 页";
  ["worker_page", "seal_page"].forEach(function (name) {
    form[name].innerHTML = sizes.map(function (_, i) { return '<option value="' + (i + 1) + '">第 ' + (i + 1) + " 页</option>"; }).join("");
    form[name].value = String(sizes.length);
  });
});

/* A box of w × h points in a corner of the page, 40 points in from its edges. */
function spot(page, where, w, h) {
  const size = sizes[page - 1], m = 40;
  return { x: where.charAt(1) === "l" ? m : size.width - w - m, y: where.charAt(0) === "t" ? m : size.height - h - m, width: w, height: h };
}

async function loadPeople() {
  const q = document.getElementById("q").value.trim();
  const r = await api("GET", "/api/v1/employees?status=active&per_page=100" + (q ? "&q=" + encodeURIComponent(q) : ""));
  people = r.ok ? r.data.items : [];
  document.getElementById("people").innerHTML = people.map(function (p) {
    return '<tr><td class="pick"><input type="checkbox" data-person="' + p.id + '"' + (picked.has(p.id) ? " checked" : "") + "></td><td>" +
      escape(p.name) + "</td><td>" + escape(p.phone_masked) + "</td><td>" + escape(p.department_name || "") + "</td></tr>";
  }).join("") || '<tr><td class="muted">没有在职员工</td></tr>';
  document.querySelectorAll("[data-person]").forEach(function (b) {
    b.addEventListener("change", function () {
      if (b.checked) picked.add(b.dataset.person); else picked.delete(b.dataset.person);
      document.getElementById("picked").textContent = picked.size ? "已选 " + picked.size + " 人" : "";
    });
  });
}

const CONFIRM = "请确认劳动法提示：阅读上方各项后勾选“我已知悉”，再发起签署";
const confirmBox = document.getElementById("confirm-warnings");

/* The term typed in, by its API key (blank ones left out). */
function terms() {
  const out = {};
  document.querySelectorAll("[data-term]").forEach(function (el) { if (el.value.trim()) out[el.dataset.term] = el.value.trim(); });
  return out;
}

/* Each worker's errors and warnings; true when any warns (HR must confirm). */
function showChecks(workers) {
  const named = workers.filter(function (w) { return w.errors.length || w.warnings.length; });
  const warned = named.some(function (w) { return w.warnings.length; });
  document.getElementById("checks").innerHTML = named.map(function (w) {
    const p = people.find(function (x) { return x.id === w.employee_id; });
    return '<div class="banner mt-10" data-check="' + escape(w.employee_id) + '"><b>' + escape(w.worker_name || (p ? p.name : w.employee_id)) + "：</b>" +
      w.errors.map(function (e) { return '<div class="field-error" data-code="' + escape(e.code) + '">不能发起：' + escape(e.message) + "</div>"; }).join("") +
      w.warnings.map(function (x) { return '<div data-code="' + escape(x.code) + '">' + escape(x.message) + (x.article ? '<span class="muted">（' + escape(x.article) + "）</span>" : "") + "</div>"; }).join("") +
      "</div>";
  }).join("");
  document.getElementById("checks").dataset.done = "1";
  document.getElementById("confirm-row").hidden = !warned;
  if (!warned) confirmBox.checked = false;
  return warned;
}

/* A changed term is checked again: an earlier confirmation does not cover it. */
document.getElementById("term-fields").addEventListener("change", function () {
  confirmBox.checked = false;
  document.getElementById("confirm-row").hidden = true;
  document.getElementById("checks").innerHTML = "";
  delete document.getElementById("checks").dataset.done;
});

let timer = null;
document.getElementById("q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(loadPeople, 300); });
form.addEventListener("submit", async function (e) {
  e.preventDefault();
  const file = form.file.files[0];
  if (!file || !sizes.length) { showError(form, { message: "请上传合同PDF文件", fields: { file: "请上传合同PDF文件" } }); return; }
  const wp = Number(form.worker_page.value), sp = Number(form.seal_page.value);
  const meta = {
    name: form.name.value.trim(), employee_ids: Array.from(picked),
    enterprise_party: { seal_type: "contract" },
    placements: [
      Object.assign({ party: "worker", file: 0, page: wp }, spot(wp, form.worker_spot.value, 150, 60)),
      Object.assign({ party: "enterprise", file: 0, page: sp }, spot(sp, form.seal_spot.value, 120, 120)),
    ],
    term_type: form.term_type.value || null, fields: terms(), confirm_warnings: confirmBox.checked,
  };
  // The labor-law checks first (nothing is sent): HR reads them and confirms before the launch.
  const c = await api("POST", "/api/v1/contracts/check", meta);
  if (!c.ok) { showError(form, c.data); return; }
  if (showChecks(c.data.workers) && !confirmBox.checked) { clearErrors(form); showError(null, { message: CONFIRM }); return; }
  const fd = new FormData(); fd.append("file", file, file.name); fd.append("meta", JSON.stringify(meta));
  const r = await api("POST", "/api/v1/contracts/upload", fd);
  if (!r.ok && r.data && r.data.error === "labor_law_warnings") { showChecks(r.data.workers); showError(null, { message: CONFIRM }); return; }
  if (!r.ok) { showError(form, r.data); return; }
  clearErrors(form);
  document.getElementById("result").innerHTML = '<div class="banner ok">成功发起 ' + r.data.contracts.length +
    " 份" + (r.data.failed.length ? "，失败 " + r.data.failed.length + " 份：" + r.data.failed.map(function (f) { return escape(f.message); }).join("；") : "") +
    '。<a href="/dashboard/contracts">查看合同</a></div>' +
    (r.data.warnings.length ? '<div class="banner mt-10"><b>劳动法提示：</b><br>' + Array.from(new Set(r.data.warnings.map(function (w) { return w.message; })))
      .map(escape).join("<br>") + "</div>" : "");
});
onMe(loadPeople);
