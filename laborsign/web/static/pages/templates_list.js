import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { TEMPLATE_TYPES } from "../js/labels.js";
import { pager } from "../js/pager.js";
import { clearErrors, escape, modal, pageData, showError, toast } from "../js/ui.js";

const CONSOLE = pageData().console === "true";
const BASE = CONSOLE ? "/console/templates/" : "/dashboard/templates/";
let scope = "all", page = 1, canEdit = CONSOLE;

function row(t) {
  const mine = CONSOLE || t.scope === "enterprise";
  const editable = mine && canEdit;
  const status = t.status === "enabled" ? '<span class="badge ok">已开启</span>' : '<span class="badge">已关闭</span>';
  let actions = '<a href="' + BASE + t.id + '">' + (editable ? "设计控件" : "查看") + "</a>";
  if (editable) {
    actions += t.status === "enabled" ? ' <button class="link" data-act="disable" data-id="' + t.id + '">关闭</button>'
      : ' <button class="link" data-act="enable" data-id="' + t.id + '">立即开启</button>';
    actions += ' <button class="link" data-act="delete" data-id="' + t.id + '">删除</button>';
  }
  return "<tr><td>" + escape(t.name) + '</td><td class="hide-sm">' + escape(TEMPLATE_TYPES[t.type] || t.type) + "</td><td>" +
    (t.scope === "public" ? "公共模板" : "本企业") + "</td><td>" + t.files.length + " 个文件 / " + t.control_count + " 个控件</td><td>" +
    status + "</td><td>" + actions + "</td></tr>";
}

async function load() {
  const r = await api("GET", "/api/v1/templates?scope=" + scope + "&page=" + page + "&per_page=20");
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("templates").innerHTML = r.data.items.map(row).join("") || '<tr><td colspan="6" class="muted">暂无模板</td></tr>';
  pager(document.getElementById("pager"), r.data, page, "个", function (p) { page = p; load(); });
  document.querySelectorAll("[data-act]").forEach(function (b) {
    b.addEventListener("click", async function () {
      const act = b.dataset.act;
      if (act === "delete" && !confirm("删除后不可恢复（已发起的合同不受影响），确定删除？")) return;
      const res = act === "delete" ? await api("DELETE", "/api/v1/templates/" + b.dataset.id)
        : await api("POST", "/api/v1/templates/" + b.dataset.id + "/" + act);
      if (!res.ok) { showError(null, res.data); return; }
      toast(act === "enable" ? "模板已开启" : act === "disable" ? "模板已关闭" : "模板已删除");
      load();
    });
  });
}

onMe(function (me) {
  // Shown once its click is wired (a click before the module ran would do nothing).
  if (!CONSOLE) canEdit = me.member && (me.member.role === "admin" || me.member.permissions.indexOf("templates") >= 0);
  document.getElementById("new-template").hidden = !canEdit;
  load();
});
document.querySelectorAll("[data-scope]").forEach(function (tab) {
  tab.addEventListener("click", function () {
    scope = tab.dataset.scope; page = 1;
    document.querySelectorAll("[data-scope]").forEach(function (t) { t.classList.toggle("active", t === tab); });
    load();
  });
});
document.getElementById("new-template").addEventListener("click", function () {
  const back = modal('<h3>新建模板</h3><form id="template-form" novalidate>' +
    '<label>模板名称</label><input name="name" type="text" maxlength="50"><div class="field-error" data-error-for="name"></div>' +
    '<label>模板类型</label><select name="type">' + Object.keys(TEMPLATE_TYPES).map(function (k) {
      return '<option value="' + k + '">' + TEMPLATE_TYPES[k] + "</option>"; }).join("") + '</select><div class="field-error" data-error-for="type"></div>' +
    '<label>模板文件（PDF，可多选，单个不超过20MB）</label><input name="files" type="file" accept="application/pdf,.pdf" multiple>' +
    '<div class="field-error" data-error-for="files"></div>' +
    '<div class="row mt-16"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">下一步</button></div></form>');
  const form = back.querySelector("form");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const fd = new FormData();
    fd.append("name", form.name.value.trim());
    fd.append("type", form.type.value);
    Array.from(form.files.files).forEach(function (f) { fd.append("files", f, f.name); });
    const button = form.querySelector("button.primary");
    button.disabled = true; button.textContent = "上传中…";
    const r = await api("POST", "/api/v1/templates", fd);
    button.disabled = false; button.textContent = "下一步";
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    location.href = BASE + r.data.id;
  });
});
