/**
 * Headless Chromium for the browser test and bench: Debian's `chromium` (scripts/ensure-chromium.sh
 * installs it), driven by playwright-core, which downloads nothing.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export const chromiumPath = (): string => {
  const found = CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p));
  if (found === undefined) throw new Error('Chromium is not installed: run scripts/ensure-chromium.sh (npm test runs it first), or set CHROMIUM_PATH');
  return found;
};

/** Root needs --no-sandbox; a container's small /dev/shm needs --disable-dev-shm-usage; SwiftShader gives WebGL without a GPU. */
export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'] });
