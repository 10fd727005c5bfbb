// Leaves for the platform's sign-in page by script: on phones, a scripted navigation stays in
// the browser, where a tapped link could be captured by the platform's installed app.
(function () {
  var link = document.getElementById("continue");
  if (link) {
    window.location.replace(link.href);
  }
})();
