import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { ENTERPRISE_STATUS, ORG_TYPES, PERMISSIONS, ROLE } from "../js/labels.js";
import { pager } from "../js/pager.js";
import { clearErrors, escape, formatTime, modal, showError, toast } from "../js/ui.js";

let page = 1, members = [], admin = false, myId = null;

function actions(m) {
  if (!admin || m.status !== "active") return "";
  return '<button type="button" class="link" data-edit="' + m.id + '">修改权限</button> ' +
    '<button type="button" class="link" data-remove="' + m.id + '">移除</button>';
}

async function load() {
  const r = await api("GET", "/api/v1/members?page=" + page + "&per_page=20");
  if (!r.ok) { showError(null, r.data); return; }
  members = r.data.items;
  document.getElementById("members").innerHTML = members.map(function (m) {
    return '<tr data-member="' + m.id + '"><td>' + escape(m.name) + "</td><td>" + escape(m.phone_masked) + "</td><td>" +
      (m.status === "active" ? (ROLE[m.role] || m.role) : '<span class="badge">已失效</span>') +
      '</td><td class="hide-sm">' + (m.role === "admin" ? "全部" : m.permissions.map(function (p) { return PERMISSIONS[p] || p; }).join("、") || "—") +
      '</td><td class="hide-sm">' + formatTime(m.created_at) + '</td><td class="hide-sm">' + (m.last_login_at ? formatTime(m.last_login_at) : "从未登录") +
      '</td><td class="admin-only"' + (admin ? "" : " hidden") + ">" + actions(m) + "</td></tr>";
  }).join("");
  document.querySelectorAll("[data-edit]").forEach(function (b) {
    b.addEventListener("click", function () { editMember(members.find(function (m) { return m.id === b.dataset.edit; })); });
  });
  document.querySelectorAll("[data-remove]").forEach(function (b) {
    b.addEventListener("click", function () { removeMember(members.find(function (m) { return m.id === b.dataset.remove; })); });
  });
  pager(document.getElementById("pager"), r.data, page, "人", function (p) { page = p; load(); });
}

function editMember(m) {
  const back = modal("<h3>修改权限：" + escape(m.name) + '</h3><form id="edit-form" novalidate>' +
    '<label class="inline"><input type="checkbox" name="admin"' + (m.role === "admin" ? " checked" : "") + "> 设为管理员（拥有全部权限）</label>" +
    "<label>权限</label>" + Object.keys(PERMISSIONS).map(function (p) {
      return '<label class="inline"><input type="checkbox" data-perm="' + p + '"' + (m.permissions.indexOf(p) >= 0 ? " checked" : "") + "> " + PERMISSIONS[p] + "</label> ";
    }).join("") +
    '<div class="row mt-16"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">保存</button></div></form>');
  const form = back.querySelector("form");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const perms = Array.from(form.querySelectorAll("[data-perm]:checked")).map(function (c) { return c.dataset.perm; });
    const r = await api("PATCH", "/api/v1/members/" + m.id, { permissions: perms, role: form.admin.checked ? "admin" : "member" });
    if (!r.ok) { showError(form, r.data); return; }
    back.remove(); toast("已保存"); load();
  });
}

function removeMember(m) {
  const back = modal("<h3>移除成员</h3><p>移除后，" + escape(m.name) + "（" + escape(m.phone_masked) +
    '）将立即无法办理本企业业务，其登录会话与企业微信绑定随即失效。</p><div class="row mt-16"><span class="spacer"></span>' +
    '<button type="button" data-close>取消</button><button type="button" class="primary" id="confirm-remove">确定移除</button></div>');
  back.querySelector("#confirm-remove").addEventListener("click", async function () {
    const r = await api("DELETE", "/api/v1/members/" + m.id);
    back.remove();
    if (!r.ok) { showError(null, r.data); return; }
    if (m.id === myId) { location.href = "/choose"; return; }
    toast("已移除成员"); load();
  });
}

async function loadKeys() {
  const r = await api("GET", "/api/v1/api-keys");
  if (!r.ok) return;
  document.getElementById("api-keys-card").hidden = false;
  document.getElementById("keys").innerHTML = r.data.items.map(function (k) {
    return "<tr><td>" + escape(k.name) + "</td><td><code>" + escape(k.prefix) + "</code></td><td>" + formatTime(k.created_at) +
      "</td><td>" + (k.revoked_at ? '<span class="badge">已吊销</span>' : '<span class="badge ok">有效</span>') + "</td><td>" +
      (k.revoked_at ? "" : '<button class="link" data-revoke="' + k.id + '">吊销</button>') + "</td></tr>";
  }).join("");
  document.querySelectorAll("[data-revoke]").forEach(function (b) {
    b.addEventListener("click", async function () {
      if (!confirm("吊销后使用该密钥的系统将无法调用接口，确定吊销？")) return;
      const r2 = await api("DELETE", "/api/v1/api-keys/" + b.dataset.revoke);
      if (r2.ok) loadKeys(); else showError(null, r2.data);
    });
  });
}

onMe(function (me) {
  const e = me.enterprise;
  document.getElementById("enterprise-info").innerHTML = "企业名称：" + escape(e.name) + "<br>统一社会信用代码：" +
    escape(e.credit_code) + "<br>组织类型：" + (ORG_TYPES[e.org_type] || e.org_type) + "<br>实名认证：" + (ENTERPRISE_STATUS[e.verification_status] || e.verification_status);
  admin = !!(me.member && me.member.role === "admin");
  myId = me.member ? me.member.id : null;
  document.querySelectorAll("th.admin-only").forEach(function (th) { th.hidden = !admin; });
  document.getElementById("add-member").hidden = !admin;
  document.getElementById("transfer").hidden = !admin;
  load();
  if (admin) loadKeys();
});

document.getElementById("add-member").addEventListener("click", function () {
  const back = modal('<h3>添加成员</h3><form id="member-form" novalidate>' +
    '<label>姓名</label><input name="name" type="text" maxlength="50"><div class="field-error" data-error-for="name"></div>' +
    '<label>手机号</label><input name="phone" type="tel" maxlength="11"><div class="field-error" data-error-for="phone"></div>' +
    "<label>权限</label>" + Object.keys(PERMISSIONS).map(function (p) {
      return '<label class="inline"><input type="checkbox" data-perm="' + p + '"> ' + PERMISSIONS[p] + "</label> ";
    }).join("") +
    '<div class="row mt-16"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">添加</button></div></form>');
  const form = back.querySelector("form");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const perms = Array.from(form.querySelectorAll("[data-perm]:checked")).map(function (c) { return c.dataset.perm; });
    const r = await api("POST", "/api/v1/members", { name: form.name.value.trim(), phone: form.phone.value.trim(), permissions: perms });
    if (!r.ok) { showError(form, r.data); return; }
    clearErrors(form);
    back.remove(); toast("已添加成员"); load();
  });
});

document.getElementById("transfer").addEventListener("click", function () {
  const candidates = members.filter(function (m) { return m.role !== "admin" && m.status === "active"; });
  if (!candidates.length) { toast("请先添加成员，再进行转授", true); return; }
  const back = modal('<h3>转授管理员</h3><p class="muted">转授成功后，您将失去本企业的全部管理员权限且无法再登录本企业。</p>' +
    '<form id="transfer-form">' + candidates.map(function (m) {
      return '<label class="list-item"><span>' + escape(m.name) + " " + escape(m.phone_masked) +
        '</span><input type="radio" name="member_id" value="' + m.id + '"></label>';
    }).join("") + '<div class="row mt-16"><span class="spacer"></span><button type="button" data-close>取消</button><button class="primary">确定</button></div></form>');
  back.querySelector("form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    const id = new FormData(ev.target).get("member_id");
    if (!id) { toast("请选择接受转授的成员", true); return; }
    const r = await api("POST", "/api/v1/enterprise/admin-transfer", { member_id: id });
    if (!r.ok) { showError(null, r.data); return; }
    back.remove();
    modal("<h3>转授成功</h3><p>" + escape(r.data.name) + " 已成为管理员，您已无法继续办理本企业业务。</p><button class=\"primary block\" id=\"bye\">确定</button>")
      .querySelector("#bye").addEventListener("click", function () { location.href = "/login"; });
  });
});

document.getElementById("new-key").addEventListener("click", async function () {
  const name = prompt("密钥名称（例如：人事系统）", "人事系统");
  if (name === null) return;
  const r = await api("POST", "/api/v1/api-keys", { name: name });
  if (!r.ok) { showError(null, r.data); return; }
  modal('<h3>密钥已创建</h3><p>请立即复制保存，关闭后将无法再次查看：</p><p><code id="secret" class="break-all">' +
    escape(r.data.secret) + '</code></p><button class="primary block" data-close>我已保存</button>');
  loadKeys();
});
