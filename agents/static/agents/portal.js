// "Run now" progress: re-fetch the fragment every 1.5 s until it says the run finished
// (the server drops data-poll then). No framework, served by the app.
(function () {
  "use strict";
  function poll(box) {
    var url = box.getAttribute("data-poll");
    if (!url) { return; }
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) { return poll(box); }
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.firstElementChild;
          box.replaceWith(fresh);
          poll(fresh);
        })
        .catch(function () { poll(box); });
    }, 1500);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("progress");
    if (box) { poll(box); }
  });
})();
