// Progressive enhancement: "Copy link" copies the permalink instead of navigating.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-copy]");
  if (!link || !navigator.clipboard) return;
  event.preventDefault();
  navigator.clipboard.writeText(link.dataset.copy).then(() => {
    link.textContent = "Link copied";
  });
});
