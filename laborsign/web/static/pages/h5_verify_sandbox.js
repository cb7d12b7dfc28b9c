import { pageData } from "../js/ui.js";

const calls = JSON.parse(pageData().calls);
const back = pageData().returnTo;

async function send(which) {
  document.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  const call = calls[which];
  const resp = await fetch("/webhooks/identity/sandbox", { method: "POST", headers: call.headers, body: call.body });
  const status = document.getElementById("sandbox-status");
  if (!resp.ok) {
    const data = await resp.json().catch(function () { return {}; });
    status.textContent = "回调失败：" + (data.message || resp.status);
    document.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    return;
  }
  status.textContent = "认证结果已回传，正在返回…";
  location.href = back;
}
document.getElementById("sandbox-pass").addEventListener("click", function () { send("pass"); });
document.getElementById("sandbox-fail").addEventListener("click", function () { send("fail"); });
