/* Handwritten signature pad for phones and PCs.
 * Strokes are kept as points in a 0..1 coordinate space, so a rotation or resize redraws the
 * same signature at the new size instead of losing it. Touch input never scrolls the page
 * (touch-action: none + passive:false), which matters inside WeChat / DingTalk web views. */
export function SignaturePad(canvas, options) {
  this.canvas = canvas;
  this.options = Object.assign({ color: "#111", minWidth: 1.2, maxWidth: 4.2, minInk: 0.35 }, options || {});
  this.strokes = [];
  this.current = null;
  this.ctx = canvas.getContext("2d");
  canvas.style.touchAction = "none";
  const self = this;
  const start = function (e) { self._start(e); };
  const move = function (e) { self._move(e); };
  const end = function (e) { self._end(e); };
  canvas.addEventListener("pointerdown", start);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("pointerleave", end);
  // Older in-app browsers without pointer events still deliver touch events.
  canvas.addEventListener("touchmove", function (e) { e.preventDefault(); }, { passive: false });
  window.addEventListener("resize", function () { self.resize(); });
  window.addEventListener("orientationchange", function () { setTimeout(function () { self.resize(); }, 250); });
  this.resize();
}

SignaturePad.prototype.resize = function () {
  const ratio = Math.max(window.devicePixelRatio || 1, 1);
  const rect = this.canvas.getBoundingClientRect();
  this.canvas.width = Math.max(1, Math.round(rect.width * ratio));
  this.canvas.height = Math.max(1, Math.round(rect.height * ratio));
  this.ratio = ratio;
  this.redraw();
};

SignaturePad.prototype._point = function (e) {
  const rect = this.canvas.getBoundingClientRect();
  return {
    x: (e.clientX - rect.left) / rect.width,
    y: (e.clientY - rect.top) / rect.height,
    t: e.timeStamp || Date.now(),
    p: e.pressure && e.pressure !== 0.5 ? e.pressure : null,
  };
};

SignaturePad.prototype._start = function (e) {
  e.preventDefault();
  if (this.canvas.setPointerCapture && e.pointerId !== undefined) {
    try { this.canvas.setPointerCapture(e.pointerId); } catch (err) { /* not capturable */ }
  }
  this.current = [this._point(e)];
  this.strokes.push(this.current);
  this.redraw();
};

SignaturePad.prototype._move = function (e) {
  if (!this.current) return;
  e.preventDefault();
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
  for (let i = 0; i < events.length; i++) this.current.push(this._point(events[i]));
  this.redraw();
};

SignaturePad.prototype._end = function () {
  if (!this.current) return;
  this.current = null;
  if (this.options.onChange) this.options.onChange(this);
};

/* Width follows speed: fast strokes are thinner, like a real pen. */
SignaturePad.prototype._width = function (a, b, scale) {
  if (b.p) return (this.options.minWidth + (this.options.maxWidth - this.options.minWidth) * b.p) * scale;
  const dist = Math.hypot((b.x - a.x) * this.canvas.width, (b.y - a.y) * this.canvas.height) / this.ratio;
  const dt = Math.max(1, b.t - a.t);
  const v = Math.min(dist / dt, 3);
  return (this.options.maxWidth - (this.options.maxWidth - this.options.minWidth) * (v / 3)) * scale;
};

SignaturePad.prototype.redraw = function () {
  const ctx = this.ctx, w = this.canvas.width, h = this.canvas.height, scale = this.ratio;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = this.options.color;
  ctx.fillStyle = this.options.color;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const stroke of this.strokes) {
    if (stroke.length === 1) {
      ctx.beginPath();
      ctx.arc(stroke[0].x * w, stroke[0].y * h, this.options.maxWidth * scale / 2, 0, Math.PI * 2);
      ctx.fill();
      continue;
    }
    let width = this.options.maxWidth * scale;
    for (let i = 1; i < stroke.length; i++) {
      const a = stroke[i - 1], b = stroke[i];
      width = width * 0.6 + this._width(a, b, scale) * 0.4;
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
      ctx.beginPath();
      ctx.lineWidth = width;
      const prev = i > 1 ? { x: (stroke[i - 2].x + a.x) / 2, y: (stroke[i - 2].y + a.y) / 2 } : a;
      ctx.moveTo(prev.x * w, prev.y * h);
      ctx.quadraticCurveTo(a.x * w, a.y * h, mid.x * w, mid.y * h);
      ctx.stroke();
    }
  }
};

SignaturePad.prototype.clear = function () {
  this.strokes = [];
  this.current = null;
  this.redraw();
  if (this.options.onChange) this.options.onChange(this);
};

SignaturePad.prototype.undo = function () {
  this.strokes.pop();
  this.redraw();
  if (this.options.onChange) this.options.onChange(this);
};

/* Total ink length relative to the pad's width: a dot or a dash is not a signature. */
SignaturePad.prototype.inkLength = function () {
  let total = 0;
  for (const stroke of this.strokes) {
    for (let i = 1; i < stroke.length; i++) {
      total += Math.hypot(stroke[i].x - stroke[i - 1].x, (stroke[i].y - stroke[i - 1].y) * this.canvas.height / this.canvas.width);
    }
  }
  return total;
};

SignaturePad.prototype.isEmpty = function () { return this.strokes.length === 0; };
SignaturePad.prototype.isTooShort = function () { return this.inkLength() < this.options.minInk; };

/* PNG with a transparent background, cropped to the ink. */
SignaturePad.prototype.toDataURL = function () {
  const w = this.canvas.width, h = this.canvas.height;
  const data = this.ctx.getImageData(0, 0, w, h).data;
  let minX = w, minY = h, maxX = -1, maxY = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (data[(y * w + x) * 4 + 3] > 0) {
        if (x < minX) minX = x; if (x > maxX) maxX = x;
        if (y < minY) minY = y; if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) return null;
  const pad = Math.round(6 * this.ratio);
  minX = Math.max(0, minX - pad); minY = Math.max(0, minY - pad);
  maxX = Math.min(w - 1, maxX + pad); maxY = Math.min(h - 1, maxY + pad);
  const out = document.createElement("canvas");
  out.width = maxX - minX + 1; out.height = maxY - minY + 1;
  out.getContext("2d").drawImage(this.canvas, minX, minY, out.width, out.height, 0, 0, out.width, out.height);
  return out.toDataURL("image/png");
};
