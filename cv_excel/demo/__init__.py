"""The fictitious demo: a complete working folder built from embedded data."""

from cv_excel.demo.build import DEMO_MARKER, DemoResult, build_demo, demo_rows, run_demo_cycle

__all__ = ["DEMO_MARKER", "DemoResult", "build_demo", "demo_rows", "run_demo_cycle"]
