// Progressive enhancement: a Like button likes (or unlikes) in place instead of reloading.
// Without this script the same button posts the reaction form and comes back to its place.
(() => {
  const form = document.getElementById("reaction-form");
  if (!form || !window.fetch) return;
  form.addEventListener("submit", (event) => {
    const button = event.submitter;
    if (!button || !button.hasAttribute("data-like") || button.dataset.plain) return;
    event.preventDefault();
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    fetch(button.formAction, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response)))
      .then((state) => {
        button.setAttribute("aria-pressed", state.liked ? "true" : "false");
        button.textContent = state.liked ? "Liked" : "Like";
        button.title = state.liked ? "You liked this" : "";
        const count = button.parentElement.querySelector(".like-count");
        if (count) count.textContent = state.count_text;
        const note = button.closest(".post-likes")?.querySelector("[data-you-liked]");
        if (note) note.hidden = !state.liked;
      })
      .catch(() => {
        // The server's own page says what went wrong (logged out, banned, too fast).
        button.dataset.plain = "1";
        form.requestSubmit(button);
      })
      .finally(() => button.removeAttribute("aria-busy"));
  });
})();
