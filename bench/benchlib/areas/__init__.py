"""Benchmark areas, in the order bench/run runs and prints them.

Each area is a module with NAME, TITLE and run(ctx) -> report.Table; ctx
is a cli.Context (the two guests, the machine, rounds, smoke). A later
subsystem (LWKT, virtio, HAMMER2, netstack) adds its module here and its
name to AREAS; bench/run NAME runs that area alone.
"""
from . import boot, hammer2, net, sched, virtio

AREAS = {m.NAME: m for m in (boot, sched, virtio, net, hammer2)}
