"""Reads the TensorBoard event files that `deq train` writes and prints their scalars.

Usage: /opt/eqpeers/bin/python Benchmarks/peers/read_tensorboard.py RUN_DIR [--tail N]

It uses the tensorboard package's own reader (EventAccumulator), so a file it accepts is one
`tensorboard --logdir RUN_DIR` shows; the record framing and CRCs are checked on the way.
"""
import argparse
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a deq train --work-dir")
    parser.add_argument("--tail", type=int, default=3, help="values printed per tag (last N)")
    args = parser.parse_args()
    acc = EventAccumulator(args.run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags().get("scalars", [])
    if not tags:
        print(f"no scalars in {args.run_dir}; is it a deq train run directory?", file=sys.stderr)
        return 1
    for tag in sorted(tags):
        events = acc.Scalars(tag)
        print(f"{tag}: {len(events)} values, steps {events[0].step}..{events[-1].step}")
        for e in events[-args.tail:]:
            print(f"  step {e.step:6d}  {e.value:.6g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
