/* The count discs on home-page tiles: data-badge="path" reads {count}, "path#key" reads key. */
import { api } from "./api.js";

export function showBadges() {
  document.querySelectorAll("[data-badge]").forEach(async function (el) {
    const parts = el.dataset.badge.split("#");
    const r = await api("GET", parts[0]);
    if (!r.ok) return;
    const n = parts[1] ? r.data[parts[1]] : r.data.count;
    if (n) { el.textContent = n; el.hidden = false; }
  });
}
