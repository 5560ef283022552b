// Dolos as a peer, through @dodona/dolos-lib's API: one Dolos instance per language
// indexes the corpus files (analyze), then the queries (a second analyze on the same
// instance adds them to its fingerprint index). For each query, the corpus files sharing
// fingerprints with it are paired with it (index.getPair) and ranked by the share of the
// query covered (leftCovered / leftTotal), not by the symmetric similarity.
//   node dolos_query.mjs MANIFEST.json OUT.json
import fs from "node:fs";
import { Dolos } from "@dodona/dolos-lib";
import { File } from "@dodona/dolos-core";

const LANG = { python: "python", javascript: "javascript", typescript: "typescript",
  tsx: "tsx", c: "c", cpp: "cpp", java: "java", go: "go", rust: "rust" };
const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = { build_s: 0, query_s: 0, ms: {}, answers: {}, errors: {} };

function rows(region) {
  return [region.startRow + 1, region.endRow + 1];
}

for (const lang of [...new Set(manifest.queries.map(q => q.language))]) {
  const corpus = manifest.corpus.filter(f => f.language === lang);
  const queries = manifest.queries.filter(q => q.language === lang);
  if (corpus.length < 2 || queries.length < 2) continue;
  try {
    const dolos = new Dolos({ language: LANG[lang] });
    let t0 = performance.now();
    const cfiles = corpus.map(f => new File(f.file, fs.readFileSync(f.file, "utf8")));
    const cid = new Map();
    await dolos.analyze(cfiles);
    out.build_s += (performance.now() - t0) / 1000;
    t0 = performance.now();
    const qfiles = queries.map(q => new File(q.file, fs.readFileSync(q.file, "utf8")));
    const report = await dolos.analyze(qfiles);
    const index = dolos.index;
    const entries = new Map(index.entries().map(e => [e.file.path, e]));
    for (const [i, f] of corpus.entries()) cid.set(f.file, f.id);
    const addS = (performance.now() - t0) / queries.length;
    const queryPaths = new Set(queries.map(q => q.file));
    for (const [i, q] of queries.entries()) {
      const t1 = performance.now();
      const entry = entries.get(q.file);
      const counts = new Map();
      for (const sf of entry ? entry.shared : []) {
        for (const f of sf.files()) {
          if (!queryPaths.has(f.path)) counts.set(f, (counts.get(f) || 0) + 1);
        }
      }
      const cands = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
      const ranked = [];
      for (const [f] of cands) {
        const pair = index.getPair(entry.file, f);
        const frags = pair.buildFragments();
        if (!frags.length) continue;
        // the largest fragment, with the fragments near it on the corpus side
        frags.sort((a, b) => b.pairs.length - a.pairs.length);
        const [r0, r1] = rows(frags[0].rightSelection);
        const near = frags.filter(fr => {
          const [a, b] = rows(fr.rightSelection);
          return b >= r0 - 50 && a <= r1 + 50;
        });
        const l = near.map(fr => rows(fr.leftSelection));
        const r = near.map(fr => rows(fr.rightSelection));
        ranked.push({
          cid: cid.get(f.path),
          score: pair.leftTotal ? pair.leftCovered / pair.leftTotal : 0,
          similarity: pair.similarity,
          query_lines: [Math.min(...l.map(x => x[0])), Math.max(...l.map(x => x[1]))],
          source_lines: [Math.min(...r.map(x => x[0])), Math.max(...r.map(x => x[1]))],
        });
      }
      ranked.sort((a, b) => b.score - a.score || a.cid - b.cid);
      out.answers[q.id] = ranked.slice(0, 5);
      out.ms[q.id] = performance.now() - t1 + addS;
    }
    out.query_s += (performance.now() - t0) / 1000;
    void report;
  } catch (err) {
    out.errors[lang] = String(err && err.stack ? err.stack : err).split("\n").slice(0, 3).join(" | ");
  }
}
fs.writeFileSync(process.argv[3], JSON.stringify(out));
