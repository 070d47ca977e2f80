"""Tables of `fashion_regimes.py`: the teacher's and the student's Fashion grids side by side.

``data`` is ``{"teacher": grid JSON, "student": grid JSON}`` as `fashion_benchmark.py`
writes them; a cell is ``data[regime]["grid"][setting][mode][method][str(nfe)]``.
"""

from __future__ import annotations

from _common import fmt_num, md_table
from _fashion_claims import ORDER, PARTICLE, SAVINGS, compare

REGIMES = {"teacher": "fashion_benchmark.json", "student": "fashion_benchmark_student.json"}
SHORT = {"teacher": "T", "student": "S"}


def method_labels(data: dict) -> list[str]:
    seen: list[str] = []
    for d in data.values():
        for label, _, _ in d["config"]["methods"]:
            if label not in seen:
                seen.append(label)
    return seen


def cell(d: dict, setting: str, mode: str, label: str, nfe: int) -> dict | None:
    return d["grid"].get(setting, {}).get(mode, {}).get(label, {}).get(str(nfe))


def _fmt(e: dict | None) -> str:
    if e is None:
        return "–"
    if "minimum" in e:
        return f"n/a (min {e['minimum']})"
    return f"{100 * e['acc']:.0f}% · {fmt_num(e['reward'])}"


def study_table(data: dict) -> str:
    settings = [s for s in data["teacher"]["study"] if s != "real"]
    modes = data["teacher"]["config"]["modes"]
    rows = []
    for s in settings:
        for mode in modes:
            cells = [data[r]["study"].get(s, {}).get(mode) for r in REGIMES]
            if None in cells:
                continue
            rows.append(
                [s, mode]
                + [f"{c['fd']:.2f}" for c in cells]
                + [f"{100 * c['agree']:.0f}%" for c in cells]
            )
    return md_table(["setting", "mode", "FD teacher", "FD student", "A = B T", "A = B S"], rows)


def methods_table(data: dict, setting: str, nfe: int) -> str:
    modes = data["teacher"]["config"]["modes"]
    header = ["method"] + [f"{m} {SHORT[r]}" for m in modes for r in REGIMES]
    rows = []
    for label in method_labels(data):
        row = [label]
        for mode in modes:
            row += [_fmt(cell(data[r], setting, mode, label, nfe)) for r in REGIMES]
        rows.append(row)
    return md_table(header, rows)


def overfit_table(data: dict, setting: str, nfe: int) -> str:
    """Accuracy under the reward's own classifier A beside the held-out B: a method that
    wins by fooling A shows a large A - B gap."""
    modes = [m for m in data["teacher"]["config"]["modes"] if m != "linear-ODE"]
    header = ["method"] + [f"{m} {SHORT[r]}: A / B" for m in modes for r in REGIMES]
    rows = []
    for label in method_labels(data):
        row = [label]
        for mode in modes:
            for r in REGIMES:
                e = cell(data[r], setting, mode, label, nfe)
                ok = e is not None and "minimum" not in e and "acc_a" in e
                row.append(f"{100 * e['acc_a']:.0f}% / {100 * e['acc']:.0f}%" if ok else "–")
        rows.append(row)
    return md_table(header, rows)


def _count(vs: list[str]) -> str:
    return " / ".join(str(vs.count(v)) for v in ("✓", "≈", "✗"))


def claims_table(data: dict, setting: str) -> str:
    """Counts of ✓ / ≈ / ✗ (accuracy B) per claim, over modes x budgets, per regime."""
    rows = []
    claims = [
        (f"{hi} ≥ {lo} (particle methods)", [(hi, lab, lo, lab) for lab in PARTICLE])
        for hi, lo in (("VP-SDE", "linear-SDE"), ("linear-SDE", "linear-ODE"))
    ]
    modes = data["teacher"]["config"]["modes"]
    claims += [(f"{a} ≥ {b}", [(m, a, m, b) for m in modes]) for a, b in ORDER]
    for name, pairs in claims:
        row = [name]
        for regime in REGIMES:
            d = data[regime]
            nfes = budgets_of(d, setting)
            acc, rew = [], []
            for ma, la, mb, lb in pairs:
                for n in nfes:
                    a, b = cell(d, setting, ma, la, n), cell(d, setting, mb, lb, n)
                    if a is None or b is None:
                        continue
                    r, c = compare(a, b)
                    if r != "–":
                        rew.append(r)
                        acc.append(c)
            row += [_count(acc), _count(rew)]
        rows.append(row)
    header = ["claim", "teacher acc B", "teacher reward A", "student acc B", "student reward A"]
    return md_table(header, rows)


def budgets_of(d: dict, setting: str) -> list[int]:
    grid = d["grid"].get(setting, {})
    if not grid:
        return []
    first = next(iter(grid.values()))
    return sorted(int(n) for n in next(iter(first.values())))


def target_table(data: dict, setting: str, budgets: tuple[int, int]) -> str:
    """Best method at the low budget (by accuracy B, then reward A) vs best-of-N at the high."""
    low, high = budgets
    rows = []
    for regime in REGIMES:
        d = data[regime]
        for mode in d["config"]["modes"]:
            cells = {lab: cell(d, setting, mode, lab, low) for lab in method_labels(data)}
            ok = {k: e for k, e in cells.items() if e is not None and "minimum" not in e}
            bon = cell(d, setting, mode, "bon", high)
            if not ok or bon is None:
                continue
            best = max(ok, key=lambda k: (ok[k]["acc"], ok[k]["reward"]))
            e = ok[best]
            r, a = compare(e, bon)
            rows.append(
                [regime, mode, f"{best}: {_fmt(e)}", _fmt(bon)]
                + [f"{100 * (e['acc'] - bon['acc']):+.0f} pts", f"{a} / {r}"]
            )
    header = ["regime", "mode", f"best @{low} (acc B · reward A)", f"BoN @{high}", "gap", "verdict"]
    return md_table(header, rows)


def savings_table(data: dict) -> str:
    """The anchors' "same quality for less compute" claims, per regime, grid and mode:
    verdict of "a @ its budget ≥ b @ the larger budget" and the wall-time ratio."""
    rows = []
    for a, na, b, nb in SAVINGS:
        for regime in REGIMES:
            d = data[regime]
            for setting, modes in d["grid"].items():
                for mode in modes:
                    ea, eb = cell(d, setting, mode, a, na), cell(d, setting, mode, b, nb)
                    if ea is None or eb is None or "minimum" in ea or "minimum" in eb:
                        continue
                    r, c = compare(ea, eb)
                    rows.append(
                        [f"{a} @{na} ≥ {b} @{nb}", regime, setting, mode, _fmt(ea), _fmt(eb)]
                        + [f"{c} / {r}", f"{ea['wall'] / eb['wall']:.2f}"]
                    )
    header = ["claim", "regime", "grid", "mode", "a: acc B · reward A", "b", "verdict B / A"]
    return md_table(header + ["wall a / b"], rows)


def _configs(d: dict, nfe: int) -> dict[tuple[str, str, str], dict]:
    """Every finished ``(setting, mode, method)`` cell of one regime at budget ``nfe``."""
    out = {}
    for setting, modes in d["grid"].items():
        for mode, methods in modes.items():
            for label, budgets in methods.items():
                e = budgets.get(str(nfe))
                if e is not None and "minimum" not in e:
                    out[(setting, mode, label)] = e
    return out


def ranking(d: dict, nfe: int, top: int = 5) -> list[tuple[tuple[str, str, str], dict]]:
    """The ``top`` cells of one regime at ``nfe`` by accuracy B, then reward A."""
    cells = _configs(d, nfe)
    order = sorted(cells, key=lambda k: (cells[k]["acc"], cells[k]["reward"]), reverse=True)
    return [(k, cells[k]) for k in order[:top]]


def ranking_table(data: dict, nfe: int, top: int = 5) -> str:
    rows = []
    for regime in REGIMES:
        for rank, ((setting, mode, label), e) in enumerate(ranking(data[regime], nfe, top), 1):
            rows.append(
                [regime, rank, f"{label}, {mode}, {setting}", _fmt(e)]
                + [f"{100 * e['acc_a']:.0f}%", f"{e['wall']:.2f}"]
            )
    header = ["regime", "#", "method, mode, grid", "acc B · reward A", "acc A", "wall s"]
    return md_table(header, rows)


def overall_target(data: dict, budgets: tuple[int, int]) -> str:
    """Per regime: the best cell at the low budget over every grid and mode vs the best
    best-of-N cell at the high budget (also over every grid and mode)."""
    low, high = budgets
    rows = []
    for regime in REGIMES:
        d = data[regime]
        best = ranking(d, low, 1)
        bons = [(k, e) for k, e in _configs(d, high).items() if k[2] == "bon"]
        if not best or not bons:
            continue
        (bk, e) = best[0]
        ck, b = max(bons, key=lambda ke: (ke[1]["acc"], ke[1]["reward"]))
        r, a = compare(e, b)
        rows.append(
            [regime, f"{bk[2]}, {bk[1]}, {bk[0]}: {_fmt(e)}", f"{ck[1]}, {ck[0]}: {_fmt(b)}"]
            + [f"{100 * (e['acc'] - b['acc']):+.0f} pts", f"{a} / {r}"]
        )
    header = ["regime", f"best @{low} anywhere", f"best BoN @{high} anywhere", "gap", "verdict"]
    return md_table(header, rows)
