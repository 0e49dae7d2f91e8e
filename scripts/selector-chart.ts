/**
 * Writes docs/selector-map.svg, the map of selectStrategy's decisions.
 * Run: npm run docs:chart   (test/docs/selectorMap.test.ts fails when the committed file is stale)
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSelectorMap } from './selectorMap';

const path = fileURLToPath(new URL('../docs/selector-map.svg', import.meta.url));
writeFileSync(path, renderSelectorMap());
console.log(`wrote ${path}`);
