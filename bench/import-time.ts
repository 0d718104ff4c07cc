/**
 * Prints how long importing Landlord's module graph (`src/main.ts`, everything `landlord
 * start` loads) takes in a fresh Node process: `import-ms N`. With the argument `none` it
 * imports nothing, which times Node's own start when run from outside.
 */
const started = performance.now();
if (process.argv[2] !== 'none') await import('../src/main.ts');
process.stdout.write(`import-ms ${Math.round(performance.now() - started)}\n`);
