"""The scale tools' own logic (bench/): what `benchmark.py --vs` compares, and how it reports it. The
builds it times are the project's own, tested everywhere else; here they are stood in for."""
from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import benchmark  # noqa: E402


def test_cold_builds_against_another_checkout_alternate_each_with_its_own_cache(tmp_path, monkeypatch):
    """Each checkout's cold builds start from the QR codes and link previews its own first build made,
    run in turn (A B, then B A), and the ratio is taken pair by pair."""
    other = tmp_path / "old-checkout"
    calls = []

    def run_build(content, site, force, code=ROOT):
        calls.append((site.name, code))
        cache = benchmark.cache_of(site)
        if site.name.startswith("first-"):  # a first build makes its cache, marked with its checkout
            cache.mkdir(parents=True)
            (cache / "made-by").write_text(str(code))
        else:
            assert (cache / "made-by").read_text() == str(code), "a cold build starts from its own checkout's cache"
        wall = {ROOT: 9.0, other: 10.0}[code] + len(calls) / 100
        return {"wall": wall, "cpu": wall * 2, "peak_mb": 100.0}

    monkeypatch.setattr(benchmark, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(benchmark, "content_for", lambda size: tmp_path / "content")
    monkeypatch.setattr(benchmark, "settle", lambda: None)
    monkeypatch.setattr(benchmark, "run_build", run_build)
    runs = benchmark.measure_against(30, 3, other)

    assert [code for _, code in calls] == [ROOT, other, ROOT, other, other, ROOT, ROOT, other]
    assert [len(runs["this"]), len(runs["other"])] == [3, 3]
    report = benchmark.report_against(30, other, runs)
    assert "cold builds alternated with" in report and "3 pairs" in report
    ratios = [this["wall"] / old["wall"] for this, old in zip(runs["this"], runs["other"])]
    assert f"wall {sorted(ratios)[1]:.2f}× median ({min(ratios):.2f}–{max(ratios):.2f})" in report
