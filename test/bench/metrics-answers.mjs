// The correctness side of the metrics benchmark: a fast tool that gives wrong answers wins
// nothing. Compares, per workflow, jq's run counts and mean durations with the generator's true
// figures (metrics-bench.json), flux's counts of finished runs with jq's and every run count
// with the generator's, and flux's cycle-time quantiles with the exact ones.

const FINISHED = ['succeeded', 'failed', 'escalated', 'cancelled', 'rejected'];

/** Lines describing how the answers compare, and whether they all agree. */
export function compareAnswers({ manifest, floorOut, jqOut, fluxReport }) {
  const lines = [];
  let ok = true;
  const note = (agree, text) => {
    if (!agree) ok = false;
    lines.push(`${agree ? 'agree   ' : 'DISAGREE'}  ${text}`);
  };
  const truth = manifest?.workflows;
  if (manifest && floorOut) note(floorOut.lines === manifest.records, `floor read ${floorOut.lines.toLocaleString('en')} lines; the generator wrote ${manifest.records.toLocaleString('en')} records`);

  if (jqOut) {
    const names = Object.keys(jqOut);
    if (truth) {
      const bad = Object.entries(truth).filter(([name, t]) => {
        const j = jqOut[name];
        if (t.finished === 0) return j !== undefined;
        return j === undefined || j.runs !== t.finished || Math.abs(j.mean_ms - t.mean_duration_ms) > 1e-6 * Math.max(1, t.mean_duration_ms);
      }).map(([name]) => name);
      note(bad.length === 0, `jq's finished runs and mean duration_ms equal the generator's for ${names.length - bad.length} of ${Object.keys(truth).length} workflows${bad.length ? `; not: ${bad.slice(0, 5).join(', ')}` : ''}`);
    }
  }

  if (fluxReport) {
    const flux = new Map((fluxReport.workflows ?? []).map((w) => [w.name, w]));
    const finished = (w) => FINISHED.reduce((s, k) => s + (w.runs?.[k] ?? 0), 0);
    if (jqOut) {
      const names = new Set([...Object.keys(jqOut), ...[...flux.values()].filter((w) => finished(w) > 0).map((w) => w.name)]);
      const bad = [...names].filter((n) => (jqOut[n]?.runs ?? 0) !== (flux.has(n) ? finished(flux.get(n)) : 0));
      note(bad.length === 0, `flux's finished runs (succeeded + failed + escalated + cancelled + rejected) equal jq's run counts for ${names.size - bad.length} of ${names.size} workflows${
        bad.length ? `; not: ${bad.slice(0, 5).map((n) => `${n} flux ${flux.has(n) ? finished(flux.get(n)) : 'absent'} jq ${jqOut[n]?.runs ?? 0}`).join(', ')}` : ''}`);
    }
    if (truth) {
      const keys = ['started', ...FINISHED];
      const bad = Object.entries(truth).filter(([name, t]) => keys.some((k) => (flux.get(name)?.runs?.[k] ?? 0) !== t[k])).map(([name]) => name);
      note(bad.length === 0, `flux's runs started, succeeded, failed, escalated, cancelled, rejected equal the generator's for ${Object.keys(truth).length - bad.length} of ${Object.keys(truth).length} workflows${
        bad.length ? `; not: ${bad.slice(0, 3).map((n) => `${n} flux ${JSON.stringify(flux.get(n)?.runs ?? null)} true ${JSON.stringify(Object.fromEntries(keys.map((k) => [k, truth[n][k]])))}`).join('; ')}` : ''}`);
      const unfinished = Object.values(truth).reduce((s, t) => s + t.unfinished, 0);
      const open = [...flux.values()].reduce((s, w) => s + (w.runs?.running ?? 0) + (w.runs?.waiting ?? 0) + (w.runs?.stalled ?? 0), 0);
      note(open === unfinished, `runs without run.finished: flux running + waiting + stalled ${open}, the generator ${unfinished}`);
      // DDSketch promises 1% relative error on the value at a rank; the generator's exact
      // figures use the sketch's rank, floor(q * (n - 1)), so nothing else should show here.
      let worst = { err: 0, at: '' };
      let compared = 0;
      for (const [name, t] of Object.entries(truth)) {
        for (const q of ['p50', 'p90', 'p99']) {
          const exact = t.cycle_seconds?.[q];
          const got = flux.get(name)?.cycle_seconds?.[q];
          if (typeof exact !== 'number' || typeof got !== 'number' || exact === 0) continue;
          compared++;
          const err = Math.abs(got - exact) / exact;
          if (err > worst.err) worst = { err, at: `${name} ${q}: flux ${got}, exact ${exact}` };
        }
      }
      if (compared > 0) lines.push(`info      flux's cycle_seconds p50/p90/p99 against the exact quantiles (${compared} figures): largest relative error ${(worst.err * 100).toFixed(2)}%${worst.at ? ` (${worst.at})` : ''}`);
      else lines.push('info      flux reported no cycle_seconds quantiles to compare');
    }
  }
  return { ok, lines };
}
