// The password check: the SHA-1 of the password is computed here, only its first five hexadecimal
// digits are sent to /api/v1/public/passwords/range/, and the answer (every known hash with that
// prefix) is compared here. The password and its full hash never leave the browser.
document.documentElement.classList.add("scripted");
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("password-check");
  const result = document.getElementById("password-result");
  if (!form || !result) return;
  const show = (text, kind) => {
    result.textContent = text;
    result.className = "result " + (kind || "");
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = form.elements.password.value;
    if (!password) return show(form.dataset.empty, "");
    show(form.dataset.checking, "");
    try {
      const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(password));
      const hash = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
      const response = await fetch("/api/v1/public/passwords/range/" + hash.slice(0, 5), { headers: { "Add-Padding": "true" } });
      if (!response.ok) throw new Error(String(response.status));
      const suffix = hash.slice(5);
      let count = 0;
      for (const line of (await response.text()).split(/\r?\n/)) {
        const [candidate, times] = line.split(":");
        if (candidate === suffix) count = parseInt(times, 10) || 0;
      }
      if (count > 0) show(form.dataset.breached.replace("{count}", count.toLocaleString(document.documentElement.lang)), "breached");
      else show(form.dataset.clean, "clean");
    } catch (error) {
      show(form.dataset.failed, "breached");
    }
  });
});
