"""Latency of one recommendation over the full catalogue.

The timed operation is `SuitabilityEngine.recommend` on an already validated profile that touches
every part of the engine (all needs known, investor facts present, several eligible products).
The baseline, measured in the same run, is validating that profile from its JSON-like dict: the
cheapest thing a request does anyway.

Wall-clock time is the figure that counts. On a shared machine another process can take the CPU in
the middle of a call, so the row also gives the p95 of the CPU time the call itself used, and the
load average during the run: a wall p95 far above the CPU p95 means the machine was busy.

    python -m benchmarks.bench_recommend
"""

import gc
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from product_catalog.engine import SuitabilityEngine
from product_catalog.loader import load_catalogue
from product_catalog.profile import NeedsProfile

ITERATIONS = 5_000
WARM_UP = 500
HEADER = (
    "| Benchmark | Median (ms) | p95 (ms) | p95 CPU time (ms) | Baseline | Baseline median (ms) "
    "| Baseline p95 (ms) | Load average |\n|---|---|---|---|---|---|---|---|"
)

PROFILE: dict[str, Any] = {
    "age": 44,
    "resides_in_france": True,
    "family_situation": "married",
    "number_of_dependants": 2,
    "children_at_school": 2,
    "employment_status": "self_employed",
    "pcs_code": "21",
    "housing_status": "owner_occupier",
    "rented_out_properties": 1,
    "projects": [
        {"kind": "home_loan", "loan_amount_eur": 180_000, "loan_duration_years": 20},
        {"kind": "retirement"},
        {"kind": "savings_goal", "horizon_years": 10, "target_amount_eur": 30_000},
    ],
    "vehicles": [{"kind": "car"}, {"kind": "scooter"}],
    "pets": [{"species": "dog", "age_years": 3}],
    "current_coverage": ["auto"],
    "employer_health_plan": False,
    "monthly_budget_eur": 400,
    "investor": {
        "knowledge": "basic",
        "experience": "euro_funds",
        "annual_income_eur": 65_000,
        "financial_assets_eur": 40_000,
        "monthly_commitments_eur": 900,
        "objectives": ["retirement", "growth"],
        "horizon_years": 15,
        "risk_tolerance": "moderate",
        "loss_capacity": "limited",
    },
}


def measure(
    operation: Callable[[], object], iterations: int = ITERATIONS
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU durations in milliseconds of `iterations` calls, after a warm-up,
    with the garbage collector paused."""
    for _ in range(WARM_UP):
        operation()
    wall: list[float] = []
    cpu: list[float] = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(iterations):
            cpu_start = time.thread_time_ns()
            start = time.perf_counter_ns()
            operation()
            wall.append((time.perf_counter_ns() - start) / 1e6)
            cpu.append((time.thread_time_ns() - cpu_start) / 1e6)
    finally:
        gc.enable()
    return wall, cpu


def p95(durations: list[float]) -> float:
    return statistics.quantiles(durations, n=100, method="inclusive")[94]


def run() -> dict[str, float]:
    catalogue = load_catalogue()
    engine = SuitabilityEngine(catalogue)
    profile = NeedsProfile.model_validate(PROFILE)
    load_before = os.getloadavg()[0]
    recommend, recommend_cpu = measure(lambda: engine.recommend(profile))
    validate, _ = measure(lambda: NeedsProfile.model_validate(PROFILE))
    return {
        "products": len(catalogue.products),
        "median_ms": statistics.median(recommend),
        "p95_ms": p95(recommend),
        "p95_cpu_ms": p95(recommend_cpu),
        "baseline_median_ms": statistics.median(validate),
        "baseline_p95_ms": p95(validate),
        "load_average": max(load_before, os.getloadavg()[0]),
    }


def main() -> None:
    figures = run()
    print(
        f"| Suitability engine: one recommendation over {figures['products']:.0f} products "
        f"({ITERATIONS} runs) | {figures['median_ms']:.3f} | {figures['p95_ms']:.3f} | "
        f"{figures['p95_cpu_ms']:.3f} | profile validation | "
        f"{figures['baseline_median_ms']:.3f} | {figures['baseline_p95_ms']:.3f} | "
        f"{figures['load_average']:.1f} on {os.cpu_count()} CPUs |"
    )


if __name__ == "__main__":
    main()
