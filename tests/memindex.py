"""An in-memory IndexView for tests of the pure query path."""

from __future__ import annotations

import numpy as np

from attribution.core import sketch
from attribution.core.config import Config
from attribution.core.fingerprint import fingerprints
from attribution.core.languages import language_for_path
from attribution.core.search import Source
from attribution.core.tokenize import TokenStream, tokenize


class MemoryIndex:
    """Files held in memory, fingerprinted with the same code as the disk index."""

    def __init__(self, files: dict[str, str | bytes], config: Config | None = None) -> None:
        self.config = config or Config()
        self.names = list(files)
        self.texts = [t.encode() if isinstance(t, str) else t for t in files.values()]
        self.streams: list[TokenStream] = []
        table: dict[str, list[tuple[int, int]]] = {"exact": [], "abstract": []}
        sk, sk_blob = [], []
        for blob, (name, text) in enumerate(files.items()):
            stream = tokenize(text, language_for_path(name) or "python")
            self.streams.append(stream)
            for view, arr in (("exact", stream.text_hash), ("abstract", stream.abstract)):
                hashes, _ = fingerprints(arr, self.config.k, self.config.window)
                table[view] += [(int(h), blob) for h in set(hashes.tolist())]
            s, _ = sketch.unit_sketches(
                stream.abstract,
                stream.units,
                self.config.sketch_shingle,
                self.config.sketch_perm,
                self.config.sketch_min_tokens,
            )
            sk += list(s)
            sk_blob += [blob] * len(s)
        self.table = {v: sorted(p) for v, p in table.items()}
        self.sketches = np.array(sk, dtype=np.uint8).reshape(-1, self.config.sketch_perm // 8)
        self.sketch_blob = np.array(sk_blob, dtype=np.int64)

    def lookup(self, view, hashes):
        keys = np.array([h for h, _ in self.table[view]], dtype=np.int64)
        blobs = np.array([b for _, b in self.table[view]], dtype=np.int64)
        q, b, df = [], [], []
        for i, h in enumerate(hashes.tolist()):
            lo, hi = np.searchsorted(keys, h, "left"), np.searchsorted(keys, h, "right")
            for j in range(lo, hi):
                q.append(i), b.append(int(blobs[j])), df.append(hi - lo)
        return np.array(q, np.int64), np.array(b, np.int64), np.array(df, np.int64)

    def near(self, sketches, k):
        q, b, s = [], [], []
        bits = self.sketches.shape[1] * 8
        for i, row in enumerate(sketches):
            dist = np.unpackbits(self.sketches ^ row, axis=1).sum(axis=1)
            for j in np.argsort(dist, kind="stable")[:k]:
                q.append(i), b.append(int(self.sketch_blob[j]))
                s.append(float(sketch.estimate_jaccard(dist[j], bits)))
        return np.array(q, np.int64), np.array(b, np.int64), np.array(s)

    def tokens(self, blob):
        return self.streams[blob]

    def name_df(self, hashes):
        counts: dict[int, int] = {}
        for stream in self.streams:
            for h in stream.identifiers().tolist():
                counts[h] = counts.get(h, 0) + 1
        df = np.array([counts.get(int(h), 0) for h in hashes.tolist()], dtype=np.int64)
        return df, len(self.streams)

    def content(self, blob):
        return self.texts[blob]

    def sources(self, blob):
        name = self.names[blob]
        return [
            Source(
                id=f"s:{blob:016x}",
                repo_name="mem/" + name.split("/")[0],
                path=name,
                blob_id=f"{blob:040x}",
                license="MIT",
                license_type="permissive",
            )
        ]
