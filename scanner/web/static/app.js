// Progressive enhancement only: every page works without this script (plain forms and links).
"use strict";

// Submit a form with fetch and swap the listed parts of the page with the server's new version,
// instead of reloading it (what HTMX's hx-post + hx-select would do, in a few lines we own).
function submitInPlace(form, submitter) {
  var body = new URLSearchParams(new FormData(form, submitter));
  var selectors = form.getAttribute("data-inplace").split(/\s+/);
  // getAttribute: the buttons are named "action", which shadows form.action.
  fetch(form.getAttribute("action"), {
    method: "POST",
    body: body,
    credentials: "same-origin",
    headers: {"Content-Type": "application/x-www-form-urlencoded"},
  }).then(function (response) {
    // 200 after the redirect, or 400/409 with the refusal shown on the page: swap. Anything else
    // (expired session, CSRF refusal) is shown by a normal submission.
    if (!(response.ok || response.status === 400 || response.status === 409)) {
      form.submit();
      return null;
    }
    return response.text().then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      selectors.forEach(function (selector) {
        var current = document.querySelector(selector);
        var replacement = fresh.querySelector(selector);
        if (!current || !replacement) return;
        var node = document.importNode(replacement, true);
        current.replaceWith(node);
        enhance(node);
      });
      if (response.ok && response.redirected) history.replaceState(null, "", response.url);
    });
  }).catch(function (error) { console.error("in-place update failed:", error); form.submit(); });
}

function enhance(root) {
  // Queue filters: a changed drop-down applies at once.
  root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });
  root.querySelectorAll("form.decision").forEach(function (form) {
    var reason = form.querySelector("textarea[name=reason]");
    if (reason) reason.addEventListener("input", function () { reason.setCustomValidity(""); });
    form.addEventListener("submit", function (event) {
      if (reason && !reason.value.trim()) {
        event.preventDefault();
        reason.setCustomValidity("A reason is required for every decision.");
        reason.reportValidity();
        return;
      }
      if (form.hasAttribute("data-inplace")) {
        event.preventDefault();
        submitInPlace(form, event.submitter);
      }
    });
  });
}

document.addEventListener("DOMContentLoaded", function () { enhance(document); });
