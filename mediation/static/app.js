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
