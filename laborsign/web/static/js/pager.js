/* The line under a list: "共 N 条" and, when there is more than one page, 上一页 p/n 下一页.
 * `list` is the API's page object {total, per_page}; `go(page)` loads the page chosen. Without
 * `unit` only the buttons are shown. */
export function pager(box, list, page, unit, go) {
  const pages = Math.max(1, Math.ceil(list.total / list.per_page));
  box.innerHTML = (unit ? "共 " + list.total + " " + unit : "") + (pages > 1 ?
    ' <button data-p="-1">上一页</button> ' + page + "/" + pages + ' <button data-p="1">下一页</button>' : "");
  box.querySelectorAll("[data-p]").forEach(function (b) {
    b.addEventListener("click", function () { go(Math.min(pages, Math.max(1, page + Number(b.dataset.p)))); });
  });
}
