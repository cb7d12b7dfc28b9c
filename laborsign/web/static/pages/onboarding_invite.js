import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { departmentOptions } from "../js/tree.js";
import { clearErrors, escape, formData, showError, toast } from "../js/ui.js";

async function load() {
  const r = await api("GET", "/api/v1/invite-link");
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("link").value = r.data.url;
  document.getElementById("qr").src = r.data.qr_png + "?t=" + r.data.token;
  channelCodes(r.data.token);
  const d = await api("GET", "/api/v1/departments");
  if (d.ok) document.getElementById("dept").innerHTML = departmentOptions(d.data.items, null, "不指定");
}
// One join QR code per enabled chat channel that has one; labels come from the channel.
async function channelCodes(token) {
  const box = document.getElementById("channel-qrs");
  const r = await api("GET", "/api/v1/invite-link/channels");
  if (!r.ok || !r.data.items.length) { box.hidden = true; return; }
  box.innerHTML = "<h3>聊天渠道扫码入职</h3>" + r.data.items.map(function (c) {
    return '<figure class="channel-qr" data-channel="' + escape(c.channel) + '">' +
      '<img src="' + escape(c.qr_png) + "?t=" + escape(token) + '" alt="' + escape(c.label) + '入职二维码">' +
      "<figcaption><b>" + escape(c.label) + '</b><span class="muted">' + escape(c.join_label) + "</span>" +
      '<a class="btn" href="' + escape(c.qr_png) + '?download=1">下载</a></figcaption></figure>';
  }).join("");
  box.hidden = false;
}
document.getElementById("copy").addEventListener("click", async function () {
  const input = document.getElementById("link");
  input.select();
  try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
  toast("邀请链接已复制");
});
document.getElementById("reset").addEventListener("click", async function () {
  if (!confirm("重新生成后，旧的链接和二维码将失效，确定？")) return;
  const r = await api("POST", "/api/v1/invite-link/reset");
  if (!r.ok) { showError(null, r.data); return; }
  toast("已生成新的邀请链接"); load();
});
document.getElementById("invite-form").addEventListener("submit", async function (e) {
  e.preventDefault();
  const form = e.target;
  const d = formData(form);
  const r = await api("POST", "/api/v1/invitations", { name: d.name, phone: d.phone, department_id: d.department_id || null });
  if (!r.ok) { showError(form, r.data); return; }
  clearErrors(form);
  form.reset(); toast("邀请短信已发送");
});
document.getElementById("bulk").addEventListener("change", async function (e) {
  const file = e.target.files[0];
  if (!file) return;
  const fd = new FormData(); fd.append("file", file, file.name);
  const box = document.getElementById("bulk-result");
  box.innerHTML = '<span class="muted">校验中…</span>';
  const r = await api("POST", "/api/v1/invitations/batch", fd);
  e.target.value = "";
  if (r.ok) { box.innerHTML = '<div class="banner ok">已发送 ' + r.data.sent + " 条邀请短信。</div>"; return; }
  if (r.data && r.data.rows) {
    box.innerHTML = '<div class="banner">' + escape(r.data.message) + '</div><table id="row-errors"><thead><tr><th>行</th><th>列</th><th>问题</th></tr></thead><tbody>' +
      r.data.rows.map(function (x) { return "<tr><td>第" + x.row + "行</td><td>" + escape(x.column) + "</td><td>" + escape(x.message) + "</td></tr>"; }).join("") +
      "</tbody></table>";
    return;
  }
  box.innerHTML = '<div class="banner">' + escape((r.data && r.data.message) || "上传失败") + "</div>";
});
onMe(load);
