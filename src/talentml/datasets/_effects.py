"""The planted effects of the simulated organization, each switchable, each with its size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

__all__ = ["Effects"]


@dataclass(frozen=True)
class Effects:
    """Switches and sizes of the effects planted in :func:`simulate_workforce`.

    Every effect can be switched off (``False``) to get a null world for tests and audits;
    the sizes are the simulator's ground truth and are documented in ``docs/simulator.md``.

    Parameters
    ----------
    caregiver_hours : bool, default True
        (a) Caregivers learn as much as others, with the same latent potential, but far less of
        it off-hours (evenings and weekends in their own time zone).
    offhours_share_others : float, default 0.35
        Share of learning sessions that non-caregivers start off-hours.
    offhours_share_caregivers : float, default 0.09
        Share for caregivers when ``caregiver_hours`` is on (otherwise equal to
        ``offhours_share_others``).
    disengagement : bool, default True
        (b) Employees who will leave first disengage: voluntary learning drops to
        ``disengaged_learning`` of its level; the monthly hazard of disengaging rises with a low
        latest rating, a long time since promotion, a recent manager change and team exits.
        Switched off, exits keep the same overall rate but nothing predicts them.
    disengaged_learning : float, default 0.2
        Multiplier of the voluntary learning rate once disengaged (an 80% drop).
    disengaged_exit_hazard : float, default 0.2
        Monthly voluntary exit hazard once disengaged.
    onboarding : bool, default True
        (c) Early engagement with onboarding and product modules shortens time to productivity.
    onboarding_effect : float, default 0.3
        Log-change of time to productivity per standard deviation of onboarding engagement
        (``exp(-0.3)``: 26% shorter).
    potential : bool, default True
        (d) Latent potential drives skill acquisition (course level and pass rate), assessment
        scores, rating growth and promotions. Switched off, potential has no observable trace.
    rater_bias : bool, default False
        (e) Managers under-rate the *potential* of women: their latent potential is read
        ``rater_bias_size`` standard deviations lower when the potential rating is given.
    rater_bias_size : float, default 0.5
        Size of the rater bias in standard deviations of latent potential.
    learning_impact : bool, default True
        Completing the Emerging Leaders track raises later performance. Nomination to the
        track is confounded (by performance, potential and learning propensity), so a naive
        before/after comparison overstates the effect.
    learning_impact_size : float, default 0.25
        Rise of latent performance after completion. In rating points: about 0.5 x this on
        the overall rating and 2.6 x this on the Leadership competency rating.
    program_retention : bool, default False
        Completing the Emerging Leaders track multiplies the monthly voluntary exit hazard
        (engaged and disengaged alike) by ``program_retention_hazard_ratio`` from the first
        month after completion. Off by default: the organization is then exactly the one
        simulated without this switch (no extra random draw). The truth is
        :meth:`Truth.program_retention`.
    program_retention_hazard_ratio : float, default 0.6
        The planted hazard ratio of a voluntary exit, completers vs themselves without the
        track (must be > 0).

    Examples
    --------
    >>> from talentml.datasets import Effects
    >>> Effects().caregiver_hours
    True
    >>> Effects.from_any({"caregiver_hours": False}).offhours_share("caregiver")
    0.35
    """

    caregiver_hours: bool = True
    offhours_share_others: float = 0.35
    offhours_share_caregivers: float = 0.09
    disengagement: bool = True
    disengaged_learning: float = 0.2
    disengaged_exit_hazard: float = 0.2
    onboarding: bool = True
    onboarding_effect: float = 0.3
    potential: bool = True
    rater_bias: bool = False
    rater_bias_size: float = 0.5
    learning_impact: bool = True
    learning_impact_size: float = 0.25
    program_retention: bool = False
    program_retention_hazard_ratio: float = 0.6

    def __post_init__(self) -> None:
        if not self.program_retention_hazard_ratio > 0:
            raise ValueError(
                "program_retention_hazard_ratio must be > 0, got "
                f"{self.program_retention_hazard_ratio!r}"
            )

    @classmethod
    def from_any(cls, effects: Effects | dict[str, Any] | None) -> Effects:
        """Build from ``None`` (defaults), a mapping of overrides or an :class:`Effects`."""
        if effects is None:
            return cls()
        if isinstance(effects, cls):
            return effects
        if isinstance(effects, dict):
            names = {f.name for f in fields(cls)}
            unknown = sorted(set(effects) - names)
            if unknown:
                raise ValueError(f"unknown effect(s) {unknown}; known: {sorted(names)}")
            return replace(cls(), **effects)
        raise TypeError(f"effects must be None, a dict or Effects, got {type(effects).__name__}")

    @classmethod
    def none(cls) -> Effects:
        """A world with every effect switched off.

        Examples
        --------
        >>> from talentml.datasets import Effects
        >>> Effects.none().disengagement
        False
        """
        return cls(
            caregiver_hours=False,
            disengagement=False,
            onboarding=False,
            potential=False,
            learning_impact=False,
        )

    def offhours_share(self, group: str) -> float:
        """Off-hours share of learning sessions for ``"caregiver"`` or ``"other"``."""
        if group == "caregiver" and self.caregiver_hours:
            return self.offhours_share_caregivers
        return self.offhours_share_others

    def to_dict(self) -> dict[str, Any]:
        """The effects as a plain dict (for logging and reports)."""
        return asdict(self)
