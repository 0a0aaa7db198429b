const t0 = performance.now();
const r0 = process.memoryUsage().rss;
for (const m of process.argv.slice(2)) {
  const a = performance.now(); const r = process.memoryUsage().rss;
  await import(m);
  console.log(m.padEnd(40), (performance.now() - a).toFixed(0).padStart(5), 'ms', ((process.memoryUsage().rss - r) / 2**20).toFixed(1).padStart(6), 'MiB');
}
console.log('total', (performance.now() - t0).toFixed(0), 'ms; rss', (process.memoryUsage().rss / 2**20).toFixed(0), 'MiB (base', (r0/2**20).toFixed(0), ')');
