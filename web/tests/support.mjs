// What the browser tests need around the browser: the real jiancang binary in a temporary data
// directory on a free port (stopped by its PID), Debian's Chromium through playwright-core,
// files for uploads made here (no third-party media), valid resident ID numbers, screenshots.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';

export const binary = process.env.JIANCANG_BINARY;
export const artifacts = process.env.JIANCANG_WEB_ARTIFACTS || join(tmpdir(), 'jiancang-web-artifacts');
mkdirSync(artifacts, { recursive: true });

// Starts `jiancang up` and resolves once it serves, with its URL and the operator's one-time
// password from its first-start output.
export async function startNode(extraArgs = []) {
  if (!binary) throw new Error('JIANCANG_BINARY must name the jiancang binary (ctest sets it)');
  const data = mkdtempSync(join(tmpdir(), 'jiancang-web-'));
  const child = spawn(binary, ['up', '--data', data, '--listen', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`jiancang did not start in 60 s:\n${output}`)), 60000);
    const scan = (chunk) => {
      output += chunk;
      const serving = output.match(/serving on (http:\/\/127\.0\.0\.1:\d+)\//);
      const password = output.match(/one-time password (\S+)/);
      if (serving && password) {
        clearTimeout(timer);
        resolve({ url: serving[1], operatorPassword: password[1] });
      }
    };
    child.stdout.on('data', scan);
    child.stderr.on('data', scan);
    child.on('exit', (code) => reject(new Error(`jiancang exited with ${code}:\n${output}`)));
  });
  const started = await ready;
  return {
    ...started,
    data,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.JIANCANG_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // Software WebGL for the 3D viewer (headless Chromium has no GPU); the pages are our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--enable-unsafe-swiftshader'],
  });
}

// A phone-sized page (375×812, touch, Chinese) whose console errors fail the test at the end.
export async function phonePage(browser, url) {
  const context = await browser.newContext({
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    baseURL: url,
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // The browser logs failed requests the app handles itself: 401 from /me when signed out,
    // 404 for a queue place not taken yet, 409 for a refusal the page shows (the test checks it).
    if (message.type() === 'error' && !/status of 40[149]/.test(message.text())) {
      page.problems.push(`console error: ${message.text()}`);
    }
  });
  return page;
}

let shot = 0;
export async function screenshot(page, name) {
  shot += 1;
  await page.screenshot({ path: join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

// A GB 11643 resident identity number: region 110105, the given birth date, a sequence number,
// and the ISO 7064 MOD 11-2 check character.
export function residentId(birth, sequence) {
  const body = `110105${birth}${String(sequence).padStart(3, '0')}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((total, digit, i) => total + Number(digit) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// A real PNG: a gradient with a seal-red square, its colours shifted by `seed` so that every
// upload is a different work (media are content-addressed).
export function makePng(size, seed) {
  const rows = [];
  for (let y = 0; y < size; y += 1) {
    const row = [0];
    for (let x = 0; x < size; x += 1) {
      const inSquare = x > size / 4 && x < (3 * size) / 4 && y > size / 4 && y < (3 * size) / 4;
      row.push(inSquare ? 192 : (x * 255) / size, inSquare ? 57 : (y * 255) / size, inSquare ? 43 : (seed * 37) % 256);
    }
    rows.push(...row);
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed));
    return Buffer.concat([length, typed, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.from(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Runs axe-core on the page and returns its critical violations, described.
export async function criticalViolations(page) {
  const source = readFileSync(new URL('../node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy (no inline
  // scripts) does not govern.
  await page.evaluate(source);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations
    .filter((v) => v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
}

export function writeArtifact(name, text) {
  writeFileSync(join(artifacts, name), text);
}

// "YYYY-MM-DDTHH:MM:SS" in local time, as a datetime-local input takes it.
// Chromium keeps the value of such an input as "YYYY-MM-DDTHH:MM" when the
// seconds are zero, and Playwright's fill() refuses a value that the input
// does not keep verbatim, so whole minutes leave the seconds out.
export function localDateTime(millis) {
  const d = new Date(millis);
  const pad = (n) => String(n).padStart(2, '0');
  const minutes = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return d.getSeconds() === 0 ? minutes : `${minutes}:${pad(d.getSeconds())}`;
}
