// The extension as the Marketplace shows it: icon, license, changelog, README and its image,
// and what the .vsix holds of them.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

const EXT_DIR = resolve(__dirname, "..", "..");
const MANIFEST = JSON.parse(readFileSync(join(EXT_DIR, "package.json"), "utf8"));

function pngSize(file: string): [number, number] {
  const png = readFileSync(file);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${file} is not a PNG`);
  assert.equal(png.subarray(12, 16).toString("latin1"), "IHDR");
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

test("the icon is a 128x128 PNG, the one scripts/make-icon.mjs draws", async () => {
  const icon = join(EXT_DIR, MANIFEST.icon);
  assert.deepEqual(pngSize(icon), [128, 128]);
  const script = (await import(pathToFileURL(join(EXT_DIR, "scripts", "make-icon.mjs")).href)) as { drawIcon(): Buffer };
  assert.ok(script.drawIcon().equals(readFileSync(icon)), "run node scripts/make-icon.mjs");
});

test("license, changelog, banner, categories and keywords are there; no made-up repository", () => {
  assert.equal(MANIFEST.license, "MIT");
  assert.equal(readFileSync(join(EXT_DIR, "LICENSE"), "utf8"), readFileSync(join(EXT_DIR, "..", "..", "LICENSE"), "utf8"));
  assert.match(readFileSync(join(EXT_DIR, "CHANGELOG.md"), "utf8"), new RegExp(`^# Changelog\\n\\n## ${MANIFEST.version.replace(/\./g, "\\.")}\\b`));
  assert.match(MANIFEST.galleryBanner.color, /^#[0-9a-f]{6}$/i);
  assert.ok(["dark", "light"].includes(MANIFEST.galleryBanner.theme));
  assert.ok(MANIFEST.categories.length > 0 && MANIFEST.keywords.length > 0 && MANIFEST.keywords.length <= 30);
  // There is no public address of the source yet: none is invented.
  assert.equal(MANIFEST.repository, undefined);
});

test("the README's images exist and go into the .vsix; the developer notes do not", () => {
  const readme = readFileSync(join(EXT_DIR, "README.md"), "utf8");
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  assert.ok(images.length > 0);
  const ignore = readFileSync(join(EXT_DIR, ".vscodeignore"), "utf8").split("\n");
  for (const image of images) {
    assert.ok(!/^[a-z]+:/i.test(image), `${image}: a remote image in the README`);
    assert.ok(existsSync(join(EXT_DIR, image)), `${image} is missing`);
    assert.ok(ignore.includes(`!${image}`), `${image} is not packaged`);
    if (image.endsWith(".png")) assert.ok(pngSize(join(EXT_DIR, image))[0] >= 600, image);
  }
  for (const shipped of ["README.md", "CHANGELOG.md", "LICENSE", MANIFEST.icon]) assert.ok(ignore.includes(`!${shipped}`), shipped);
  assert.ok(!ignore.includes("!DEVELOPMENT.md"));
});
