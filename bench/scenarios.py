"""The four scenarios, run against one server at a time, printing one line per step.

fanout: one room of N, every member sending at a fixed rate, stepped up until
    saturated (p99 over ``p99_limit_ms``, deliveries below ``min_delivered``
    of offered, or loss over ``loss_limit``) or until the generator is the
    bottleneck; then one step at 25% of the highest sustained rate.
rooms:  2,000 clients in rooms of 10, 1 message/s each, then stepped up the same way.
idle:   N registered idle connections; server RSS per connection.
churn:  W loops of connect, register, quit; registrations/s and server CPU per one.

Each ladder starts a fresh server; a refinement or the 25% probe after a
saturated step gets a fresh server and clients again, so one overload never
leaks into the next figure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.loadgen import ClientSpec, Generator, split
from bench.servers import RunningServer, ServerSpec

#: One client in this many measures latency; the others only count deliveries.
PROBE_EVERY = 10


class ScenarioError(Exception):
    """The scenario could not be set up (the server refused or died)."""


@dataclass
class Settings:
    """Sizes, rates and limits of one benchmark run."""

    step_seconds: float = 5.0
    drain_seconds: float = 3.0
    fanout_sizes: tuple[int, ...] = (50, 200)
    #: Messages per second per member, stepped through in order.
    fanout_rates: dict[int, tuple[float, ...]] = field(
        default_factory=lambda: {
            50: (1, 2, 5, 10, 20, 50, 100, 200, 500),
            200: (0.25, 0.5, 1, 2, 5, 10, 20, 50),
        }
    )
    #: The step whose CPU per 1,000 deliveries is compared across servers.
    fanout_ref: dict[int, float] = field(default_factory=lambda: {50: 10, 200: 1})
    rooms_clients: int = 2000
    room_size: int = 10
    rooms_rates: tuple[float, ...] = (1, 2, 5, 10, 20, 50, 100)
    rooms_ref: float = 1
    idle_clients: int = 10000
    idle_hold: float = 5.0
    churn_loops: int = 20
    churn_seconds: float = 5.0
    workers: int = 2
    setup_concurrency: int = 256
    refine: bool = True
    probe: bool = True
    sample_target: int = 20000
    p99_limit_ms: float = 100.0
    min_delivered: float = 0.95
    loss_limit: float = 0.01
    gen_limit: float = 0.9
    server_cpus: set[int] | None = None
    gen_cpus: set[int] | None = None
    workdir: Path = Path("/tmp")

    @classmethod
    def quick(cls) -> Settings:
        """Tiny sizes: a smoke run in well under a minute per server."""
        return cls(
            step_seconds=1.0,
            drain_seconds=1.5,
            fanout_sizes=(10, 30),
            fanout_rates={10: (2, 10), 30: (1, 5)},
            fanout_ref={10: 2, 30: 1},
            rooms_clients=100,
            room_size=10,
            rooms_rates=(1, 5),
            rooms_ref=1,
            idle_clients=300,
            idle_hold=0.5,
            churn_loops=4,
            churn_seconds=1.0,
            refine=False,
            probe=True,
            sample_target=5000,
        )


Printer = Callable[[str], None]


def is_plain(i: int, fraction: float) -> bool:
    """Spread plain clients evenly: client i is plain when the running share steps up."""
    return int((i + 1) * fraction) > int(i * fraction)


def room_specs(clients: int, room_size: int, plain_fraction: float) -> list[ClientSpec]:
    """``clients`` users in rooms of ``room_size``, every one of them sending."""
    rooms = max(1, clients // room_size)
    return [
        ClientSpec(
            nick=f"u{i}",
            plain=is_plain(i, plain_fraction),
            room=f"#r{i // room_size}",
            sender=i,
            peers_sending=room_size - 1,
            probe=i % PROBE_EVERY == 0,
        )
        for i in range(rooms * room_size)
    ]


@contextmanager
def session(
    spec: ServerSpec, specs: list[ClientSpec], settings: Settings, setup_wait: float = 300.0
) -> Iterator[tuple[RunningServer, Generator, dict[str, Any]]]:
    """A fresh server and generator with every client registered (and joined)."""
    server = RunningServer(spec, settings.workdir, settings.server_cpus)
    try:
        cpu0 = server.cpu()
        workers = max(1, min(settings.workers, len(specs)))
        with Generator("127.0.0.1", server.port, split(specs, workers), settings.gen_cpus) as gen:
            started = time.monotonic()
            replies = gen.call(
                "setup",
                wait=setup_wait + 30,
                concurrency=spec.setup_concurrency or settings.setup_concurrency,
                timeout=setup_wait,
            )
            ok = sum(r["ok"] for r in replies)
            info = {
                "clients": ok,
                "setup_s": time.monotonic() - started,
                "setup_cpu": server.cpu() - cpu0,
            }
            if ok < len(specs):
                errors = [e for r in replies for e in r["errors"]]
                raise ScenarioError(
                    f"only {ok} of {len(specs)} clients registered; e.g. {errors[:2]}; "
                    f"server log: {server.log_tail(2)}"
                )
            yield server, gen, info
    finally:
        server.stop()


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return math.nan
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])


def run_step(
    server: RunningServer,
    gen: Generator,
    specs: list[ClientSpec],
    rate: float,
    settings: Settings,
) -> dict[str, Any]:
    """One open-loop step at ``rate`` messages/s per sender; the figures of one line."""
    per_round = sum(s.peers_sending for s in specs)
    offered = rate * per_round
    # A whole number of messages per sender; the step lasts exactly that many periods.
    count = max(1, round(rate * settings.step_seconds))
    duration = count / rate
    probe_share = sum(s.peers_sending for s in specs if s.probe) / per_round
    mark_every = max(1, math.ceil(offered * probe_share * duration / settings.sample_target))
    gen.call("quiet", wait=40, silence=0.3, timeout=30)
    user0, sys0 = server.cpu_split()
    wall0 = time.monotonic()
    # Wall-clock time: the clock of the kernel receive timestamps.
    t0 = time.time() + 0.1
    replies = gen.call(
        "step",
        wait=duration + settings.drain_seconds + 60,
        rate=rate,
        count=count,
        t0=t0,
        mark_every=mark_every,
        drain=settings.drain_seconds,
    )
    wall = time.monotonic() - wall0
    alive = server.alive()
    user1, sys1 = server.cpu_split() if alive else (math.nan, math.nan)
    cpu = (user1 - user0) + (sys1 - sys0)
    expected = sum(r["expected"] for r in replies)
    received = sum(r["received"] for r in replies)
    samples = sorted(x for r in replies for x in r["samples"])
    last_rx = max((r["last_rx"] for r in replies), default=0.0)
    window = max(duration, last_rx - t0)
    delivered = received / window
    loss = (expected - received) / expected if expected else 0.0
    gen_cpus = len(settings.gen_cpus) if settings.gen_cpus else 1
    gen_util = sum(r["cpu"] for r in replies) / (window * gen_cpus)
    step = {
        "rate": rate,
        "offered": offered,
        "delivered": delivered,
        "expected": expected,
        "received": received,
        "loss": loss,
        "p50_ms": percentile(samples, 0.50) / 1000,
        "p99_ms": percentile(samples, 0.99) / 1000,
        "max_ms": max(r["max_us"] for r in replies) / 1000,
        "samples": len(samples),
        "server_cpu": cpu,
        "cpu_per_1k": cpu / received * 1000 if received else math.nan,
        "server_util": cpu / window,
        # The kernel's share: on loopback the sender's system time includes delivery.
        "server_sys_share": (sys1 - sys0) / cpu if cpu else math.nan,
        "gen_util": gen_util,
        "late_max_ms": max(r["late_max_us"] for r in replies) / 1000,
        "closed": sum(r["closed"] for r in replies),
        "wall": wall,
    }
    reasons = []
    if not alive:
        reasons.append("server died")
    if step["p99_ms"] > settings.p99_limit_ms or math.isnan(step["p99_ms"]):
        reasons.append("p99")
    if delivered < settings.min_delivered * offered:
        reasons.append("throughput")
    if loss > settings.loss_limit:
        reasons.append("loss")
    step["saturated"] = bool(reasons)
    step["why"] = ",".join(reasons)
    step["gen_bound"] = gen_util > settings.gen_limit
    return step


def step_line(label: str, step: dict[str, Any]) -> str:
    state = step["why"] or "ok"
    if step["gen_bound"]:
        state += " gen-bound"
    if step.get("kind") and step["kind"] != "ladder":
        state += f" ({step['kind']})"
    return (
        f"{label:<28} rate {step['rate']:>7.2f}/s  offered {step['offered']:>9,.0f}/s  "
        f"delivered {step['delivered']:>9,.0f}/s  p50 {step['p50_ms']:>7.2f} ms  "
        f"p99 {step['p99_ms']:>8.2f} ms  max {step['max_ms']:>8.1f} ms  "
        f"loss {step['loss'] * 100:6.3f}%  cpu {step['cpu_per_1k']:.4f} s/1k  "
        f"srv {step['server_util'] * 100:3.0f}% (sys {step['server_sys_share'] * 100:2.0f}%)  "
        f"gen {step['gen_util'] * 100:3.0f}%  {state}"
    )


def ladder(
    spec: ServerSpec,
    name: str,
    specs: list[ClientSpec],
    rates: tuple[float, ...],
    ref_rate: float,
    settings: Settings,
    label: str,
    out: Printer,
) -> dict[str, Any]:
    """Step the rate up until saturated; refine once; probe at 25% of sustained."""
    steps: list[dict[str, Any]] = []
    last_ok: float | None = None
    with ExitStack() as stack:
        server, gen, info = stack.enter_context(session(spec, specs, settings))
        out(f"{label:<28} {info['clients']} clients ready in {info['setup_s']:.1f} s")

        def measure(rate: float, kind: str) -> dict[str, Any]:
            nonlocal server, gen
            if steps and (steps[-1]["saturated"] or steps[-1]["closed"] or not server.alive()):
                # An overload leaves backlogs (or lost connections): start over clean.
                stack.close()
                server, gen, _ = stack.enter_context(session(spec, specs, settings))
            step = run_step(server, gen, specs, rate, settings)
            step["kind"] = kind
            steps.append(step)
            out(step_line(label, step))
            return step

        for rate in rates:
            step = measure(rate, "ladder")
            if not step["saturated"]:
                last_ok = rate
            if step["saturated"] or step["gen_bound"]:
                break
        if settings.refine and steps[-1]["saturated"] and last_ok is not None:
            rate = math.sqrt(last_ok * steps[-1]["rate"])
            if not measure(rate, "refine")["saturated"]:
                last_ok = rate
        if settings.probe and last_ok is not None:
            measure(0.25 * last_ok, "probe25")
    return {"scenario": name, "setup": info, "steps": steps, "ref_rate": ref_rate}


def fanout(
    spec: ServerSpec, size: int, settings: Settings, out: Printer, label: str
) -> dict[str, Any]:
    specs = room_specs(size, size, spec.plain_fraction)
    return ladder(
        spec,
        f"fanout{size}",
        specs,
        settings.fanout_rates[size],
        settings.fanout_ref[size],
        settings,
        label,
        out,
    )


def rooms(spec: ServerSpec, settings: Settings, out: Printer, label: str) -> dict[str, Any]:
    clients = settings.rooms_clients
    if spec.max_clients is not None:
        clients = min(clients, spec.max_clients)
    specs = room_specs(clients, settings.room_size, spec.plain_fraction)
    result = ladder(
        spec, "rooms", specs, settings.rooms_rates, settings.rooms_ref, settings, label, out
    )
    result["clients"] = len(specs)
    return result


def idle(spec: ServerSpec, settings: Settings, out: Printer, label: str) -> dict[str, Any]:
    """Hold N registered idle connections; RSS per connection."""
    n = settings.idle_clients
    if spec.max_clients is not None:
        n = min(n, spec.max_clients)
    specs = [ClientSpec(nick=f"i{i}", plain=is_plain(i, spec.plain_fraction)) for i in range(n)]
    server = RunningServer(spec, settings.workdir, settings.server_cpus)
    try:
        # Let the fresh interpreter finish its start-up allocations, so the
        # baseline RSS is the server's and not a moment of its start.
        time.sleep(0.5)
        rss0 = server.rss()
        cpu0 = server.cpu()
        workers = max(1, min(settings.workers, n))
        with Generator("127.0.0.1", server.port, split(specs, workers), settings.gen_cpus) as gen:
            started = time.monotonic()
            replies = gen.call(
                "setup",
                wait=400,
                concurrency=spec.setup_concurrency or settings.setup_concurrency,
                timeout=360,
            )
            setup_s = time.monotonic() - started
            ok = sum(r["ok"] for r in replies)
            setup_cpu = server.cpu() - cpu0
            time.sleep(settings.idle_hold)
            checks = gen.call("check", wait=120, timeout=90)
            held = sum(c["answered"] for c in checks)
            rss1 = server.rss()
            errors = [e for r in replies for e in r["errors"]]
    finally:
        server.stop()
    result = {
        "scenario": "idle",
        "clients": n,
        "registered": ok,
        "held": held,
        "rss0": rss0,
        "rss1": rss1,
        "rss_per_conn": (rss1 - rss0) / held if held else math.nan,
        "setup_s": setup_s,
        "cpu_per_reg_ms": setup_cpu / ok * 1000 if ok else math.nan,
        "errors": errors[:3],
    }
    out(
        f"{label:<28} {n} connections: {ok} registered in {setup_s:.1f} s, {held} held  "
        f"RSS {rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB = "
        f"{result['rss_per_conn'] / 1024:.2f} KiB per connection"
        + (f"  errors: {errors[:2]}" if errors else "")
    )
    return result


def churn(spec: ServerSpec, settings: Settings, out: Printer, label: str) -> dict[str, Any]:
    """``churn_loops`` loops of connect/register/quit for ``churn_seconds``."""
    loops = [(g, is_plain(g, spec.plain_fraction)) for g in range(settings.churn_loops)]
    workers = max(1, min(settings.workers, len(loops)))
    per_worker = [{"loops": loops[i::workers]} for i in range(workers)]
    server = RunningServer(spec, settings.workdir, settings.server_cpus)
    try:
        # Same settling pause as the idle scenario: start-up CPU is not churn CPU.
        time.sleep(0.3)
        with Generator(
            "127.0.0.1", server.port, [[] for _ in range(workers)], settings.gen_cpus
        ) as gen:
            cpu0 = server.cpu()
            t0 = time.monotonic() + 0.2
            replies = gen.call(
                "churn",
                wait=settings.churn_seconds + 60,
                per_worker=per_worker,
                duration=settings.churn_seconds,
                t0=t0,
                timeout=10.0,
            )
            cpu = server.cpu() - cpu0
            alive = server.alive()
    finally:
        server.stop()
    done = sum(r["done"] for r in replies)
    failed = sum(r["failed"] for r in replies)
    window = max(r["end"] for r in replies) - t0
    errors = [e for r in replies for e in r["errors"]]
    result = {
        "scenario": "churn",
        "loops": settings.churn_loops,
        "done": done,
        "failed": failed,
        "window": window,
        "regs_per_s": done / window if window > 0 else math.nan,
        "cpu_per_reg_ms": cpu / done * 1000 if done else math.nan,
        "server_util": cpu / window if window > 0 else math.nan,
        "gen_util": sum(r["cpu"] for r in replies) / window if window > 0 else math.nan,
        "cycle_ms": sorted(r["cycle_ms"] for r in replies)[len(replies) // 2],
        "alive": alive,
        "errors": errors[:3],
    }
    out(
        f"{label:<28} {done} registrations in {window:.1f} s = {result['regs_per_s']:,.0f}/s  "
        f"cpu {result['cpu_per_reg_ms']:.3f} ms/registration  "
        f"srv {result['server_util'] * 100:.0f}%  gen {result['gen_util'] * 100:.0f}%  "
        f"failed {failed}" + (f"  errors: {errors[:2]}" if errors else "")
    )
    return result


SCENARIOS = ("fanout", "rooms", "idle", "churn")


def run_scenario(
    scenario: str, spec: ServerSpec, settings: Settings, out: Printer, run: int
) -> list[dict[str, Any]]:
    """Run one scenario (both fanout sizes for "fanout") against one server."""
    label = f"{spec.name} {scenario} #{run}"
    if scenario == "fanout":
        return [
            fanout(spec, size, settings, out, f"{spec.name} fanout{size} #{run}")
            for size in settings.fanout_sizes
        ]
    if scenario == "rooms":
        return [rooms(spec, settings, out, label)]
    if scenario == "idle":
        return [idle(spec, settings, out, label)]
    if scenario == "churn":
        return [churn(spec, settings, out, label)]
    raise ValueError(scenario)
