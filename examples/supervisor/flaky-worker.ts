// A worker that does some work, then crashes (exit code 1) after FLAKY_CRASH_AFTER_MS
// (default 300 ms). With FLAKY_CRASH_AFTER_MS=0 it crashes at once, like a broken deployment.
// On SIGTERM it finishes cleanly with exit code 0.
const crashAfterMs = Number(process.env.FLAKY_CRASH_AFTER_MS ?? 300);
if (crashAfterMs === 0) {
  process.stderr.write('flaky worker: cannot start (broken build)\n');
  process.exit(1);
}
process.on('SIGTERM', () => {
  process.stdout.write(`flaky worker ${process.pid}: stopping cleanly\n`);
  process.exit(0);
});
const work = setInterval(() => {}, 1_000);
setTimeout(() => {
  clearInterval(work);
  process.stderr.write(`flaky worker ${process.pid}: crashing\n`);
  process.exit(1);
}, crashAfterMs);
process.stdout.write(`flaky worker ${process.pid}: working\n`);
