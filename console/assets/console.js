// The console's one small script: confirmations before destructive actions, and a periodic
// refresh of pages that ask for it (data-refresh seconds on <main>). Pages work without it.
(function () {
  document.addEventListener('submit', function (e) {
    var form = e.target;
    var question = form && form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) e.preventDefault();
  });
  var main = document.querySelector('main[data-refresh]');
  if (main) {
    var s = Number(main.getAttribute('data-refresh'));
    if (s >= 5) setTimeout(function () { location.reload(); }, s * 1000);
  }
})();
