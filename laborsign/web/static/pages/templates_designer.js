import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { CONTROL_KINDS as KINDS, CONTROL_PRESETS as PRESETS, FILLED_BY as WHO } from "../js/labels.js";
import { escape, modal, pageData, showError, toast } from "../js/ui.js";

const ID = pageData().templateId;
const DEFAULT_WHO = { signature: "worker", seal: "enterprise", sign_date: "worker" };
const DEFAULT_SIZE = { signature: [150, 60], seal: [120, 120], sign_date: [110, 20], text: [160, 20], number: [100, 20], date: [110, 20], choice: [120, 20] };
let tpl = null, controls = [], selected = -1, scale = 1, currentPage = null, editable = false;
let overflowing = {}; /* field code → the last preview's message: the box is too small for its sample */

function markDirty(on) { document.getElementById("dirty").hidden = !on; }
function uniqueKey(kind) { let n = 1; while (controls.some(function (c) { return c.key === kind + "_" + n; })) n++; return kind + "_" + n; }

async function load() {
  const r = await api("GET", "/api/v1/templates/" + ID);
  if (!r.ok) { showError(null, r.data); return; }
  tpl = r.data; controls = tpl.controls.map(function (c) { return Object.assign({}, c); });
  document.getElementById("title").textContent = tpl.name;
  document.getElementById("status").innerHTML = tpl.status === "enabled" ? '<span class="badge ok">已开启</span>' : '<span class="badge">已关闭</span>';
  document.getElementById("enable").textContent = tpl.status === "enabled" ? "关闭模板" : "立即开启";
  buildPages(); draw();
}

function buildPages() {
  const box = document.getElementById("pages");
  const width = Math.min(760, box.clientWidth - 30);
  box.innerHTML = "";
  tpl.files.forEach(function (f) {
    f.page_sizes.forEach(function (size, i) {
      scale = width / size.width;
      const label = document.createElement("div");
      label.className = "page-label";
      label.textContent = f.name + " · 第 " + (i + 1) + " 页";
      const page = document.createElement("div");
      page.className = "page";
      page.dataset.file = f.index; page.dataset.page = i + 1;
      page.style.width = size.width * scale + "px"; page.style.height = size.height * scale + "px";
      page.style.backgroundImage = "url(/api/v1/templates/" + ID + "/files/" + f.index + "/pages/" + (i + 1) + ".png?scale=1.5)";
      page.addEventListener("dragover", function (e) { e.preventDefault(); });
      page.addEventListener("drop", function (e) {
        e.preventDefault();
        const kind = e.dataTransfer.getData("text/kind"), preset = e.dataTransfer.getData("text/preset");
        if (!kind && !preset) return;
        const rect = page.getBoundingClientRect();
        const x = (e.clientX - rect.left) / scale, y = (e.clientY - rect.top) / scale;
        if (preset) addPreset(preset, page, x, y); else add(kind, page, x, y);
      });
      page.addEventListener("pointerdown", function (e) { if (e.target === page) { currentPage = page; select(-1); } });
      box.appendChild(label); box.appendChild(page);
      if (!currentPage) currentPage = page;
    });
  });
}

/* A preset places its controls side by side, with their keys and labels; one already there is selected instead. */
function addPreset(name, page, cx, cy) {
  if (!editable) return;
  const parts = PRESETS[name].split(",").map(function (p) { const f = p.split("|"); return { key: f[0], kind: f[1], label: f[2] }; });
  const existing = controls.findIndex(function (c) { return c.key === parts[0].key; });
  if (existing >= 0) { select(existing); toast("“" + name + "”已在模板中", true); return; }
  let x = cx;
  parts.forEach(function (p) {
    add(p.kind, page, x, cy, { key: p.key, label: p.label, filled_by: "initiator", required: true });
    x += DEFAULT_SIZE[p.kind][0] + 10;
  });
}

function add(kind, page, cx, cy, preset) {
  if (!editable) return;
  const size = DEFAULT_SIZE[kind];
  const pageSize = tpl.files[Number(page.dataset.file)].page_sizes[Number(page.dataset.page) - 1];
  const c = { key: uniqueKey(kind), label: KINDS[kind], kind: kind, file: Number(page.dataset.file), page: Number(page.dataset.page),
    x: Math.round(Math.max(0, Math.min(pageSize.width - size[0], cx - size[0] / 2)) * 10) / 10,
    y: Math.round(Math.max(0, Math.min(pageSize.height - size[1], cy - size[1] / 2)) * 10) / 10,
    width: size[0], height: size[1], required: true, filled_by: DEFAULT_WHO[kind] || "initiator" };
  if (kind === "choice") c.options = ["选项一", "选项二"];
  if (preset) Object.assign(c, preset);
  controls.push(c); markDirty(true); select(controls.length - 1);
}

function pageOf(c) { return document.querySelector('.page[data-file="' + c.file + '"][data-page="' + c.page + '"]'); }

function draw() {
  document.querySelectorAll(".ctl").forEach(function (el) { el.remove(); });
  controls.forEach(function (c, i) {
    const page = pageOf(c); if (!page) return;
    const el = document.createElement("div");
    el.className = "ctl k-" + c.kind + (i === selected ? " selected" : "") + (c._error ? " error" : "") + (overflowing[c.key] ? " overflow" : "");
    el.style.left = c.x * scale + "px"; el.style.top = c.y * scale + "px";
    el.style.width = c.width * scale + "px"; el.style.height = c.height * scale + "px";
    el.textContent = c.label + (c.required ? " *" : "");
    el.title = c.key + " · " + KINDS[c.kind] + " · " + WHO[c.filled_by];
    if (editable) { const grip = document.createElement("span"); grip.className = "grip"; el.appendChild(grip); }
    el.addEventListener("pointerdown", function (e) { startDrag(e, i, e.target.classList.contains("grip")); });
    page.appendChild(el);
  });
}

function startDrag(e, i, resizing) {
  e.preventDefault(); e.stopPropagation(); select(i);
  if (!editable) return;
  const c = controls[i], startX = e.clientX, startY = e.clientY, orig = Object.assign({}, c);
  const size = tpl.files[c.file].page_sizes[c.page - 1];
  function move(ev) {
    const dx = (ev.clientX - startX) / scale, dy = (ev.clientY - startY) / scale;
    if (resizing) {
      c.width = Math.max(8, Math.min(size.width - c.x, orig.width + dx));
      c.height = Math.max(8, Math.min(size.height - c.y, orig.height + dy));
    } else {
      c.x = Math.max(0, Math.min(size.width - c.width, orig.x + dx));
      c.y = Math.max(0, Math.min(size.height - c.height, orig.y + dy));
    }
    c.x = Math.round(c.x * 10) / 10; c.y = Math.round(c.y * 10) / 10;
    c.width = Math.round(c.width * 10) / 10; c.height = Math.round(c.height * 10) / 10;
    markDirty(true); draw();
  }
  function up() { window.removeEventListener("pointermove", move); window.removeEventListener("pointerup", up); select(i); }
  window.addEventListener("pointermove", move); window.addEventListener("pointerup", up);
}

function select(i) {
  selected = i; draw();
  const box = document.getElementById("props");
  if (i < 0) { box.innerHTML = '<p class="muted">选择页面上的控件以编辑属性</p>'; return; }
  const c = controls[i];
  const dis = editable ? "" : " disabled";
  box.innerHTML = "<h3>" + escape(KINDS[c.kind]) + "</h3>" +
    '<label>名称</label><input data-prop="label" type="text" maxlength="50" value="' + escape(c.label) + '"' + dis + ">" +
    '<label>字段代码（已自动生成，一般无需修改；接口与导出中使用）</label><input data-prop="key" type="text" maxlength="40" value="' + escape(c.key) + '"' + dis + ">" +
    '<label>类型</label><select data-prop="kind"' + dis + ">" + Object.keys(KINDS).map(function (k) {
      return '<option value="' + k + '"' + (k === c.kind ? " selected" : "") + ">" + KINDS[k] + "</option>"; }).join("") + "</select>" +
    '<label>填写方</label><select data-prop="filled_by"' + dis + ">" + Object.keys(WHO).map(function (k) {
      return '<option value="' + k + '"' + (k === c.filled_by ? " selected" : "") + ">" + WHO[k] + "</option>"; }).join("") + "</select>" +
    (c.kind === "choice" ? '<label>选项（每行一个）</label><textarea data-prop="options" rows="4"' + dis + ">" + escape((c.options || []).join("\n")) + "</textarea>" : "") +
    '<label class="inline mt-10"><input type="checkbox" data-prop="required"' + (c.required ? " checked" : "") + dis + "> 必填</label>" +
    '<p class="muted text-12">第 ' + c.page + " 页 · x " + c.x + " · y " + c.y + " · " + c.width + "×" + c.height + " pt</p>" +
    (c._error ? '<p class="problems">' + escape(c._error) + "</p>" : "") +
    (overflowing[c.key] ? '<p class="problems">' + escape(overflowing[c.key]) + "</p>" : "") +
    (editable ? '<button type="button" id="remove" class="block">删除控件</button>' : "");
  box.querySelectorAll("[data-prop]").forEach(function (input) {
    const typing = input.tagName === "TEXTAREA" || input.type === "text";
    // Text edits update the boxes as you type; a kind/party/required change re-renders the panel.
    input.addEventListener(typing ? "input" : "change", function () {
      const p = input.dataset.prop;
      if (p === "required") c.required = input.checked;
      else if (p === "options") c.options = input.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
      else c[p] = input.value.trim();
      if (p === "kind") { if (DEFAULT_WHO[c.kind]) c.filled_by = DEFAULT_WHO[c.kind]; if (c.kind === "choice" && !c.options) c.options = ["选项一", "选项二"]; if (c.kind !== "choice") delete c.options; }
      markDirty(true);
      if (typing) draw(); else select(i);
    });
  });
  const rm = document.getElementById("remove");
  if (rm) rm.addEventListener("click", function () { controls.splice(i, 1); markDirty(true); select(-1); });
}

document.querySelectorAll("[data-kind]").forEach(function (b) {
  b.addEventListener("dragstart", function (e) { e.dataTransfer.setData("text/kind", b.dataset.kind); });
  b.addEventListener("click", function () {
    if (!currentPage) return;
    const size = tpl.files[Number(currentPage.dataset.file)].page_sizes[Number(currentPage.dataset.page) - 1];
    add(b.dataset.kind, currentPage, size.width / 2, size.height / 2);
  });
});

document.querySelectorAll("[data-preset]").forEach(function (b) {
  b.addEventListener("dragstart", function (e) { e.dataTransfer.setData("text/preset", b.dataset.preset); });
  b.addEventListener("click", function () {
    if (!currentPage) return;
    const size = tpl.files[Number(currentPage.dataset.file)].page_sizes[Number(currentPage.dataset.page) - 1];
    addPreset(b.dataset.preset, currentPage, size.width / 3, size.height / 2);
  });
});

async function save() {
  controls.forEach(function (c) { delete c._error; });
  const body = controls.map(function (c) { const o = Object.assign({}, c); delete o._error; return o; });
  const r = await api("PUT", "/api/v1/templates/" + ID + "/controls", { controls: body });
  const problems = document.getElementById("problems");
  if (!r.ok) {
    const fields = (r.data && r.data.fields) || {};
    problems.innerHTML = Object.keys(fields).map(function (k) {
      const m = /^controls\[(\d+)\]/.exec(k);
      if (m && controls[Number(m[1])]) controls[Number(m[1])]._error = fields[k];
      return "<div>" + escape((m && controls[Number(m[1])] ? controls[Number(m[1])].label + "：" : "") + fields[k]) + "</div>";
    }).join("") || escape(r.data.message);
    draw(); toast("保存失败，请按提示修改", true); return false;
  }
  problems.innerHTML = "";
  tpl = r.data; controls = tpl.controls.map(function (c) { return Object.assign({}, c); });
  markDirty(false); draw(); toast("控件已保存");
  return true;
}
document.getElementById("save").addEventListener("click", save);

/* 预览: the saved controls filled with sample values by the server's contract fill, as page
   images; boxes too small for their sample are listed and outlined on the page. */
document.getElementById("preview").addEventListener("click", async function () {
  if (editable && !document.getElementById("dirty").hidden && !(await save())) return;
  const r = await api("GET", "/api/v1/templates/" + ID + "/preview");
  if (!r.ok) { showError(null, r.data); return; }
  overflowing = {};
  r.data.overflows.forEach(function (o) { overflowing[o.key] = o.message; });
  draw(); if (selected >= 0) select(selected);
  const stamp = Date.now();
  const warn = r.data.overflows.length
    ? '<div class="form-errors" role="alert" id="preview-overflows">以下内容超出了放置框，可能与模板文字重叠：<ul>' +
      r.data.overflows.map(function (o) { return "<li>第 " + o.page + " 页：" + escape(o.message) + "</li>"; }).join("") + "</ul></div>"
    : '<p class="muted" id="preview-ok">各控件的示例内容都能放进放置框。</p>';
  const pages = r.data.pages.map(function (p) {
    return '<img class="preview-page" alt="预览第 ' + p.page + ' 页" loading="lazy" src="/api/v1/templates/' + ID +
      "/preview/pages/" + p.page + ".png?scale=1.5&t=" + stamp + '">';
  }).join("");
  modal('<h3 class="m-0">预览（示例值）</h3><p class="muted text-12">按发起合同时的方式填入示例值（张三、身份证号、日期、工资等），签名和印章为示例图。</p>' +
    warn + '<div class="preview-pages">' + pages + '</div><div class="row"><a href="' + r.data.pdf_url +
    '" target="_blank" rel="noopener">下载预览 PDF</a><span class="spacer"></span><button type="button" data-close>关闭</button></div>'
  ).querySelector(".modal").classList.add("preview-modal");
});

document.getElementById("enable").addEventListener("click", async function () {
  if (!document.getElementById("dirty").hidden) { toast("请先保存控件", true); return; }
  const act = tpl.status === "enabled" ? "disable" : "enable";
  const r = await api("POST", "/api/v1/templates/" + ID + "/" + act);
  if (!r.ok) { showError(null, r.data); return; }
  toast(act === "enable" ? "模板已开启，可在发起签署时选用" : "模板已关闭");
  load();
});

window.addEventListener("beforeunload", function (e) { if (!document.getElementById("dirty").hidden) { e.preventDefault(); e.returnValue = ""; } });

onMe(function (me) {
  editable = me.side === "platform" || !!(me.member && (me.member.role === "admin" || me.member.permissions.indexOf("templates") >= 0));
  document.getElementById("save").hidden = !editable;
  document.getElementById("enable").hidden = !editable;
  document.getElementById("palette").hidden = !editable;
  load().then(function () {
    if (tpl && me.side !== "platform" && tpl.scope === "public") {
      editable = false;
      ["save", "enable", "palette"].forEach(function (id) { document.getElementById(id).hidden = true; });
      draw();
    }
  });
});
