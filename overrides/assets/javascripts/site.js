// Gives each code block's toolbar (Material's copy button) a unique accessible name,
// so the many <nav> landmarks on a page can be told apart (axe: landmark-unique).
document$.subscribe(function () {
  document.querySelectorAll(".md-code__nav").forEach(function (nav, index) {
    nav.setAttribute("aria-label", "Code block " + (index + 1));
  });
});
