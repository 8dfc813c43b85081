// The peers, one process, one thread: scores every line of a file.
// usage: node peers.js vader|afinn FILE
// prints "lines wall_seconds cpu_seconds checksum" for the scoring loop only
// (reading and splitting the file are not timed).
const fs = require('fs');
const which = process.argv[2];
const text = fs.readFileSync(process.argv[3], 'utf8');
const lines = text.split('\n');
let score;
if (which === 'vader') {
  const v = require('vader-sentiment');
  score = (l) => v.SentimentIntensityAnalyzer.polarity_scores(l).compound;
} else {
  const Sentiment = require('sentiment');
  const s = new Sentiment();
  score = (l) => s.analyze(l).comparative;
}
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
let acc = 0;
for (const l of lines) {
  if (l) acc += score(l);
}
const dt = Number(process.hrtime.bigint() - t0) / 1e9;
const c = process.cpuUsage(c0);
console.log(`${lines.length} ${dt.toFixed(3)} ${((c.user + c.system) / 1e6).toFixed(3)} ${acc.toFixed(1)}`);
