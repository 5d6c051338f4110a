// Prints one closing line for the whole suite (vitest + Playwright), in the plain form CI reads.
import { readFileSync } from 'node:fs';

const vitest = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
const playwright = JSON.parse(readFileSync('test-results/playwright.json', 'utf8'));
const passed = vitest.numPassedTests + playwright.stats.expected;
const failed = vitest.numFailedTests + playwright.stats.unexpected + playwright.stats.flaky;
const skipped = vitest.numPendingTests + vitest.numTodoTests + playwright.stats.skipped;
console.log(`vitest: ${vitest.numPassedTests} passed; playwright: ${playwright.stats.expected} passed`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
