"""Association size, the equity policy terms and the fairness metrics, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

import koeeo_match as km
from koeeo_match import metrics
from koeeo_match.io import problem_from_dict, problem_to_dict

from conftest import brute_force, make, value
from test_io import doc, issues_of

D = km.synth.departements()


def centre(code: str) -> dict[str, float]:
    i = list(D.code).index(code)
    return {"lat": float(D.lat[i]), "lon": float(D.lon[i])}


def compute(problem: km.Problem, pairs) -> dict:
    ei = {k: i for i, k in enumerate(problem.employees.ids.tolist())}
    mi = {k: i for i, k in enumerate(problem.missions.ids.tolist())}
    return metrics.compute(problem, np.array([ei[e] for e, _ in pairs], np.int64),
                           np.array([mi[m] for _, m in pairs], np.int64))


# ----------------------------------------------------------------------------- the staff / size fields
def test_staff_and_size_validation_names_id_and_field():
    for bad in (-1, 2.5, "3", True, 2**31):
        d = doc(associations=[{**doc()["associations"][0], "staff": bad}, doc()["associations"][1]])
        assert issues_of(d) == [("association", "a", "staff")], bad
    for bad in (0, -3, 1.5, "big"):
        d = doc(employers=[{**doc()["employers"][0], "size": bad}])
        assert issues_of(d) == [("employer", "c", "size")], bad


def test_staff_and_size_defaults_and_small():
    p = problem_from_dict(doc())
    assert p.associations.staff.tolist() == [-1, -1] and p.employers.size.tolist() == [-1]
    assert p.associations.small.tolist() == [False, False]  # unknown size is not small
    staffed = [{"id": f"a{s}", "lat": 45.0, "lon": 5.0, "staff": s} for s in (0, 1, 2, 3, 40)]
    q = make(associations=staffed, employees=[{"id": "e"}], missions=[{"id": "m", "association": "a0"}])
    assert q.associations.small.tolist() == [True, True, True, False, False]
    assert km.model.SMALL_ASSOCIATION_MAX_STAFF == 2


def _sized_problem() -> km.Problem:
    d = doc()
    d["employers"][0]["size"] = 250
    d["associations"][0]["staff"] = 0
    d["associations"][1]["staff"] = 17
    return problem_from_dict(d)


def test_json_round_trip_keeps_staff_and_size(tmp_path):
    p = _sized_problem()
    out = problem_to_dict(p)
    assert [a.get("staff") for a in out["associations"]] == [0, 17]
    assert out["employers"][0]["size"] == 250
    km.dump(p, tmp_path / "p.json")
    q = km.load(tmp_path / "p.json")
    assert q.associations.staff.tolist() == [0, 17] and q.employers.size.tolist() == [250]
    assert problem_to_dict(q) == out
    # unknown values are not written
    assert "staff" not in problem_to_dict(problem_from_dict(doc()))["associations"][0]


def test_npz_round_trip_keeps_staff_and_size(tmp_path):
    p = _sized_problem()
    km.dump(p, tmp_path / "p.npz")
    q = km.load(tmp_path / "p.npz")
    assert q.associations.staff.tolist() == [0, 17] and q.employers.size.tolist() == [250]
    assert problem_to_dict(q) == problem_to_dict(p)


def test_npz_without_the_new_arrays_still_loads(tmp_path):
    km.dump(_sized_problem(), tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz") as data:
        old = {k: data[k] for k in data.files if k not in ("associations.staff", "employers.size")}
    np.savez(tmp_path / "old.npz", **old)
    q = km.load(tmp_path / "old.npz")
    assert q.associations.staff.tolist() == [-1, -1] and q.employers.size.tolist() == [-1]


def test_npz_rejects_bad_staff_and_size(tmp_path):
    km.dump(_sized_problem(), tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["associations.staff"] = np.array([-2, 3], np.int32)
    arrays["employers.size"] = np.array([0], np.int32)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(km.InvalidProblemError) as err:
        km.load(tmp_path / "bad.npz")
    assert {(i.kind, i.id, i.field) for i in err.value.issues} == {("association", "a", "staff"),
                                                                    ("employer", "c", "size")}


def test_from_frames_with_staff_column():
    pd = pytest.importorskip("pandas")
    p = km.Problem.from_frames(
        associations=pd.DataFrame({"id": ["a", "b"], "lat": [45.0, 45.0], "lon": [5.0, 5.0], "staff": [3, None]}),
        employers=pd.DataFrame({"id": ["c"], "size": [12]}),
        employees=pd.DataFrame({"id": ["e"], "employer": ["c"], "lat": [45.0], "lon": [5.0]}),
        missions=pd.DataFrame({"id": ["m"], "association": ["a"]}),
    )
    assert p.associations.staff.tolist() == [3, -1] and p.employers.size.tolist() == [12]


def test_synth_staff_calibration():
    p = km.synth.region("Bretagne", employees=6000, seed=0)
    staff = p.associations.staff
    assert staff.min() >= 0 and staff.max() <= km.synth.STAFF_MAX
    # 12.6 % employer associations nationally; ~1,000 associations here
    assert abs(np.mean(staff == 0) - (1 - km.synth.EMPLOYER_ASSOCIATION_SHARE)) < 0.04
    emp = staff[staff > 0]
    assert 0.6 < np.mean(emp < 10) < 0.95
    # employer size: the volunteers over the uptake rate
    counted = np.bincount(p.employees.employer[p.employees.employer >= 0], minlength=len(p.employers))
    has = counted > 0
    assert np.array_equal(p.employers.size[has], np.ceil(counted[has] / km.synth.UPTAKE).astype(np.int32))
    assert (p.employers.size[~has] == -1).all()
    # the rest of an instance does not depend on the staff draw: same seed, same everything else
    q = km.synth.region("Bretagne", employees=6000, seed=0)
    assert np.array_equal(q.associations.staff, staff)


# ----------------------------------------------------------------------------- the policy terms
D_01 = 6371.0088 * math.radians(0.1)  # 0.1 degree of latitude: 11.1195 km


def test_new_terms_by_hand():
    paris, lozere = centre("75"), centre("48")
    p = make(
        associations=[{"id": "paris", **paris, "staff": 40}, {"id": "lozere", **lozere, "staff": 0},
                      {"id": "lozere_unknown", **lozere}, {"id": "abroad", "lat": 0.0, "lon": 0.0, "staff": 1}],
        employees=[{"id": "ep", **paris, "remote_ok": True},
                   {"id": "el", "lat": lozere["lat"] + 0.1, "lon": lozere["lon"]}],
        missions=[{"id": "mp", "association": "paris"}, {"id": "ml", "association": "lozere", "hours": 3.5},
                  {"id": "mu", "association": "lozere_unknown", "remote": True},
                  {"id": "ma", "association": "abroad", "remote": True}],
    )
    g = km.build_candidates(p, km.Policy(hours=1))
    E, M = p.employees.ids, p.missions.ids
    got = {(E[e], M[m]): {t: float(g.terms[t][i]) for t in ("small_association", "rural", "co2_kg", "travel_km")}
           for i, (e, m) in enumerate(zip(g.employee, g.mission))}
    assert D_01 == pytest.approx(11.11950, abs=1e-5)
    want = {
        ("ep", "mp"): dict(small_association=0, rural=0, co2_kg=0, travel_km=0),  # urban, 40 staff, 0 km
        ("ep", "mu"): dict(small_association=0, rural=7, co2_kg=0, travel_km=0),  # size unknown, remote
        ("ep", "ma"): dict(small_association=7, rural=0, co2_kg=0, travel_km=0),  # outside France
        ("el", "ml"): dict(small_association=3.5, rural=3.5, co2_kg=0.19 * 2 * 11.11950, travel_km=22.23900),
        # a remote mission, but el is not remote_ok: done in person, within max_km (DESIGN §4), a trip
        ("el", "mu"): dict(small_association=0, rural=7, co2_kg=0.19 * 2 * 11.11950, travel_km=22.23900),
    }
    assert set(got) == set(want)
    for pair, terms in want.items():
        for t, v in terms.items():
            assert got[pair][t] == pytest.approx(v, abs=1e-4), (pair, t)
    assert got[("el", "ml")]["co2_kg"] == pytest.approx(4.22541, abs=1e-5)


def test_co2_is_a_cost():
    p = km.Policy(hours=1, co2_kg=0.5, rural=2, small_association=1)
    assert p.weights()["co2_kg"] == -0.5 and p.weights()["rural"] == 2
    assert p == km.Policy.parse("hours=1,co2_kg=0.5,rural=2,small_association=1")
    with pytest.raises(ValueError, match="cannot name co2_kg"):
        km.Policy(hours=1, co2_kg=1, primary=("co2_kg",))
    score = p.score({"hours": np.array([7.0]), "co2_kg": np.array([4.0]), "rural": np.array([7.0]),
                     "small_association": np.array([0.0]),
                     **{t: np.zeros(1) for t in km.TERMS
                        if t not in ("hours", "co2_kg", "rural", "small_association")}})
    assert score.tolist() == [7 - 2 + 14]


def test_presets_keep_their_meaning():
    te = km.Policy.preset("territorial_equity")
    assert te.priority > 0 and te.small_association > 0 and te.rural > 0 and te.primary == ()
    he = km.Policy.preset("hours_then_equity")
    assert he.primary == ("hours",) and he.priority > 0 and he.small_association > 0 and he.rural > 0


def _choice_problem():
    """One employee, one 7 h seat among four associations of different kinds."""
    paris, lozere = centre("75"), centre("48")
    return make(
        associations=[{"id": "big_city", **paris, "staff": 300}, {"id": "small_city", **paris, "staff": 1},
                      {"id": "big_rural", **lozere, "staff": 300}, {"id": "small_rural", **lozere, "staff": 0}],
        employees=[{"id": "e", **paris, "remote_ok": True}],
        missions=[{"id": f"m_{a}", "association": a, "remote": True}
                  for a in ("big_city", "small_city", "big_rural", "small_rural")],
    )


@pytest.mark.parametrize("policy, chosen, objective", [
    (km.Policy(hours=1), None, 7),
    (km.Policy(hours=1, small_association=1), "m_small_city", 14),  # ties with m_small_rural
    (km.Policy(hours=1, rural=1), "m_big_rural", 14),  # ties with m_small_rural
    (km.Policy(hours=1, rural=1, small_association=1), "m_small_rural", 21),
    (km.Policy(hours=1, rural=0.5, small_association=0.25), "m_small_rural", 7 * 1.75),
])
def test_terms_steer_the_choice(policy, chosen, objective):
    p = _choice_problem()
    sol = km.solve(p, method="cpsat", policy=policy)
    assert sol.objective == pytest.approx(objective)
    bf = brute_force(p, policy)
    assert bf.secondary == pytest.approx(objective)
    if chosen == "m_small_rural":
        assert sol.assignments == [("e", chosen)]
    elif chosen is not None:
        assert sol.assignments[0][1] in (chosen, "m_small_rural")


def _lex_problem():
    """Three 7 h employees; 7 h remote missions at an urban large association (2 seats), a
    small rural one (1 seat), an urban priority-2 one (1 seat); a 3.5 h small rural one (2 seats)."""
    paris, lozere = centre("75"), centre("48")
    return make(
        associations=[{"id": "U", **paris, "staff": 50}, {"id": "R", **lozere, "staff": 0},
                      {"id": "P", **paris, "staff": 30, "priority": 2.0}],
        employees=[{"id": f"e{i}", **centre("69"), "remote_ok": True} for i in (1, 2, 3)],
        missions=[{"id": "mU", "association": "U", "remote": True, "seats": 2},
                  {"id": "mR", "association": "R", "remote": True},
                  {"id": "mP", "association": "P", "remote": True},
                  {"id": "mR2", "association": "R", "remote": True, "hours": 3.5, "seats": 2}],
    )


@pytest.mark.parametrize("method", ["cpsat", "auto", "flow"])
def test_hours_then_equity_vs_brute_force(method):
    p = _lex_problem()
    pol = km.Policy.preset("hours_then_equity")
    bf = brute_force(p, pol)
    # by hand: every employee on a 7 h mission (21 h); then mR (priority 7 + small 7 + rural 7),
    # mP (priority 14) and mU (priority 7): secondary 21 + 14 + 7 = 42
    assert bf.primary == pytest.approx(21) and bf.secondary == pytest.approx(42)
    try:
        sol = km.solve(p, method=method, policy=pol)
    except km.UnsupportedError:
        pytest.skip(f"{method} does not express this problem")
    assert km.check(p, sol) == []
    assert sol.objective == pytest.approx(21) and sol.metrics["assigned_hours"] == 21
    assert value(p, pol, sol.assignments)[1] == pytest.approx(42)
    assert sorted(m for _, m in sol.assignments) == ["mP", "mR", "mU"]


def test_weighted_equity_gives_up_hours_that_lexicographic_keeps():
    p = _lex_problem()
    pol = km.Policy(hours=1, small_association=1, rural=1)
    # by hand: mR scores 3 x 7 = 21, each mR2 seat 3 x 3.5 = 10.5, mP or mU 7: the best is mR and both
    # mR2 seats, 42, with only 14 h (against 21 + 7 + 7 = 35 for 21 h)
    bf = brute_force(p, pol)
    assert bf.secondary == pytest.approx(42)
    sol = km.solve(p, method="cpsat", policy=pol)
    assert sol.objective == pytest.approx(42) and sol.metrics["assigned_hours"] == 14
    lex = km.solve(p, method="cpsat", policy=km.Policy(hours=1, small_association=1, rural=1, primary="hours"))
    assert lex.metrics["assigned_hours"] == 21
    # the best equity among 21 h solutions: mR (7 + 7), nothing else small or rural
    assert value(p, lex.policy, lex.assignments) == pytest.approx((21, 14))


def test_breakdown_and_diff_report_the_new_terms():
    p = _choice_problem()
    a = km.Solution.from_dict({"format": "koeeo-match-solution/1", "status": "feasible",
                               "assignments": [{"employee": "e", "mission": "m_big_city"}]})
    b = km.solve(p, method="cpsat", policy="territorial_equity")
    assert b.assignments == [("e", "m_small_rural")]
    br = km.breakdown(p, b, km.Policy.preset("territorial_equity"))
    assert br["terms"]["small_association"]["total"] == 7 and br["terms"]["rural"]["total"] == 7
    assert br["terms"]["small_association"]["contribution"] == 3.5
    assert br["terms"]["co2_kg"]["total"] == 0  # remote
    # territorial_equity by hand: 0.5 * 7 + 1 * 7 + 0.5 * 7 + 0.5 * 7 + skill_fit 0 - travel 0 = 17.5
    assert br["objective"] == pytest.approx(17.5)
    d = km.diff(p, a, b, km.Policy.preset("territorial_equity"))
    assert d["moved"] == [{"employee": "e", "from": ["m_big_city"], "to": ["m_small_rural"]}]
    assert d["terms"]["hours"] == 0 and d["terms"]["small_association"] == 7 and d["terms"]["rural"] == 7
    assert d["objective"] == pytest.approx(7.0)  # 0.5 * 7 + 0.5 * 7


# ----------------------------------------------------------------------------- metrics
def test_gini_hand_values():
    # Gini = sum_ij |xi - xj| / (2 n^2 mean); [1, 2, 3]: sum_ij |xi - xj| = 2 (1 + 2 + 1) = 8, 8 / (2 * 9 * 2)
    assert metrics.gini(np.array([1.0, 2.0, 3.0])) == pytest.approx(2 / 9)
    assert metrics.gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)  # 24 / (2 * 16 * 1)
    assert metrics.gini(np.array([5.0])) == 0.0


ELEVEN = ["75", "48", "35", "69", "13", "23", "15", "29", "59", "33", "05"]
URBAN, RURAL, INTERMEDIATE = {"75", "69", "13", "59"}, {"48", "23", "15", "05"}, {"35", "29", "33"}


def _eleven():
    """One association at each of 11 département centres, one 2-seat 7 h mission each (14 h demanded),
    two employees at each centre.  Assigned: none in 75, one in 48 and 35, two elsewhere."""
    staff = {"75": 0, "48": 1, "35": 3, "69": 2}
    assocs = [{"id": f"a{c}", **centre(c), **({"staff": staff[c]} if c in staff else {})} for c in ELEVEN]
    emps = [{"id": f"e{c}_{k}", **centre(c)} for c in ELEVEN for k in (0, 1)]
    mis = [{"id": f"m{c}", "association": f"a{c}", "seats": 2} for c in ELEVEN]
    p = make(associations=assocs, employees=emps, missions=mis)
    taken = {"75": 0, "48": 1, "35": 1}
    pairs = [(f"e{c}_{k}", f"m{c}") for c in ELEVEN for k in range(taken.get(c, 2))]
    return p, pairs


def test_departement_metrics_by_hand():
    assert {c: str(D.density_class[list(D.code).index(c)]) for c in ELEVEN} == {
        **{c: "urban" for c in URBAN}, **{c: "rural" for c in RURAL}, **{c: "intermediate" for c in INTERMEDIATE}}
    p, pairs = _eleven()
    assert km.check(p, pairs) == []
    got = compute(p, pairs)
    # coverage 0 (75), 0.5 (48, 35), 1 (8 others); worst decile of 11 = ceil(1.1) = 2 départements
    assert got["worst_decile_coverage_by_departement"] == pytest.approx((0 + 0.5) / 2)
    assert got["coverage_urban"] == pytest.approx(42 / 56)  # 0 + 14 + 14 + 14 of 4 x 14
    assert got["coverage_rural"] == pytest.approx(49 / 56)  # 7 + 14 + 14 + 14
    assert got["coverage_intermediate"] == pytest.approx(35 / 42)  # 7 + 14 + 14 of 3 x 14
    # hours per association: one 0, two 7, eight 14; sum_ij |xi - xj| = 2 * (2*7 + 8*14 + 16*7) = 476;
    # Gini = 476 / (2 * 11**2 * 126/11) = 17/99
    assert got["gini_hours_by_association"] == pytest.approx(17 / 99)
    # per capita: hours / population, Gini by the double sum
    pop = {c: int(D.population[list(D.code).index(c)]) for c in ELEVEN}
    hrs = {c: 7.0 * {"75": 0, "48": 1, "35": 1}.get(c, 2) for c in ELEVEN}
    x = [hrs[c] / pop[c] for c in ELEVEN]
    mad = sum(abs(a - b) for a in x for b in x)
    assert got["gini_hours_per_capita_by_departement"] == pytest.approx(mad / (2 * len(x) ** 2 * (sum(x) / len(x))))
    # small associations posting: a75 (0 staff), a48 (1), a69 (2); served: a48, a69
    assert got["small_associations_served_share"] == pytest.approx(2 / 3)


def test_small_associations_served_share_edge_cases():
    assocs = [{"id": "a", "lat": 45.0, "lon": 5.0}, {"id": "b", "lat": 45.0, "lon": 5.0}]
    mis = [{"id": "m1", "association": "a"}, {"id": "m2", "association": "b"}]
    p = make(associations=assocs, employees=[{"id": "e"}], missions=mis)
    assert compute(p, [("e", "m1")])["small_associations_served_share"] is None  # no size known
    big = [{**a, "staff": 10} for a in assocs]
    p = make(associations=big, employees=[{"id": "e"}], missions=mis)
    assert compute(p, [("e", "m1")])["small_associations_served_share"] is None  # no small one
    # a small association that posts nothing does not count
    mixed = [{**assocs[0], "staff": 0}, {**assocs[1], "staff": 0}, {"id": "idle", "lat": 45.0, "lon": 5.0, "staff": 0}]
    p = make(associations=mixed, employees=[{"id": "e"}], missions=mis)
    assert compute(p, [("e", "m1")])["small_associations_served_share"] == 0.5
    assert compute(p, [])["small_associations_served_share"] == 0.0


def test_employer_size_classes():
    sizes = [1, 9, 10, 49, 50, 249, 250, 4999, 5000, 100_000]
    p = make(employers=[{"id": f"c{s}", "size": s} for s in sizes], employees=[{"id": "e"}], missions=[])
    names = [metrics.EMPLOYER_SIZE_CLASSES[k][0] for k in metrics.employer_size_class(p)]
    assert names == ["micro", "micro", "small", "small", "medium", "medium", "intermediate", "intermediate",
                     "large", "large"]
    # without a size field: the number of its employees in the problem (12 -> small)
    p = make(employers=[{"id": "c"}], employees=[{"id": f"e{i}", "employer": "c"} for i in range(12)], missions=[])
    assert metrics.employer_size_class(p).tolist() == [1]


def test_hours_by_employer_size_by_hand():
    p = make(
        employers=[{"id": "shop"}, {"id": "mid", "size": 120}, {"id": "giant", "size": 6000},
                   {"id": "eti", "size": 300}],
        employees=[{"id": "s1", "employer": "shop", "hours": 14}, {"id": "s2", "employer": "shop", "hours": 14},
                   {"id": "m1", "employer": "mid", "hours": 14},
                   *({"id": f"g{i}", "employer": "giant", "hours": 14} for i in (1, 2, 3)),
                   {"id": "i1", "employer": "eti", "hours": 14}, {"id": "x1", "hours": 14}],
        missions=[{"id": "M1", "seats": 10}, {"id": "M2", "seats": 10}],
    )
    pairs = [("s1", "M1"), ("s1", "M2"), ("g1", "M1"), ("i1", "M1"), ("i1", "M2"), ("x1", "M1")]
    assert km.check(p, pairs) == []
    got = compute(p, pairs)["hours_by_employer_size"]
    # shop (2 employees in the problem: micro) 14 h / 2; mid (medium) 0 / 1; giant (large) 7 / 3;
    # eti (intermediate) 14 / 1; no small employer; the independent x1 7 / 1
    assert got == {"micro": 7.0, "small": None, "medium": 0.0, "intermediate": 14.0,
                   "large": pytest.approx(7 / 3), "independent": 7.0}


def test_solution_file_carries_the_new_metrics(tmp_path):
    p, _ = _eleven()
    sol = km.solve(p, method="flow")
    assert "hours_by_employer_size" in sol.metrics and "small_associations_served_share" in sol.metrics
    km.dump(sol, tmp_path / "s.json")
    back = km.load(tmp_path / "s.json")
    assert back.metrics["hours_by_employer_size"] == {
        k: (None if v is None else pytest.approx(v)) for k, v in sol.metrics["hours_by_employer_size"].items()}


def test_a_remote_mission_done_in_person_is_a_trip_in_the_metrics_and_check():
    """DESIGN §4: a remote mission is open to a non-remote_ok employee within max_km, in person; its
    trip counts in mean_km and co2_kg (§6), and check's objective (travel_km) agrees."""
    p = make(associations=[{"id": "a", "lat": 45.0, "lon": 5.0}],
             employees=[{"id": "home", "lat": 45.1, "lon": 5.0, "remote_ok": True},
                        {"id": "car", "lat": 45.1, "lon": 5.0}],
             missions=[{"id": "r1", "association": "a", "remote": True},
                       {"id": "r2", "association": "a", "remote": True}])
    s = km.solve(p, policy=km.Policy(hours=1, travel_km=0.01))
    assert sorted(s.assignments) == [("car", "r1"), ("home", "r2")] or sorted(s.assignments) == [
        ("car", "r2"), ("home", "r1")]
    assert s.metrics["mean_km"] == pytest.approx(D_01 / 2, abs=1e-4)  # 0 km from home, D_01 by car
    assert s.metrics["co2_kg"] == pytest.approx(0.19 * 2 * D_01, abs=1e-4)
    assert s.objective == pytest.approx(14 - 0.01 * 2 * D_01, abs=1e-6) and km.check(p, s) == []
