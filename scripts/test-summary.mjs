// Prints one closing line for the whole suite (vitest, fault tests, Playwright), in the plain form CI reads.
import { readFileSync } from 'node:fs';

const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
const vitest = read('test-results/vitest.json');
const faults = read('test-results/vitest-faults.json');
const playwright = read('test-results/playwright.json');
const passed = vitest.numPassedTests + faults.numPassedTests + playwright.stats.expected;
const failed =
	vitest.numFailedTests +
	faults.numFailedTests +
	playwright.stats.unexpected +
	playwright.stats.flaky;
const skipped =
	vitest.numPendingTests + vitest.numTodoTests + faults.numPendingTests + playwright.stats.skipped;
console.log(
	`vitest: ${vitest.numPassedTests} passed; faults: ${faults.numPassedTests} passed; playwright: ${playwright.stats.expected} passed`
);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
