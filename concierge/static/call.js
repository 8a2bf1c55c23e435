/* The call screen: save the interview without a reload and show what changed in place.
 * POSTs the form (with its CSRF token and profile version) and asks for JSON:
 * 200 replaces the fields, the picture, the stage/score panel and the timeline;
 * 422 shows each error next to its field; 409 lists what someone else changed and
 * lets the consultant save again. An outcome button pressed with unsaved answers
 * saves them first; Enter in the outcome form picks no outcome. Without JavaScript
 * the forms post as usual. */
(function () {
  "use strict";
  var form = document.getElementById("interview");
  if (!form || !window.fetch || !window.FormData) { return; }
  var button = document.getElementById("save-answers");
  var status = document.getElementById("save-status");
  var conflict = document.getElementById("conflict");
  var outcome = document.querySelector(".outcome-form");
  var dirty = false;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (cls) { node.className = cls; }
    return node;
  }

  function clearErrors() {
    form.querySelectorAll(".js-error").forEach(function (n) { n.remove(); });
    form.querySelectorAll(".has-error").forEach(function (n) { n.classList.remove("has-error"); });
    form.querySelectorAll("[aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    var box = document.getElementById("interview-errors");
    if (box) { box.hidden = true; box.replaceChildren(); }
  }

  function showErrors(data) {
    var box = document.getElementById("interview-errors");
    var list = el("ul");
    (data.errors || []).forEach(function (e) {
      var li = el("li");
      var input = e.name ? document.getElementById(e.name) : null;
      var field = input ? input.closest(".field") : null;
      if (field) {
        field.classList.add("has-error");
        field.appendChild(el("p", e.message, "field-error js-error"));
        input.setAttribute("aria-invalid", "true");
        var details = field.closest("details");
        if (details) { details.open = true; }
        var link = el("a", e.message);
        link.href = "#" + e.name;
        li.appendChild(link);
      } else {
        li.textContent = e.message;
      }
      list.appendChild(li);
    });
    box.replaceChildren(el("h3", data.heading || data.message), list);
    box.hidden = false;
    box.focus();
  }

  function showConflict(data) {
    form.elements.seen.value = data.seen;
    document.getElementById("conflict-message").textContent = data.message;
    var rows = document.getElementById("conflict-rows");
    rows.replaceChildren();
    (data.changes || []).forEach(function (c) {
      var tr = el("tr");
      [c.label, c.value, c.source_label, c.actor, c.when].forEach(function (t) { tr.appendChild(el("td", t)); });
      rows.appendChild(tr);
    });
    conflict.hidden = false;
    conflict.focus();
  }

  function showSaved(data) {
    document.getElementById("interview-fields").innerHTML = data.interview_html;
    document.getElementById("call-panel").innerHTML = data.panel_html;
    document.getElementById("timeline").innerHTML = data.timeline_html;
    document.getElementById("call-picture").src = data.picture_url;
    conflict.hidden = true;
  }

  /* Save the interview; resolves true when the answers are stored (or nothing was new). */
  function save() {
    clearErrors();
    button.disabled = true;
    status.classList.remove("bad");
    status.textContent = form.dataset.saving;
    return fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                               headers: {"Accept": "application/json"}})
      .then(function (response) {
        if ((response.headers.get("Content-Type") || "").indexOf("application/json") === -1) {
          throw new Error("not JSON");
        }
        return response.json().then(function (data) { return {code: response.status, data: data}; });
      })
      .then(function (r) {
        status.textContent = r.data.message || "";
        status.classList.toggle("bad", r.code !== 200);
        if (r.code === 200) {
          dirty = false;
          if (r.data.saved) { showSaved(r.data); }
        } else if (r.code === 409) {
          showConflict(r.data);
        } else if (r.code === 422) {
          showErrors(r.data);
        }
        return r.code === 200;
      })
      .catch(function () {
        status.textContent = form.dataset.failed;
        status.classList.add("bad");
        return false;
      })
      .then(function (ok) { button.disabled = false; return ok; });
  }

  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save();
  });
  if (outcome) {
    outcome.addEventListener("submit", function (event) {
      if (!event.submitter || !event.submitter.value) { event.preventDefault(); return; }  /* Enter: no outcome */
      if (!dirty) { return; }
      event.preventDefault();
      var submitter = event.submitter;
      save().then(function (ok) {
        if (ok) { outcome.requestSubmit(submitter); }  /* else the errors or the changes are shown */
      });
    });
  }
}());
