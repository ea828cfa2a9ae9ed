// Show a message when an htmx request fails, because htmx swaps nothing for
// a 4xx or 5xx response or a network error and the page would not change.
(function () {
  "use strict";

  function region() {
    return document.getElementById("request-error");
  }

  function show(text) {
    var element = region();
    if (!element) {
      return;
    }
    element.textContent = text;
    element.hidden = false;
    element.scrollIntoView({ block: "nearest" });
  }

  // Error pages mark their explanation with data-error-message.
  function messageFromPage(html) {
    var page = new DOMParser().parseFromString(html || "", "text/html");
    var marked = page.querySelector("[data-error-message]");
    return marked ? marked.textContent.trim() : "";
  }

  // A form that goes through clears the message. Polling GET requests leave
  // it in place, so the user can read it.
  document.addEventListener("htmx:afterRequest", function (event) {
    var element = region();
    var verb = event.detail.requestConfig && event.detail.requestConfig.verb;
    if (element && event.detail.successful && verb && verb !== "get") {
      element.hidden = true;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var message = messageFromPage(xhr.responseText);
    if (!message) {
      message =
        "The request failed with status " + xhr.status +
        ". Reload the page and try again.";
    }
    show(message);
  });

  document.addEventListener("htmx:sendError", function () {
    show(
      "The portal did not respond. Check that it is still running, then " +
        "reload the page and try again."
    );
  });
})();
