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
  };
  const fd = new FormData(); fd.append("file", file, file.name); fd.append("meta", JSON.stringify(meta));
  const r = await api("POST", "/api/v1/contracts/upload", fd);
  if (!r.ok) { showError(form, r.data); return; }
  clearErrors(form);
  document.getElementById("result").innerHTML = '<div class="banner ok">成功发起 ' + r.data.contracts.length +
    " 份" + (r.data.failed.length ? "，失败 " + r.data.failed.length + " 份：" + r.data.failed.map(function (f) { return escape(f.message); }).join("；") : "") +
    '。<a href="/dashboard/contracts">查看合同</a></div>';
});
onMe(loadPeople);
