/* The merchant survey (/s/<token>) on a phone, on top of a page that works without it.
 *
 * - Follow-up questions: each carries its skip logic in data-relevant (the schema's condition,
 *   as JSON); it is shown as soon as the answers call for it, hidden otherwise. The same rule
 *   as profile_schema.evaluate_condition; the server still drops answers that do not apply.
 * - Progress: "answered of shown" over the short default part.
 * - Nothing typed is lost: every change is kept in localStorage under the shop's opaque
 *   draft key (data-draft-key, the same for every link of the shop), restored when the page
 *   opens again (the same link, or a new one after this one expired) and dropped once the
 *   server has it (a save or a submission made since it was sent). Leaving the page sends
 *   the answers as a draft (action=save, autosave=1, with the CSRF token).
 * No inline script: the page's Content-Security-Policy allows scripts from 'self' only. */
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) { return; }
  var storeKey = "concierge.survey." + (form.dataset.draftKey || "");
  var NOT_ANSWERS = { csrf_token: 1, attempt: 1, action: 1, autosave: 1 };
  var dirty = false;
  var sending = false;

  function controls(name) {
    return Array.prototype.filter.call(form.elements, function (el) { return el.name === name; });
  }

  function isHidden(el) {
    var field = el.closest(".field");
    return !!(field && field.hidden);
  }

  /* A question's current answer as the server reads it; undefined: not answered (or not shown). */
  function valueOf(key) {
    var els = controls(key.replace(/\./g, "__"));
    if (!els.length || isHidden(els[0])) { return undefined; }
    var first = els[0];
    if (first.type === "radio") {
      var on = els.filter(function (el) { return el.checked; })[0];
      if (!on) { return undefined; }
      return on.value === "yes" ? true : on.value === "no" ? false : on.value;
    }
    if (first.type === "checkbox") {
      var list = els.filter(function (el) { return el.checked; }).map(function (el) { return el.value; });
      return list.length ? list : undefined;
    }
    var v = (first.value || "").trim();
    return v === "" ? undefined : v;
  }

  function same(a, b) {
    return typeof b === "boolean" ? a === b : String(a) === String(b);
  }

  /* true (ask), false (skip) or null (cannot tell yet): profile_schema.evaluate_condition. */
  function evaluate(cond) {
    if (!cond) { return true; }
    var results;
    if (cond.all) {
      results = cond.all.map(evaluate);
      if (results.indexOf(false) >= 0) { return false; }
      return results.every(function (r) { return r === true; }) ? true : null;
    }
    if (cond.any) {
      results = cond.any.map(evaluate);
      if (results.indexOf(true) >= 0) { return true; }
      return results.every(function (r) { return r === false; }) ? false : null;
    }
    var value = valueOf(cond.question);
    if (value === undefined) {
      return "answered" in cond ? !cond.answered : null;
    }
    if ("answered" in cond) { return !!cond.answered; }
    if ("equals" in cond) { return same(value, cond.equals); }
    if ("not_equals" in cond) { return !same(value, cond.not_equals); }
    if ("in" in cond) { return cond["in"].some(function (c) { return same(value, c); }); }
    if ("contains" in cond) {
      return Array.isArray(value) && value.some(function (c) { return same(c, cond.contains); });
    }
    return null;
  }

  function showFollowUps() {
    var fields = form.querySelectorAll(".field[data-relevant]");
    for (var pass = 0; pass < 5; pass++) {  // a follow-up of a follow-up settles in a few passes
      var changed = false;
      Array.prototype.forEach.call(fields, function (field) {
        var cond;
        try { cond = JSON.parse(field.getAttribute("data-relevant")); } catch (e) { return; }
        var hide = evaluate(cond) !== true;
        if (field.hidden !== hide) { field.hidden = hide; changed = true; }
      });
      if (!changed) { break; }
    }
  }

  function answered(field) {
    return Array.prototype.some.call(field.querySelectorAll("input, select, textarea"), function (el) {
      if (el.type === "radio" || el.type === "checkbox") { return el.checked; }
      return el.type !== "hidden" && (el.value || "").trim() !== "";
    });
  }

  function showProgress() {
    var box = document.getElementById("survey-progress");
    var part = document.getElementById("survey-ask");
    if (!box || !part) { return; }
    var shown = Array.prototype.filter.call(part.querySelectorAll(".field"), function (f) { return !f.hidden; });
    var done = shown.filter(answered).length;
    var bar = box.querySelector("progress");
    var text = box.querySelector(".progress-text");
    if (bar) { bar.max = shown.length; bar.value = done; }
    if (text && box.dataset.template) {  // only when it changes: screen readers hear it (aria-live)
      var words = box.dataset.template.replace("{answered}", done).replace("{shown}", shown.length);
      if (text.textContent !== words) { text.textContent = words; }
    }
  }

  function collect() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || NOT_ANSWERS[el.name] || el.type === "submit" || el.type === "button") { return; }
      var list = values[el.name] || (values[el.name] = []);
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { list.push(el.value); }
      } else if (el.multiple) {
        Array.prototype.forEach.call(el.selectedOptions, function (o) { list.push(o.value); });
      } else {
        list.push(el.value);
      }
    });
    return values;
  }

  function read() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
  }

  function keep(sent) {
    try {
      window.localStorage.setItem(storeKey, JSON.stringify({
        link: form.dataset.link, state: form.dataset.state, submission: form.dataset.submission,
        sent: !!sent, at: Date.now(), values: collect()
      }));
    } catch (e) { /* storage full or refused (private mode): the Save button still works */ }
  }

  function forget() {
    try { window.localStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
  }

  /* Put the kept answers back; true when something differed from what the page showed. */
  function restore(values) {
    var changed = false;
    Object.keys(values || {}).forEach(function (name) {
      var wanted = values[name] || [];
      controls(name).forEach(function (el) {
        var mine = false;
        if (el.type === "radio" || el.type === "checkbox") {
          var on = wanted.indexOf(el.value) >= 0;
          if (el.checked !== on) { el.checked = on; mine = true; }
        } else if (el.multiple) {
          Array.prototype.forEach.call(el.options, function (o) {
            var sel = wanted.indexOf(o.value) >= 0;
            if (o.selected !== sel) { o.selected = sel; mine = true; }
          });
        } else if (wanted.length && el.value !== wanted[0]) {
          el.value = wanted[0];
          mine = true;
        }
        var field = el.closest(".field");
        if (mine && field) { field.dataset.restored = "1"; }
        changed = changed || mine;
      });
    });
    return changed;
  }

  function openParts() {  // a restored answer in a closed part: open it, so the merchant sees it
    Array.prototype.forEach.call(form.querySelectorAll("details"), function (d) {
      if (!d.open && Array.prototype.some.call(d.querySelectorAll(".field"), function (f) {
        return !f.hidden && answered(f) && f.dataset.restored;
      })) { d.open = true; }
    });
  }

  var kept = read();
  if (kept) {
    var accepted = kept.sent && (String(kept.submission) !== String(form.dataset.submission) ||
      (String(kept.link) === String(form.dataset.link) && kept.state !== form.dataset.state));
    if (accepted) {
      forget();  // the server has these answers (saved or sent since): the page shows them
    } else if (!form.querySelector(".has-error") && restore(kept.values)) {
      var note = document.getElementById("draft-restored");
      if (note) { note.hidden = false; }
      dirty = true;
    }
  }
  showFollowUps();
  openParts();
  showProgress();

  function changed() {
    showFollowUps();
    showProgress();
    keep(false);
    dirty = true;
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  form.addEventListener("submit", function () {
    sending = true;
    keep(true);
  });

  /* Leaving the page (tab closed, app switched): send the answers as a draft, if any changed. */
  function autosave() {
    if (!dirty || sending || !window.fetch || !window.FormData) { return; }
    var data = new FormData(form);
    data.set("action", "save");
    data.set("autosave", "1");
    dirty = false;
    try {
      window.fetch(form.getAttribute("action"), {  // not form.action: a button is named "action"
        method: "POST", body: data, credentials: "same-origin", keepalive: true })
        .then(function (r) { if (r.status !== 204 && r.status !== 422) { dirty = true; } })
        .catch(function () { dirty = true; });
    } catch (e) { dirty = true; }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { autosave(); }
  });
  window.addEventListener("pagehide", autosave);
}());
