#!/usr/bin/env python3
"""Build the CNNT product catalogue: `python build.py [command] [options]`.

  python build.py                        build content/ into site/
  python build.py check                  validate only; list every problem, exit 1 if there is any
  python build.py serve                  build, serve on http://localhost:8000, rebuild what each edit affects
  python build.py new product <slug>     start a new entry (also: new facility|decision <slug>), every field explained
  python build.py remove product <slug>  take out an entry published by mistake, with its recorded addresses
  python build.py schema                 write the JSON Schemas of entries to schemas/
  python build.py codeowners             write .github/CODEOWNERS from the facilities' maintainers
  python build.py owners --author USER --base COMMIT   check that USER may make the change since COMMIT (pull requests)
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from cnnt.content.config import build_date_from_environment, load_config
from cnnt.content.errors import BuildFailed, ContentError, counted
from cnnt.content.vocab import load_vocabularies
from cnnt.contribute import review
from cnnt.engine import pipeline
from cnnt.engine.model import BuildOptions
from cnnt.site import schema
from cnnt.system import parallel

ROOT = Path(__file__).resolve().parent


def build_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}`: ngày phải có dạng YYYY-MM-DD | the date must be YYYY-MM-DD") from None


def positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"`{text}`: cần một số nguyên từ 1 trở lên | a whole number of 1 or more is needed")
    return int(text)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="build",
                        choices=("build", "check", "serve", "new", "remove", "schema", "codeowners", "owners"))
    parser.add_argument("arguments", nargs="*", help="new: product|facility|decision and a slug; owners: further files to judge")
    parser.add_argument("--facility", help="new product: the facility's file name")
    parser.add_argument("--name", help="new: the entry's name, with its Vietnamese marks")
    parser.add_argument("--author", help="owners: the pull request's author (GitHub user name)")
    parser.add_argument("--base", help="owners: the commit the pull request starts from (git)")
    parser.add_argument("--content", type=Path, default=ROOT / "content", help="content folder (default: content/)")
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="output folder (default: site/)")
    parser.add_argument("--config", type=Path, default=ROOT / "site.yaml", help="site settings (default: site.yaml)")
    parser.add_argument("--templates", type=Path, default=ROOT / "templates")
    parser.add_argument("--static", type=Path, default=ROOT / "static")
    parser.add_argument("--date", type=build_date,
                        help="judge award validity on this day, YYYY-MM-DD (default: SOURCE_DATE_EPOCH or today)")
    parser.add_argument("--jobs", type=positive_int,
                        help="worker processes (default: one per core; at most two per core are used)")
    parser.add_argument("--force", action="store_true",
                        help="build everything anew (only the photo and QR code caches are used)")
    parser.add_argument("--deploy", action="store_true",
                        help="a build for publishing: refuse a placeholder base_url (the deploy workflow uses it)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--timings", action="store_true", help="print the time each build stage took")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks of internal errors")
    return parser.parse_intermixed_args(argv)  # options may come between `owners` and its files


def options_from(args: argparse.Namespace) -> BuildOptions:
    return BuildOptions(
        content_dir=args.content.resolve(), out_dir=args.out.resolve(), config_file=args.config.resolve(),
        templates_dir=args.templates.resolve(), static_dir=args.static.resolve(),
        build_date=args.date or build_date_from_environment(), display_root=Path.cwd().resolve(),
        jobs=args.jobs, force=args.force, deploy=args.deploy,
        # a preview without base_url links to itself; a build for publishing must name its address
        preview_url=f"http://{args.host}:{args.port}/" if args.command == "serve" else None,
    )


def report_warnings(warnings: Sequence[ContentError]) -> None:
    """What a facility should look at, though it does not stop the build (an old name that became several)."""
    for warning in warnings:
        print(warning, file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for warning in warnings:
            print(review.annotation(warning), flush=True)


def report_errors(failure: BuildFailed) -> None:
    report_warnings(failure.warnings)
    for error in failure.errors:
        print(error, file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":  # shown on the changed lines of a pull request
        for error in failure.errors:
            print(review.annotation(error), flush=True)
    count = len(failure.errors)
    print(f"\n{count} lỗi, chưa ghi gì ra thư mục site | {counted(count, 'error')}, nothing was written", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    options = options_from(args)
    if args.jobs and args.jobs > parallel.most_jobs():
        print(f"cảnh báo · warning: --jobs {args.jobs}: máy này có {parallel.default_jobs()} lõi, dùng tối đa "
              f"{parallel.most_jobs()} tiến trình | this machine has {counted(parallel.default_jobs(), 'core')}: "
              f"at most {counted(parallel.most_jobs(), 'worker process', 'worker processes')} are used", file=sys.stderr)
    if args.command in ("new", "remove", "schema", "codeowners", "owners"):
        return contribute(args, options)
    if args.command == "check":
        catalogue = pipeline.check_site(options)
        report_warnings(catalogue.warnings)
        products, facilities = len(catalogue.products), len(catalogue.facilities)
        fairs, decisions = len(catalogue.fairs), len(catalogue.decisions)
        print(f"OK: {products} sản phẩm, {facilities} cơ sở, {fairs} hội chợ, {decisions} quyết định hợp lệ | "
              f"{counted(products, 'product')}, {counted(facilities, 'facility', 'facilities')}, "
              f"{counted(fairs, 'fair')}, {counted(decisions, 'decision')} valid")
        return 0
    if args.command == "serve":
        from cnnt.serve import serve
        return serve(options, args.host, args.port, report_errors)
    report = pipeline.build(options)
    report_warnings(report.warnings)
    if report.skipped:
        print(f"Không có thay đổi, giữ nguyên {options.out_dir} | Nothing changed, {options.out_dir} is up to date "
              f"({report.seconds:.2f} s)")
    else:
        print(f"{report.pages} trang ({report.products} sản phẩm, {report.facilities} cơ sở) → {options.out_dir} | "
              f"{counted(report.pages, 'page')} ({counted(report.products, 'product')}, "
              f"{counted(report.facilities, 'facility', 'facilities')}) in {report.seconds:.2f} s")
        if report.rendered < report.pages:
            print(f"  {report.rendered} trang có thay đổi được dựng lại, số còn lại giữ từ lần trước | "
                  f"{counted(report.rendered, 'changed page')} rendered, the others kept from the last build")
        if args.timings:
            if report.clean:
                print(f"  clean build: {report.clean}")
            print("  " + ", ".join(f"{stage} {seconds:.2f} s ({report.cpu.get(stage, 0):.2f} CPU)"
                                   for stage, seconds in report.stages.items()))
    return 0


def named(kinds: dict[str, str]) -> str:
    """`product|facility|…`: the kinds a command takes, products (the usual case) first."""
    return "|".join(sorted(kinds, key=lambda name: name != "product"))


def contribute(args: argparse.Namespace, options: BuildOptions) -> int:
    """The commands for contributors and reviewers. (Their modules are imported here: a build, which
    needs none of them, starts a twentieth of a second sooner.)"""
    from cnnt.contribute import ownership
    from cnnt.contribute.removal import FOLDERS, remove_entry
    from cnnt.contribute.scaffold import FOLDERS as SCAFFOLDED
    from cnnt.contribute.scaffold import new_entry
    if args.command == "new":
        if len(args.arguments) != 2 or args.arguments[0] not in SCAFFOLDED:
            raise SystemExit(f"dùng | usage: python build.py new {named(SCAFFOLDED)} <slug> [--facility <slug>]")
        ask = input if sys.stdin.isatty() else None  # asked in a terminal; never guessed
        path = new_entry(args.arguments[0], args.arguments[1], options.content_dir, args.facility, options.build_date,
                         args.name, ask)
        print(f"Đã tạo | created {path}: sửa tệp này rồi chạy | edit it, then run: python build.py check")
        return 0
    if args.command == "schema":
        for name, text in schema.schema_files(load_vocabularies()).items():
            (ROOT / name).parent.mkdir(exist_ok=True)
            (ROOT / name).write_text(text, encoding="utf-8")
            print(name)
        return 0
    if args.command == "owners":
        if not args.author:
            raise SystemExit("dùng | usage: python build.py owners --author <GitHub user> [--base <commit>] [files…]")
        errors = ownership.check_change(options.content_dir, options.config_file, args.author, args.base, args.arguments)
        if errors:
            raise BuildFailed(errors)
        print(f"OK: @{args.author.removeprefix('@')} được thực hiện thay đổi này | may make this change "
              f"(từ | from {args.base or 'HEAD'})")
        return 0
    catalogue = pipeline.check(options)
    config = load_config(options.config_file, options.build_date, options.display_root, options.preview_url)
    if args.command == "remove":
        if len(args.arguments) != 2 or args.arguments[0] not in FOLDERS:
            raise SystemExit(f"dùng | usage: python build.py remove {named(FOLDERS)} <slug>")
        files, forgotten = remove_entry(args.arguments[0], args.arguments[1], catalogue, options.content_dir,
                                        config.languages, options.record_file)
        for path in files:
            print(f"đã xoá | removed {os.path.relpath(path)}")
        print(f"{len(forgotten)} địa chỉ bỏ khỏi | addresses taken out of {os.path.relpath(options.record_file)}")
        return 0
    target = ROOT / ".github" / "CODEOWNERS"  # the last command left: codeowners
    target.parent.mkdir(exist_ok=True)
    target.write_text(review.codeowners(catalogue, config.maintainers), encoding="utf-8")
    print(f"{target.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except BuildFailed as failure:
        report_errors(failure)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception:  # a bug in the generator, not in content: say so plainly
        if args.debug:
            traceback.print_exc()
        else:
            print(f"Lỗi nội bộ của trình dựng trang ({sys.exc_info()[1]!r}); chạy lại với --debug và báo lỗi | "
                  "Internal error in the site generator; run again with --debug and report it", file=sys.stderr)
        return 2


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without freeing the catalogue object by object, which took half a second at 10k
    # products; every file is written and closed by now, and the operating system frees the rest.
    os._exit(status)
