"""Engine configuration: frozen, validated once, stored in the index manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar


class ConfigError(ValueError):
    """One or more configuration fields are invalid (all of them are named)."""


@dataclass(frozen=True)
class Config:
    """How fingerprints are made (fixed at build) and how queries are judged."""

    # build-time: written into the manifest, must not change for an existing index
    k: int = 12  # tokens per k-gram
    window: int = 12  # winnowing window (k-gram hashes)
    sketch_perm: int = 256  # MinHash permutations (= bits of the 1-bit sketch)
    sketch_shingle: int = 4  # tokens per shingle of the abstracted view
    sketch_min_tokens: int = 40  # functions shorter than this get no sketch
    # query-time: defaults live here, callers may override per query
    seed_tokens: int = 6  # length of an alignment seed (an equal k-gram), in tokens
    min_tokens: int = 20  # evidence every match needs (an exact match needs no more)
    min_score: float = 0.30  # score a renamed or near match needs (unless a rare whole copy)
    min_coverage: float = 0.2  # share of the query a renamed or near match must cover
    rare_df: int = 3  # an abstracted k-gram in at most this many blobs is rare structure
    min_rare_share: float = 0.15  # rare share of the indexed structure a non-exact match needs
    min_span: int = 8  # shortest aligned run that counts
    max_df: int = 200  # fingerprints in more blobs than this are boilerplate, not evidence
    max_candidates: int = 12  # blobs aligned per query
    near_threshold: float = 0.5  # estimated Jaccard that makes a sketch neighbour a candidate
    top: int = 10  # matches returned
    max_query_bytes: int = 1_000_000  # larger queries are refused

    BUILD_FIELDS = ("k", "window", "sketch_perm", "sketch_shingle", "sketch_min_tokens")
    # old name -> new name: indexes and settings written before a rename still read
    RENAMED_FIELDS: ClassVar[dict[str, str]] = {"seed": "seed_tokens"}

    def __post_init__(self) -> None:
        problems = [p for p in self._problems() if p]
        if problems:
            raise ConfigError("invalid configuration: " + "; ".join(problems))

    def _problems(self) -> list[str | None]:
        def at_least(name: str, low: float) -> str | None:
            value = getattr(self, name)
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= low
            return None if ok else f"{name} must be >= {low}, got {value!r}"

        checks = [at_least(f, 1) for f in ("k", "window", "sketch_shingle", "seed_tokens", "top")]
        checks += [at_least(f, 0) for f in ("min_tokens", "min_span", "sketch_min_tokens")]
        checks += [at_least(f, 1) for f in ("max_df", "max_candidates", "max_query_bytes")]
        if self.sketch_perm % 64 or self.sketch_perm <= 0:
            checks.append(f"sketch_perm must be a positive multiple of 64, got {self.sketch_perm}")
        for name in ("near_threshold", "min_score", "min_coverage", "min_rare_share"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                checks.append(f"{name} must be within [0, 1], got {value!r}")
        checks.append(at_least("rare_df", 1))
        return checks

    def build_dict(self) -> dict[str, Any]:
        """The build-time fields, as stored in the manifest."""
        return {f: getattr(self, f) for f in self.BUILD_FIELDS}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Config:
        """A config from stored or user values; unknown fields are an error. Fields under
        an old name (RENAMED_FIELDS) are read under their new one."""
        values = cls._current_names(values)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown configuration fields: {', '.join(unknown)}")
        return cls(**values)

    @classmethod
    def _current_names(cls, values: dict[str, Any]) -> dict[str, Any]:
        both = sorted(old for old, new in cls.RENAMED_FIELDS.items() if {old, new} <= set(values))
        if both:
            raise ConfigError(f"configuration fields given under old and new names: {both}")
        return {cls.RENAMED_FIELDS.get(name, name): value for name, value in values.items()}

    def with_query(self, **overrides: Any) -> Config:
        """A copy with query-time fields changed (build-time fields are refused)."""
        fixed = sorted(set(overrides) & set(self.BUILD_FIELDS))
        if fixed:
            raise ConfigError(f"build-time fields cannot change at query time: {fixed}")
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if v is not None})
