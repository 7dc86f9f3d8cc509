/* The main menu on a phone: folded behind a "Menu" button (a disclosure with aria-expanded), so every
   page starts with its own content; Escape folds it again. Without JavaScript, and on wider screens,
   the menu is simply shown. */
(function () {
  "use strict";
  var header = document.querySelector(".lp-header");
  var toggle = document.querySelector(".lp-menu-toggle");
  if (!header || !toggle || !window.matchMedia) { return; }
  var narrow = window.matchMedia("(max-width: 40rem)");

  function show(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("lp-header--folded", !open);
  }

  function fit() {
    toggle.hidden = !narrow.matches;
    show(!narrow.matches);
  }

  toggle.addEventListener("click", function () {
    show(toggle.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && narrow.matches && toggle.getAttribute("aria-expanded") === "true") {
      show(false);
      toggle.focus();
    }
  });
  if (narrow.addEventListener) { narrow.addEventListener("change", fit); }
  fit();
}());
