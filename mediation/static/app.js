/* Shared behaviour of htmx pages: history that keeps what the filters show, search-as-you-type
   that does not flood Back, a loading indicator after a short delay, and failures that say what
   happened with a way to retry. Messages come translated in data attributes of #net-status. */
(function () {
  "use strict";
  var SLOW_MS = 400;
  var status, timer = null, pending = 0, retry = null;

  function message(kind) {
    return status ? status.getAttribute("data-" + kind) || "" : "";
  }

  function show(kind, canRetry, signIn) {
    if (!status) return;
    status.hidden = false;
    status.className = "net-status " + kind;
    status.querySelector(".net-text").textContent = message(kind);
    status.querySelector(".net-retry").hidden = !canRetry;
    status.querySelector(".net-signin").hidden = !signIn;
  }

  function hide() {
    if (status) status.hidden = true;
  }
  // The session countdown below shows the same notice when the session ends.
  window.mediationNetStatus = { show: show };

  /* A snapshot of the page is what Back shows: write the controls' current state into the
     markup first, so restored filters show what the rows were filtered by. */
  function keepFormState(root) {
    root.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) el.setAttribute("checked", ""); else el.removeAttribute("checked");
      } else if (el.tagName === "SELECT") {
        Array.prototype.forEach.call(el.options, function (o) {
          if (o.selected) o.setAttribute("selected", ""); else o.removeAttribute("selected");
        });
      } else if (el.tagName === "TEXTAREA") {
        el.textContent = el.value;
      } else if (el.type !== "password" && el.type !== "file") {
        el.setAttribute("value", el.value);
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    status = document.getElementById("net-status");
    if (!status) return;
    status.querySelector(".net-retry").addEventListener("click", function () {
      hide();
      if (retry) retry();
    });
    status.querySelector(".net-close").addEventListener("click", hide);
  });

  document.addEventListener("htmx:beforeHistorySave", function (evt) {
    keepFormState(evt.detail.historyElt || document.body);
    hide();
  });

  /* The URL is the filters' state: after Back or Forward every form that pushes its fields
     into the URL shows exactly what the URL says (the snapshot was taken after the user had
     already changed a control). */
  function showUrlState() {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[hx-push-url]").forEach(function (form) {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (!el.name || el.type === "submit" || el.type === "button") return;
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = params.getAll(el.name).indexOf(el.value) >= 0;
        } else {
          el.value = params.get(el.name) || "";
        }
      });
    });
  }

  document.addEventListener("htmx:historyRestore", showUrlState);

  document.addEventListener("htmx:beforeHistoryUpdate", function (evt) {
    // Typing in a search box replaces the history entry instead of adding one per pause.
    var cfg = evt.detail.requestConfig;
    var trigger = cfg && cfg.triggeringEvent;
    if (trigger && (trigger.type === "keyup" || trigger.type === "input" || trigger.type === "search")) {
      evt.detail.history.type = "replace";
    }
  });

  document.addEventListener("htmx:beforeRequest", function (evt) {
    pending += 1;
    if (evt.detail.elt && evt.detail.elt.closest && evt.detail.elt.closest("[data-quiet]")) return;
    if (timer === null) {
      timer = window.setTimeout(function () { show("loading", false, false); }, SLOW_MS);
    }
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    pending = Math.max(pending - 1, 0);
    if (pending === 0 && timer !== null) {
      window.clearTimeout(timer);
      timer = null;
      if (status && status.classList.contains("loading")) hide();
    }
    var detail = evt.detail;
    if (detail.successful) return;
    var elt = detail.elt;
    var cfg = detail.requestConfig || {};
    var type = cfg.triggeringEvent ? cfg.triggeringEvent.type : "click";
    retry = function () { window.htmx.trigger(elt, type === "load" ? "click" : type); };
    var code = detail.xhr ? detail.xhr.status : 0;
    // Background polls stay silent unless the session has ended.
    if (elt && elt.closest && elt.closest("[data-quiet]") && code !== 401) return;
    // The controls keep what the user chose, so that Retry asks for exactly that again; the
    // message says the page was not updated.
    if (code === 401) {
      show("signin", false, true);
    } else if (code === 403) {
      show("forbidden", false, false);
    } else if (code === 0) {
      show("offline", true, false);
    } else {
      show("failed", true, false);
    }
  });

  document.addEventListener("htmx:timeout", function () { show("offline", true, false); });
})();

/* The session's end: the server says how many seconds are left (on the page and after every
   request); a few minutes before, a notice offers to stay signed in. The poll of notifications
   does not count as activity, so an unattended page does end its session. */
(function () {
  "use strict";
  var body, box, text, deadline = 0, warnMs = 0, timer = null, ended = false;

  function setLeft(seconds) {
    if (!isFinite(seconds)) return;
    deadline = Date.now() + seconds * 1000;
    if (seconds > 0) ended = false;
    check();
  }

  function check() {
    if (!box) return;
    var left = deadline - Date.now();
    if (left <= 0) {
      box.hidden = true;
      // The session is over: the same notice as a refused request, with the way to sign in,
      // shown once (closing it keeps it closed).
      if (!ended && window.mediationNetStatus) window.mediationNetStatus.show("signin", false, true);
      ended = true;
      return;
    }
    if (left > warnMs) { box.hidden = true; return; }
    var minutes = Math.ceil(left / 60000);
    text.textContent = left < 60000 ? box.getAttribute("data-ending-soon")
      : box.getAttribute("data-ending").replace("{n}", String(minutes));
    box.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    body = document.body;
    box = document.getElementById("session-warning");
    if (!box || !body.hasAttribute("data-session-left")) return;
    text = box.querySelector(".session-text");
    warnMs = (parseInt(body.getAttribute("data-session-warn"), 10) || 300) * 1000;
    setLeft(parseInt(body.getAttribute("data-session-left"), 10));
    document.getElementById("stay-signed-in").addEventListener("click", function () {
      window.htmx.ajax("POST", "/session/ping", { source: body, swap: "none" });
    });
    timer = window.setInterval(check, 1000);
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || !box) return;
    var left = xhr.getResponseHeader("X-Session-Left");
    if (left !== null) setLeft(parseInt(left, 10));
    else if (xhr.status === 401) setLeft(0);
  });
  window.sessionClock = { left: function () { return (deadline - Date.now()) / 1000; }, timer: function () { return timer; } };
})();

/* Confirmation before what cannot be undone: a submit button or form (or a plain button) with
   data-confirm="what will happen" opens the page's <dialog>; Cancel leaves everything as it
   was, Confirm goes ahead. No window.confirm and no evaluated attributes (the CSP allows
   none). Without JavaScript the forms post directly, as before. */
(function () {
  "use strict";
  var dialog, pending = null, passing = false;

  function ask(message, yes, go) {
    if (!dialog || typeof dialog.showModal !== "function") { go(); return; }
    document.getElementById("confirm-text").textContent = message;
    var ok = document.getElementById("confirm-ok");
    ok.textContent = yes || ok.getAttribute("data-default") || ok.textContent;
    ok.className = "danger";
    pending = go;
    dialog.returnValue = "";
    dialog.showModal();
  }

  document.addEventListener("DOMContentLoaded", function () {
    dialog = document.getElementById("confirm-dialog");
    if (!dialog) return;
    var ok = document.getElementById("confirm-ok");
    ok.setAttribute("data-default", ok.textContent);
    dialog.addEventListener("close", function () {
      var go = pending;
      pending = null;
      if (dialog.returnValue === "ok" && go) go();
    });
  });

  function source(form, submitter) {
    if (submitter && submitter.hasAttribute("data-confirm")) return submitter;
    if (form.hasAttribute("data-confirm") && !(submitter && submitter.hasAttribute("data-no-confirm"))) return form;
    return null;
  }

  document.addEventListener("submit", function (event) {
    if (passing) return;
    var form = event.target;
    var el = source(form, event.submitter);
    if (!el) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter;
    ask(el.getAttribute("data-confirm"), el.getAttribute("data-confirm-yes"), function () {
      passing = true;
      try {
        if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
      } finally {
        passing = false;
      }
    });
  }, true);

  document.addEventListener("click", function (event) {
    if (passing) return;
    var el = event.target.closest && event.target.closest("button[type=button][data-confirm]");
    if (!el) return;
    // data-confirm-scope: ask only when something was typed there (an empty row goes quietly).
    var scope = el.getAttribute("data-confirm-scope");
    var box = scope && el.closest(scope);
    if (box && !Array.prototype.some.call(box.querySelectorAll("input, textarea, select"), function (f) {
      return f.type !== "hidden" && f.type !== "checkbox" && f.type !== "radio" && f.tagName !== "SELECT" && f.value.trim();
    })) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    ask(el.getAttribute("data-confirm"), el.getAttribute("data-confirm-yes"), function () {
      passing = true;
      try { el.click(); } finally { passing = false; }
    });
  }, true);
})();

/* Forms after a failed submit: every invalid control carries aria-invalid and names its
   message; an error summary at the top of the form links each message to its field; the
   first invalid field takes focus and is scrolled into view (below the header, above the
   sticky submit bar). After an htmx swap replaces a form, focus stays where the user was. */
(function () {
  "use strict";
  var CONTROLS = "input:not([type=hidden]), select, textarea";

  /* Safety net for hand-written fields: a .field.invalid container marks its control. */
  function markInvalid(root) {
    root.querySelectorAll(".field.invalid, fieldset.invalid").forEach(function (box) {
      var message = box.querySelector(".error");
      var control = box.querySelector(CONTROLS);
      if (!message || !control) return;
      if (!message.id) message.id = (control.id || control.name || "field") + "-error";
      box.querySelectorAll(CONTROLS).forEach(function (el) {
        el.setAttribute("aria-invalid", "true");
        var ids = (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
        if (ids.indexOf(message.id) < 0) {
          ids.push(message.id);
          el.setAttribute("aria-describedby", ids.join(" "));
        }
      });
    });
  }

  /* "Label：message"; a label that ends in its own question mark ("主要事由：遇到了什么问题？")
     is followed by a space, not by a second mark (labelText drops a trailing colon). */
  function joined(label, message) {
    return /[?？]$/.test(label) ? label + " " + message : label + colon() + message;
  }

  /* The page's own colon: "：" in Chinese, ": " in English. */
  function colon() {
    return /^zh/i.test(document.documentElement.lang || "zh") ? "：" : ": ";
  }

  function labelText(control) {
    var box = control.closest("fieldset.invalid, .field");
    var legend = control.type === "radio" || control.type === "checkbox"
      ? box && box.querySelector("legend") : null;
    var label = legend || (control.labels && control.labels[0]);
    if (!label) return "";
    var copy = label.cloneNode(true);
    copy.querySelectorAll(".muted, .hint, .badge, input").forEach(function (el) { el.remove(); });
    return copy.textContent.replace(/\s+/g, " ").replace(/[*:：\s]+$/, "").trim();
  }

  /* A field of a repeated group (each party of the intake form) says which one it belongs
     to: the group's data-error-group with {n} its position among the form's groups of that
     kind, "当事人2". */
  function groupName(form, control) {
    var group = control.closest("[data-error-group]");
    if (!group || !form.contains(group)) return "";
    var pattern = group.getAttribute("data-error-group");
    var same = Array.prototype.filter.call(
      form.querySelectorAll("[data-error-group]"),
      function (el) { return el.getAttribute("data-error-group") === pattern; }
    );
    return pattern.replace("{n}", String(same.indexOf(group) + 1));
  }

  function messageOf(control) {
    var ids = (control.getAttribute("aria-describedby") || "").split(/\s+/);
    for (var i = 0; i < ids.length; i += 1) {
      var el = ids[i] && document.getElementById(ids[i]);
      if (el && el.classList.contains("error")) return el.textContent.trim();
    }
    return "";
  }

  function goTo(control) {
    var box = control.closest(".field, fieldset") || control;
    box.scrollIntoView({ block: "center" });
    control.focus({ preventScroll: true });
  }

  /* The summary: inside the alert just before the form when the page has one, otherwise a
     new one at the top of the form. One link per invalid field (a radio group once). */
  function summarise(form) {
    var seen = {};
    var invalid = Array.prototype.filter.call(
      form.querySelectorAll('[aria-invalid="true"]'),
      function (el) {
        if (!el.name || seen[el.name]) return false;
        seen[el.name] = true;
        return true;
      }
    );
    var old = form.parentNode.querySelector("[data-error-list]");
    if (old) old.remove();
    if (!invalid.length) return null;
    var list = document.createElement("ul");
    list.setAttribute("data-error-list", "");
    list.className = "error-list";
    invalid.forEach(function (control) {
      if (!control.id) return;
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "#" + control.id;
      var label = labelText(control);
      var message = messageOf(control);
      var group = groupName(form, control);
      link.textContent = (group ? group + colon() : "") +
        (label && message ? joined(label, message) : label || message);
      link.addEventListener("click", function (evt) {
        evt.preventDefault();
        goTo(control);
      });
      item.appendChild(link);
      list.appendChild(item);
    });
    var box = form.previousElementSibling;
    if (!box || !box.matches(".alert.error")) {
      box = form.querySelector(":scope > .error-summary");
      if (!box) {
        box = document.createElement("div");
        box.className = "alert error error-summary";
        box.setAttribute("role", "alert");
        var title = document.createElement("p");
        title.textContent = (document.getElementById("main") || document.body)
          .getAttribute("data-error-summary") || "";
        box.appendChild(title);
        form.insertBefore(box, form.firstChild);
      }
    }
    box.appendChild(list);
    return invalid[0];
  }

  function showErrors(root, moveFocus) {
    markInvalid(root);
    var first = null;
    var forms = root.tagName === "FORM" ? [root] : root.querySelectorAll("form");
    Array.prototype.forEach.call(forms, function (form) {
      var f = summarise(form);
      if (f && !first) first = f;
    });
    if (first && moveFocus) goTo(first);
  }

  document.addEventListener("DOMContentLoaded", function () {
    showErrors(document.body, true);
  });

  /* Focus that an htmx swap would drop (the focused element was replaced) goes back to the
     same place: the element named by the form's data-focus-after-swap, the element with the
     same id, or the same button. */
  var lost = null;
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var active = document.activeElement;
    var target = evt.detail.target;
    lost = null;
    if (active && active !== document.body && target && target.contains(active)) {
      lost = { id: active.id, name: active.name, text: active.textContent, tag: active.tagName };
    }
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    var root = evt.detail.elt;
    if (!root || !root.querySelectorAll) return;
    var failed = root.querySelector('[aria-invalid="true"], .field.invalid');
    showErrors(root, !!failed);
    if (failed || !lost) { lost = null; return; }
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) { lost = null; return; }
    var form = root.matches("form") ? root : root.querySelector("form");
    var wanted = form && form.getAttribute("data-focus-after-swap");
    var next = (wanted && document.querySelector(wanted)) ||
      (lost.id && document.getElementById(lost.id)) ||
      Array.prototype.find.call(root.querySelectorAll(lost.tag), function (el) {
        return el.name === lost.name && el.textContent === lost.text;
      });
    lost = null;
    if (next) next.focus();
  });
})();
