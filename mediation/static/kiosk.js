// Kiosk at a direct-report point: after a while without a touch the screen wipes what is on
// it and starts a fresh form, so the next citizen never sees the previous one's text.
// Nothing the citizen types is ever stored in the browser (no localStorage, no drafts).
(function () {
  "use strict";
  var root = document.querySelector("[data-kiosk]");
  if (!root) return;
  var seconds = parseInt(root.getAttribute("data-reset-seconds"), 10) || 90;
  var url = root.getAttribute("data-reset-url") || "/kiosk/new";
  var always = root.getAttribute("data-countdown") === "always";
  var warnAt = Math.min(15, seconds);
  var notice = document.getElementById("kiosk-notice");
  var count = document.getElementById("kiosk-count");
  var left = seconds;
  var done = false;

  // Empty every field and every private text on the page, then load a fresh form in place of
  // this page (replace: "back" does not lead to the previous citizen's page).
  function reset() {
    if (done) return;
    done = true;
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.type === "hidden" || el.type === "submit" || el.type === "button") return;
        if (el.type === "checkbox" || el.type === "radio") el.checked = false;
        else if (el.tagName === "SELECT") el.selectedIndex = 0;
        else el.value = "";
      });
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-private]"), function (el) {
      el.textContent = "";
    });
    var frame = document.getElementById("kiosk-print-frame");
    if (frame) frame.remove();
    try { window.sessionStorage.clear(); } catch (e) { /* not available */ }
    window.location.replace(url);
  }

  // The sentence around the count, in the page's language: singular and plural forms come
  // from the server with {n} where the count goes (Chinese has one form, English two).
  var message = document.querySelector("[data-kiosk-message]");

  function render() {
    if (message) {
      var form = message.getAttribute(left === 1 ? "data-one" : "data-other") || "";
      var at = form.indexOf("{n}");
      if (at >= 0) {
        count = document.createElement("strong");
        count.id = "kiosk-count";
        count.textContent = String(left);
        message.replaceChildren(document.createTextNode(form.slice(0, at)), count,
          document.createTextNode(form.slice(at + 3)));
      }
    } else if (count) {
      count.textContent = String(left);
    }
    if (notice) notice.hidden = !(always || left <= warnAt);
  }

  function activity() {
    left = seconds;
    render();
  }

  ["pointerdown", "touchstart", "keydown", "input", "scroll"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-kiosk-stay]"), function (el) {
    el.addEventListener("click", activity);
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-kiosk-done]"), function (el) {
    el.addEventListener("click", function (event) {
      event.preventDefault();
      reset();
    });
  });

  // Print the receipt on the kiosk's printer from a hidden frame: no new tab is left open with
  // the secret in it. Without the frame (or JavaScript) the link simply opens the PDF.
  Array.prototype.forEach.call(document.querySelectorAll("[data-print-pdf]"), function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      var old = document.getElementById("kiosk-print-frame");
      if (old) old.remove();
      var frame = document.createElement("iframe");
      frame.id = "kiosk-print-frame";
      frame.setAttribute("aria-hidden", "true");
      frame.tabIndex = -1;
      frame.style.cssText = "position:fixed;right:0;bottom:0;width:1px;height:1px;border:0;opacity:0";
      frame.addEventListener("load", function () {
        try {
          frame.contentWindow.focus();
          frame.contentWindow.print();
        } catch (e) {
          window.location.assign(link.href);
        }
      });
      frame.src = link.href;
      document.body.appendChild(frame);
      activity();
    });
  });

  // A page brought back from the browser's cache belongs to someone else: start afresh.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) reset();
  });
  // The header's home link leads to the staff pages: on a kiosk it leads back to the form.
  Array.prototype.forEach.call(document.querySelectorAll("header .brand"), function (el) {
    el.setAttribute("href", "/kiosk");
  });

  render();
  window.setInterval(function () {
    left -= 1;
    if (left <= 0) reset();
    else render();
  }, 1000);
  window.kiosk = { reset: reset };
})();
