"""Per-op summary of ONNX Runtime JSON profiles written with GRAFT_ORT_PROFILE=PREFIX (for example by
graft.train.StepBenchmark). The first SKIP runs (default 2: warm-up, first touch of every buffer) are
left out. For each op type: the sum over its nodes of each node's fastest run ("min", robust
against other processes taking a core) and of its mean run. Usage: ort_profile.py PREFIX [SKIP]"""
import collections
import glob
import json
import sys

files = sorted(glob.glob(sys.argv[1] + "*.json"))
if not files:
    sys.exit("no profile matches %s*.json" % sys.argv[1])
skip = int(sys.argv[2]) if len(sys.argv) > 2 else 2
events = json.load(open(files[-1]))
runs = [e for e in events if e.get("name") == "model_run"][skip:]
per_node = collections.defaultdict(list)
op_of = {}
for e in events:
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
        if any(r["ts"] <= e["ts"] <= r["ts"] + r["dur"] for r in runs):
            per_node[e["name"]].append(e["dur"] / 1000.0)
            op_of[e["name"]] = e["args"].get("op_name")
mins = collections.defaultdict(float)
means = collections.defaultdict(float)
count = collections.Counter()
for n, d in per_node.items():
    mins[op_of[n]] += min(d)
    means[op_of[n]] += sum(d) / len(d)
    count[op_of[n]] += 1
print("%s: %d runs; all nodes: min %.1f ms, mean %.1f ms; model_run ms %s" % (
    files[-1], len(runs), sum(mins.values()), sum(means.values()), [round(r["dur"] / 1000) for r in runs]))
for op in sorted(mins, key=lambda o: -mins[o]):
    print("%-18s min %8.1f  mean %8.1f  (%d nodes)" % (op, mins[op], means[op], count[op]))
