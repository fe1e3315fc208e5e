// herald console: the little script the pages need beyond htmx. No inline script runs on any
// page (the Content-Security-Policy forbids it), so behaviour hangs off data attributes here.
(function () {
  "use strict";

  var COLORS = {
    sent: "#2e7d32",
    succeeded: "#2e7d32",
    failed: "#c62828",
    dropped_quiet_hours: "#f9a825",
    dropped_dedup: "#6a1b9a",
    discarded: "#607d8b",
    cancelled: "#37474f",
    test_skipped: "#8d6e63",
    suppressed: "#ad1457"
  };

  function hourLabel(iso, week) {
    var d = new Date(iso);
    var hh = String(d.getHours()).padStart(2, "0") + ":00";
    if (!week && d.getHours() !== 0) return hh;
    return (d.getMonth() + 1) + "/" + d.getDate() + " " + hh;
  }

  function drawChart(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    canvas.dataset.drawn = "1";
    var series = JSON.parse(canvas.dataset.series);
    var week = (series.hours || []).length > 48;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels || series.hours.map(function (h) { return hourLabel(h, week); }),
        datasets: series.states.map(function (s) {
          return { label: s.label || s.state, data: s.counts, backgroundColor: COLORS[s.state] || "#90a4ae", stack: "outcomes" };
        })
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { stacked: true, ticks: { autoSkip: true, maxTicksLimit: 24 } }, y: { stacked: true, beginAtZero: true } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  // "Add a field" on the template form: copy the last content row, emptied.
  function addContentRow(button) {
    var rows = document.getElementById(button.dataset.addRow);
    var last = rows && rows.lastElementChild;
    if (!last) return;
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input, textarea").forEach(function (i) { i.value = ""; });
    rows.appendChild(copy);
    if (window.htmx) htmx.process(copy);
  }

  // A table or card wider than the window scrolls inside itself; keyboard users reach it too.
  function focusScrollable(root) {
    var scope = root.querySelectorAll ? root : document;
    scope.querySelectorAll("table, .card").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
        el.tabIndex = 0;
      }
    });
  }

  function init(root) {
    root.querySelectorAll("canvas[data-series]").forEach(drawChart);
    focusScrollable(document);
  }

  window.addEventListener("resize", function () { focusScrollable(document); });

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-add-row]");
    if (button) { e.preventDefault(); addContentRow(button); }
  });
  // An upload's progress: a form with data-upload-progress="#bar" shows how much of the file
  // has gone (htmx reports the request body's progress); its button is disabled meanwhile
  // (hx-disabled-elt), so a double click uploads once. The words come from the page, in its
  // language: data-sent-label (with "{percent}" where the number goes) and data-checking-label.
  function uploadProgress(e) {
    var form = e.target.closest && e.target.closest("form[data-upload-progress]");
    if (!form) return;
    var bar = document.querySelector(form.dataset.uploadProgress);
    var label = document.getElementById("upload-percent");
    if (!bar) return;
    if (e.type === "htmx:xhr:progress" && e.detail.lengthComputable && e.detail.total > 0) {
      var percent = Math.floor((100 * e.detail.loaded) / e.detail.total);
      bar.hidden = false;
      bar.value = percent;
      if (label) {
        label.textContent = percent < 100
          ? (form.dataset.sentLabel || "{percent}%").replace("{percent}", String(percent))
          : form.dataset.checkingLabel || "";
      }
    } else if (e.type === "htmx:afterRequest") {
      bar.hidden = true;
      bar.value = 0;
      if (label) label.textContent = "";
    }
  }

  document.addEventListener("htmx:xhr:progress", uploadProgress);
  document.addEventListener("htmx:afterRequest", uploadProgress);
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
