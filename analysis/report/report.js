// Per-seat charts and seat selection for report.html. Data: the JSON in <script id="report-data">.
"use strict";
(function () {
  const doc = JSON.parse(document.getElementById("report-data").textContent);
  const ui = JSON.parse(document.getElementById("report-ui").textContent);
  const bySeat = new Map(doc.seats.map((s) => [s.seat, s]));
  const select = document.getElementById("seat-select");
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, text) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function limits(seat, checkId) {
    const c = seat.checks.find((x) => x.check === checkId);
    return c ? [c.required, c.target].filter((v) => v !== null) : [];
  }

  function chart(target, title, values, lines, unit) {
    const w = 460, h = 200, left = 44, bottom = 28, top = 22;
    const svg = el("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}` });
    svg.appendChild(el("text", { x: left, y: 14, "font-size": 12 }, title));
    const finite = values.filter((v) => v !== null).concat(lines);
    if (!finite.length) {
      svg.appendChild(el("text", { x: left, y: 100, "font-size": 12 }, ui.no_readings));
      target.appendChild(svg);
      return;
    }
    let lo = Math.min(...finite), hi = Math.max(...finite);
    if (hi - lo < 1) { lo -= 1; hi += 1; }
    const pad = (hi - lo) * 0.1; lo -= pad; hi += pad;
    const n = Math.max(values.length, 1), step = (w - left - 10) / n;
    const y = (v) => top + (h - top - bottom) * (1 - (v - lo) / (hi - lo));
    // Ticks at the limits (required, target) so the axis says what the bars are judged against.
    const ticks = lines.length ? [...new Set(lines)] : [lo, hi];
    for (const v of ticks) {
      svg.appendChild(el("text", { x: 2, y: y(v) + 4, "font-size": 10 }, `${+v.toFixed(2)} ${unit}`));
    }
    values.forEach((v, i) => {
      if (v === null) return;
      svg.appendChild(el("rect", { x: left + i * step + 1, y: y(v), width: Math.max(step - 2, 1),
        height: h - bottom - y(v), fill: "#5b7db1" }));
    });
    lines.forEach((v, i) => {
      svg.appendChild(el("line", { x1: left, x2: w - 10, y1: y(v), y2: y(v),
        stroke: i === 0 ? ui.colours.fail : ui.colours.pass, "stroke-dasharray": "4 3" }));
    });
    const days = doc.method.days;
    [0, days.length - 1].forEach((i) => {
      if (days[i]) svg.appendChild(el("text", { x: left + i * step, y: h - 8, "font-size": 10 }, days[i]));
    });
    target.appendChild(svg);
  }

  function show(seatId) {
    const seat = bySeat.get(seatId);
    if (!seat) return;
    select.value = seatId;
    document.querySelectorAll(".selected").forEach((n) => n.classList.remove("selected"));
    document.querySelectorAll(`[data-seat="${CSS.escape(seatId)}"]`).forEach((n) => n.classList.add("selected"));
    const box = document.getElementById("seat-charts");
    box.replaceChildren();
    chart(box, `${seatId}: ${ui.noise_chart}`, seat.daily.laeq_occupied || [], limits(seat, "noise"), "dB");
    chart(box, `${seatId}: ${ui.light_chart}`, seat.daily.lux_min_occupied || [], limits(seat, "light"), "lx");
  }

  for (const s of doc.seats) select.appendChild(new Option(`${s.seat} (${s.verdict})`, s.seat));
  select.addEventListener("change", () => show(select.value));
  document.querySelectorAll("[data-seat]").forEach((n) =>
    n.addEventListener("click", () => show(n.getAttribute("data-seat"))));
  const order = ["fail", "insufficient_data", "marginal", "pass"];
  const first = [...doc.seats].sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict))[0];
  if (first) show(first.seat);
})();
