/* 下载PDF压缩包: the link's href carries the list's filters (exportWith). A small set comes
 * back as the zip itself; a large one as a background job (202), whose progress is polled
 * until its zip can be downloaded from the file store. */
import { api } from "./api.js";

const POLL_MS = 1000;

function fileName(resp, fallback) {
  const header = resp.headers.get("Content-Disposition") || "";
  const m = /filename\*=UTF-8''([^;]+)/.exec(header);
  return m ? decodeURIComponent(m[1]) : fallback;
}

function save(href, name) {
  const a = document.createElement("a");
  a.href = href; a.download = name || ""; a.hidden = true;
  document.body.appendChild(a); a.click(); a.remove();
}

function say(box, text, failed) {
  box.hidden = false;
  box.textContent = text;
  box.classList.toggle("error", !!failed);
}

async function follow(job, box) {
  for (;;) {
    if (job.status === "done") {
      box.hidden = false;
      box.textContent = "";
      const link = document.createElement("a");
      link.href = job.download_url; link.id = "zip-download"; link.setAttribute("download", "");
      link.textContent = "打包完成（" + job.done + " 份），点击下载压缩包";
      box.appendChild(link);
      save(job.download_url, "");
      return;
    }
    if (job.status === "failed" || job.status === "expired") {
      say(box, job.status_label + "：" + (job.error || "请重新导出"), true);
      return;
    }
    say(box, (job.status === "queued" ? "排队中" : "正在打包") + " " + job.done + "/" + job.total);
    await new Promise(function (done) { setTimeout(done, POLL_MS); });
    const r = await api("GET", job.url);
    if (!r.ok) { say(box, (r.data && r.data.message) || "查询进度失败", true); return; }
    job = r.data;
  }
}

export function zipButton(link, box) {
  link.addEventListener("click", async function (ev) {
    ev.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    say(box, "正在准备压缩包…");
    try {
      const headers = { "Accept": "application/json, application/zip" };
      const csrf = sessionStorage.getItem("ls_csrf");
      if (csrf) headers["X-CSRF-Token"] = csrf;
      const resp = await fetch(link.href, { method: "POST", headers: headers, credentials: "same-origin" });
      const type = resp.headers.get("Content-Type") || "";
      if (resp.status === 200 && type.indexOf("application/zip") >= 0) {
        const url = URL.createObjectURL(await resp.blob());
        save(url, fileName(resp, "已签署合同.zip"));
        setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
        say(box, "压缩包已下载");
        return;
      }
      const data = type.indexOf("application/json") >= 0 ? await resp.json() : null;
      if (resp.status === 202 && data) { await follow(data, box); return; }
      say(box, (data && data.message) || "下载失败，请稍后重试", true);
    } catch (e) {
      say(box, "网络连接失败，请检查网络后重试", true);
    } finally {
      link.removeAttribute("aria-busy");
    }
  });
}
