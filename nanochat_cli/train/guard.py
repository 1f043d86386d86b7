"""Collapse guard: watch predictive entropy and the max logit, and warn / lower the lr / stop as the recipe says.

A ternary run that collapses shows it first as entropy sliding toward 0 and logits growing without
bound; the guard turns those into an action before the loss curve goes flat.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GuardTrip:
    step: int
    action: str  # warn | lower_lr | stop
    message: str


class CollapseGuard:
    """Stateful checker; its state (lr scale, last trip) goes into the checkpoint so a resume behaves the same."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.lr_scale = 1.0
        self.last_trip = None
        self.trips = 0

    def state_dict(self) -> dict:
        return {"lr_scale": self.lr_scale, "last_trip": self.last_trip, "trips": self.trips}

    def load_state_dict(self, d: dict) -> None:
        self.lr_scale, self.last_trip, self.trips = d["lr_scale"], d["last_trip"], d["trips"]

    def check(self, step: int, entropy: float, max_logit: float) -> GuardTrip | None:
        c = self.cfg
        if not c.enabled or step < c.after_step:
            return None
        if self.last_trip is not None and step - self.last_trip < c.cooldown_steps:
            return None
        problems = []
        if c.entropy_floor > 0 and entropy < c.entropy_floor:
            problems.append(f"entropy H={entropy:.3f} nats < floor {c.entropy_floor}")
        if c.max_logit_ceiling > 0 and max_logit > c.max_logit_ceiling:
            problems.append(f"max logit {max_logit:.1f} > ceiling {c.max_logit_ceiling}")
        if not problems:
            return None
        self.last_trip = step
        self.trips += 1
        what = " and ".join(problems)
        if c.action == "lower_lr":
            self.lr_scale *= c.lr_factor
            msg = f"collapse guard at step {step}: {what}; learning rates now x{self.lr_scale:.3g}"
        elif c.action == "stop":
            msg = f"collapse guard at step {step}: {what}; stopping (checkpoint written) as guard.action = \"stop\""
        else:
            msg = f"collapse guard at step {step}: {what} (guard.action = \"warn\": training goes on)"
        return GuardTrip(step, c.action, msg)
