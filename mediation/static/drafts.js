/* Local drafts of long staff forms (minutes, agreements, follow-up visits): what is typed is
   kept in this browser, per user and page, so that an ended session, a reload or a dropped
   connection loses nothing; after signing in again the page fills the form back in. A draft is
   dropped once the form was saved. ID numbers are never kept. Forms opt in with
   data-draft="name"; rows added by htmx (agreement clauses) are asked for again by index. */
(function () {
  "use strict";
  var PENDING = "draft-submitted";
  // The drafts of a refused submission: the page that refused it shows the form at another
  // address (the POST's), so its retry saves under another key; when the retry is saved, the
  // drafts it carried on are cleared too, or the first page would bring the refused values back.
  var CARRIED = "draft-refused";
  var SKIP_TYPES = { hidden: true, file: true, password: true, submit: true, button: true, reset: true };
  var PRIVATE = /id[_-]?(number|no|card)|身份证/i;
  var user = document.body && document.body.getAttribute("data-user");
  if (!user) return;

  function keyOf(form) {
    return "draft:" + user + ":" + window.location.pathname + ":" + form.getAttribute("data-draft");
  }

  function kept(el) {
    return el.name && !SKIP_TYPES[el.type] && !PRIVATE.test(el.name) && !PRIVATE.test(el.id || "");
  }

  function collect(form) {
    var data = { fields: {}, checks: {} };
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) data.checks[el.name + "=" + el.value] = true;
      } else {
        data.fields[el.name] = el.value;
      }
    });
    return data;
  }

  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, JSON.stringify(value));
    } catch (e) { /* storage full or off: the form still works */ }
  }

  function read(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function hasText(data) {
    return data && Object.keys(data.fields).some(function (k) { return String(data.fields[k] || "").trim(); });
  }

  function save(event) {
    var form = event.target.form || (event.target.closest && event.target.closest("form"));
    if (form && form.hasAttribute("data-draft")) store(keyOf(form), collect(form));
  }
  document.addEventListener("input", save);
  document.addEventListener("change", save);

  function hasErrors(form) {
    return form.querySelector("[aria-invalid=true], .error") !== null;
  }

  function apply(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!kept(el)) return;
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = !!data.checks[el.name + "=" + el.value];
      } else if (Object.prototype.hasOwnProperty.call(data.fields, el.name)) {
        el.value = data.fields[el.name];
      }
    });
    var details = form.closest("details");
    if (details) details.open = true;
    var template = document.getElementById("draft-notice");
    if (template && !form.querySelector(".draft-notice")) {
      var notice = template.content.firstElementChild.cloneNode(true);
      notice.querySelector("button").addEventListener("click", function () {
        store(keyOf(form), null);
        window.location.reload();
      });
      form.insertBefore(notice, form.firstChild);
    }
  }

  /* Rows the draft has and the page has not (added before the session ended): asked for again
     with the same index, then filled in. */
  function missingRows(form, data) {
    var prefix = form.getAttribute("data-draft-row-prefix");
    if (!prefix) return [];
    var have = {}, want = {};
    Array.prototype.forEach.call(form.elements, function (el) { if (el.name) have[el.name] = true; });
    Object.keys(data.fields).forEach(function (name) {
      if (name.indexOf(prefix) === 0 && !have[name]) {
        var index = name.slice(prefix.length).split("-")[0];
        if (/^\d+$/.test(index)) want[index] = true;
      }
    });
    return Object.keys(want);
  }

  function restore(form) {
    var data = read(keyOf(form));
    if (!hasText(data) && !(data && Object.keys(data.checks).length)) return;
    var rows = missingRows(form, data);
    var url = form.getAttribute("data-draft-row-url");
    var target = form.getAttribute("data-draft-rows");
    if (!rows.length || !url || !target || !window.htmx) { apply(form, data); return; }
    var chain = Promise.resolve();
    rows.forEach(function (index) {
      chain = chain.then(function () {
        return window.htmx.ajax("GET", url + "?index=" + encodeURIComponent(index), { target: target, swap: "beforeend" });
      });
    });
    chain.then(function () { apply(form, data); }, function () { apply(form, data); });
  }

  // A full-page form that was posted: the next page says whether it was saved.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-draft") || form.hasAttribute("hx-post")) return;
    // A preview posted into a new tab saves nothing: the draft stays.
    if (event.submitter && event.submitter.getAttribute("formtarget") === "_blank") return;
    var keys = [keyOf(form)];
    try {
      keys = keys.concat(JSON.parse(window.sessionStorage.getItem(CARRIED) || "[]"));
      window.sessionStorage.setItem(PENDING, JSON.stringify(keys));
    } catch (e) { /* ignore */ }
  });

  // An htmx form (minutes): saved when the answer is a form without errors (checked before the
  // swap, while the form is still on the page).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = event.detail.target;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-draft")) return;
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    var answer = event.detail.serverResponse || "";
    if (code >= 200 && code < 300 && !/aria-invalid="true"|class="error"/.test(answer)) {
      store(keyOf(form), null);
    }
  });

  function pendingKeys() {
    var raw = null;
    try {
      raw = window.sessionStorage.getItem(PENDING);
      window.sessionStorage.removeItem(PENDING);
    } catch (e) { return []; }
    if (!raw) return [];
    try {
      var keys = JSON.parse(raw);
      return Array.isArray(keys) ? keys : [String(raw)];
    } catch (e) { return [String(raw)]; }
  }

  function start() {
    var pending = pendingKeys();
    var signInPage = document.querySelector("form[action='/login']") !== null;
    var refused = document.querySelector(".alert.error, [aria-invalid=true]") !== null;
    try {
      if (pending.length && refused && !signInPage) {
        window.sessionStorage.setItem(CARRIED, JSON.stringify(pending));
      } else {
        window.sessionStorage.removeItem(CARRIED);
      }
    } catch (e) { /* ignore */ }
    if (pending.length && !signInPage && !refused) pending.forEach(function (key) { store(key, null); });
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      // After a refused submission the server shows what was typed: that wins over the draft.
      if (!hasErrors(form)) restore(form);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
