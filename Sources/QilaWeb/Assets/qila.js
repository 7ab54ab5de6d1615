// Small conveniences only; every page works without scripts.
document.addEventListener("click", (event) => {
  const code = event.target.closest("code.copy");
  if (code && navigator.clipboard) {
    navigator.clipboard.writeText(code.textContent.trim());
    code.dataset.copied = "copied";
  }
});
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (button && button.classList.contains("danger") && !window.confirm(button.textContent.trim() + "?")) {
    event.preventDefault();
  }
});
// A region that scrolls sideways (a wide table on a phone) can be scrolled from the keyboard.
function focusableScrollers() {
  for (const region of document.querySelectorAll(".card, .scroll, .chart-scroll")) {
    const scrolls = region.scrollWidth > region.clientWidth + 1;
    if (scrolls && !region.hasAttribute("tabindex")) {
      region.setAttribute("tabindex", "0");
      region.dataset.scrollFocus = "1";
    } else if (!scrolls && region.dataset.scrollFocus) {
      region.removeAttribute("tabindex");
      delete region.dataset.scrollFocus;
    }
  }
}
document.addEventListener("DOMContentLoaded", focusableScrollers);
window.addEventListener("resize", focusableScrollers);
