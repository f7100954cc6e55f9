// The wall's clock and the ages on its banners, kept by the browser itself: the
// server draws them once a second, but a server busy with a slow database, or
// stopped, must not stop the clock or freeze the banners' ages (measured: 22–24 s).
// Times are in the station's zone: the server writes its offset from UTC now
// (data-jw-offset-ms; UTC+8 for China) and a clock change arrives with the next
// redraw. The server's sense of
// "now" (real time, and the wall's own time when DASHBOARD_NOW replays a day)
// is read from the attributes it writes, so a wrong clock on the wall's PC
// does not matter: only the time elapsed since is the browser's.
(function () {
  if (window.__jwClock) return;
  var WEEK = "日一二三四五六";
  var seen = { wall: null, real: null };
  var off = { wall: 0, real: 0 };
  var zoneMs = 8 * 3600 * 1000;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function local(ms) { return new Date(ms + zoneMs); } // read with getUTC*
  function sync() {
    var el = document.querySelector("[data-jw-wall-ms]");
    var w = el && el.getAttribute("data-jw-wall-ms");
    if (w && w !== seen.wall) { seen.wall = w; off.wall = Number(w) - Date.now(); }
    var z = el && el.getAttribute("data-jw-offset-ms");
    if (z !== null && z !== "" && !isNaN(Number(z))) zoneMs = Number(z);
    el = document.querySelector("[data-jw-real-ms]");
    var r = el && el.getAttribute("data-jw-real-ms");
    if (r && r !== seen.real) { seen.real = r; off.real = Number(r) - Date.now(); }
  }
  function tick() {
    sync();
    if (seen.wall !== null) {
      var t = local(Date.now() + off.wall);
      var hms = pad(t.getUTCHours()) + ":" + pad(t.getUTCMinutes()) + ":" + pad(t.getUTCSeconds());
      var ymd = t.getUTCFullYear() + "-" + pad(t.getUTCMonth() + 1) + "-" + pad(t.getUTCDate()) + " 星期" + WEEK[t.getUTCDay()];
      document.querySelectorAll(".jw-w-time").forEach(function (e) { if (e.textContent !== hms) e.textContent = hms; });
      document.querySelectorAll(".jw-w-date").forEach(function (e) { if (e.textContent !== ymd) e.textContent = ymd; });
    }
    var now = Date.now() + off.real;
    document.querySelectorAll("[data-jw-since-ms]").forEach(function (e) {
      var s = Math.max(0, Math.floor((now - Number(e.getAttribute("data-jw-since-ms"))) / 1000));
      if (e.textContent !== String(s)) e.textContent = String(s);
    });
  }
  window.__jwClock = setInterval(tick, 250);
})();
