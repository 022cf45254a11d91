#!/usr/bin/env python3
"""Writes the latest run of bench-results/bench.json into BENCHMARKS.md,
between the <!-- run --> and <!-- /run --> markers."""
import json, re, sys

data = json.load(open(sys.argv[1]))
path = sys.argv[2]
m = data['machine']
lines = [
    f"`scripts/bench` on {m['date']}: {m['cpus']} cores ({m['cpu']}), {m['memory_kib'] // 1024} MiB, "
    f"Linux {m['kernel']}; Debian 12, Redis 7.0, MariaDB 10.11, Kafka 4.1.1 (KRaft, one broker), "
    "librdkafka 2.0.2, Qt 6.4.2, Release build. Everything — servers, load generators, our processes — "
    "shares the same cores, so each line is also slowed by the others running beside it.",
    "",
    "![ratios](docs/benchmarks.png)",
    "",
    "| measure | value | how |",
    "|---|---|---|",
]
for r in data['results']:
    lines.append(f"| `{r['name']}` | {r['value']:,.1f} {r['unit']} | {r['note']} |")
lines += ["", "| ratio | measured | aim | |", "|---|---|---|---|"]
for r in data['ratios']:
    aim = f"≥ {r['aim'] * 100:.0f} %" if r['aim'] else '—'
    verdict = ('met' if r['meets'] else '**not met**') if r['aim'] else ''
    lines.append(f"| {r['ratio']} | {r['value'] * 100:.1f} % | {aim} | {verdict} |")
text = open(path).read()
block = "<!-- run -->\n" + "\n".join(lines) + "\n<!-- /run -->"
text, n = re.subn(r"<!-- run -->.*?<!-- /run -->", lambda _: block, text, flags=re.S)
if n != 1:
    sys.exit("BENCHMARKS.md has no <!-- run --> ... <!-- /run --> block")
open(path, 'w').write(text)
