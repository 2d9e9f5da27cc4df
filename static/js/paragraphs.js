// Progressive enhancement: a paragraph's marker with no comments yet opens the comment box
// in place, the paragraph chosen and quoted, as the server does for ?paragraph=ID#respond.
// A marker with comments still follows its link: that page lists them.
document.addEventListener("click", (event) => {
  const marker = event.target.closest("a.paragraph-marker");
  const form = document.getElementById("commentform");
  if (!marker || marker.classList.contains("has-comments") || !form) return;
  const paragraph = marker.closest("p[id]");
  if (!paragraph) return;
  event.preventDefault();
  const text = Array.from(paragraph.childNodes)
    .filter((node) => node !== marker)
    .map((node) => node.textContent)
    .join("")
    .replace(/\s+/g, " ")
    .trim();

  form.querySelectorAll(".paragraph-choice, input[name=paragraph_id]").forEach((n) => n.remove());
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = "paragraph_id";
  input.value = paragraph.id;
  const choice = document.createElement("div");
  choice.className = "paragraph-choice";
  const label = document.createElement("p");
  label.className = "paragraph-choice-label";
  const link = document.createElement("a");
  link.href = "#" + paragraph.id;
  link.textContent = "this paragraph";
  const whole = document.createElement("a");
  whole.href = window.location.pathname + "#respond";
  whole.textContent = "Comment on the whole post instead";
  label.append("Commenting on ", link, " · ", whole);
  const quote = document.createElement("blockquote");
  quote.className = "paragraph-quote";
  const quoted = document.createElement("p");
  quoted.className = "paragraph-quote-text";
  quoted.textContent = text;
  quote.append(quoted);
  choice.append(label, quote);
  const box = form.querySelector(".comment-form-comment");
  form.insertBefore(input, box);
  form.insertBefore(choice, box);

  const url = new URL(window.location.href);
  url.search = "?paragraph=" + encodeURIComponent(paragraph.id);
  url.hash = "respond";
  const next = form.querySelector("input[name=next]");
  if (next) next.value = url.pathname + url.search;
  history.pushState(null, "", url);
  document.getElementById("respond").scrollIntoView();
  form.querySelector("textarea").focus();
});
