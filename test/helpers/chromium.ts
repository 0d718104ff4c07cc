import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Debian's Chromium (`apt-get install chromium`); nothing downloads a browser. `LANDLORD_CHROMIUM` points elsewhere. */
export const CHROMIUM_PATH = process.env.LANDLORD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Whether the browser suite can run here. Without a browser it is skipped with a notice,
 * except under `CI=true`, where a missing browser is a failure: CI must never pass by skipping.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (process.env.CI === 'true')
    throw new Error(
      `No Chromium at ${CHROMIUM_PATH}: .ci/run installs Debian's chromium package; the browser suite must not be skipped in CI`,
    );
  console.warn(`Browser suite skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set LANDLORD_CHROMIUM)`);
  return false;
}

/** Launches headless Chromium (no sandbox: CI runs as root). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Saves a screenshot of `page` under test-results/browser/, named after the test. */
export async function screenshot(page: Page, testName: string): Promise<string> {
  const dir = join(process.cwd(), 'test-results', 'browser');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${testName.replace(/[^a-z0-9]+/gi, '-').slice(0, 100)}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const AXE_SOURCE = require('node:fs').readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') as string;

/** An accessibility violation axe-core found. */
export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * Runs axe-core (WCAG 2 A and AA rules) on the page as it is and returns the serious and
 * critical violations. axe is evaluated through the DevTools protocol, so the page's CSP
 * (no inline scripts) stays in force.
 */
export async function seriousViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })`,
  )) as { violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[] };
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => node.target.join(' ')),
    }));
}
