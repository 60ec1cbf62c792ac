#!/usr/bin/env node
// Draws the extension's icon (images/icon.png, 128x128): a shield (the code stays on your
// machine) holding a prompt's chevron and cursor, white on an indigo-to-teal rounded square.
// Shapes are distance functions, sampled 4x4 per pixel for smooth edges; the PNG is written by
// hand (zlib from Node), so the same bytes come out every time.
//   node scripts/make-icon.mjs            # write images/icon.png
//   node scripts/make-icon.mjs --check    # exit 1 when images/icon.png differs
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { deflateSync } from "node:zlib";

const SIZE = 128;
const SAMPLES = 4;
export const ICON = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "images", "icon.png");

function roundedSquare(x, y, radius) {
  const h = SIZE / 2;
  const qx = Math.abs(x - h) - (h - radius);
  const qy = Math.abs(y - h) - (h - radius);
  const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0));
  return outside + Math.min(Math.max(qx, qy), 0) - radius;
}

function segment(x, y, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(x - ax - t * dx, y - ay - t * dy);
}

/** Distance to a polyline drawn with round ends and joins, minus half its width. */
function stroke(x, y, points, width) {
  let d = Infinity;
  for (let i = 1; i < points.length; i++) d = Math.min(d, segment(x, y, points[i - 1], points[i]));
  return d - width / 2;
}

const SHIELD = [[64, 20], [96, 30], [96, 60], [90, 78], [78, 92], [64, 104], [50, 92], [38, 78], [32, 60], [32, 30], [64, 20]];
const CHEVRON = [[50, 48], [62, 59], [50, 70]];
const CURSOR = [[68, 72], [80, 72]];

function coverage(distance) {
  return distance <= 0 ? 1 : 0;
}

function mix(a, b, t) {
  return a.map((v, i) => v + (b[i] - v) * t);
}

export function drawIcon() {
  const top = [67, 56, 202]; // indigo
  const bottom = [13, 148, 136]; // teal
  const white = [255, 255, 255];
  const rows = [];
  for (let py = 0; py < SIZE; py++) {
    const row = Buffer.alloc(1 + SIZE * 4); // filter byte 0, then RGBA
    for (let px = 0; px < SIZE; px++) {
      let back = 0;
      let ink = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const x = px + (sx + 0.5) / SAMPLES;
          const y = py + (sy + 0.5) / SAMPLES;
          const inside = coverage(roundedSquare(x, y, 26));
          back += inside;
          const mark = Math.min(stroke(x, y, SHIELD, 8), stroke(x, y, CHEVRON, 8), stroke(x, y, CURSOR, 8));
          ink += inside * coverage(mark);
        }
      }
      const n = SAMPLES * SAMPLES;
      const alpha = back / n;
      const base = mix(top, bottom, (px + py) / (2 * SIZE));
      const color = alpha > 0 ? mix(base, white, ink / back) : base;
      const at = 1 + px * 4;
      row[at] = Math.round(color[0]);
      row[at + 1] = Math.round(color[1]);
      row[at + 2] = Math.round(color[2]);
      row[at + 3] = Math.round(alpha * 255);
    }
    rows.push(row);
  }
  return png(Buffer.concat(rows));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

function png(raw) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header[8] = 8; // bits per channel
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const icon = drawIcon();
  if (process.argv.includes("--check")) {
    let current = Buffer.alloc(0);
    try {
      current = readFileSync(ICON);
    } catch {
      /* missing: differs */
    }
    if (!current.equals(icon)) {
      console.error(`${ICON} differs from what scripts/make-icon.mjs draws; run it`);
      process.exitCode = 1;
    }
  } else {
    writeFileSync(ICON, icon);
    console.log(`wrote ${ICON} (${icon.length} bytes)`);
  }
}
