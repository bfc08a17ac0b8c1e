"""`rldg pack`, `rldg unpack`, `rldg verify`: share a dataset as one checked archive.

Each subcommand parses its arguments and calls one function of `rldg_data.sharing.archive`; progress bars
live here, not in the library. Errors (`RldgError`) reach `rldg`'s main, which prints them and
exits 2; `verify` exits 1 when it finds problems.
"""

from __future__ import annotations

import argparse
import json
import sys


def register_pack(sub) -> None:
    p = sub.add_parser(
        "pack",
        help="archive a dataset with a SHA-256 manifest for sharing",
        description=(
            "Pack a dataset folder (all versions: shards, TFDS metadata, rldg_info.json, and the "
            "statistics, card and recipe beside them) into one tar with a MANIFEST.sha256 of every "
            "file. The dataset is checked against the RLDS contract first; a broken one is refused. "
            "The archive is written under a temporary name and renamed when complete. "
            "Exit status: 0 packed, 2 error."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dataset", help="dataset folder (<data_dir>/<name>, or one version folder in it)")
    p.add_argument("out", help="archive to write (OUT.tar, or OUT.tar.gz to compress)")
    p.add_argument("--force", action="store_true", help="replace an existing archive")
    p.add_argument("--no-validate", action="store_true", help="skip the contract check (not advised)")
    p.set_defaults(func=_run_pack)


def register_unpack(sub) -> None:
    p = sub.add_parser(
        "unpack",
        help="unpack and verify a shared dataset archive",
        description=(
            "Unpack an archive made by `rldg pack` into the dataset folder DIR. Members with "
            "absolute paths, '..', links, devices or fifos are refused; every file is checked "
            "against MANIFEST.sha256 and the dataset against the RLDS contract inside a "
            "temporary folder beside DIR, which is renamed to DIR only when all checks pass. "
            "An existing DIR is never replaced without --force. Exit status: 0 unpacked, 2 error."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("archive", help="archive made by `rldg pack`")
    p.add_argument("dir", help="dataset folder to create")
    p.add_argument("--force", action="store_true", help="replace an existing DIR (only once all checks pass)")
    p.set_defaults(func=_run_unpack)


def register_verify(sub) -> None:
    p = sub.add_parser(
        "verify",
        help="re-check a shared dataset: checksums, contract, digest",
        description=(
            "Re-check a dataset folder made by `rldg unpack`: every file against MANIFEST.sha256 "
            "(missing, altered and unlisted files), every episode against the RLDS contract, and "
            "the dataset digest recorded in rldg_info.json against its records. "
            "Exit status: 0 sound, 1 problems found, 2 not a dataset."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dir", help="dataset folder (with MANIFEST.sha256)")
    p.add_argument("--no-manifest", action="store_true",
                   help="skip the checksum check (for a dataset never packed)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_run_verify)


def _bar(desc: str):
    from tqdm import tqdm

    return tqdm(unit="file", desc=desc, disable=None, file=sys.stderr)


def _run_pack(args) -> int:
    from rldg_data.sharing.archive import pack_dataset

    with _bar("pack") as bar:
        out = pack_dataset(args.dataset, args.out, force=args.force,
                           validate=not args.no_validate, progress=bar.update)
    print(f"packed {args.dataset} into {out}")
    return 0


def _run_unpack(args) -> int:
    from rldg_data.sharing.archive import unpack_archive

    with _bar("unpack") as bar:
        dest = unpack_archive(args.archive, args.dir, force=args.force, progress=bar.update)
    print(f"unpacked and verified {args.archive} into {dest}")
    return 0


def _run_verify(args) -> int:
    from rldg_data.sharing.archive import verify_dataset

    report = verify_dataset(args.dir, check_manifest=not args.no_manifest)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"dataset   {report.path}\nfiles     {report.files_checked} checked against the manifest"
              f"\nepisodes  {report.episodes}\ndigest    {report.digest or '-'}")
        if report.ok:
            print("\nOK: checksums, contract and digest all match")
        else:
            print(f"\n{len(report.problems)} problem(s):")
            for problem in report.problems:
                print(f"  - {problem}")
    return 0 if report.ok else 1
