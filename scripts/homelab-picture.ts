/**
 * npx tsx scripts/homelab-picture.ts
 * Regenerates the README's picture: the homelab's declared flows as docs/homelab-declared-flows.png
 * (a headless Chromium screenshot of the SVG the plan draws) and docs/homelab-declared-flows.svg.sha256,
 * the hash of that SVG. The SVG is deterministic (fixed ELK seed); screenshot pixels may vary
 * with fonts, so tests/engine/pictures-docs.test.ts compares the SVG's hash, not the PNG.
 * Needs /usr/bin/chromium (Debian's `chromium` package).
 */
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expandConnections } from "../components/connections";
import { stackConnectivityPage } from "../plan/connectivity";
import { renderStack } from "../plan/render";

export const DOCS_PNG = path.join(__dirname, "..", "docs", "homelab-declared-flows.png");
export const DOCS_HASH = `${DOCS_PNG.replace(/\.png$/, "")}.svg.sha256`;
export const CHROMIUM = "/usr/bin/chromium";
export const MARGIN = 16;

/** Flags for a headless run that touches no network and no profile of the user. */
export function chromiumFlags(userDataDir: string): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    `--user-data-dir=${userDataDir}`,
  ];
}

/** The declared-flows SVG of the homelab, exactly as connectivity.html embeds it. */
export async function homelabDeclaredSvg(): Promise<{
  svg: string;
  width: number;
  height: number;
}> {
  const result = await renderStack("homelab");
  const connections = expandConnections(result.config);
  const page = await stackConnectivityPage(result.config, result.manifests, connections);
  const start = page.html.indexOf('<svg xmlns="http://www.w3.org/2000/svg" id="declared-svg"');
  const svg = page.html.slice(start, page.html.indexOf("</svg>", start) + "</svg>".length);
  const laid = page.pictures.find((p) => p.id === "declared-svg")!.laid;
  return { svg, width: laid.width, height: laid.height };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

async function main(): Promise<number> {
  if (!fs.existsSync(CHROMIUM)) {
    console.error(`${CHROMIUM} not found: apt-get install chromium`);
    return 1;
  }
  const { svg, width, height } = await homelabDeclaredSvg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zt-picture-"));
  try {
    const page = path.join(dir, "declared.html");
    fs.writeFileSync(
      page,
      `<!doctype html><html><head><meta charset="utf-8"></head><body style="margin:${MARGIN}px;background:white">${svg}</body></html>`,
    );
    const run = spawnSync(
      CHROMIUM,
      [
        ...chromiumFlags(path.join(dir, "profile")),
        `--screenshot=${DOCS_PNG}`,
        `--window-size=${width + 2 * MARGIN},${height + 2 * MARGIN}`,
        `file://${page}`,
      ],
      { encoding: "utf8", timeout: 120_000 },
    );
    if (run.status !== 0 || !fs.existsSync(DOCS_PNG)) {
      console.error(run.stderr);
      return 1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.writeFileSync(DOCS_HASH, `${sha256(svg)}\n`);
  console.log(
    `Wrote ${path.relative(process.cwd(), DOCS_PNG)} and ${path.relative(process.cwd(), DOCS_HASH)}`,
  );
  return 0;
}

if (require.main === module) void main().then((code) => (process.exitCode = code));
