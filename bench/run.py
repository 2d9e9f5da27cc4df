"""`make bench` / `python -m bench.run`: sync, start-up and page throughput against a floor.

python -m bench.run                      # 1,000 and 10,000 posts, 3 rounds of 4 s wrk runs
python -m bench.run --posts 1000 --rounds 1
python -m bench.run --smoke              # 200 posts, 1 round of 1 s (~30 s): CI keeps it working
python -m bench.run --posts 1000 --only comments_page,comment_posts   # with the set-up they need

wrk and nginx (Debian: nginx-light) must be installed; without either the run stops at once.
Comment POSTs are also measured once on PostgreSQL (127.0.0.1:5432, or BLOG_TEST_DATABASE_URL),
in a throwaway database; without a server that is skipped (fails with BLOG_TEST_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from bench.measure import Bench, Options, SizeResult
from bench.nginx import require_nginx
from bench.procs import BenchError, require_tool
from bench.report import markdown_table, verdicts, write_json
from bench.scenarios import SCENARIOS, SETUP, Scenario
from bench.yardstick import Yardsticks, yardstick_ms
from blog.config import PROJECT_ROOT

OUT_DIR = Path(__file__).resolve().parent / "out"
PROJECT_CONFIG = PROJECT_ROOT / "gunicorn.conf.py"


def parse_args(argv: list[str] | None = None) -> tuple[Options, argparse.Namespace]:
    """Options from the command line; --smoke overrides --posts, --duration and --rounds."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--posts", default="1000,10000", help="comma-separated corpus sizes (1000,10000)"
    )
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run (4)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="runs of each page, alternating with its floor (3)"
    )
    parser.add_argument("--warmup", type=int, default=None, help="seconds of wrk warm-up (2)")
    parser.add_argument(
        "--smoke", action="store_true", help="200 posts and one round of 1 s runs, for CI"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios to run (with the set-up they stand on), e.g. "
        "comments_page,comment_posts_postgres; a target whose figures are missing says n/a",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the JSON goes")
    parser.add_argument(
        "--gunicorn-config",
        default=str(PROJECT_CONFIG) if PROJECT_CONFIG.is_file() else "none",
        help="gunicorn settings file for the blog and the floor alike, or `none` "
        "(default: the project's gunicorn.conf.py, as deployed)",
    )
    args = parser.parse_args(argv)
    try:
        posts = tuple(int(p.replace("_", "")) for p in args.posts.split(",") if p.strip())
    except ValueError:
        parser.error(f"--posts must be whole numbers separated by commas, not {args.posts!r}")
    if args.smoke:
        posts, args.duration, args.rounds = (200,), 1, 1
    warmup = args.warmup if args.warmup is not None else (0 if args.smoke else 2)
    if not posts or min(posts) < 1 or args.duration < 1 or args.rounds < 1 or warmup < 0:
        parser.error("--posts, --duration, --rounds must be positive and --warmup not negative")
    config = None if args.gunicorn_config == "none" else Path(args.gunicorn_config).resolve()
    if config is not None and not config.is_file():
        parser.error(f"--gunicorn-config: no such file {config}")
    only = frozenset(name.strip() for name in args.only.split(",") if name.strip())
    unknown = only - {scenario.__name__ for scenario in SCENARIOS}
    if unknown:
        parser.error(f"--only: no such scenario {', '.join(sorted(unknown))}")
    options = Options(
        posts, args.duration, warmup, args.smoke, gunicorn_config=config, rounds=args.rounds
    )
    args.scenarios = [s for s in SCENARIOS if not only or s.__name__ in only | SETUP]
    return options, args


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def run_size(
    posts: int, options: Options, root: Path, scenarios: list[Scenario] = SCENARIOS
) -> SizeResult:
    """Run the scenarios for one corpus size; servers are stopped whatever happens."""
    workdir = root / f"posts-{posts}"
    workdir.mkdir()
    with ExitStack() as stack:
        bench = Bench(posts, options, workdir, stack)
        for scenario in scenarios:
            began = time.perf_counter()
            print(f"[{posts:,} posts] {scenario.__name__} ...", end=" ", flush=True)
            try:
                scenario(bench)
            except BenchError as exc:
                # Later scenarios may depend on this one: stop this size, keep what it measured.
                print(f"failed: {exc}", flush=True)
                bench.result.details["error"] = f"{scenario.__name__}: {exc}"
                break
            print(f"{time.perf_counter() - began:.1f}s", flush=True)
        return bench.result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, write the JSON; non-zero on error (or miss, --strict)."""
    options, args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        require_tool("wrk")
        require_nginx()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    before = yardstick_ms()
    print(f"Python yardstick: {before:.1f} ms (a fixed workload; lower is faster)", flush=True)
    root = Path(tempfile.mkdtemp(prefix="blog-bench-"))
    began = time.perf_counter()
    try:
        sizes = [run_size(posts, options, root, args.scenarios) for posts in options.posts]
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    yardsticks = Yardsticks(before, yardstick_ms())
    print()
    print(markdown_table(sizes, options, yardsticks))
    path = write_json(sizes, options, args.out, yardsticks)
    print(f"\nwrote {path} ({time.perf_counter() - began:.0f}s in all)")
    missed = [v for v in verdicts(sizes) if v["result"] == "MISS"]
    failed = [s for s in sizes if "error" in s.details]
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
