import { api } from "../js/api.js";
import { onMe } from "../js/chrome.js";
import { escape, formatTime, showError, toast } from "../js/ui.js";

async function load() {
  const r = await api("GET", "/api/v1/seals");
  if (!r.ok) { showError(null, r.data); return; }
  document.getElementById("seals").innerHTML = r.data.items.map(function (s) {
    return '<div class="entry center"><img class="seal-image" src="' + s.image + '" alt="' + escape(s.name) + '">' +
      "<h3>" + escape(s.name) + "</h3><p>" + (s.source === "generated" ? "系统生成" : "上传") + " · " + formatTime(s.created_at) + "</p></div>";
  }).join("") || '<p class="muted">还没有印章。生成或上传后，即可在签署时拖放到印章区域。</p>';
}

document.getElementById("generate").addEventListener("click", async function () {
  const r = await api("POST", "/api/v1/seals", { type: document.getElementById("type").value });
  if (!r.ok) { showError(null, r.data); return; }
  toast("印章已生成"); load();
});
document.getElementById("upload").addEventListener("change", async function (e) {
  const file = e.target.files[0];
  if (!file) return;
  const fd = new FormData();
  fd.append("type", document.getElementById("type").value);
  fd.append("file", file, file.name);
  const r = await api("POST", "/api/v1/seals", fd);
  e.target.value = "";
  if (!r.ok) { showError(null, r.data); return; }
  toast("印章已上传"); load();
});
onMe(load);
