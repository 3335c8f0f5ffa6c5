// Parties: "Add a party" asks for a row with a fresh index, "Remove" takes a row away. Plain
// listeners, no inline handlers or evaluated attributes: the Content-Security-Policy allows none.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "add-party") {
      event.detail.parameters.index = Date.now() % 1000000;
    }
  });
  // Focus stays in place: on the next party's remove button, else the previous one's, else
  // on "Add a party" (the removed button took the focus with it).
  function removeParty(row) {
    var near = row.nextElementSibling || row.previousElementSibling;
    var next = (near && near.querySelector("[data-remove-party]")) || document.getElementById("add-party");
    row.remove();
    if (next) next.focus();
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-remove-party]");
    if (button) removeParty(button.closest(".party"));
  });
  // A party's kind decides what the representative field is (and how it prints): its label
  // and hint follow the kind chosen.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.name || !/^parties-\d+-kind$/.test(select.name)) return;
    var row = select.closest(".party");
    var attr = select.value === "organisation" ? "data-label-organisation" : "data-label-person";
    row.querySelectorAll("[data-label-person]").forEach(function (el) {
      el.textContent = el.getAttribute(attr);
    });
  });
})();
// Keeps a local draft of the intake form so a reload or a dropped connection loses nothing.
// ID numbers are never kept in the browser (as in drafts.js): they are typed again.
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  var key = form.dataset.draftKey;
  var notice = document.getElementById("intake-draft-notice");
  var skip = { _csrf_token: true, idempotency_key: true };
  var PRIVATE = /id[_-]?(number|no|card)|身份证/i;
  function kept(el) {
    return el.name && !skip[el.name] && el.type !== "file" && !PRIVATE.test(el.name);
  }

  function collect() {
    var data = { fields: {}, checks: {}, parties: [] };
    form.querySelectorAll("#parties .party").forEach(function (row) {
      data.parties.push(row.id.replace("party-", ""));
    });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) data.checks[el.name + "=" + el.value] = true;
      } else {
        data.fields[el.name] = el.value;
      }
    });
    data.idempotency_key = form.elements.idempotency_key.value;
    return data;
  }

  function save() {
    try { localStorage.setItem(key, JSON.stringify(collect())); } catch (e) { /* storage full */ }
  }

  function apply(data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = !!data.checks[el.name + "=" + el.value];
      } else if (Object.prototype.hasOwnProperty.call(data.fields, el.name)) {
        el.value = data.fields[el.name];
      }
    });
    // The draft was the same submission: keep its key so a late retry cannot make a second case.
    if (data.idempotency_key) form.elements.idempotency_key.value = data.idempotency_key;
  }

  function restore(data) {
    var have = {};
    form.querySelectorAll("#parties .party").forEach(function (row) { have[row.id.replace("party-", "")] = row; });
    var missing = data.parties.filter(function (i) { return !have[i]; });
    Object.keys(have).forEach(function (i) { if (data.parties.indexOf(i) < 0) have[i].remove(); });
    var pending = missing.map(function (i) {
      return htmx.ajax("GET", "/cases/new/party-row?index=" + encodeURIComponent(i), { target: "#parties", swap: "beforeend" });
    });
    Promise.all(pending).then(function () { apply(data); notice.hidden = false; });
  }

  var hasErrors = document.querySelector(".alert.error") !== null;
  var raw = null;
  try { raw = localStorage.getItem(key); } catch (e) { raw = null; }
  // After a failed submission the server re-rendered what was typed: that wins over the draft.
  if (raw && !hasErrors) {
    try {
      var draft = JSON.parse(raw);
      if (draft && Object.values(draft.fields).some(function (v) { return v && String(v).trim(); })) {
        if (window.htmx) { restore(draft); } else { document.addEventListener("DOMContentLoaded", function () { restore(draft); }); }
      }
    } catch (e) { /* a broken draft is ignored */ }
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  document.getElementById("draft-discard").addEventListener("click", function () {
    localStorage.removeItem(key);
    window.location.reload();
  });
})();
// The case page after registration clears the draft it came from.
(function () {
  var done = document.querySelector("[data-clear-draft]");
  if (done) { try { localStorage.removeItem(done.dataset.clearDraft); } catch (e) { /* ignore */ } }
})();
