// Accessible names Material's markup lacks (axe and Lighthouse check them), in the page's language.
var korean = document.documentElement.lang === "ko";

// The search dialog (axe: aria-dialog-name) takes the search box's own label ("검색" / "Search").
var searchDialog = document.querySelector('.md-search[role="dialog"]');
var searchInput = document.querySelector(".md-search__input");
if (searchDialog && searchInput) {
  searchDialog.setAttribute("aria-label", searchInput.getAttribute("aria-label"));
}

// Each code block's toolbar (Material's copy button) is a <nav>: give each a unique name,
// so the many landmarks on a page can be told apart (axe: landmark-unique).
document$.subscribe(function () {
  document.querySelectorAll(".md-code__nav").forEach(function (nav, index) {
    nav.setAttribute("aria-label", (korean ? "코드 블록 " : "Code block ") + (index + 1));
  });
  // Material wraps wide tables in a scrolling box: keyboard users must be able to focus it to
  // scroll it (axe: scrollable-region-focusable).
  document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (wrap) {
    wrap.tabIndex = 0;
  });
});
