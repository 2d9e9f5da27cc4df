// Progressive enhancement of the comment section. Without this file every part works by a
// page load: Reply opens the form for that comment, Preview renders it on the server, Delete
// asks on a page of its own. With it, the same happens in place.
(() => {
  "use strict";

  const respond = document.getElementById("respond");
  const form = document.getElementById("commentform");

  // --- Replying in place (after WordPress's comment-reply script) ---------------------------
  const parentField = document.getElementById("comment_parent");
  const replyingTo = document.getElementById("replying-to");
  let home = null; // marks where the form lives when it is not under a comment

  function moveUnder(comment, id, name) {
    if (!home) {
      home = document.createElement("div");
      home.id = "respond-home";
      home.hidden = true;
      respond.before(home);
    }
    comment.querySelector(":scope > .comment-body").after(respond);
    respond.classList.add("is-replying");
    parentField.value = id;
    const link = replyingTo.querySelector(".replying-to-name");
    link.textContent = name;
    link.href = "#comment-" + id;
    replyingTo.hidden = false;
    form.querySelector("textarea").focus();
  }

  function cancelReply() {
    if (home) home.replaceWith(respond);
    home = null;
    respond.classList.remove("is-replying");
    parentField.value = "";
    replyingTo.hidden = true;
    const url = new URL(window.location.href);
    if (url.searchParams.has("replytocom")) {
      url.searchParams.delete("replytocom");
      window.history.replaceState(null, "", url.pathname + url.search + "#respond");
    }
    form.querySelector("textarea").focus();
  }

  if (respond && form && parentField && replyingTo) {
    document.addEventListener("click", (event) => {
      const reply = event.target.closest("a.comment-reply-link");
      if (reply) {
        const comment = reply.closest("li.comment");
        const name = comment && comment.querySelector(".fn");
        if (!comment || !name) return;
        event.preventDefault();
        moveUnder(comment, reply.dataset.replyTo, name.textContent);
        return;
      }
      if (event.target.closest("#cancel-comment-reply-link")) {
        event.preventDefault();
        cancelReply();
      }
    });
  }

  // --- Preview in place ---------------------------------------------------------------------
  function showPreview(found) {
    const old = document.getElementById("comment-preview");
    if (old) old.remove();
    found.id = "comment-preview";
    found.tabIndex = -1;
    form.before(found);
    found.focus();
  }

  if (form) {
    form.addEventListener("click", async (event) => {
      const button = event.target.closest("button.preview-button");
      if (!button) return;
      event.preventDefault();
      const target = new URL(button.formAction, window.location.href);
      target.hash = "";
      button.disabled = true;
      try {
        const answer = await fetch(target, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
        });
        const page = new DOMParser().parseFromString(await answer.text(), "text/html");
        const preview = page.getElementById("comment-preview");
        if (preview) {
          showPreview(document.importNode(preview, true));
          return;
        }
        const problem = page.getElementById("comment-error");
        const note = document.createElement("p");
        note.className = "comment-error";
        note.setAttribute("role", "alert");
        note.textContent = problem ? problem.textContent : "The preview could not be made.";
        showPreview(note);
      } catch (error) {
        // Offline or refused: the plain form still works, so fall back to it.
        form.requestSubmit(button);
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- Deleting with a question first -------------------------------------------------------
  function confirmDelete(deleteForm) {
    const dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    const title = document.createElement("h2");
    title.id = "confirm-dialog-title";
    title.textContent = "Delete your comment?";
    const text = document.createElement("p");
    text.textContent = "It disappears for everyone at once. You can undo this for a few minutes.";
    const actions = document.createElement("form");
    actions.method = "dialog";
    actions.className = "confirm-actions";
    const yes = document.createElement("button");
    yes.value = "delete";
    yes.className = "danger-button";
    yes.textContent = "Delete comment";
    const no = document.createElement("button");
    no.value = "keep";
    no.className = "secondary-button";
    no.textContent = "Keep it";
    actions.append(yes, no);
    dialog.append(title, text, actions);
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "delete") {
        const confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirm";
        confirmed.value = "yes";
        deleteForm.append(confirmed);
        deleteForm.submit();
      }
      dialog.remove();
    });
    dialog.showModal();
    no.focus();
  }

  document.addEventListener("submit", (event) => {
    const deleteForm = event.target.closest("form.comment-delete-form");
    if (!deleteForm || typeof HTMLDialogElement !== "function") return;
    event.preventDefault();
    confirmDelete(deleteForm);
  });
})();
