"""Importing LinkedIn's data export and drawing the progress picture: time and memory.

Targets (issue "follow-ups without typing"): importing 5,000 invitations and 5,000
connections (parse, plan, one transaction) takes <= 2 s, and the bot's resident memory stays
<= 200 MB while doing it; rendering the picture takes <= 1 s. Matplotlib is imported on the
first picture, not at start-up (it would cost every bot process about 50 MB for a screen
few users open daily), so that first one is reported apart. Each figure comes from a fresh
process holding the Telegram front door, the answer engine and the storage, as the bot does,
so the memory is the bot's own (VmHWM, its peak).

    .venv/bin/python benchmarks/import_progress.py [--rows 5000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_RUN = """
import asyncio, io, json, random, sys, tempfile, time, zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
sys.path.insert(0, {root!r})
import bot.telegram.process  # the process the bot runs in, front door included
from bot.answering.service import AnswerService
from bot.coach import Coach, UserRef
from bot.followups import progress_chart
from bot.knowledge import load
from bot.storage import Storage

ROWS = {rows}
now = datetime.now(UTC)
rng = random.Random(7)
invitations = ["From,To,Sent At,Message,Direction,inviterProfileUrl,inviteeProfileUrl"]
connections = ["Notes:", '"Some e-mail addresses may be missing."', "",
               "First Name,Last Name,URL,Email Address,Company,Position,Connected On"]
for n in range(ROWS):
    sent = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))
    hour = sent.hour % 12 or 12
    half = "AM" if sent.hour < 12 else "PM"
    stamp = f"{{sent.month}}/{{sent.day}}/{{sent:%y}}, {{hour}}:{{sent:%M}} {{half}}"
    who = f"Person {{n}}"
    url = f"https://www.linkedin.com/in/person-{{n}}"
    if n % 3:
        invitations.append(f"Me,{{who}},\\"{{stamp}}\\",,OUTGOING,https://www.linkedin.com/in/me,{{url}}")
    else:
        invitations.append(f"{{who}},Me,\\"{{stamp}}\\",,INCOMING,{{url}},https://www.linkedin.com/in/me")
    # Half of the connections are people invited above (their requests get settled).
    on = (now - timedelta(days=rng.randint(0, 90))).strftime("%d %b %Y")
    target = n if n % 2 else n + ROWS
    connections.append(f"Contact,{{target}},https://www.linkedin.com/in/person-{{target}},,,,{{on}}")
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("Export/Invitations.csv", "\\n".join(invitations))
    archive.writestr("Export/Connections.csv", "\\n".join(connections))
data = buffer.getvalue()

async def main():
    folder = Path(tempfile.mkdtemp())
    store = await Storage.open(folder / "bot.sqlite3")
    coach = Coach(AnswerService(load()), store)
    user = UserRef(7, "de")
    started = time.perf_counter()
    await coach.import_file(user, data, "export.zip")
    imported = time.perf_counter() - started
    started = time.perf_counter()
    reply = await coach.reports.progress(7, "de", coach.clock())
    cold = time.perf_counter() - started
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        reply = await coach.reports.progress(7, "de", coach.clock())
        warm.append(time.perf_counter() - started)
    await store.close()
    status = open("/proc/self/status").read().splitlines()
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print(json.dumps({{"import": imported, "cold": cold, "warm": min(warm),
                      "png": len(reply.documents[0].content), "peak_kb": int(peak),
                      "bytes": len(data)}}))

asyncio.run(main())
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    script = _RUN.format(root=str(ROOT), rows=args.rows)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    print(f"export: {args.rows} invitations + {args.rows} connections, {figures['bytes']:,} B zip")
    results = [
        ("import (parse, plan, one transaction)", figures["import"], "s", 2.0),
        ("picture", figures["warm"], "s", 1.0),
        ("resident memory, peak", figures["peak_kb"] / 1024, "MB", 200.0),
    ]
    for label, value, unit, target in results:
        ok = value <= target
        print(
            f"{label:42s} {value:8.3f} {unit}   target <= {target} {unit}  {'ok' if ok else 'MISS'}"
        )
    print(
        f"(PNG {figures['png']:,} bytes; the first picture after start-up takes "
        f"{figures['cold']:.2f} s, as matplotlib is imported only then)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
