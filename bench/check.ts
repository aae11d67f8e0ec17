/**
 * The CI regression gate, for `.ci/run`: `npx tsx bench/check.ts` is `npx tsx bench/run.ts --check`
 * (short ingest run, disgate vs the raw floor in the same run, exit 1 below 0.75x). Extra
 * arguments are passed through, e.g. `--runs 5` or `--threshold 0.8`.
 */
process.argv.splice(2, 0, '--check');
await import('./run.js');
