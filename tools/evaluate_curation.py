#!/usr/bin/env python3
"""Curation against the truth of synth dumps: what the curation issue asks to be shown.

Makes two synth dumps (600 photos each, different seeds), ingests both, labels from folders,
tags the first with default thresholds, calibrates on the second and tags the first again,
and prints: files accounted for, quarantine, exact and near duplicates found, wrong groups,
label accuracy, and tag accuracy per condition without and with calibration.

    python3 tools/evaluate_curation.py [--count 600] [--seeds 99 7] [--facet .build/release/facet]
"""
import argparse
import csv
import json
import subprocess
import sys
import tempfile


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--count", type=int, default=600)
    p.add_argument("--seeds", type=int, nargs=2, default=[99, 7], help="the dump's seed and the calibration dump's")
    p.add_argument("--facet", default=".build/release/facet")
    a = p.parse_args()
    tmp = tempfile.mkdtemp()
    dump, other = f"{tmp}/dump", f"{tmp}/calibration-dump"
    ws, ws2 = f"{tmp}/ws", f"{tmp}/ws2"
    run(a.facet, "synth", dump, "--count", str(a.count), "--seed", str(a.seeds[0]))
    run(a.facet, "synth", other, "--count", str(a.count), "--seed", str(a.seeds[1]))
    print(run(a.facet, "ingest", dump, "-o", ws).strip())
    run(a.facet, "ingest", other, "-o", ws2)
    print(run(a.facet, "label", ws).strip())

    truth = {r["file"]: r for r in csv.DictReader(open(f"{dump}/truth.csv"))}
    records = [json.loads(l) for l in open(f"{ws}/manifest.jsonl")]
    quarantine = [json.loads(l) for l in open(f"{ws}/quarantine.jsonl")]
    duplicates = [json.loads(l) for l in open(f"{ws}/duplicates.jsonl")]
    found = len(truth) + 1  # truth.csv itself
    print(f"accounted: {len(records)} + {len(quarantine)} + {len(duplicates)} = {len(records) + len(quarantine) + len(duplicates)} of {found} files")
    broken = {f for f, t in truth.items() if t["kind"] == "broken"}
    print(f"broken files quarantined: {len(broken & {q['source'] for q in quarantine})} of {len(broken)}")
    exact = [f for f, t in truth.items() if t["kind"] == "exact_duplicate"]
    set_aside = {d["source"] for d in duplicates} | {d["kept_source"] for d in duplicates}
    print(f"exact duplicates found: {sum(1 for f in exact if f in set_aside)} of {len(exact)}")
    by_source = {r["source"]: r for r in records}
    near = [(f, t["duplicate_of"]) for f, t in truth.items() if t["kind"] == "near_duplicate"]
    def same_group(a_, b_):
        ka = by_source.get(a_) or by_source.get(next((d["kept_source"] for d in duplicates if d["source"] == a_), ""))
        kb = by_source.get(b_) or by_source.get(next((d["kept_source"] for d in duplicates if d["source"] == b_), ""))
        return ka is not None and kb is not None and ka["group"] == kb["group"]
    print(f"near duplicates grouped with their original: {sum(1 for f, o in near if same_group(f, o))} of {len(near)}")
    groups = {}
    for r in records:
        groups.setdefault(r["group"], []).append(r["source"])
    origin = lambda f: truth[f]["duplicate_of"] or f
    wrong = [g for g in groups.values() if len(g) > 1 and len({origin(f) for f in g}) > 1]
    print(f"groups of different photos: {len(wrong)}")
    right = sum(1 for r in records if r["label"] == truth[r["source"]]["label"])
    print(f"labels from folders: {right} of {len(records)} right")

    def accuracy(tag):
        recs = [json.loads(l) for l in open(f"{ws}/manifest.jsonl")]
        return {c: sum(1 for r in recs if r["conditions"][c]["value"] == truth[r["source"]][c]) / len(recs)
                for c in ("lighting", "background", "occlusion")}
    run(a.facet, "tag", ws)
    before = accuracy("default")
    print(run(a.facet, "tag", ws2, "--calibrate", f"{other}/truth.csv", "--save-thresholds", f"{tmp}/thresholds.json").strip())
    run(a.facet, "tag", ws, "--thresholds", f"{tmp}/thresholds.json")
    after = accuracy("calibrated")
    for c in ("lighting", "background", "occlusion"):
        print(f"tag accuracy {c}: {before[c]:.3f} with default thresholds, {after[c]:.3f} calibrated on another dump")


if __name__ == "__main__":
    sys.exit(main())
