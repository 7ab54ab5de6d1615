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
