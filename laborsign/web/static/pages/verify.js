import { api } from "../js/api.js";
import { escape, formatTime, toast } from "../js/ui.js";

function yes(ok, good, bad) {
  return ok ? '<span class="badge ok">' + good + "</span>" : '<span class="badge bad">' + bad + "</span>";
}

function report(d) {
  return "<p>文件 SHA-256：<code class=\"break-all\">" + d.sha256 + "</code><br>" +
    (d.known_to_platform ? '<span class="badge ok">本平台存有该文件</span>' : '<span class="badge">本平台未存有该文件</span>') + "</p>" +
    (d.signatures.length ? '<table id="signatures"><thead><tr><th>签署人</th><th>签署时间</th><th>文件完整</th><th>证书可信</th><th>覆盖全文</th></tr></thead><tbody>' +
      d.signatures.map(function (s) {
        return "<tr><td>" + escape(s.signer) + "</td><td>" + formatTime(s.signed_at) + (s.timestamp_valid ? "（可信时间戳）" : "") + "</td><td>" +
          yes(s.intact, "未被改动", "已被改动") + "</td><td>" + yes(s.trusted, "可信", "不可信") + "</td><td>" +
          (s.covers_whole_document ? "是" : "否（之后还有修订）") + "</td></tr>" + (s.problem ? '<tr><td colspan="5" class="muted">' + escape(s.problem) + "</td></tr>" : "");
      }).join("") + "</tbody></table>" : '<div class="banner">该文件中没有电子签名。</div>');
}

document.getElementById("verify-form").addEventListener("submit", async function (e) {
  e.preventDefault();
  const file = e.target.file.files[0];
  const box = document.getElementById("report");
  if (!file) { toast("请选择PDF文件", true); return; }
  const fd = new FormData(); fd.append("file", file, file.name);
  box.innerHTML = '<span class="muted">验签中…</span>';
  const r = await api("POST", "/api/v1/verify", fd, { allow401: true });
  if (!r.ok) { box.innerHTML = '<div class="banner">' + escape((r.data && r.data.message) || "验签失败") + "</div>"; return; }
  box.innerHTML = report(r.data);
});
