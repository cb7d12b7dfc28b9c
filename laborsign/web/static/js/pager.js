/* The line under a list: "共 N 条" and, when there is more than one page, 上一页 p/n 下一页.
 * `list` is the API's page object {total, per_page}; `go(page)` loads the page chosen. Without
 * `unit` only the buttons are shown. */
export function pager(box, list, page, unit, go) {
  // total_exact false: a search matched more than the total the server counts up to (10000+).
  const more = list.total_exact === false ? "+" : "";
  const pages = Math.max(1, Math.ceil(list.total / list.per_page));
  const last = more ? Math.max(pages, page + 1) : pages;
  box.innerHTML = (unit ? "共 " + list.total + more + " " + unit : "") + (last > 1 ?
    ' <button data-p="-1">上一页</button> ' + page + "/" + pages + more + ' <button data-p="1">下一页</button>' : "");
  box.querySelectorAll("[data-p]").forEach(function (b) {
    b.addEventListener("click", function () { go(Math.min(last, Math.max(1, page + Number(b.dataset.p)))); });
  });
}
