// The console's charts: every element with data-chart (an ECharts option as JSON, made by the
// server) is drawn with the bundled ECharts (/assets/echarts.min.js, loaded before this file).
(function () {
  function draw() {
    var els = document.querySelectorAll('[data-chart]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      try {
        var chart = window.echarts.init(el);
        chart.setOption(JSON.parse(el.getAttribute('data-chart')));
        el.setAttribute('data-drawn', '1');
        window.addEventListener('resize', chart.resize);
      } catch (e) {
        el.setAttribute('data-drawn', 'error');
        el.textContent = String(e);
      }
    }
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
