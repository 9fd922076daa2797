"""``seatwatch demo``: the whole data flow on one machine, with simulated sensors, in about a minute.

command.py runs the steps; the other modules are the pieces it needs and nothing else uses: finding the
servers (prerequisites.py), the demo's copy of a site file (demo_site.py), the children it starts and
must stop (children.py), and a realistic past working day published as bridge batches (backfill.py).
"""
